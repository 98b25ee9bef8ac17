#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP connection speaking Leakwatch frames, for the agent's shipper thread and
/// collector-cli: connect (with timeout), handshake, send and receive messages; with
/// `Options.tls`, the same frames inside TLS 1.3 (a `TLSClientSession` this connection feeds).
///
/// Every call is bounded: name resolution by the system resolver's own timeouts, connect by
/// `connectTimeoutSeconds`, each send and receive by `ioTimeoutSeconds`. Waits are sliced
/// into 100 ms polls that check `isCancelled`, so an owner that is stopping gets its thread
/// back within about 100 ms. Not thread-safe: one thread owns a connection.
public final class BlockingConnection {
    public struct Options: Sendable {
        public var connectTimeoutSeconds: Double
        public var ioTimeoutSeconds: Double
        public var limits: WireLimits
        /// How this side deflates what it sends.
        public var compression: FrameEncoder.Compression
        /// Run around each blocking wait (name resolution, poll). Default: none.
        public var waitHooks: BlockingWaitHooks?
        /// TLS around the frames, the handshake bounded by `connectTimeoutSeconds`. Default: none,
        /// plaintext.
        public var tls: TLSClientContext?

        /// Defaults: connect 5 s, I/O 10 s, default limits, bodies of 256 bytes or more
        /// deflated in the connection's zlib stream (CONTEXT).
        public init(connectTimeoutSeconds: Double = 5, ioTimeoutSeconds: Double = 10,
                    limits: WireLimits = .default,
                    compression: FrameEncoder.Compression = .context(minimumBytes: 256)) {
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.ioTimeoutSeconds = ioTimeoutSeconds
            self.limits = limits
            self.compression = compression
        }
    }

    private var descriptor: Int32
    /// The socket's device and inode when it was taken over: the same number naming anything else
    /// later means the program closed it (and may have reused the number for a file of its own).
    private let socketIdentity: FileIdentity?
    private var decoder: FrameDecoder
    private let encoder: FrameEncoder
    public let options: Options
    private let isCancelled: @Sendable () -> Bool
    /// Set once the TLS handshake is done: every byte in and out goes through it.
    private var tls: TLSClientSession?
    /// A TLS failure (an alert) that came after frames still to be read: thrown once they are.
    private var pendingTLSFailure: WireError?
    /// Bytes of frames sent and received, for overhead accounting.
    public private(set) var bytesSent = 0
    public private(set) var bytesReceived = 0

    /// Wraps a connected socket (taken over: closed by `close()` or deinit).
    public init(descriptor: Int32, options: Options = Options(),
                isCancelled: @escaping @Sendable () -> Bool = { false }) {
        POSIX.setNonBlocking(descriptor)
        POSIX.setNoDelay(descriptor)
        self.descriptor = descriptor
        self.socketIdentity = FileIdentity(descriptor: descriptor)
        self.options = options
        self.decoder = FrameDecoder(limits: options.limits)
        self.encoder = FrameEncoder(compression: options.compression)
        self.isCancelled = isCancelled
    }

    deinit { close() }

    public var isOpen: Bool { descriptor >= 0 }

    private var descriptorIsOurs: Bool {
        socketIdentity != nil && FileIdentity(descriptor: descriptor) == socketIdentity
    }

    /// Before each send or receive: a descriptor that is no longer the socket is forgotten, never
    /// read, written or closed (a reused number may be another socket of the program's).
    private func requireOwnDescriptor() throws {
        guard descriptor >= 0, !descriptorIsOurs else { return }
        descriptor = -1
        throw WireError.descriptorLost.with("the program closed the connection's socket (descriptor reused or closed)")
    }

    /// The error for a send or recv that failed with `errno`. A descriptor that is no longer this
    /// socket (EBADF, or another file of the program's at the same number, found by its identity)
    /// means the program closed it while this call waited (a program that closes every descriptor
    /// above 2): the number is forgotten, not closed, as `requireOwnDescriptor` does.
    private func failure(of call: String) -> WireError {
        let code = errno
        let reason = POSIX.errnoDescription
        if code == EBADF || code == ENOTSOCK || !descriptorIsOurs {
            descriptor = -1
            return WireError.descriptorLost.with("the program closed the connection's socket (\(call): \(reason))")
        }
        close()
        return (code == EPIPE || code == ECONNRESET ? WireError.connectionClosed : WireError.ioFailed).with("\(call) failed: \(reason)")
    }

    /// The socket, for an owner that waits on it together with other descriptors (poll for
    /// POLLIN, then call `receive(timeoutSeconds: 0)`). -1 once closed. Do not read or write it.
    public var descriptorForPolling: Int32 { descriptor }

    public func close() {
        if descriptor >= 0 {
            // Never close a number the program has reused: only forget it.
            if descriptorIsOurs {
                sayTLSGoodbye()
                _ = POSIX.close(descriptor)
            }
            descriptor = -1
        }
    }

    /// One non-blocking try at sending TLS's close_notify, so the collector tells a clean end from
    /// a cut connection; never waits.
    private func sayTLSGoodbye() {
        guard let session = tls else { return }
        tls = nil
        session.shutdown()
        let goodbye = session.takeCiphertext()
        if !goodbye.isEmpty { _ = goodbye.withUnsafeBytes { POSIX.send(descriptor, $0.baseAddress!, $0.count) } }
    }

    /// Resolves `host` (getaddrinfo, on the calling thread) and connects to the first address
    /// that accepts within the connect timeout.
    public static func connect(host: String, port: Int, options: Options = Options(),
                               isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> BlockingConnection {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = POSIX.plainStreamSocketType
        var list: UnsafeMutablePointer<addrinfo>?
        let status = options.waiting { getaddrinfo(host, String(port), &hints, &list) }
        guard status == 0, let first = list else {
            let reason = status == EAI_SYSTEM ? POSIX.errnoDescription : String(cString: gai_strerror(status))
            throw WireError.nameResolutionFailed.with("cannot resolve '\(host)': \(reason)")
        }
        defer { freeaddrinfo(list) }

        var failures: [String] = []
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            if isCancelled() { throw WireError.cancelled }
            let fd = socket(address.pointee.ai_family, POSIX.streamSocketType, address.pointee.ai_protocol)
            guard fd >= 0 else { failures.append("socket: \(POSIX.errnoDescription)"); continue }
            POSIX.setNonBlocking(fd)
            if POSIX.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                return try established(fd, host: host, options: options, isCancelled: isCancelled)
            }
            guard errno == EINPROGRESS else {
                failures.append(POSIX.errnoDescription)
                _ = POSIX.close(fd)
                continue
            }
            let deadline = Deadline(secondsFromNow: options.connectTimeoutSeconds)
            var outcome: String? = "timed out after \(options.connectTimeoutSeconds) s"
            while !deadline.hasPassed && !isCancelled() {
                let events = options.waiting { POSIX.poll(fd, events: Int16(POLLOUT), milliseconds: deadline.remainingMilliseconds()) }
                if events == 0 { continue }
                var socketError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
                outcome = socketError == 0 ? nil : String(cString: strerror(socketError))
                break
            }
            if outcome == nil {
                return try established(fd, host: host, options: options, isCancelled: isCancelled)
            }
            _ = POSIX.close(fd)
            if isCancelled() { throw WireError.cancelled }
            failures.append(outcome!)
        }
        let allTimedOut = !failures.isEmpty && failures.allSatisfy { $0.hasPrefix("timed out") }
        let error = allTimedOut ? WireError.timedOut : WireError.connectFailed
        throw error.with("cannot connect to \(host):\(port): \(failures.joined(separator: "; "))")
    }

    /// The connection on a connected socket, after its TLS handshake when there is TLS.
    private static func established(_ fd: Int32, host: String, options: Options,
                                    isCancelled: @escaping @Sendable () -> Bool) throws -> BlockingConnection {
        let connection = BlockingConnection(descriptor: fd, options: options, isCancelled: isCancelled)
        if let context = options.tls {
            try connection.startTLS(context, serverName: host)
        }
        return connection
    }

    /// The TLS handshake, within the connect timeout; the collector's certificate must name `serverName`.
    private func startTLS(_ context: TLSClientContext, serverName: String) throws {
        let session = try TLSClientSession(context: context, serverName: serverName)
        let deadline = Deadline(secondsFromNow: options.connectTimeoutSeconds)
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while try !advance(session, deadline: deadline) {
            try sendAll(session.takeCiphertext(), deadline: deadline)
            guard let received = try receiveSome(into: &chunk, deadline: deadline) else {
                close()
                throw WireError.timedOut.with("TLS handshake not finished within \(options.connectTimeoutSeconds) s")
            }
            try chunk.withUnsafeBytes { try session.receive(ciphertext: UnsafeRawBufferPointer(rebasing: $0[0..<received])) }
        }
        // TLS 1.3: the client's Finished (and its certificate) go out after the collector's.
        try sendAll(session.takeCiphertext(), deadline: deadline)
        tls = session
    }

    /// One handshake step. A failed one leaves TLS's alert to send ("unknown ca", "bad
    /// certificate"): it goes out, so the collector logs why, not only that the peer left.
    private func advance(_ session: TLSClientSession, deadline: Deadline) throws -> Bool {
        do {
            return try session.advanceHandshake()
        } catch {
            try? sendAll(session.takeCiphertext(), deadline: deadline)
            close()
            throw error
        }
    }

    /// Sends one message as a frame; returns the frame's size on the wire.
    @discardableResult
    public func send(_ message: some WireEncodable) throws -> Int {
        let frame = try encoder.encode(message)
        try send(frameBytes: frame)
        return frame.count
    }

    /// Sends already-encoded frame bytes. They must not use CONTEXT compression from another
    /// encoder (the peer would inflate them against this connection's stream).
    public func send(frameBytes: [UInt8]) throws {
        let deadline = Deadline(secondsFromNow: options.ioTimeoutSeconds)
        if let tls {
            try tls.write(plaintext: frameBytes)
            try sendAll(tls.takeCiphertext(), deadline: deadline)
        } else {
            try sendAll(frameBytes, deadline: deadline)
        }
        bytesSent += frameBytes.count
    }

    /// Writes all of `bytes` to the socket by `deadline`.
    private func sendAll(_ bytes: [UInt8], deadline: Deadline) throws {
        try requireOwnDescriptor()
        guard descriptor >= 0 else { throw WireError.connectionClosed.with("send on a closed connection") }
        var offset = 0
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                if isCancelled() { throw WireError.cancelled }
                let written = POSIX.send(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                    continue
                }
                if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    if deadline.hasPassed {
                        throw WireError.timedOut.with(
                            "sent \(offset) of \(raw.count) bytes in \(options.ioTimeoutSeconds) s: the peer is not reading")
                    }
                    _ = options.waiting { POSIX.poll(descriptor, events: Int16(POLLOUT), milliseconds: deadline.remainingMilliseconds()) }
                    try requireOwnDescriptor() // closed, and its number perhaps reused, during the wait
                    continue
                }
                throw failure(of: "send")
            }
        }
    }

    /// The next message, decoded as `Message`, waiting at most the I/O timeout.
    public func receive<Message: WireDecodable>(_ type: Message.Type) throws -> Message {
        guard let message = try receive(type, timeoutSeconds: options.ioTimeoutSeconds) else {
            throw WireError.timedOut.with("no complete frame within \(options.ioTimeoutSeconds) s")
        }
        return message
    }

    /// The next message, or nil if none is complete within `timeoutSeconds` (0: only what
    /// has already arrived).
    public func receive<Message: WireDecodable>(_ type: Message.Type, timeoutSeconds: Double) throws -> Message? {
        guard let frame = try receiveFrame(timeoutSeconds: timeoutSeconds) else { return nil }
        return try Message(frame)
    }

    public func receiveFrame(timeoutSeconds: Double) throws -> Frame? {
        let deadline = Deadline(secondsFromNow: timeoutSeconds)
        try requireOwnDescriptor()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            if let frame = try decoder.nextFrame() {
                bytesReceived += frame.wireByteCount
                return frame
            }
            if let pendingTLSFailure { throw pendingTLSFailure }
            guard let received = try receiveSome(into: &chunk, deadline: deadline) else { return nil }
            try chunk.withUnsafeBytes { raw in try accept(UnsafeRawBufferPointer(rebasing: raw[0..<received])) }
        }
    }

    /// Bytes from the socket into the frame decoder, through TLS when there is TLS. Every complete
    /// record is decrypted now, so that nothing waits inside TLS while the owner polls the socket;
    /// an alert after an Error frame waits until the frame is read, so the frame's message is seen.
    private func accept(_ received: UnsafeRawBufferPointer) throws {
        guard let tls else { return decoder.append(received) }
        try tls.receive(ciphertext: received)
        var plaintext: [UInt8] = []
        do {
            while try tls.readPlaintext(into: &plaintext) {}
        } catch {
            pendingTLSFailure = error
        }
        plaintext.withUnsafeBytes { decoder.append($0) }
        // Reading can make TLS answer (a key update); it goes out at once.
        let answer = tls.takeCiphertext()
        if !answer.isEmpty { try sendAll(answer, deadline: Deadline(secondsFromNow: options.ioTimeoutSeconds)) }
    }

    /// One recv's worth of bytes into `chunk`, waiting until `deadline`: their count, or nil when
    /// none came by then. The peer's end of the stream throws `connectionClosed`.
    private func receiveSome(into chunk: inout [UInt8], deadline: Deadline) throws -> Int? {
        while true {
            guard descriptor >= 0 else { throw WireError.connectionClosed.with("receive on a closed connection") }
            if isCancelled() { throw WireError.cancelled }
            let received = chunk.withUnsafeMutableBytes { raw in
                recv(descriptor, raw.baseAddress, raw.count, 0)
            }
            if received > 0 { return received }
            if received == 0 {
                try requireOwnDescriptor() // an end of file from another file at the same number
                close()
                try decoder.finish()
                throw WireError.connectionClosed.with("the peer closed the connection")
            }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { throw failure(of: "recv") }
            if deadline.hasPassed { return nil }
            _ = options.waiting { POSIX.poll(descriptor, events: Int16(POLLIN), milliseconds: deadline.remainingMilliseconds()) }
            try requireOwnDescriptor() // closed, and its number perhaps reused, during the wait
        }
    }

    /// Runs the client side of the handshake; returns the collector's Welcome.
    /// An Error frame from the collector throws `remoteError` with its code and message.
    public func handshake(hello: Wire.Hello, token: [UInt8]) throws -> Wire.Welcome {
        var handshake = ClientHandshake(hello: hello, token: token)
        try send(handshake.start())
        while true {
            switch try handshake.receive(try receive(Wire.CollectorMessage.self)) {
            case .send(let message):
                try send(message)
            case .established(let welcome):
                return welcome
            }
        }
    }
}

/// What a blocking connection runs before and after each wait. The agent's shipper releases its
/// fork gate there (see CLeakTrack's fork.c): a fork waits for the shipper's own work, never for
/// the network.
public struct BlockingWaitHooks: Sendable {
    public var willWait: @Sendable () -> Void
    public var didWait: @Sendable () -> Void

    public init(willWait: @escaping @Sendable () -> Void, didWait: @escaping @Sendable () -> Void) {
        self.willWait = willWait
        self.didWait = didWait
    }

    /// `body`, a blocking system call, between the hooks.
    public func waiting<Result>(_ body: () -> Result) -> Result {
        willWait()
        defer { didWait() }
        return body()
    }
}

extension BlockingConnection.Options {
    func waiting<Result>(_ body: () -> Result) -> Result {
        waitHooks.map { $0.waiting(body) } ?? body()
    }
}
