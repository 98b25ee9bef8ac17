import Foundation
import LeakWire
import PostgresNIO

extension PostgresStore {
    /// Runs `body` on a connection in a read-only transaction at REPEATABLE READ: one snapshot of
    /// the database for the whole read, as SQLite's read transactions give.
    func read<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try connections.withConnection { connection in
            try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try body(connection)
                try connection.run("COMMIT")
                return result
            } catch {
                if !connection.isClosed { _ = try? connection.run("ROLLBACK") }
                throw error
            }
        }
    }

    /// One statement, no transaction of its own.
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try connections.withConnection { connection in try connection.run(query) }
    }

    public func host(named name: String) throws -> HostRecord? {
        try query("SELECT \(unescaped: HostRecord.postgresColumns) FROM host WHERE name = \(name)").first.map(HostRecord.init(postgres:))
    }

    public func hosts() throws -> [HostRecord] {
        try query("SELECT \(unescaped: HostRecord.postgresColumns) FROM host ORDER BY name").map(HostRecord.init(postgres:))
    }

    public func resumePoint(hostName: String, instanceKey: String) throws -> (sequence: Int64, counters: SnapshotCounters?) {
        try read { connection in
            guard let instance = try connection.run("""
                SELECT processInstance.id, processInstance.lastSequence FROM processInstance
                JOIN host ON host.id = processInstance.hostId
                WHERE host.name = \(hostName) AND processInstance.instanceKey = \(instanceKey)
                """).first
            else { return (0, nil) }
            var columns = PostgresColumns(instance)
            let instanceID: Int64 = try columns.next()
            let sequence: Int64 = try columns.next()
            let counters = try connection.run("""
                SELECT sequence, bytesAllocatedTotal, allocationCount, freeCount FROM sample
                WHERE instanceId = \(instanceID) ORDER BY sequence DESC LIMIT 1
                """).first.map { row in
                var c = PostgresColumns(row)
                return SnapshotCounters(
                    sequence: UInt64(clamping: try c.next(Int64.self)), totalAllocatedBytes: UInt64(clamping: try c.next(Int64.self)),
                    allocationCount: UInt64(clamping: try c.next(Int64.self)), freeCount: UInt64(clamping: try c.next(Int64.self)))
            }
            return (sequence, counters)
        }
    }

    public func latestSample(hostId: Int64) throws -> SampleRecord? {
        try query("""
            SELECT \(unescaped: SampleRecord.postgresColumns) FROM sample WHERE hostId = \(hostId)
            ORDER BY timestampMs DESC LIMIT 1
            """).first.map(SampleRecord.init(postgres:))
    }

    public func latestSamples() throws -> [Int64: SampleRecord] {
        let rows = try query("""
            SELECT s.* FROM host h CROSS JOIN LATERAL (
                SELECT \(unescaped: SampleRecord.postgresColumnsWithoutBlobs) FROM sample
                WHERE hostId = h.id ORDER BY timestampMs DESC LIMIT 1) s
            """)
        return Dictionary(try rows.map { row in let sample = try SampleRecord(postgres: row); return (sample.hostId, sample) },
                          uniquingKeysWith: { a, _ in a })
    }

    public func latestVerdict(hostId: Int64) throws -> VerdictRecord? {
        try query("""
            SELECT \(unescaped: VerdictRecord.postgresColumns) FROM verdict WHERE hostId = \(hostId)
            ORDER BY evaluatedAtMs DESC, id DESC LIMIT 1
            """).first.map(VerdictRecord.init(postgres:))
    }

    public func latestJudgedVerdict(hostId: Int64) throws -> VerdictRecord? {
        try query("""
            SELECT \(unescaped: VerdictRecord.postgresColumns) FROM verdict
            WHERE hostId = \(hostId) AND status IN ('ok', 'growing', 'suspectedLeak')
            ORDER BY evaluatedAtMs DESC, id DESC LIMIT 1
            """).first.map(VerdictRecord.init(postgres:))
    }

    public func latestVerdicts() throws -> [Int64: VerdictRecord] {
        let records = try query("""
            SELECT DISTINCT ON (hostId) \(unescaped: VerdictRecord.postgresColumns) FROM verdict
            ORDER BY hostId, evaluatedAtMs DESC, id DESC
            """).map(VerdictRecord.init(postgres:))
        return Dictionary(records.map { ($0.hostId, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func storeVerdict(_ verdict: VerdictRecord) throws {
        try connections.transaction { connection in
            try connection.run("""
                INSERT INTO verdict (hostId, evaluatedAtMs, status, rateBytesPerHour, sinceMs, confidence, summary, sites)
                VALUES (\(verdict.hostId), \(verdict.evaluatedAtMs), \(verdict.status), \(verdict.rateBytesPerHour),
                    \(verdict.sinceMs), \(verdict.confidence), \(verdict.summary), \(verdict.sites))
                """)
            let stackIDs = verdict.decodedSites.map(\.stackId)
            if !stackIDs.isEmpty {
                try connection.run("""
                    UPDATE stack SET lastSeenMs = greatest(lastSeenMs, \(verdict.evaluatedAtMs)) WHERE id = ANY(\(stackIDs))
                    """)
            }
        }
    }

    public func recentEvents(hostId: Int64, limit: Int) throws -> [EventRecord] {
        try query("""
            SELECT \(unescaped: EventRecord.postgresColumns) FROM event WHERE hostId = \(hostId)
            ORDER BY timestampMs DESC LIMIT \(Int64(limit))
            """).map(EventRecord.init(postgres:))
    }

    public func stacks(ids: [Int64]) throws -> [StackRecord] {
        guard !ids.isEmpty else { return [] }
        return try query("SELECT \(unescaped: StackRecord.postgresColumns) FROM stack WHERE id = ANY(\(ids))").map(StackRecord.init(postgres:))
    }

    public func memoryErrors(hostId: Int64, fromMs: Int64, limit: Int) throws -> [MemoryErrorRecord] {
        try query("""
            SELECT \(unescaped: MemoryErrorRecord.postgresColumns) FROM memoryError
            WHERE hostId = \(hostId) AND timestampMs >= \(fromMs) ORDER BY timestampMs DESC LIMIT \(Int64(limit))
            """).map(MemoryErrorRecord.init(postgres:))
    }

    public func memoryErrorSites(serviceName: String, fromMs: Int64, limit: Int) throws -> [MemoryErrorSiteSummary] {
        try read { connection in
            let groups = try connection.run("""
                SELECT m.kind, m.allocationStackId, count(DISTINCT m.hostId) AS hostCount, count(*) AS occurrences,
                       min(m.timestampMs), max(m.timestampMs) AS lastSeenMs
                FROM memoryError m JOIN host h ON h.id = m.hostId
                WHERE m.timestampMs >= \(fromMs) AND (\(serviceName) = '' OR h.serviceName = \(serviceName))
                GROUP BY m.kind, m.allocationStackId
                ORDER BY hostCount DESC, occurrences DESC, lastSeenMs DESC, m.kind
                LIMIT \(Int64(limit))
                """)
            return try groups.map { group in
                var c = PostgresColumns(group)
                let kind: String = try c.next()
                let stackId: Int64? = try c.next()
                let hostCount: Int64 = try c.next()
                let occurrences: Int64 = try c.next()
                let firstSeenMs: Int64 = try c.next()
                let lastSeenMs: Int64 = try c.next()
                let scope: PostgresQuery = """
                    m.kind = \(kind) AND m.allocationStackId IS NOT DISTINCT FROM \(stackId) AND m.timestampMs >= \(fromMs)
                    AND (\(serviceName) = '' OR h.serviceName = \(serviceName))
                    """
                let newest = try connection.run(PostgresQuery(
                    unsafeSQL: "SELECT m.* FROM memoryError m JOIN host h ON h.id = m.hostId WHERE \(scope.sql) ORDER BY m.timestampMs DESC LIMIT 1",
                    binds: scope.binds)).first!
                let hostNames = try connection.run(PostgresQuery(
                    unsafeSQL: "SELECT h.name FROM memoryError m JOIN host h ON h.id = m.hostId WHERE \(scope.sql) "
                        + "GROUP BY h.id, h.name ORDER BY max(m.timestampMs) DESC, h.name LIMIT 10",
                    binds: scope.binds)).map { row in var c = PostgresColumns(row); return try c.next(String.self) }
                return MemoryErrorSiteSummary(
                    kind: kind, allocationStackId: stackId, hostCount: Int(hostCount), occurrences: Int(occurrences),
                    firstSeenMs: firstSeenMs, lastSeenMs: lastSeenMs, hostNames: hostNames, newest: try MemoryErrorRecord(postgres: newest))
            }
        }
    }

    public func hostGaugeRows() throws -> [HostGaugeRow] {
        try query("""
            SELECT h.name, h.serviceName, h.lastSeenMs, v.status, v.rateBytesPerHour,
                   (SELECT s.bytesInUse FROM sample s WHERE s.hostId = h.id ORDER BY s.timestampMs DESC LIMIT 1)
            FROM host h
            LEFT JOIN LATERAL (SELECT status, rateBytesPerHour FROM verdict WHERE hostId = h.id
                               ORDER BY evaluatedAtMs DESC, id DESC LIMIT 1) v ON true
            ORDER BY h.name
            """).map { row in
            var c = PostgresColumns(row)
            return HostGaugeRow(
                name: try c.next(), serviceName: try c.next(), lastSeenMs: try c.next(), status: try c.next(),
                rateBytesPerHour: try c.next(), heapBytes: try c.next())
        }
    }

    public func siteSnapshot(hostId: Int64, atMs: Int64) throws -> SiteSnapshot? {
        try read { connection in
            typealias Point = (timestampMs: Int64, instanceId: Int64, sites: Data, isRaw: Bool)
            func point(_ query: PostgresQuery) throws -> Point? {
                try connection.run(query).first.map { row in
                    var c = PostgresColumns(row)
                    return (try c.next(), try c.next(), try c.next(), try c.next())
                }
            }
            let before = [
                try point("""
                    SELECT timestampMs, instanceId, sites, true FROM sample WHERE hostId = \(hostId) AND timestampMs <= \(atMs)
                    ORDER BY timestampMs DESC LIMIT 1
                    """),
                try point("""
                    SELECT bucketStartMs, instanceId, sites, false FROM sampleRollup WHERE hostId = \(hostId) AND bucketStartMs <= \(atMs)
                    ORDER BY bucketStartMs DESC LIMIT 1
                    """),
            ].compactMap { $0 }.max { $0.timestampMs < $1.timestampMs }
            let chosen: Point?
            if let before {
                chosen = before
            } else {
                chosen = [
                    try point("""
                        SELECT timestampMs, instanceId, sites, true FROM sample WHERE hostId = \(hostId) AND timestampMs > \(atMs)
                        ORDER BY timestampMs LIMIT 1
                        """),
                    try point("""
                        SELECT bucketStartMs, instanceId, sites, false FROM sampleRollup WHERE hostId = \(hostId) AND bucketStartMs > \(atMs)
                        ORDER BY bucketStartMs LIMIT 1
                        """),
                ].compactMap { $0 }.min { $0.timestampMs < $1.timestampMs }
            }
            guard let chosen else { return nil }
            var snapshot = SiteSnapshot(timestampMs: chosen.timestampMs, sites: [:])
            for site in SiteSnapshot.sitePoints(blob: chosen.sites, isRaw: chosen.isRaw, timestampMs: chosen.timestampMs,
                                                instanceId: chosen.instanceId) {
                snapshot.sites[site.stackId] = site.point
            }
            return snapshot
        }
    }

    public func window(host: HostRecord, fromMs: Int64, toMs: Int64, includeSites: Bool, maximumSiteRows: Int) throws -> HostWindow {
        try read { connection in
            var window = HostWindow(host: host, fromMs: fromMs, toMs: toMs, points: [], sites: [:], instanceKeys: [:])
            for row in try connection.run("SELECT id, instanceKey FROM processInstance WHERE hostId = \(host.id)") {
                var c = PostgresColumns(row)
                window.instanceKeys[try c.next()] = try c.next()
            }
            // Where each point's per-site blob lives: a raw sample id, or a rollup bucket (its resolution).
            var locators: [(rawID: Int64, resolution: Int64)] = []
            // Rollups cover older data than raw, so rollups first keeps time order.
            for row in try connection.run("""
                SELECT bucketStartMs, instanceId, bytesInUseMin, bytesInUseMax, residentBytesMin, allocationCountLast,
                       pointCount, resolutionSeconds, freeCountLast, uptimeSecondsLast
                FROM sampleRollup WHERE hostId = \(host.id) AND bucketStartMs BETWEEN \(fromMs) AND \(toMs)
                ORDER BY bucketStartMs
                """) {
                var c = PostgresColumns(row)
                let timestampMs: Int64 = try c.next(), instanceId: Int64 = try c.next(), bytesInUse: Int64 = try c.next()
                let bytesInUseMax: Int64 = try c.next(), residentBytes: Int64 = try c.next(), allocationCount: Int64 = try c.next()
                let pointCount: Int64 = try c.next(), resolution: Int64 = try c.next(), freeCount: Int64 = try c.next()
                let uptimeSeconds: Double = try c.next()
                window.points.append(HostSeriesPoint(
                    timestampMs: timestampMs, instanceId: instanceId, bytesInUse: bytesInUse, bytesInUseMax: bytesInUseMax,
                    residentBytes: residentBytes, allocationCount: allocationCount, freeCount: freeCount,
                    uptimeSeconds: uptimeSeconds, pointCount: pointCount))
                locators.append((0, resolution))
            }
            for row in try connection.run("""
                SELECT timestampMs, instanceId, bytesInUse, residentBytes, allocationCount, id, freeCount, uptimeSeconds
                FROM sample WHERE hostId = \(host.id) AND timestampMs BETWEEN \(fromMs) AND \(toMs)
                ORDER BY timestampMs
                """) {
                var c = PostgresColumns(row)
                let timestampMs: Int64 = try c.next(), instanceId: Int64 = try c.next(), bytesInUse: Int64 = try c.next()
                let residentBytes: Int64 = try c.next(), allocationCount: Int64 = try c.next(), id: Int64 = try c.next()
                let freeCount: Int64 = try c.next(), uptimeSeconds: Double = try c.next()
                window.points.append(HostSeriesPoint(
                    timestampMs: timestampMs, instanceId: instanceId, bytesInUse: bytesInUse, bytesInUseMax: bytesInUse,
                    residentBytes: residentBytes, allocationCount: allocationCount, freeCount: freeCount,
                    uptimeSeconds: uptimeSeconds, pointCount: 1))
                locators.append((id, 0))
            }
            guard includeSites, !window.points.isEmpty, maximumSiteRows > 0 else { return window }
            let count = window.points.count
            let step = count <= maximumSiteRows ? 1 : (count + maximumSiteRows - 1) / maximumSiteRows
            let chosen = Array(stride(from: count - 1, through: 0, by: -step).reversed())
            // The chosen points' blobs in two statements, not one per point.
            let rawIDs = chosen.filter { locators[$0].resolution == 0 }.map { locators[$0].rawID }
            var rawBlobs: [Int64: Data] = [:]
            if !rawIDs.isEmpty {
                for row in try connection.run("""
                    SELECT id, sites FROM sample
                    WHERE hostId = \(host.id) AND timestampMs BETWEEN \(fromMs) AND \(toMs) AND id = ANY(\(rawIDs))
                    """) {
                    var c = PostgresColumns(row)
                    rawBlobs[try c.next()] = try c.next()
                }
            }
            let rollupChosen = chosen.filter { locators[$0].resolution != 0 }
            var rollupBlobs: [RollupKey: Data] = [:]
            if !rollupChosen.isEmpty {
                let instances = rollupChosen.map { window.points[$0].instanceId }
                let resolutions = rollupChosen.map { locators[$0].resolution }
                let starts = rollupChosen.map { window.points[$0].timestampMs }
                for row in try connection.run("""
                    SELECT r.instanceId, r.resolutionSeconds, r.bucketStartMs, r.sites FROM sampleRollup r
                    JOIN unnest(\(instances)::bigint[], \(resolutions)::bigint[], \(starts)::bigint[]) AS k(instanceId, resolution, bucketStartMs)
                      ON r.instanceId = k.instanceId AND r.resolutionSeconds = k.resolution AND r.bucketStartMs = k.bucketStartMs
                    """) {
                    var c = PostgresColumns(row)
                    let key = RollupKey(instanceId: try c.next(), resolution: try c.next(), bucketStartMs: try c.next())
                    rollupBlobs[key] = try c.next()
                }
            }
            for index in chosen {
                let point = window.points[index]
                let locator = locators[index]
                let isRaw = locator.resolution == 0
                let blob = isRaw
                    ? rawBlobs[locator.rawID]
                    : rollupBlobs[RollupKey(instanceId: point.instanceId, resolution: locator.resolution, bucketStartMs: point.timestampMs)]
                guard let blob else { continue }
                for site in SiteSnapshot.sitePoints(blob: blob, isRaw: isRaw, timestampMs: point.timestampMs, instanceId: point.instanceId) {
                    window.sites[site.stackId, default: []].append(site.point)
                }
            }
            return window
        }
    }

    private struct RollupKey: Hashable {
        var instanceId: Int64
        var resolution: Int64
        var bucketStartMs: Int64
    }
}
