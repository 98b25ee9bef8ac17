#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A blocking TCP listener on 127.0.0.1, for tests and local tools that need a real peer
/// without SwiftNIO (the collector itself listens with NIO). `close()` may be called from
/// any thread; an `accept` in progress then fails with `connectionClosed`.
public final class BlockingListener: Sendable {
    private let openDescriptor: Mutex<Int32> // -1 once closed
    private var descriptor: Int32 { openDescriptor.withLock { $0 } }
    /// The bound port (the kernel's choice when created with port 0).
    public let port: Int

    /// Listens on 127.0.0.1:`port` (0: any free port).
    public init(port: Int = 0, backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, POSIX.streamSocketType, 0)
        guard fd >= 0 else { throw WireError.ioFailed.with("socket: \(POSIX.errnoDescription)") }
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
            let reason = POSIX.errnoDescription
            _ = POSIX.close(fd)
            throw WireError.ioFailed.with("bind/listen on 127.0.0.1:\(port): \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        POSIX.setNonBlocking(fd)
        self.openDescriptor = Mutex(fd)
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close() }

    public func close() {
        openDescriptor.withLock { descriptor in
            if descriptor >= 0 {
                _ = POSIX.close(descriptor)
                descriptor = -1
            }
        }
    }

    /// The next connection, or nil if none arrives within `timeoutSeconds`.
    public func accept(timeoutSeconds: Double, options: BlockingConnection.Options = .init())
        throws -> BlockingConnection?
    {
        let deadline = Deadline(secondsFromNow: timeoutSeconds)
        while true {
            let listening = descriptor
            guard listening >= 0 else { break }
            #if canImport(Glibc)
            let fd = Glibc.accept(listening, nil, nil)
            #elseif canImport(Musl)
            let fd = Musl.accept(listening, nil, nil)
            #else
            let fd = Darwin.accept(listening, nil, nil)
            #endif
            if fd >= 0 { return BlockingConnection(descriptor: fd, options: options) }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED else {
                if descriptor < 0 { break }
                throw WireError.ioFailed.with("accept: \(POSIX.errnoDescription)")
            }
            if deadline.hasPassed { return nil }
            _ = POSIX.poll(listening, events: Int16(POLLIN), milliseconds: deadline.remainingMilliseconds())
        }
        throw WireError.connectionClosed.with("listener closed")
    }
}
