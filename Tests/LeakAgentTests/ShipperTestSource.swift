import Foundation
import LeakAgent
import LeakWire

/// A snapshot source like the agent's: full snapshots (every site's stack included), a site
/// set that grows for a while so new stacks appear mid-connection.
final class ShipperTestSource: @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    let maximumSites: Int

    init(maximumSites: Int = 40) { self.maximumSites = maximumSites }

    var callCount: Int { lock.withLock { calls } }

    func snapshot() -> Wire.Snapshot {
        let call = lock.withLock { () -> Int in calls += 1; return calls }
        var snapshot = Wire.Snapshot()
        snapshot.stats.currentBytes = UInt64(100_000_000 + call * 1000)
        snapshot.stats.allocationCount = UInt64(call * 5000)
        for id in 1...UInt64(min(maximumSites, 4 + call)) {
            let site = Wire.Site(stackID: id * 7919, liveBytes: id * 524_288 + UInt64(call), liveObjects: id,
                                 allocatedBytes: id * 1_000_000 + UInt64(call) * 524_288)
            snapshot.sites.append(site)
            snapshot.stacks.append(Wire.Stack(id: site.stackID, frames: (0..<8).map { depth in
                Wire.Frame(function: "Demo.Handler\(id).step\(depth)()", file: "Handler\(id).swift", line: UInt32(10 + depth),
                           address: 0x5555_0000_0000 + id * 0x1000 + UInt64(depth))
            }))
        }
        return snapshot
    }

    var closure: @Sendable () -> Wire.Snapshot { { [self] in snapshot() } }
}

/// An application thread allocating in a loop, recording the longest gap between iterations.
/// Every 64 iterations it calls `touch` (the test passes the shipper's application-facing calls).
final class AllocationLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var longestGapSeconds = 0.0
    private var iterations = 0
    private let done = DispatchSemaphore(value: 0)

    init(touch: @escaping @Sendable () -> Void = {}) {
        Thread { [self] in
            var last = DispatchTime.now().uptimeNanoseconds
            var keep: [[UInt8]] = []
            while lock.withLock({ running }) {
                keep.append([UInt8](repeating: 1, count: Int.random(in: 16...4096)))
                if keep.count > 256 { keep.removeFirst(128) }
                if iterations % 64 == 0 { touch() }
                let now = DispatchTime.now().uptimeNanoseconds
                let gap = Double(now - last) / 1e9
                last = now
                lock.withLock {
                    iterations += 1
                    longestGapSeconds = max(longestGapSeconds, gap)
                }
            }
            done.signal()
        }.start()
    }

    /// Stops the loop; returns (longest gap in seconds, iterations).
    func stop() -> (longestGapSeconds: Double, iterations: Int) {
        lock.withLock { running = false }
        _ = done.wait(timeout: .now() + 5)
        return lock.withLock { (longestGapSeconds, iterations) }
    }
}
