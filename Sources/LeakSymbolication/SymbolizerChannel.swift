#if canImport(Glibc)
import Glibc
#endif

/// One end of the stream socket between the agent and leakwatch-symbolizer: each message is its
/// length (u32, little-endian) and then its bytes. Sends never raise SIGPIPE in the process that
/// sends (MSG_NOSIGNAL): the agent's end lives in the watched program.
public struct SymbolizerChannel: Sendable {
    public let descriptor: Int32
    /// No request or answer comes near this; a length beyond it is a damaged stream.
    public static let largestMessage = 256 << 20

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Receives and sends give up after this long (SO_RCVTIMEO, SO_SNDTIMEO).
    public func setTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// false when the peer is gone or the send timed out.
    public func send(_ message: [UInt8]) -> Bool {
        var length = UInt32(message.count).littleEndian
        return withUnsafeBytes(of: &length) { sendAll($0) } && message.withUnsafeBytes { sendAll($0) }
    }

    /// The next message; nil at the end of the stream, on a timeout, or on a length past
    /// `largestMessage`.
    public func receive() -> [UInt8]? {
        var length: UInt32 = 0
        guard withUnsafeMutableBytes(of: &length, { receiveAll($0) }) else { return nil }
        let count = Int(UInt32(littleEndian: length))
        guard count <= Self.largestMessage else { return nil }
        var message = [UInt8](repeating: 0, count: count)
        return message.withUnsafeMutableBytes { receiveAll($0) } ? message : nil
    }

    private func sendAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = Glibc.send(descriptor, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            sent += count
        }
        return true
    }

    private func receiveAll(_ bytes: UnsafeMutableRawBufferPointer) -> Bool {
        var received = 0
        while received < bytes.count {
            let count = recv(descriptor, bytes.baseAddress! + received, bytes.count - received, 0)
            if count == 0 { return false }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            received += count
        }
        return true
    }
}
