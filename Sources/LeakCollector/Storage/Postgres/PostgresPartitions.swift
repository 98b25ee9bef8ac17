import PostgresNIO

/// Raw snapshots' partitions: one per hour of snapshot time, `sample_h<hours since 1970>`
/// (`sample_hm<hours>` before 1970), created ahead by the maintenance pass and, for a snapshot
/// outside them (a late spool, a skewed clock), by ingest before its transaction. Retention folds
/// a partition whose whole hour is past the raw retention into minute buckets and drops it: no
/// row-by-row DELETE, no dead tuples for VACUUM. Timestamps no hour can bound (near the ends of
/// Int64) go to `sample_default`, which retention thins row by row.
enum PostgresPartitions {
    static let widthMs: Int64 = 3_600_000
    /// Key of the advisory lock partition DDL runs under, so collectors never race to create one.
    static let lockKey: Int64 = 0x4C65_616B_0002

    /// The partition holding `timestampMs` (floor division: also before 1970).
    static func index(of timestampMs: Int64) -> Int64 {
        timestampMs >= 0 ? timestampMs / widthMs : -((-(timestampMs + 1)) / widthMs) - 1
    }

    static func name(_ index: Int64) -> String {
        index >= 0 ? "sample_h\(index)" : "sample_hm\(-index)"
    }

    /// The partition's name back to its index; nil for any other table (the default partition).
    static func index(named name: String) -> Int64? {
        if name.hasPrefix("sample_hm") { return Int64(name.dropFirst("sample_hm".count)).map { -$0 } }
        if name.hasPrefix("sample_h") { return Int64(name.dropFirst("sample_h".count)) }
        return nil
    }

    /// [lower, upper) of a partition; nil when a bound does not fit in Int64.
    static func bounds(_ index: Int64) -> (lowerMs: Int64, upperMs: Int64)? {
        let (lower, overflow) = index.multipliedReportingOverflow(by: widthMs)
        guard !overflow else { return nil }
        let (upper, overflowUpper) = lower.addingReportingOverflow(widthMs)
        return overflowUpper ? nil : (lower, upper)
    }

    /// The hourly partitions that exist, by index.
    static func existing(_ connection: PostgresConnection) throws -> [Int64] {
        try connection.run("""
            SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'sample'::regclass
            """).compactMap { row in
            var columns = PostgresColumns(row)
            return index(named: try columns.next(String.self))
        }.sorted()
    }

    /// Creates the partitions of `indexes` that do not exist yet, in one transaction under the
    /// partition lock. Returns those it created.
    @discardableResult
    static func create(_ indexes: [Int64], connections: PostgresConnections) throws -> [Int64] {
        let wanted = indexes.filter { bounds($0) != nil }
        guard !wanted.isEmpty else { return [] }
        return try connections.transaction { connection in
            try connection.run("SELECT pg_advisory_xact_lock(\(lockKey))")
            let present = Set(try existing(connection))
            var created: [Int64] = []
            for index in Set(wanted).sorted() where !present.contains(index) {
                let (lower, upper) = bounds(index)!
                try connection.run(PostgresQuery(unsafeSQL:
                    "CREATE TABLE \(name(index)) PARTITION OF sample FOR VALUES FROM (\(lower)) TO (\(upper))"))
                created.append(index)
            }
            return created
        }
    }
}
