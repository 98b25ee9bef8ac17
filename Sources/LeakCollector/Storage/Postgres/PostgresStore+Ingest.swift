import Foundation
import PostgresNIO

extension PostgresStore {
    /// As `SQLiteStore.ingest`: one transaction per batch, acknowledged only after its commit.
    /// The hours the batch falls in get their partitions first, in a transaction of their own.
    public func ingest(_ batch: [SnapshotIngest]) throws -> [IngestOutcome] {
        try ensurePartitions(batch.map { PostgresPartitions.index(of: $0.timestampMs) })
        return try writeCaches.withLock { caches in
            do {
                return try connections.transaction { connection in
                    var outcomes = [IngestOutcome]()
                    outcomes.reserveCapacity(batch.count)
                    var lastSeen: [Int64: Int64] = [:]
                    var instanceLastSeen: [Int64: (timestampMs: Int64, sequence: Int64)] = [:]
                    var rows: [SampleRow] = []
                    rows.reserveCapacity(batch.count)
                    for snapshot in batch {
                        let (hostID, instanceID) = try resolveProcess(snapshot, connection: connection, caches: &caches)
                        rows.append(try sampleRow(snapshot, hostID: hostID, instanceID: instanceID, connection: connection, caches: &caches))
                    }
                    let stored = try insertSamples(rows, connection: connection)
                    // A snapshot sent twice in one batch is stored once: the first is the stored one.
                    var counted = Set<SampleRow.Key>()
                    for (snapshot, row) in zip(batch, rows) {
                        let (hostID, instanceID) = (row.hostID, row.instanceID)
                        if stored.contains(row.key) && counted.insert(row.key).inserted {
                            outcomes.append(.stored)
                            try insertEventsAndErrors(snapshot, hostID: hostID, instanceID: instanceID, connection: connection, caches: &caches)
                        } else {
                            outcomes.append(.duplicate)
                        }
                        lastSeen[hostID] = max(lastSeen[hostID] ?? .min, snapshot.timestampMs)
                        let previous = instanceLastSeen[instanceID] ?? (.min, 0)
                        instanceLastSeen[instanceID] = (max(previous.timestampMs, snapshot.timestampMs), max(previous.sequence, snapshot.sequence))
                    }
                    // In id order: collectors writing the same hosts lock their rows in one order, never a deadlock.
                    for (hostID, timestampMs) in lastSeen.sorted(by: { $0.key < $1.key }) {
                        try connection.run("UPDATE host SET lastSeenMs = greatest(lastSeenMs, \(timestampMs)) WHERE id = \(hostID)")
                    }
                    for (instanceID, last) in instanceLastSeen.sorted(by: { $0.key < $1.key }) {
                        try connection.run("""
                            UPDATE processInstance SET lastSeenMs = greatest(lastSeenMs, \(last.timestampMs)),
                                lastSequence = greatest(lastSequence, \(last.sequence)) WHERE id = \(instanceID)
                            """)
                    }
                    return outcomes
                }
            } catch {
                // The transaction rolled back: ids cached during it may not exist.
                caches = WriteCaches()
                throw error
            }
        }
    }

    private func resolveProcess(_ snapshot: SnapshotIngest, connection: PostgresConnection, caches: inout WriteCaches) throws -> (Int64, Int64) {
        let process = snapshot.process
        let hostID: Int64
        if let cached = caches.hostIDs[process.hostName] {
            hostID = cached
        } else {
            try connection.run("""
                INSERT INTO host (name, serviceName, firstSeenMs, lastSeenMs)
                VALUES (\(process.hostName), \(process.serviceName), \(snapshot.timestampMs), \(snapshot.timestampMs))
                ON CONFLICT (name) DO NOTHING
                """)
            hostID = try connection.scalar("SELECT id FROM host WHERE name = \(process.hostName)", as: Int64.self)!
            caches.hostIDs[process.hostName] = hostID
        }
        let key = WriteCaches.InstanceKey(hostID: hostID, instanceKey: process.instanceKey)
        if let instanceID = caches.instanceIDs[key] {
            return (hostID, instanceID)
        }
        try connection.run("""
            INSERT INTO processInstance (hostId, instanceKey, serviceName, processId, startedAtMs, firstSeenMs, lastSeenMs)
            VALUES (\(hostID), \(process.instanceKey), \(process.serviceName), \(process.processID), \(process.startedAtMs),
                    \(snapshot.timestampMs), \(snapshot.timestampMs))
            ON CONFLICT (hostId, instanceKey) DO NOTHING
            """)
        let instanceID = try connection.scalar(
            "SELECT id FROM processInstance WHERE hostId = \(hostID) AND instanceKey = \(process.instanceKey)", as: Int64.self)!
        caches.instanceIDs[key] = instanceID
        return (hostID, instanceID)
    }

    /// One snapshot's sample row, its sites' stacks interned and resolved to row ids.
    private func sampleRow(
        _ snapshot: SnapshotIngest, hostID: Int64, instanceID: Int64, connection: PostgresConnection, caches: inout WriteCaches
    ) throws -> SampleRow {
        for definition in snapshot.newStacks where caches.stackIDs[definition.digest] == nil {
            caches.stackIDs[definition.digest] = try internStack(definition, timestampMs: snapshot.timestampMs, connection: connection)
        }
        var sites = PackedRows(arity: SiteColumns.arity)
        sites.values.reserveCapacity(snapshot.sites.count * SiteColumns.arity)
        for site in snapshot.sites {
            guard let stackID = try stackID(for: site.stackDigest, referencedAtMs: snapshot.timestampMs, connection: connection, caches: &caches)
            else { throw StoreError.unknownStack }
            sites.append(stackID, site.liveBytesEstimate, site.liveObjectsEstimate, site.allocatedBytesTotal)
        }
        return SampleRow(snapshot: snapshot, hostID: hostID, instanceID: instanceID, sites: sites.encoded())
    }

    /// Inserts the rows with multi-row INSERTs, one round trip per `SampleRow.perStatement` rows
    /// rather than one per snapshot (per-snapshot statements measured 1,181 snapshots/s on one
    /// collector); returns the keys stored, a key already present (a resent snapshot) not among them.
    private func insertSamples(_ rows: [SampleRow], connection: PostgresConnection) throws -> Set<SampleRow.Key> {
        var stored = Set<SampleRow.Key>()
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + SampleRow.perStatement)]
            start += chunk.count
            var bindings = PostgresBindings(capacity: chunk.count * SampleRow.columnCount)
            var tuples: [String] = []
            tuples.reserveCapacity(chunk.count)
            for row in chunk {
                let first = bindings.count + 1
                try row.bind(into: &bindings)
                tuples.append("(" + (first..<(first + SampleRow.columnCount)).map { "$\($0)" }.joined(separator: ", ") + ")")
            }
            let result = try connection.run(PostgresQuery(unsafeSQL: """
                INSERT INTO sample (instanceId, sequence, hostId, timestampMs, bytesAllocatedTotal, bytesInUse,
                    peakBytesInUse, allocationCount, freeCount, blocksOutstanding, residentBytes, uptimeSeconds, sites, patterns,
                    trackerBytes, agentHeapBytes, receivedAtMs)
                VALUES \(tuples.joined(separator: ", "))
                ON CONFLICT (instanceId, sequence, timestampMs) DO NOTHING
                RETURNING instanceId, sequence, timestampMs
                """, binds: bindings))
            for row in result {
                var columns = PostgresColumns(row)
                stored.insert(SampleRow.Key(instanceID: try columns.next(), sequence: try columns.next(), timestampMs: try columns.next()))
            }
        }
        return stored
    }

    private func insertEventsAndErrors(
        _ snapshot: SnapshotIngest, hostID: Int64, instanceID: Int64, connection: PostgresConnection, caches: inout WriteCaches
    ) throws {
        for event in snapshot.events {
            try connection.run("""
                INSERT INTO event (hostId, instanceId, timestampMs, kind, severity, message, value, thresholdBytes)
                VALUES (\(hostID), \(instanceID), \(event.timestampMs), \(event.kind), \(event.severity), \(event.message),
                    \(event.value), \(event.thresholdBytes))
                """)
        }
        for error in snapshot.memoryErrors {
            func stackID(_ digest: StackDigest?) throws -> Int64? {
                guard let digest else { return nil }
                guard let id = try self.stackID(for: digest, referencedAtMs: error.timestampMs, connection: connection, caches: &caches)
                else { throw StoreError.unknownStack }
                return id
            }
            let accessStack = try stackID(error.accessStack)
            let allocationStack = try stackID(error.allocationStack)
            let freeStack = try stackID(error.freeStack)
            try connection.run("""
                INSERT INTO memoryError (hostId, instanceId, timestampMs, kind, access, faultAddress, blockOffset, blockSizeBytes,
                    threadId, recovered, accessStackId, allocationStackId, freeStackId)
                VALUES (\(hostID), \(instanceID), \(error.timestampMs), \(error.kind), \(error.access),
                    \(Int64(bitPattern: error.faultAddress)), \(error.blockOffset), \(error.blockSizeBytes), \(error.threadID),
                    \(error.recovered), \(accessStack), \(allocationStack), \(freeStack))
                """)
        }
    }

    /// As in `SQLiteStore`: the row id of a stack, its `lastSeenMs` raised ahead when needed.
    private func stackID(
        for digest: StackDigest, referencedAtMs: Int64, connection: PostgresConnection, caches: inout WriteCaches
    ) throws -> Int64? {
        var entry: WriteCaches.Stack
        if let cached = caches.stackIDs[digest] {
            guard referencedAtMs > cached.lastSeenMs else { return cached.id }
            entry = cached
        } else {
            guard let row = try connection.run("SELECT id, lastSeenMs FROM stack WHERE digest = \(Data(digest.bytes))").first
            else { return nil }
            var columns = PostgresColumns(row)
            entry = WriteCaches.Stack(id: try columns.next(), lastSeenMs: try columns.next())
        }
        if referencedAtMs > entry.lastSeenMs {
            let lastSeenMs = StackLastSeen.slacked(referencedAtMs)
            try connection.run("UPDATE stack SET lastSeenMs = greatest(lastSeenMs, \(lastSeenMs)) WHERE id = \(entry.id)")
            entry.lastSeenMs = lastSeenMs
        }
        caches.stackIDs[digest] = entry
        return entry.id
    }

    private func internStack(_ definition: StackDefinition, timestampMs: Int64, connection: PostgresConnection) throws -> WriteCaches.Stack {
        let digest = Data(definition.digest.bytes)
        let frames = String(decoding: try JSONEncoder().encode(definition.frames), as: UTF8.self)
        let lastSeenMs = StackLastSeen.slacked(timestampMs)
        // Another collector may intern the same stack at the same moment: the digest decides.
        try connection.run("""
            INSERT INTO stack (digest, frameCount, frames, typeName, firstSeenMs, lastSeenMs)
            VALUES (\(digest), \(Int64(definition.frames.count)), \(frames), \(definition.typeName), \(timestampMs), \(lastSeenMs))
            ON CONFLICT (digest) DO NOTHING
            """)
        let row = try connection.run("SELECT id, lastSeenMs FROM stack WHERE digest = \(digest)").first!
        var columns = PostgresColumns(row)
        return WriteCaches.Stack(id: try columns.next(), lastSeenMs: try columns.next())
    }
}

/// A snapshot's `sample` row, ready to insert.
struct SampleRow {
    struct Key: Hashable {
        var instanceID: Int64
        var sequence: Int64
        var timestampMs: Int64
    }

    static let columnCount = 17
    /// Rows per INSERT: PostgreSQL takes at most 65,535 parameters a statement.
    static let perStatement = 3000

    var snapshot: SnapshotIngest
    var hostID: Int64
    var instanceID: Int64
    var sites: Data

    var key: Key { Key(instanceID: instanceID, sequence: snapshot.sequence, timestampMs: snapshot.timestampMs) }

    func bind(into bindings: inout PostgresBindings) throws {
        let stats = snapshot.stats
        for value in [instanceID, snapshot.sequence, hostID, snapshot.timestampMs, stats.bytesAllocatedTotal, stats.bytesInUse,
                      stats.peakBytesInUse, stats.allocationCount, stats.freeCount, stats.blocksOutstanding, stats.residentBytes] {
            bindings.append(value)
        }
        bindings.append(stats.uptimeSeconds)
        try bindings.append(sites)
        try bindings.append(snapshot.pattern.packed.encoded())
        bindings.append(snapshot.overhead.trackerBytes)
        bindings.append(snapshot.overhead.agentHeapBytes)
        bindings.append(snapshot.receivedAtMs)
    }
}
