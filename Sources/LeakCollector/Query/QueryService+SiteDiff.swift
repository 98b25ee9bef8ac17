import LeakWire

extension QueryService {
    /// Each site's change in live bytes between the host's stored points nearest two times.
    public func siteDiff(_ request: Leakwatch_V1_SiteDiffRequest) throws -> Leakwatch_V1_SiteDiffResponse {
        let host = try requireHost(request.host, requestID: request.requestID)
        guard request.fromUnixNanos > 0 else {
            throw QueryError.badRequest("a site diff needs from_unix_nanos, the time of its base", requestID: request.requestID)
        }
        guard request.toUnixNanos == 0 || request.fromUnixNanos <= request.toUnixNanos else {
            throw QueryError.badRequest("site diff range is empty: from is after to", requestID: request.requestID)
        }
        let toMs = request.toUnixNanos > 0 ? request.toUnixNanos / 1_000_000 : Int64.max
        var response = Leakwatch_V1_SiteDiffResponse()
        response.requestID = request.requestID
        response.host = host.name
        guard let base = try store.siteSnapshot(hostId: host.id, atMs: request.fromUnixNanos / 1_000_000),
              let target = try store.siteSnapshot(hostId: host.id, atMs: toMs)
        else { return response }
        response.fromSnapshotUnixNanos = Saturating.nanos(milliseconds: base.timestampMs)
        response.toSnapshotUnixNanos = Saturating.nanos(milliseconds: target.timestampMs)

        let limit = request.limit > 0 ? Int(min(request.limit, 100_000)) : defaultSiteDiffLimit
        let changes = Self.siteChanges(from: base, to: target, limit: limit)
        let stacks = Dictionary(try store.stacks(ids: changes.map(\.stackId)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        response.changes = changes.map { change in
            var out = Leakwatch_V1_SiteChange()
            out.stackID = UInt64(clamping: change.stackId)
            out.fromLiveBytes = UInt64(max(0, change.from?.liveBytes ?? 0))
            out.toLiveBytes = UInt64(max(0, change.to?.liveBytes ?? 0))
            out.fromLiveObjects = UInt64(max(0, change.from?.liveObjects ?? 0))
            out.toLiveObjects = UInt64(max(0, change.to?.liveObjects ?? 0))
            if let stack = stacks[change.stackId] {
                if let typeName = stack.typeName { out.typeName = typeName }
                out.frames = stack.decodedFrames().map(Self.frame)
            }
            return out
        }
        return response
    }

    struct SiteChange: Equatable {
        var stackId: Int64
        var from: SiteSeriesPoint?
        var to: SiteSeriesPoint?
        var deltaBytes: Int64 { Saturating.difference(to?.liveBytes ?? 0, from?.liveBytes ?? 0) }
    }

    /// The `limit` largest changes either way (a site absent from a point had nothing live), then
    /// ordered largest growth first; sites whose live bytes did not change are left out.
    static func siteChanges(from base: SiteSnapshot, to target: SiteSnapshot, limit: Int) -> [SiteChange] {
        let changed = Set(base.sites.keys).union(target.sites.keys)
            .map { SiteChange(stackId: $0, from: base.sites[$0], to: target.sites[$0]) }
            .filter { $0.deltaBytes != 0 }
        let largest = changed.sorted {
            let a = $0.deltaBytes.magnitude, b = $1.deltaBytes.magnitude
            return a != b ? a > b : $0.stackId < $1.stackId
        }.prefix(limit)
        return largest.sorted { $0.deltaBytes != $1.deltaBytes ? $0.deltaBytes > $1.deltaBytes : $0.stackId < $1.stackId }
    }
}
