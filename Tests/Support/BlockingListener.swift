import Foundation
import LeakWire
import Synchronization

/// A blocking TCP listener on 127.0.0.1: the real peer a test needs for LeakWire's
/// `BlockingConnection` without SwiftNIO (the collector itself listens with NIO). `close()` may be
/// called from any thread; an `accept` in progress then fails with `WireError.connectionClosed`.
public final class BlockingListener: Sendable {
    private let openDescriptor: Mutex<Int32> // -1 once closed
    private var descriptor: Int32 { openDescriptor.withLock { $0 } }
    /// The bound port (the kernel's choice when created with port 0).
    public let port: Int

    /// Listens on 127.0.0.1:`port` (0: any free port).
    public init(port: Int = 0, backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(Self.errnoDescription)") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let reason = Self.errnoDescription
            _ = systemClose(fd)
            throw TestFailure("bind/listen on 127.0.0.1:\(port): \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        // Non-blocking, so `accept` can wait in slices and notice `close()` from another thread.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.openDescriptor = Mutex(fd)
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close() }

    public func close() {
        openDescriptor.withLock { descriptor in
            if descriptor >= 0 {
                _ = systemClose(descriptor)
                descriptor = -1
            }
        }
    }

    /// The next connection, or nil if none arrives within `timeoutSeconds`.
    public func accept(timeoutSeconds: Double, options: BlockingConnection.Options = .init())
        throws -> BlockingConnection?
    {
        let deadline = ContinuousClock.now + .nanoseconds(Int64(max(0, timeoutSeconds) * 1e9))
        while true {
            let listening = descriptor
            guard listening >= 0 else { break }
            let fd = systemAccept(listening)
            if fd >= 0 { return BlockingConnection(descriptor: fd, options: options) }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED else {
                if descriptor < 0 { break }
                throw TestFailure("accept: \(Self.errnoDescription)")
            }
            if ContinuousClock.now >= deadline { return nil }
            // Slices of at most 100 ms, so a `close()` from another thread ends the wait promptly.
            var waiting = pollfd(fd: listening, events: Int16(POLLIN), revents: 0)
            _ = poll(&waiting, 1, 100)
        }
        throw WireError.connectionClosed
    }

    private static var errnoDescription: String { String(cString: strerror(errno)) + " (errno \(errno))" }
}

// File-scope wrappers: inside the class, `close` and `accept` would resolve to its own methods.
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemAccept(_ fd: Int32) -> Int32 { accept(fd, nil, nil) }
