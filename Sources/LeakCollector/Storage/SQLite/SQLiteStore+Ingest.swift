import Foundation
import GRDB

extension SQLiteStore {
    /// Writes a batch of snapshots in one transaction. When this returns, every snapshot of the
    /// batch is committed (or was already there); only then may it be acknowledged.
    public func ingest(_ batch: [SnapshotIngest]) throws -> [IngestOutcome] {
        try writeCaches.withLock { caches in
            do {
                return try pool.write { db in
                    var outcomes = [IngestOutcome]()
                    outcomes.reserveCapacity(batch.count)
                    var lastSeen: [Int64: Int64] = [:]
                    var instanceLastSeen: [Int64: (timestampMs: Int64, sequence: Int64)] = [:]
                    let statements = try IngestStatements(db)
                    for snapshot in batch {
                        let (hostID, instanceID) = try resolveProcess(snapshot, db: db, caches: &caches)
                        let outcome = try insertSample(
                            snapshot, hostID: hostID, instanceID: instanceID, statements: statements, db: db, caches: &caches)
                        outcomes.append(outcome)
                        lastSeen[hostID] = max(lastSeen[hostID] ?? .min, snapshot.timestampMs)
                        let previous = instanceLastSeen[instanceID] ?? (.min, 0)
                        instanceLastSeen[instanceID] = (max(previous.timestampMs, snapshot.timestampMs), max(previous.sequence, snapshot.sequence))
                    }
                    let hostUpdate = try db.cachedStatement(sql: "UPDATE host SET lastSeenMs = max(lastSeenMs, ?) WHERE id = ?")
                    for (hostID, timestamp) in lastSeen {
                        try hostUpdate.execute(arguments: [timestamp, hostID])
                    }
                    let instanceUpdate = try db.cachedStatement(sql: "UPDATE processInstance SET lastSeenMs = max(lastSeenMs, ?), lastSequence = max(lastSequence, ?) WHERE id = ?")
                    for (instanceID, last) in instanceLastSeen {
                        try instanceUpdate.execute(arguments: [last.timestampMs, last.sequence, instanceID])
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

    private func resolveProcess(_ snapshot: SnapshotIngest, db: Database, caches: inout WriteCaches) throws -> (Int64, Int64) {
        let process = snapshot.process
        let hostID: Int64
        if let cached = caches.hostIDs[process.hostName] {
            hostID = cached
        } else {
            try db.cachedStatement(sql: "INSERT INTO host (name, serviceName, firstSeenMs, lastSeenMs) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING")
                .execute(arguments: [process.hostName, process.serviceName, snapshot.timestampMs, snapshot.timestampMs])
            hostID = try Int64.fetchOne(db, sql: "SELECT id FROM host WHERE name = ?", arguments: [process.hostName])!
            caches.hostIDs[process.hostName] = hostID
        }
        let key = WriteCaches.InstanceKey(hostID: hostID, instanceKey: process.instanceKey)
        if let instanceID = caches.instanceIDs[key] {
            return (hostID, instanceID)
        }
        try db.cachedStatement(sql: """
            INSERT INTO processInstance (hostId, instanceKey, serviceName, processId, startedAtMs, firstSeenMs, lastSeenMs)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(hostId, instanceKey) DO NOTHING
            """).execute(arguments: [
                hostID, process.instanceKey, process.serviceName, process.processID, process.startedAtMs,
                snapshot.timestampMs, snapshot.timestampMs,
            ])
        let instanceID = try Int64.fetchOne(
            db, sql: "SELECT id FROM processInstance WHERE hostId = ? AND instanceKey = ?",
            arguments: [hostID, process.instanceKey])!
        caches.instanceIDs[key] = instanceID
        return (hostID, instanceID)
    }

    private func insertSample(
        _ snapshot: SnapshotIngest, hostID: Int64, instanceID: Int64, statements: IngestStatements, db: Database,
        caches: inout WriteCaches
    ) throws -> IngestOutcome {
        for definition in snapshot.newStacks where caches.stackIDs[definition.digest] == nil {
            caches.stackIDs[definition.digest] = try internStack(definition, timestampMs: snapshot.timestampMs, db: db)
        }
        var sites = PackedRows(arity: SiteColumns.arity)
        sites.values.reserveCapacity(snapshot.sites.count * SiteColumns.arity)
        for site in snapshot.sites {
            guard let stackID = try stackID(for: site.stackDigest, referencedAtMs: snapshot.timestampMs, db: db, caches: &caches) else {
                throw StoreError.unknownStack
            }
            sites.append(stackID, site.liveBytesEstimate, site.liveObjectsEstimate, site.allocatedBytesTotal)
        }
        let stats = snapshot.stats
        let insert = statements.insertSample
        insert.setUncheckedArguments([
            instanceID, snapshot.sequence, hostID, snapshot.timestampMs, stats.bytesAllocatedTotal, stats.bytesInUse,
            stats.peakBytesInUse, stats.allocationCount, stats.freeCount, stats.blocksOutstanding, stats.residentBytes,
            stats.uptimeSeconds, sites.encoded(), snapshot.pattern.packed.encoded(),
            snapshot.overhead.trackerBytes, snapshot.overhead.agentHeapBytes, snapshot.receivedAtMs,
        ])
        try insert.execute()
        guard db.changesCount > 0 else { return .duplicate }
        if !snapshot.events.isEmpty {
            let eventInsert = statements.insertEvent
            for event in snapshot.events {
                try eventInsert.execute(arguments: [
                    hostID, instanceID, event.timestampMs, event.kind, event.severity, event.message, event.value, event.thresholdBytes,
                ])
            }
        }
        for error in snapshot.memoryErrors {
            func stackID(_ digest: StackDigest?) throws -> Int64? {
                guard let digest else { return nil }
                guard let id = try self.stackID(for: digest, referencedAtMs: error.timestampMs, db: db, caches: &caches) else {
                    throw StoreError.unknownStack
                }
                return id
            }
            try statements.insertMemoryError.execute(arguments: [
                hostID, instanceID, error.timestampMs, error.kind, error.access, Int64(bitPattern: error.faultAddress),
                error.blockOffset, error.blockSizeBytes, error.threadID, error.recovered,
                try stackID(error.accessStack), try stackID(error.allocationStack), try stackID(error.freeStack),
            ])
        }
        return .stored
    }

    /// The row id of a stack, and a promise kept for the garbage collector: afterwards the row's
    /// `lastSeenMs` is at least `referencedAtMs`. Written ahead by `StackLastSeen.slackMs`, so a
    /// stack in every snapshot costs one UPDATE an hour, not one per snapshot.
    private func stackID(
        for digest: StackDigest, referencedAtMs: Int64, db: Database, caches: inout WriteCaches
    ) throws -> Int64? {
        var entry: WriteCaches.Stack
        if let cached = caches.stackIDs[digest] {
            guard referencedAtMs > cached.lastSeenMs else { return cached.id }
            entry = cached
        } else {
            guard let row = try Row.fetchOne(
                db, sql: "SELECT id, lastSeenMs FROM stack WHERE digest = ?", arguments: [Data(digest.bytes)])
            else { return nil }
            entry = WriteCaches.Stack(id: row[0], lastSeenMs: row[1])
        }
        if referencedAtMs > entry.lastSeenMs {
            let lastSeenMs = StackLastSeen.slacked(referencedAtMs)
            try db.cachedStatement(sql: "UPDATE stack SET lastSeenMs = max(lastSeenMs, ?) WHERE id = ?")
                .execute(arguments: [lastSeenMs, entry.id])
            entry.lastSeenMs = lastSeenMs
        }
        caches.stackIDs[digest] = entry
        return entry.id
    }

    private func internStack(_ definition: StackDefinition, timestampMs: Int64, db: Database) throws -> WriteCaches.Stack {
        let digest = Data(definition.digest.bytes)
        if let row = try Row.fetchOne(db, sql: "SELECT id, lastSeenMs FROM stack WHERE digest = ?", arguments: [digest]) {
            return WriteCaches.Stack(id: row[0], lastSeenMs: row[1])
        }
        let frames = String(decoding: try JSONEncoder().encode(definition.frames), as: UTF8.self)
        let lastSeenMs = StackLastSeen.slacked(timestampMs)
        try db.cachedStatement(sql: "INSERT INTO stack (digest, frameCount, frames, typeName, firstSeenMs, lastSeenMs) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [digest, definition.frames.count, frames, definition.typeName, timestampMs, lastSeenMs])
        return WriteCaches.Stack(id: db.lastInsertedRowID, lastSeenMs: lastSeenMs)
    }
}

/// Statements prepared once per write transaction, not looked up per snapshot.
private struct IngestStatements {
    let insertSample: Statement
    let insertEvent: Statement
    let insertMemoryError: Statement

    init(_ db: Database) throws {
        insertSample = try db.cachedStatement(sql: """
            INSERT INTO sample (instanceId, sequence, hostId, timestampMs, bytesAllocatedTotal, bytesInUse,
                peakBytesInUse, allocationCount, freeCount, blocksOutstanding, residentBytes, uptimeSeconds, sites, patterns,
                trackerBytes, agentHeapBytes, receivedAtMs)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(instanceId, sequence) DO NOTHING
            """)
        insertEvent = try db.cachedStatement(sql: """
            INSERT INTO event (hostId, instanceId, timestampMs, kind, severity, message, value, thresholdBytes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertMemoryError = try db.cachedStatement(sql: """
            INSERT INTO memoryError (hostId, instanceId, timestampMs, kind, access, faultAddress, blockOffset, blockSizeBytes,
                threadId, recovered, accessStackId, allocationStackId, freeStackId)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }
}
