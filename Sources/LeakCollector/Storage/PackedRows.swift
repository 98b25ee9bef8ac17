import Foundation

/// A compact blob holding a small table of integers, used for the per-site values and the
/// allocation pattern of a snapshot.
///
/// Storing one SQLite row per site would mean a million row inserts per second at the ingest
/// target (20,000 snapshots/s x 50 sites); one blob per snapshot keeps it at 20,000.
///
/// ```
/// +--------------+--------------+---------------------------------------------+
/// | arity varint | rows varint  | rows x arity values, zigzag LEB128 varints  |
/// +--------------+--------------+---------------------------------------------+
/// ```
public struct PackedRows: Sendable, Equatable {
    /// Values per row.
    public var arity: Int
    /// Row-major values; count is a multiple of `arity`.
    public var values: [Int64]

    public init(arity: Int, values: [Int64] = []) {
        precondition(arity > 0)
        self.arity = arity
        self.values = values
    }

    public var rowCount: Int { values.count / arity }

    public func row(_ index: Int) -> ArraySlice<Int64> {
        values[(index * arity)..<((index + 1) * arity)]
    }

    public mutating func append(_ row: Int64...) {
        precondition(row.count == arity)
        values.append(contentsOf: row)
    }

    public func encoded() -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 + values.count * 4)
        Self.appendVarint(UInt64(arity), to: &bytes)
        Self.appendVarint(UInt64(rowCount), to: &bytes)
        for value in values {
            Self.appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &bytes)
        }
        return Data(bytes)
    }

    /// Decodes a blob written by `encoded()`; returns nil when it is malformed.
    public init?(decoding data: Data) {
        var result: PackedRows?
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            guard let arity = Self.readVarint(bytes, &index), arity > 0, arity < 64,
                  let rows = Self.readVarint(bytes, &index), rows <= UInt64(bytes.count)
            else { return }
            let total = Int(arity) * Int(rows)
            var values = [Int64]()
            values.reserveCapacity(total)
            for _ in 0..<total {
                guard let zigzag = Self.readVarint(bytes, &index) else { return }
                values.append(Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1))
            }
            result = PackedRows(arity: Int(arity), values: values)
        }
        guard let result else { return nil }
        self = result
    }

    @inline(__always)
    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always)
    static func readVarint(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }
}

// MARK: - Layouts of the packed columns

/// `sample.sites`: one row per site.
enum SiteColumns {
    static let arity = 4
    static let stackID = 0, liveBytes = 1, liveObjects = 2, allocatedBytes = 3
}

/// `sampleRollup.sites`: one row per site, aggregated over the bucket.
enum SiteRollupColumns {
    static let arity = 6
    static let stackID = 0, liveBytesMin = 1, liveBytesMax = 2, liveBytesLast = 3, liveObjectsLast = 4, allocatedBytesLast = 5
}

/// `sample.patterns`: size classes (kind 0) and exact top sizes (kind 1).
enum PatternColumns {
    static let arity = 4
    static let kind = 0, sizeBytes = 1, allocationCount = 2, bytes = 3
}

extension AllocationPattern {
    var packed: PackedRows {
        var rows = PackedRows(arity: PatternColumns.arity)
        rows.values.reserveCapacity((sizeClasses.count + topSizes.count) * PatternColumns.arity)
        for sizeClass in sizeClasses {
            rows.append(0, sizeClass.upperBoundBytes, sizeClass.allocationCount, sizeClass.bytes)
        }
        for exact in topSizes {
            rows.append(1, exact.sizeBytes, exact.allocationCount, 0)
        }
        return rows
    }

    init(packed rows: PackedRows) {
        self.init()
        for index in 0..<rows.rowCount {
            let row = rows.row(index)
            let base = row.startIndex
            if row[base + PatternColumns.kind] == 0 {
                sizeClasses.append(.init(upperBoundBytes: row[base + 1], allocationCount: row[base + 2], bytes: row[base + 3]))
            } else {
                topSizes.append(.init(sizeBytes: row[base + 1], allocationCount: row[base + 2]))
            }
        }
    }
}
