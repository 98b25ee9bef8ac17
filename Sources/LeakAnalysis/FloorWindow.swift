/// One series' buckets as the trend tests read them, column by column and kept aligned: each
/// bucket's centre time, its smoothed floor (the rate, thirds and scatter read it), the floor the
/// trend test reads (the bucket floor itself), its bucket index, its instance and that instance's
/// start. Every cut (by time, by instance, a subsample) is another `FloorWindow`, so no index list
/// into parallel arrays is ever passed around.
struct FloorWindow {
    private(set) var times: [Double] = []
    private(set) var floors: [Double] = []
    private(set) var testFloors: [Double] = []
    private(set) var indices: [Int64] = []
    private(set) var instances: [Int] = []
    private(set) var instanceStarts: [Double] = []

    /// `floors` are the smoothed floors of `buckets`; `testFloors` the values the trend test reads.
    init(_ buckets: [FloorBucket], bucketSeconds: Double, floors: [Double], testFloors: [Double]) {
        times = buckets.map { (Double($0.index) + 0.5) * bucketSeconds }
        self.floors = floors
        self.testFloors = testFloors
        indices = buckets.map(\.index)
        instances = buckets.map(\.instance)
        instanceStarts = buckets.map(\.instanceStartSeconds)
    }

    private init() {}

    var count: Int { times.count }
    var isEmpty: Bool { times.isEmpty }
    var span: Double { (times.last ?? 0) - (times.first ?? 0) }

    /// The rows for which `isIncluded(position)` holds, in order.
    func filter(_ isIncluded: (Int) -> Bool) -> FloorWindow {
        var result = FloorWindow()
        for position in times.indices where isIncluded(position) { result.append(self, position) }
        return result
    }

    /// Rows whose centre is at or after `seconds`.
    func since(_ seconds: Double) -> FloorWindow { filter { times[$0] >= seconds } }
    /// Rows whose centre is before `seconds`.
    func before(_ seconds: Double) -> FloorWindow { filter { times[$0] < seconds } }
    /// Rows whose centre lies in `low ..< high`.
    func between(_ low: Double, _ high: Double) -> FloorWindow { filter { times[$0] >= low && times[$0] < high } }
    /// Rows of one instance.
    func instance(_ instance: Int) -> FloorWindow { filter { instances[$0] == instance } }

    /// Every k-th row counting back from the newest, so that at most `maximum` remain.
    func subsampled(maximum: Int) -> FloorWindow {
        guard count > maximum, maximum > 0 else { return self }
        let stride = (count + maximum - 1) / maximum
        return filter { (count - 1 - $0) % stride == 0 }
    }

    /// The same rows with `floors` and `testFloors` lowered by `adjustments` (one per row).
    func subtracting(_ adjustments: [Double]) -> FloorWindow {
        precondition(adjustments.count == count)
        var result = self
        for position in times.indices {
            result.floors[position] -= adjustments[position]
            result.testFloors[position] -= adjustments[position]
        }
        return result
    }

    private mutating func append(_ other: FloorWindow, _ position: Int) {
        times.append(other.times[position])
        floors.append(other.floors[position])
        testFloors.append(other.testFloors[position])
        indices.append(other.indices[position])
        instances.append(other.instances[position])
        instanceStarts.append(other.instanceStarts[position])
    }
}
