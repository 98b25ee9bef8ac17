/// One series' buckets as the trend tests read them, column by column and kept aligned: each
/// bucket's centre time, its smoothed floor (the rate, thirds and scatter read it), the floor the
/// trend test reads (the bucket floor itself), its bucket index, its instance and that instance's
/// start. Every cut (by time, by instance, a subsample) is another `FloorWindow`, so no index list
/// into parallel arrays is ever passed around.
struct FloorWindow {
    private(set) var times: [Double] = []
    private(set) var floors: [Double] = []
    private(set) var testFloors: [Double] = []
    private(set) var bucketIndices: [Int64] = []
    private(set) var instances: [Int] = []
    private(set) var instanceStarts: [Double] = []

    /// `times` are the centres of `buckets`, `floors` their smoothed floors, `testFloors` the values
    /// the trend test reads.
    init(_ buckets: [FloorBucket], times: [Double], floors: [Double], testFloors: [Double]) {
        self.times = times
        self.floors = floors
        self.testFloors = testFloors
        bucketIndices = buckets.map(\.index)
        instances = buckets.map(\.instance)
        instanceStarts = buckets.map(\.instanceStartSeconds)
    }

    private init() {}

    var count: Int { times.count }
    var isEmpty: Bool { times.isEmpty }
    var span: Double { (times.last ?? 0) - (times.first ?? 0) }

    /// The rows for which `isIncluded(position)` holds, in order.
    func filter(_ isIncluded: (Int) -> Bool) -> FloorWindow { rows(at: times.indices.filter(isIncluded)) }

    /// Rows whose centre is at or after `seconds` (rows are in time order).
    func since(_ seconds: Double) -> FloorWindow { slice(firstPosition(notBefore: seconds)..<count) }
    /// Rows whose centre is before `seconds`.
    func before(_ seconds: Double) -> FloorWindow { slice(0..<firstPosition(notBefore: seconds)) }
    /// Rows whose centre lies in `low ..< high`.
    func between(_ low: Double, _ high: Double) -> FloorWindow {
        let start = firstPosition(notBefore: low)
        return slice(start..<max(start, firstPosition(notBefore: high)))
    }
    /// Rows of one instance.
    func instance(_ instance: Int) -> FloorWindow { filter { instances[$0] == instance } }

    /// Every k-th row counting back from the newest, so that at most `maximum` remain.
    func subsampled(maximum: Int) -> FloorWindow {
        guard count > maximum, maximum > 0 else { return self }
        let stride = (count + maximum - 1) / maximum
        return rows(at: Array(Swift.stride(from: (count - 1) % stride, to: count, by: stride)))
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

    /// Position of the first row whose centre is at or after `seconds`.
    private func firstPosition(notBefore seconds: Double) -> Int { times.partitioningIndex { $0 >= seconds } }

    private func slice(_ range: Range<Int>) -> FloorWindow {
        if range.count == count { return self }
        var result = FloorWindow()
        result.times = Array(times[range])
        result.floors = Array(floors[range])
        result.testFloors = Array(testFloors[range])
        result.bucketIndices = Array(bucketIndices[range])
        result.instances = Array(instances[range])
        result.instanceStarts = Array(instanceStarts[range])
        return result
    }

    /// The rows at `positions` (ascending).
    func rows(at positions: [Int]) -> FloorWindow {
        if positions.count == count { return self }
        var result = FloorWindow()
        result.times = positions.map { times[$0] }
        result.floors = positions.map { floors[$0] }
        result.testFloors = positions.map { testFloors[$0] }
        result.bucketIndices = positions.map { bucketIndices[$0] }
        result.instances = positions.map { instances[$0] }
        result.instanceStarts = positions.map { instanceStarts[$0] }
        return result
    }
}
