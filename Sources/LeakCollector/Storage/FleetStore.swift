import LeakWire

/// Everything the collector keeps, behind one seam: ingest, the queries, rollups and retention,
/// stack garbage collection, verdicts, the fleet gauges. Two backends conform: `SQLiteStore`, the
/// embedded default (one file on one box), and `PostgresStore`, which several collectors share.
/// Nothing outside Storage/ sees SQL or a database handle.
///
/// Every call blocks its thread until the database answers: the server runs them on its thread
/// pool, the batch writer on its own thread, maintenance in a detached task; never on an event loop.
public protocol FleetStore: AnyObject, Sendable {
    /// Where the data lives, for logs: a file path or a URL without its password.
    var location: String { get }
    var configuration: StoreConfiguration { get }
    /// Stacks open agent connections of this process have defined: never garbage-collected.
    var stackPins: StackPins { get }

    /// Closes the store. Later calls on it throw.
    func close() throws

    // MARK: Ingest

    /// Writes a batch of snapshots in one transaction. When this returns, every snapshot of the
    /// batch is committed (or was already there); only then may it be acknowledged.
    func ingest(_ batch: [SnapshotIngest]) throws -> [IngestOutcome]

    /// Where an agent resumes: the highest committed sequence of its process instance (0 if none)
    /// and the cumulative counters of the newest raw snapshot stored for it, which the next
    /// snapshot's counters must not be below (nil when none is stored).
    func resumePoint(hostName: String, instanceKey: String) throws -> (sequence: Int64, counters: SnapshotCounters?)

    // MARK: Hosts and their data

    func host(named name: String) throws -> HostRecord?
    /// Every host, by name.
    func hosts() throws -> [HostRecord]
    /// The newest raw snapshot of a host.
    func latestSample(hostId: Int64) throws -> SampleRecord?
    /// Newest raw snapshot of every host, by host id, without its per-site and pattern blobs.
    func latestSamples() throws -> [Int64: SampleRecord]
    /// A host's series over [fromMs, toMs], from every tier (raw, minute, hour), in time order.
    /// With `includeSites`, also every site's series, read from at most `maximumSiteRows` of the
    /// window's points (evenly spaced, always including the newest).
    func window(host: HostRecord, fromMs: Int64, toMs: Int64, includeSites: Bool, maximumSiteRows: Int) throws -> HostWindow
    /// A host's sites as they stood at `atMs`: the newest stored point at or before it, else the
    /// oldest after it; nil when the host has no point stored.
    func siteSnapshot(hostId: Int64, atMs: Int64) throws -> SiteSnapshot?
    /// A host's newest events, newest first.
    func recentEvents(hostId: Int64, limit: Int) throws -> [EventRecord]
    func stacks(ids: [Int64]) throws -> [StackRecord]
    /// A host's memory errors at or after `fromMs`, newest first.
    func memoryErrors(hostId: Int64, fromMs: Int64, limit: Int) throws -> [MemoryErrorRecord]
    /// The fleet's memory errors at or after `fromMs` (of hosts of `serviceName`, every host when
    /// empty), one summary per kind and allocation stack: most hosts first, then most
    /// occurrences, then the newest.
    func memoryErrorSites(serviceName: String, fromMs: Int64, limit: Int) throws -> [MemoryErrorSiteSummary]
    /// Every host with its newest verdict and raw snapshot, by name, read consistently.
    func hostGaugeRows() throws -> [HostGaugeRow]
    /// Bytes the store occupies on disk (the file and its WAL; the database's size).
    func storageBytes() throws -> Int64

    // MARK: Verdicts

    func latestVerdict(hostId: Int64) throws -> VerdictRecord?
    /// Newest verdict of every host, by host id.
    func latestVerdicts() throws -> [Int64: VerdictRecord]
    /// A host's newest verdict that judged it (ok, growing or suspected leak), nil when none did:
    /// what a new verdict's status, and its sites', are compared with for alerts.
    func latestJudgedVerdict(hostId: Int64) throws -> VerdictRecord?
    /// Stores a verdict, and keeps the stacks it names from garbage collection while it is kept.
    func storeVerdict(_ verdict: VerdictRecord) throws
    /// The hosts among `hosts` this collector judges in this verdict pass: all of them when it is
    /// the only collector on the store; with several, each host goes to exactly one live collector,
    /// and a collector that died has its share taken by the others at their next pass.
    func verdictShare(of hosts: [HostRecord]) throws -> [HostRecord]

    // MARK: Retention

    /// Downsamples and expires data, judged by snapshot timestamps against `nowMs` (raw into
    /// minute buckets into hour buckets, then deleted), then collects unreferenced stacks and
    /// departed processes. Works in short transactions so ingest is never blocked for long.
    @discardableResult
    func applyRetention(nowMs: Int64, chunkSize: Int) throws -> RetentionReport
    /// Deletes the stacks nothing retained refers to; returns how many.
    @discardableResult
    func collectStacks(notReferencedSinceMs capMs: Int64, chunkSize: Int) throws -> Int
    /// Deletes the process instances, then the hosts, that nothing retained belongs to any more.
    @discardableResult
    func collectDepartedProcesses(lastSeenBeforeMs cutoffMs: Int64, chunkSize: Int) throws -> (instances: Int, hosts: Int)
}

extension FleetStore {
    /// Stacks deleted per transaction: about 18 ms of the writer's time (100,000 stacks of 12
    /// frames took 3.6 s in chunks of 2,000, debug build), which ingest waits at most.
    public static var stackChunkSize: Int { 500 }

    /// Highest committed sequence of a process instance (0 if none): sent in Welcome.
    public func lastCommittedSequence(hostName: String, instanceKey: String) throws -> Int64 {
        try resumePoint(hostName: hostName, instanceKey: instanceKey).sequence
    }

    public func window(host: HostRecord, fromMs: Int64, toMs: Int64, includeSites: Bool = true) throws -> HostWindow {
        try window(host: host, fromMs: fromMs, toMs: toMs, includeSites: includeSites, maximumSiteRows: .max)
    }

    public func window(host: HostRecord, fromMs: Int64, toMs: Int64, maximumSiteRows: Int) throws -> HostWindow {
        try window(host: host, fromMs: fromMs, toMs: toMs, includeSites: true, maximumSiteRows: maximumSiteRows)
    }

    @discardableResult
    public func applyRetention(nowMs: Int64) throws -> RetentionReport {
        try applyRetention(nowMs: nowMs, chunkSize: 2000)
    }

    @discardableResult
    public func collectStacks(notReferencedSinceMs capMs: Int64) throws -> Int {
        try collectStacks(notReferencedSinceMs: capMs, chunkSize: Self.stackChunkSize)
    }

    @discardableResult
    public func collectDepartedProcesses(lastSeenBeforeMs cutoffMs: Int64) throws -> (instances: Int, hosts: Int) {
        try collectDepartedProcesses(lastSeenBeforeMs: cutoffMs, chunkSize: 500)
    }
}
