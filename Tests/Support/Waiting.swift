import Foundation

/// Runs blocking work (socket I/O, waiting for a child) on a thread of its own. The concurrency
/// pool every test shares has only as many threads as cores: a test that blocks one of them
/// stalls every other test's tasks.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass on the monotonic clock,
/// sleeping without holding a thread. Whether it held; a cancelled task (a time limit ran out)
/// gets the answer at once instead of spinning until the deadline.
public func waitUntil(seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        do {
            try await Task.sleep(for: .milliseconds(10))
        } catch {
            break
        }
    }
    return condition()
}
