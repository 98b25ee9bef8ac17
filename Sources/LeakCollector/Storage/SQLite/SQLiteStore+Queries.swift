import Foundation
import GRDB
import LeakWire

extension SQLiteStore {
    public func host(named name: String) throws -> HostRecord? {
        try pool.read { db in try HostRecord.filter(HostRecord.Columns.name == name).fetchOne(db) }
    }

    public func hosts() throws -> [HostRecord] {
        try pool.read { db in try HostRecord.order(HostRecord.Columns.name).fetchAll(db) }
    }

    /// Where an agent resumes: the highest committed sequence of its process instance (as
    /// `lastCommittedSequence`) and the cumulative counters of the newest raw snapshot stored for
    /// it, which the next snapshot's counters must not be below (nil when none is stored, e.g.
    /// all of it rolled up: then the continuity rule starts over from the next snapshot).
    public func resumePoint(hostName: String, instanceKey: String) throws -> (sequence: Int64, counters: SnapshotCounters?) {
        try pool.read { db in
            guard let instance = try Row.fetchOne(db, sql: """
                SELECT processInstance.id, processInstance.lastSequence FROM processInstance
                JOIN host ON host.id = processInstance.hostId
                WHERE host.name = ? AND processInstance.instanceKey = ?
                """, arguments: [hostName, instanceKey])
            else { return (0, nil) }
            let instanceID: Int64 = instance[0]
            let counters = try Row.fetchOne(db, sql: """
                SELECT sequence, bytesAllocatedTotal, allocationCount, freeCount FROM sample
                WHERE instanceId = ? ORDER BY sequence DESC LIMIT 1
                """, arguments: [instanceID]).map { row in
                SnapshotCounters(
                    sequence: UInt64(clamping: row[0] as Int64), totalAllocatedBytes: UInt64(clamping: row[1] as Int64),
                    allocationCount: UInt64(clamping: row[2] as Int64), freeCount: UInt64(clamping: row[3] as Int64))
            }
            return (instance[1], counters)
        }
    }

    /// The newest raw snapshot of a host.
    public func latestSample(hostId: Int64) throws -> SampleRecord? {
        try pool.read { db in
            try SampleRecord.fetchOne(
                db, sql: "SELECT * FROM sample WHERE hostId = ? ORDER BY timestampMs DESC LIMIT 1", arguments: [hostId])
        }
    }

    /// Newest raw snapshot of every host, by host id (one indexed look-up per host).
    public func latestSamples() throws -> [Int64: SampleRecord] {
        try pool.read { db in
            var result: [Int64: SampleRecord] = [:]
            let statement = try db.cachedStatement(sql: """
                SELECT id, instanceId, sequence, hostId, timestampMs, bytesAllocatedTotal, bytesInUse, peakBytesInUse,
                    allocationCount, freeCount, blocksOutstanding, residentBytes, uptimeSeconds, x'' AS sites, x'' AS patterns,
                    trackerBytes, agentHeapBytes
                FROM sample WHERE hostId = ? ORDER BY timestampMs DESC LIMIT 1
                """)
            for hostId in try Int64.fetchAll(db, sql: "SELECT id FROM host") {
                if let sample = try SampleRecord.fetchOne(statement, arguments: [hostId]) {
                    result[hostId] = sample
                }
            }
            return result
        }
    }

    public func latestVerdict(hostId: Int64) throws -> VerdictRecord? {
        try pool.read { db in
            try VerdictRecord.filter(VerdictRecord.Columns.hostId == hostId)
                .order(VerdictRecord.Columns.evaluatedAtMs.desc).fetchOne(db)
        }
    }

    /// A host's newest verdict that judged it (ok, growing or suspected leak), nil when none did:
    /// what a new verdict's status, and its sites', are compared with for alerts.
    public func latestJudgedVerdict(hostId: Int64) throws -> VerdictRecord? {
        try pool.read { db in
            try VerdictRecord.fetchOne(db, sql: """
                SELECT * FROM verdict WHERE hostId = ? AND status IN ('ok', 'growing', 'suspectedLeak')
                ORDER BY evaluatedAtMs DESC, id DESC LIMIT 1
                """, arguments: [hostId])
        }
    }

    /// Newest verdict of every host, by host id.
    public func latestVerdicts() throws -> [Int64: VerdictRecord] {
        try pool.read { db in
            let records = try VerdictRecord.fetchAll(db, sql: """
                SELECT verdict.* FROM verdict
                JOIN (SELECT hostId, max(evaluatedAtMs) AS newest FROM verdict GROUP BY hostId) latest
                  ON latest.hostId = verdict.hostId AND latest.newest = verdict.evaluatedAtMs
                """)
            return Dictionary(records.map { ($0.hostId, $0) }, uniquingKeysWith: { a, b in (a.id ?? 0) > (b.id ?? 0) ? a : b })
        }
    }

    /// Stores a verdict, and keeps the stacks it names from garbage collection while it is kept.
    public func storeVerdict(_ verdict: VerdictRecord) throws {
        try pool.write { db in
            try verdict.insert(db)
            let touch = try db.cachedStatement(sql: "UPDATE stack SET lastSeenMs = max(lastSeenMs, ?) WHERE id = ?")
            for site in verdict.decodedSites {
                try touch.execute(arguments: [verdict.evaluatedAtMs, site.stackId])
            }
        }
    }

    /// One collector owns a SQLite file: every host is its own.
    public func verdictShare(of hosts: [HostRecord]) throws -> [HostRecord] { hosts }

    public func recentEvents(hostId: Int64, limit: Int) throws -> [EventRecord] {
        try pool.read { db in
            try EventRecord.filter(EventRecord.Columns.hostId == hostId)
                .order(EventRecord.Columns.timestampMs.desc).limit(limit).fetchAll(db)
        }
    }

    public func stacks(ids: [Int64]) throws -> [StackRecord] {
        try pool.read { db in try StackRecord.filter(ids.contains(StackRecord.Columns.id)).fetchAll(db) }
    }

    /// A host's series over [fromMs, toMs], from every tier (raw, minute, hour), in time order.
    /// With `includeSites`, also every site's series, read from at most `maximumSiteRows` of the
    /// window's points (evenly spaced, always including the newest): per-site values are the
    /// bulk of the data, and a report or a verdict needs their trend, not every point.
    public func window(
        host: HostRecord, fromMs: Int64, toMs: Int64, includeSites: Bool, maximumSiteRows: Int
    ) throws -> HostWindow {
        try pool.read { db in
            var window = HostWindow(host: host, fromMs: fromMs, toMs: toMs, points: [], sites: [:], instanceKeys: [:])
            for row in try Row.fetchAll(db, sql: "SELECT id, instanceKey FROM processInstance WHERE hostId = ?", arguments: [host.id]) {
                window.instanceKeys[row[0]] = row[1]
            }
            // Where each point's per-site blob lives: a raw sample id, or a rollup bucket.
            var locators: [(rawID: Int64, resolution: Int64)] = []
            // Rollup tiers hold older data than raw, so rollups first keeps time order.
            let rollups = try Row.fetchCursor(db, sql: """
                SELECT bucketStartMs, instanceId, bytesInUseMin, bytesInUseMax, residentBytesMin, allocationCountLast,
                       pointCount, resolutionSeconds, freeCountLast, uptimeSecondsLast
                FROM sampleRollup WHERE hostId = ? AND bucketStartMs BETWEEN ? AND ?
                ORDER BY bucketStartMs
                """, arguments: [host.id, fromMs, toMs])
            while let row = try rollups.next() {
                window.points.append(HostSeriesPoint(
                    timestampMs: row[0], instanceId: row[1], bytesInUse: row[2], bytesInUseMax: row[3],
                    residentBytes: row[4], allocationCount: row[5], freeCount: row[8], uptimeSeconds: row[9], pointCount: row[6]))
                locators.append((0, row[7]))
            }
            let raw = try Row.fetchCursor(db, sql: """
                SELECT timestampMs, instanceId, bytesInUse, residentBytes, allocationCount, id, freeCount, uptimeSeconds
                FROM sample WHERE hostId = ? AND timestampMs BETWEEN ? AND ?
                ORDER BY timestampMs
                """, arguments: [host.id, fromMs, toMs])
            while let row = try raw.next() {
                let bytesInUse: Int64 = row[2]
                window.points.append(HostSeriesPoint(
                    timestampMs: row[0], instanceId: row[1], bytesInUse: bytesInUse, bytesInUseMax: bytesInUse,
                    residentBytes: row[3], allocationCount: row[4], freeCount: row[6], uptimeSeconds: row[7], pointCount: 1))
                locators.append((row[5], 0))
            }
            guard includeSites, !window.points.isEmpty, maximumSiteRows > 0 else { return window }
            let count = window.points.count
            let step = count <= maximumSiteRows ? 1 : (count + maximumSiteRows - 1) / maximumSiteRows
            let chosen = stride(from: count - 1, through: 0, by: -step).reversed()
            let rawBlob = try db.cachedStatement(sql: "SELECT sites FROM sample WHERE id = ?")
            let rollupBlob = try db.cachedStatement(
                sql: "SELECT sites FROM sampleRollup WHERE instanceId = ? AND resolutionSeconds = ? AND bucketStartMs = ?")
            for index in chosen {
                let point = window.points[index]
                let locator = locators[index]
                let isRaw = locator.resolution == 0
                let blob: Data?
                if isRaw {
                    blob = try Data.fetchOne(rawBlob, arguments: [locator.rawID])
                } else {
                    blob = try Data.fetchOne(rollupBlob, arguments: [point.instanceId, locator.resolution, point.timestampMs])
                }
                guard let blob else { continue }
                for site in SiteSnapshot.sitePoints(blob: blob, isRaw: isRaw, timestampMs: point.timestampMs, instanceId: point.instanceId) {
                    window.sites[site.stackId, default: []].append(site.point)
                }
            }
            return window
        }
    }
}
