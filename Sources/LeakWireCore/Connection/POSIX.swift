#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the socket calls whose spelling differs between libcs.
enum POSIX {
    #if os(Linux)
    static let plainStreamSocketType = Int32(SOCK_STREAM.rawValue)
    static let streamSocketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    static let plainStreamSocketType = SOCK_STREAM
    static let streamSocketType = SOCK_STREAM
    static let sendFlags: Int32 = 0
    #endif

    #if canImport(Glibc)
    static func close(_ fd: Int32) -> Int32 { Glibc.close(fd) }
    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Glibc.connect(fd, address, length)
    }
    static func send(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Glibc.send(fd, bytes, count, sendFlags) }
    #elseif canImport(Musl)
    static func close(_ fd: Int32) -> Int32 { Musl.close(fd) }
    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Musl.connect(fd, address, length)
    }
    static func send(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Musl.send(fd, bytes, count, sendFlags) }
    #else
    static func close(_ fd: Int32) -> Int32 { Darwin.close(fd) }
    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Darwin.connect(fd, address, length)
    }
    static func send(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Darwin.send(fd, bytes, count, sendFlags) }
    #endif

    static var errnoDescription: String { String(cString: strerror(errno)) + " (errno \(errno))" }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        #if !os(Linux)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Waits for `events` on `fd` for at most `milliseconds`; returns the revents (0 on timeout).
    static func poll(_ fd: Int32, events: Int16, milliseconds: Int32) -> Int16 {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        let ready = withUnsafeMutablePointer(to: &descriptor) { pointer in
            #if canImport(Glibc)
            Glibc.poll(pointer, 1, milliseconds)
            #elseif canImport(Musl)
            Musl.poll(pointer, 1, milliseconds)
            #else
            Darwin.poll(pointer, 1, milliseconds)
            #endif
        }
        return ready > 0 ? descriptor.revents : 0
    }
}

/// A point in monotonic time by which an operation must finish.
///
/// Read from `CLOCK_MONOTONIC` rather than `ContinuousClock`, which lives in the Concurrency
/// library: the preloaded agent is built without it, so a C program does not map it for the agent.
struct Deadline {
    private let nanoseconds: Int64

    init(secondsFromNow seconds: Double) {
        nanoseconds = Self.now() + Int64(max(0, min(seconds, 1e9)) * 1e9)
    }

    /// Milliseconds left, at most `slice` (so callers can check for cancellation), at least 0.
    func remainingMilliseconds(slice: Int32 = 100) -> Int32 {
        let left = nanoseconds - Self.now()
        if left <= 0 { return 0 }
        return Int32(min(Int64(slice), left / 1_000_000 + 1))
    }

    var hasPassed: Bool { Self.now() >= nanoseconds }

    private static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
