import Synchronization

/// A value behind the standard library's `Mutex`, in a class so that escaping closures can share
/// it (a `Mutex` is not copyable). `package`, not `public`: the package's tests and benchmarks share
/// it, but it is no part of the library's API.
package final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    package init(_ value: Value) { mutex = Mutex(value) }

    package func withLock<T: Sendable, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        try mutex.withLock { value throws(E) -> T in try body(&value) }
    }
}
