import Foundation
import GRDB
import PostgresNIO

/// Copies a SQLite store into PostgreSQL (`collector migrate --from DATA --to postgres://…`), so a
/// fleet moves to a shared store without losing its history.
///
/// Rows keep their ids, table by table in the order the foreign keys need, in chunks of one
/// transaction each, in id order: after an interruption the target's highest id of a table says
/// how far that table got, and a second run goes on from there (rollup buckets, keyed by
/// instance and time, are copied again and ignored where present). Then the identity sequences
/// are moved past the copied ids, and the copy is verified: row counts per table, and a sample of
/// rows compared column by column. No collector may write to either store meanwhile.
public enum StoreMigration {
    /// One table's rows, in the source and in the target after the copy.
    public struct TableCount: Sendable, Equatable {
        public var table: String
        public var source: Int64
        public var copied: Int64
        public var target: Int64
    }

    public struct Report: Sendable {
        public var tables: [TableCount] = []
        /// Rows read back from both stores and found equal.
        public var rowsCompared = 0
        /// What did not match; empty when the copy is verified.
        public var mismatches: [String] = []
    }

    /// The tables in copy order, with their columns (the same names in both schemas).
    static let tables: [(name: String, columns: [String], keyedByID: Bool)] = [
        ("host", ["id", "name", "serviceName", "firstSeenMs", "lastSeenMs"], true),
        ("processInstance", ["id", "hostId", "instanceKey", "serviceName", "processId", "startedAtMs", "firstSeenMs", "lastSeenMs",
                             "lastSequence"], true),
        ("stack", ["id", "digest", "frameCount", "frames", "typeName", "firstSeenMs", "lastSeenMs"], true),
        ("sample", ["id", "instanceId", "sequence", "hostId", "timestampMs", "bytesAllocatedTotal", "bytesInUse", "peakBytesInUse",
                    "allocationCount", "freeCount", "blocksOutstanding", "residentBytes", "uptimeSeconds", "sites", "patterns",
                    "trackerBytes", "agentHeapBytes", "receivedAtMs"], true),
        ("sampleRollup", SampleRollupRecord.postgresColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) },
         false),
        ("event", ["id", "hostId", "instanceId", "timestampMs", "kind", "severity", "message", "value", "thresholdBytes"], true),
        ("verdict", ["id", "hostId", "evaluatedAtMs", "status", "rateBytesPerHour", "sinceMs", "confidence", "summary", "sites"], true),
        ("memoryError", ["id", "hostId", "instanceId", "timestampMs", "kind", "access", "faultAddress", "blockOffset", "blockSizeBytes",
                         "threadId", "recovered", "accessStackId", "allocationStackId", "freeStackId"], true),
    ]

    /// PostgreSQL takes at most 65,535 parameters a statement.
    static let parametersPerStatement = 60_000

    public static func copy(
        from source: SQLiteStore, to target: PostgresStore, progress: (String) -> Void = { _ in }
    ) throws -> Report {
        var report = Report()
        for table in tables {
            let copied = try copyTable(table, from: source, to: target)
            let sourceCount = try source.read { db in try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(table.name)") ?? 0 }
            let targetCount = try target.connections.withConnection { connection in
                try connection.scalar(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.name)"), as: Int64.self) ?? 0
            }
            report.tables.append(TableCount(table: table.name, source: sourceCount, copied: copied, target: targetCount))
            if sourceCount != targetCount {
                report.mismatches.append("\(table.name): \(sourceCount) rows in SQLite, \(targetCount) in PostgreSQL")
            }
            progress("\(table.name): \(copied) rows copied, \(targetCount) of \(sourceCount) in PostgreSQL")
        }
        try moveIdentitiesPastCopiedIDs(target)
        try verifySampleOfRows(source: source, target: target, report: &report)
        return report
    }

    private static func copyTable(
        _ table: (name: String, columns: [String], keyedByID: Bool), from source: SQLiteStore, to target: PostgresStore
    ) throws -> Int64 {
        let columns = table.columns.joined(separator: ", ")
        let chunkSize = parametersPerStatement / table.columns.count
        var copied: Int64 = 0
        if table.keyedByID {
            var afterID = try target.connections.withConnection { connection in
                try connection.scalar(PostgresQuery(unsafeSQL: "SELECT max(id) FROM \(table.name)"), as: Int64.self)
            } ?? .min
            while true {
                let rows = try source.read { db in
                    try Row.fetchAll(db, sql: "SELECT \(columns) FROM \(table.name) WHERE id > ? ORDER BY id LIMIT ?",
                                     arguments: [afterID, chunkSize])
                }
                guard let last = rows.last else { break }
                try insert(rows, into: table.name, columns: table.columns, target: target)
                copied += Int64(rows.count)
                afterID = last["id"]
                if rows.count < chunkSize { break }
            }
        } else {
            var offset = 0
            while true {
                let rows = try source.read { db in
                    try Row.fetchAll(db, sql: "SELECT \(columns) FROM \(table.name) ORDER BY instanceId, resolutionSeconds, bucketStartMs LIMIT ? OFFSET ?",
                                     arguments: [chunkSize, offset])
                }
                if rows.isEmpty { break }
                copied += Int64(try insert(rows, into: table.name, columns: table.columns, target: target))
                offset += rows.count
                if rows.count < chunkSize { break }
            }
        }
        return copied
    }

    /// One multi-row INSERT of `rows`; returns the rows it added (present ones are skipped).
    @discardableResult
    private static func insert(_ rows: [Row], into table: String, columns: [String], target: PostgresStore) throws -> Int {
        if table == "sample" {
            try target.ensurePartitions(rows.map { PostgresPartitions.index(of: $0["timestampMs"]) })
        }
        var bindings = PostgresBindings(capacity: rows.count * columns.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        for row in rows {
            var placeholders: [String] = []
            for column in columns {
                placeholders.append("$\(bindings.count + 1)")
                let value: DatabaseValue = row[column]
                switch value.storage {
                case .null: bindings.appendNull()
                // SQLite keeps booleans as integers.
                case .int64(let number) where column == "recovered": bindings.append(number != 0)
                case .int64(let number): bindings.append(number)
                case .double(let number): bindings.append(number)
                case .string(let text): bindings.append(text)
                case .blob(let data): try bindings.append(data)
                }
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) ON CONFLICT DO NOTHING"
        return try target.connections.transaction { connection in
            try connection.changes(PostgresQuery(unsafeSQL: sql, binds: bindings))
        }
    }

    /// Ids the collectors assign next come after the copied ones.
    private static func moveIdentitiesPastCopiedIDs(_ target: PostgresStore) throws {
        try target.connections.transaction { connection in
            for table in tables where table.keyedByID {
                let sequence = table.name == "sample" ? "'sample_id_seq'" : "pg_get_serial_sequence('\(table.name.lowercased())', 'id')"
                try connection.run(PostgresQuery(unsafeSQL:
                    "SELECT setval(\(sequence), greatest((SELECT max(id) FROM \(table.name)), 1))"))
            }
        }
    }

    /// Every host, and up to 200 samples and 200 stacks spread over their ids, read from both
    /// stores and compared whole.
    private static func verifySampleOfRows(source: SQLiteStore, target: PostgresStore, report: inout Report) throws {
        let sourceHosts = try source.hosts(), targetHosts = try target.hosts()
        report.rowsCompared += sourceHosts.count
        if sourceHosts != targetHosts { report.mismatches.append("the hosts differ") }
        func spread(_ table: String) throws -> [Int64] {
            try source.read { db in
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM \(table) ORDER BY id")
                let step = max(1, ids.count / 200)
                return stride(from: 0, to: ids.count, by: step).map { ids[$0] }
            }
        }
        for id in try spread("sample") {
            let expected = try source.read { db in try SampleRecord.fetchOne(db, sql: "SELECT * FROM sample WHERE id = ?", arguments: [id]) }
            let actual = try target.query("SELECT \(unescaped: SampleRecord.postgresColumns) FROM sample WHERE id = \(id)")
                .first.map(SampleRecord.init(postgres:))
            report.rowsCompared += 1
            if expected != actual { report.mismatches.append("sample \(id) differs") }
        }
        let stackIDs = try spread("stack")
        let expectedStacks = try source.stacks(ids: stackIDs).sorted { $0.id < $1.id }
        let actualStacks = try target.stacks(ids: stackIDs).sorted { $0.id < $1.id }
        report.rowsCompared += expectedStacks.count
        if expectedStacks != actualStacks { report.mismatches.append("stacks differ") }
    }
}
