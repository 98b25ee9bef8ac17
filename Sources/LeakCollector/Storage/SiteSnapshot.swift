import Foundation

/// Every site's live bytes and objects in one stored point of a host: a raw snapshot, or a
/// rollup bucket (then a site's live bytes are the bucket's floor, as in `window`).
public struct SiteSnapshot: Sendable, Equatable {
    public var timestampMs: Int64
    /// Per stack id.
    public var sites: [Int64: SiteSeriesPoint]

    /// The per-site rows of a raw snapshot's or a rollup bucket's `sites` blob.
    static func sitePoints(blob: Data, isRaw: Bool, timestampMs: Int64, instanceId: Int64)
        -> [(stackId: Int64, point: SiteSeriesPoint)] {
        guard let rows = PackedRows(decoding: blob) else { return [] }
        let values = rows.values
        var points: [(stackId: Int64, point: SiteSeriesPoint)] = []
        var base = 0
        if isRaw, rows.arity == SiteColumns.arity {
            while base < values.count {
                points.append((values[base + SiteColumns.stackID], SiteSeriesPoint(
                    timestampMs: timestampMs, instanceId: instanceId,
                    liveBytes: values[base + SiteColumns.liveBytes],
                    liveObjects: values[base + SiteColumns.liveObjects],
                    allocatedBytes: values[base + SiteColumns.allocatedBytes])))
                base += SiteColumns.arity
            }
        } else if !isRaw, rows.arity == SiteRollupColumns.arity {
            while base < values.count {
                points.append((values[base + SiteRollupColumns.stackID], SiteSeriesPoint(
                    timestampMs: timestampMs, instanceId: instanceId,
                    liveBytes: values[base + SiteRollupColumns.liveBytesMin],
                    liveObjects: values[base + SiteRollupColumns.liveObjectsLast],
                    allocatedBytes: values[base + SiteRollupColumns.allocatedBytesLast])))
                base += SiteRollupColumns.arity
            }
        }
        return points
    }
}
