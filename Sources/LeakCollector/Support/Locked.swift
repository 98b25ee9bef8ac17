import Foundation

/// A value behind a lock, for state shared by the collector's threads (a class, so escaping
/// closures can hold it). `package`, not `public`: the package's tests and benchmarks share it,
/// but it is no part of the library's API.
package final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    package init(_ value: Value) { self.value = value }

    package func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
