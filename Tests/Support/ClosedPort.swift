import Foundation

/// A port on 127.0.0.1 that refuses connections for the rest of the test run. Its socket is
/// bound but never listens and never closes: a port that was freed could be taken by another
/// test's listener before this test connects to it.
public func closedPort() throws -> Int {
    try boundLoopbackSocket().port
}

/// A port on 127.0.0.1 nothing is bound to, for a program the test starts to listen on (a
/// PostgreSQL server, haproxy). Another test may take it before that program binds it: callers
/// that can, retry.
public func freePort() throws -> Int {
    let (descriptor, port) = try boundLoopbackSocket()
    close(descriptor)
    return port
}

/// A socket bound to 127.0.0.1 on a port the kernel chose, and that port.
private func boundLoopbackSocket() throws -> (descriptor: Int32, port: Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else {
        let error = errno
        close(descriptor)
        throw TestFailure("bind to 127.0.0.1:0: errno \(error)")
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}
