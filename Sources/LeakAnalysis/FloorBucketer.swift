/// Process instances of a host as its points arrive in time order: a new instance id is a restart.
struct InstanceTimeline: Sendable {
    /// Start of each instance (timestamp − uptime of its first point, or that timestamp).
    private(set) var starts: [Double] = []
    /// First timestamp of instances 1, 2, ... (the restarts).
    private(set) var restartTimes: [Double] = []
    private var currentID: String?

    /// Ordinal of the instance `point` belongs to, registering a restart when its id is new.
    mutating func instance(of point: HostPoint) -> Int {
        if point.instanceID != currentID {
            if currentID != nil { restartTimes.append(point.timestampSeconds) }
            starts.append(point.timestampSeconds - max(0, point.uptimeSeconds ?? 0))
            currentID = point.instanceID
        }
        return starts.count - 1
    }

    /// Ordinal of the instance running at `seconds`: the number of restarts at or before it.
    func instance(at seconds: Double) -> Int { restartTimes.partitioningIndex { $0 > seconds } }
}

/// The floor buckets of one series (a host total or a site) at one bucket length, built point by
/// point in time order: consecutive points of the same bucket interval and instance form a
/// bucket, whose floor is a low quantile of their values. The newest bucket stays open (more
/// points may join it) and is reported with the floor of the points it has so far.
struct FloorBucketer: Sendable {
    let bucketSeconds: Double
    let minimumPoints: Int
    let floorQuantile: Double
    /// Closed buckets, compact: a collector keeps thousands of hosts' (32 bytes each instead of 48).
    private var closed: [KeptBucket] = []
    /// Start of each instance the closed buckets belong to.
    private var instanceStarts: [(instance: Int, seconds: Double)] = []
    private var open: OpenBucket?
    /// The open bucket's values; the buffer is reused from bucket to bucket.
    private var values: [Double] = []

    private struct KeptBucket: Sendable {
        var index: Int64
        var floorBytes: Double
        /// NaN when not measurable.
        var allocationsPerSecond: Double
        var instance: Int32
    }

    private struct OpenBucket: Sendable {
        var index: Int64
        var instance: Int
        var instanceStartSeconds: Double
        var first: (seconds: Double, allocations: UInt64?)
        var last: (seconds: Double, allocations: UInt64?)
    }

    init(bucketSeconds: Double, minimumPoints: Int, floorQuantile: Double) {
        self.bucketSeconds = bucketSeconds
        self.minimumPoints = minimumPoints
        self.floorQuantile = floorQuantile
    }

    /// Adds a point no older than the previous one. `allocations` (host series only) gives the
    /// bucket's allocation rate.
    mutating func add(seconds: Double, value: Double, instance: Int, instanceStartSeconds: Double, allocations: UInt64?) {
        let index = Int64((seconds / bucketSeconds).rounded(.down))
        if let bucket = open, bucket.index == index, bucket.instance == instance {
            values.append(value)
            open!.last = (seconds, allocations)
            return
        }
        if let bucket = open, let finished = floorBucket(bucket) {
            closed.append(KeptBucket(
                index: finished.index, floorBytes: finished.floorBytes, allocationsPerSecond: finished.allocationsPerSecond ?? .nan,
                instance: Int32(finished.instance)))
            if instanceStarts.last?.instance != finished.instance {
                instanceStarts.append((finished.instance, finished.instanceStartSeconds))
            }
        }
        values.removeAll(keepingCapacity: true)
        values.append(value)
        open = OpenBucket(
            index: index, instance: instance, instanceStartSeconds: instanceStartSeconds,
            first: (seconds, allocations), last: (seconds, allocations))
    }

    /// Closed buckets and the open one, oldest first.
    var buckets: [FloorBucket] {
        var result: [FloorBucket] = []
        result.reserveCapacity(closed.count + 1)
        var starts = instanceStarts.makeIterator()
        var start = starts.next()
        for kept in closed {
            while let current = start, current.instance != Int(kept.instance) { start = starts.next() }
            result.append(FloorBucket(
                index: kept.index, instance: Int(kept.instance), instanceStartSeconds: start?.seconds ?? 0,
                floorBytes: kept.floorBytes, allocationsPerSecond: kept.allocationsPerSecond.isNaN ? nil : kept.allocationsPerSecond))
        }
        if let bucket = open, let current = floorBucket(bucket) { result.append(current) }
        return result
    }

    /// Index of the newest bucket interval seen.
    var newestIndex: Int64? { open?.index ?? closed.last?.index }

    /// Forgets closed buckets older than `index`.
    mutating func dropBuckets(before index: Int64) {
        let keepFrom = closed.partitioningIndex { $0.index >= index }
        guard keepFrom > 0 else { return }
        closed.removeFirst(keepFrom)
        let oldest = closed.first.map { Int($0.instance) } ?? Int.max
        instanceStarts.removeAll { $0.instance < oldest }
    }

    private func floorBucket(_ bucket: OpenBucket) -> FloorBucket? {
        guard values.count >= minimumPoints, let floor = Quantile.of(values, floorQuantile) else { return nil }
        var rate: Double? = nil
        let elapsed = bucket.last.seconds - bucket.first.seconds
        if elapsed > 0, let first = bucket.first.allocations, let last = bucket.last.allocations, last >= first {
            rate = Double(last - first) / elapsed
        }
        return FloorBucket(
            index: bucket.index, instance: bucket.instance, instanceStartSeconds: bucket.instanceStartSeconds,
            floorBytes: floor, allocationsPerSecond: rate)
    }
}
