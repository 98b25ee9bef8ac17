import Foundation
import LeakTestSupport
import Testing
@testable import LeakWire
@testable import LeakWireCore

/// Runs `body` on its own thread (a stand-in collector) and waits for it at the end.
final class PeerThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    init(_ body: @escaping @Sendable () throws -> Void) {
        Thread { [done] in
            do { try body() } catch { print("peer thread: \(error)") }
            done.signal()
        }.start()
    }
    func join(timeoutSeconds: Double = 10) -> Bool { done.wait(timeout: .now() + timeoutSeconds) == .success }
}

@Suite("BlockingConnection")
struct BlockingConnectionTests {
    static let fast = BlockingConnection.Options(connectTimeoutSeconds: 2, ioTimeoutSeconds: 2)

    /// The collector side of a handshake over a real socket, as the collector teammate's NIO
    /// handler does it.
    static func serve(_ connection: BlockingConnection, token: [UInt8], lastAcknowledged: UInt64) throws -> Bool {
        var handshake = ServerHandshake(configuration: .init(token: token))
        while true {
            switch handshake.receive(try connection.receive()) {
            case .send(let message):
                try connection.send(message)
            case .authenticated:
                try connection.send(handshake.welcome(lastAcknowledgedSequence: lastAcknowledged))
                return true
            case .reject(let error):
                try connection.send(.error(error.errorMessage()))
                connection.close()
                return false
            }
        }
    }

    /// The agent's hand-written messages on one side, the collector's generated ones on the other.
    @Test func handshakeSnapshotAndAckOverTCP() throws {
        let listener = try BlockingListener()
        let received = ReceivedSnapshot()
        let peer = PeerThread {
            guard let connection = try listener.accept(timeoutSeconds: 5) else { return }
            guard try Self.serve(connection, token: Fixtures.token, lastAcknowledged: 6) else { return }
            guard case .snapshot(let snapshot) = try connection.receive() else { return }
            received.set(snapshot)
            var ack = Leakwatch_V1_Ack()
            ack.sequence = snapshot.sequence
            try connection.send(.ack(ack))
        }
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: Self.fast)
        let welcome = try connection.handshake(hello: Fixtures.exampleWireHello, token: Fixtures.token)
        #expect(welcome.lastAcknowledgedSequence == 6)
        try connection.send(Wire.Snapshot(Fixtures.exampleSnapshot))
        #expect(try connection.receive(Wire.CollectorMessage.self) == .ack(Wire.Ack(sequence: 7)))
        #expect(peer.join())
        #expect(received.value == Fixtures.exampleSnapshot)
        #expect(connection.bytesSent > 0 && connection.bytesReceived > 0)
    }

    /// A daemon closes every descriptor it did not open and the number comes back as a file of
    /// its own: the connection says so, and never writes, reads or closes that file.
    @Test func aDescriptorTheProgramReusedIsForgottenNeverTouched() throws {
        let listener = try BlockingListener()
        let peer = PeerThread { _ = try listener.accept(timeoutSeconds: 5) }
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: Self.fast)
        #expect(peer.join())
        let number = connection.descriptorForPolling
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appendingPathComponent("program.log").path
        // dup2, not close and open: another test's descriptor could take the lowest free number.
        let opened = open(path, O_RDWR | O_CREAT, 0o644)
        try #require(opened >= 0 && dup2(opened, number) == number, "cannot put a file at the socket's number")
        close(opened)
        let file = number
        defer { close(file) }
        #expect(throws: WireError.descriptorLost) { try connection.send(.snapshot(Fixtures.exampleSnapshot)) }
        #expect(!connection.isOpen)
        connection.close()
        #expect(fcntl(file, F_GETFD) != -1, "the program's file was closed")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 0, "the frame was written into the file")
    }

    /// The program closes the socket while the agent waits on it (a daemon closing every
    /// descriptor above 2): the wait ends in `descriptorLost`, which the shipper keeps quiet, not
    /// an I/O failure it would write on the program's stderr.
    @Test func aSocketClosedDuringAWaitIsDescriptorLost() throws {
        let listener = try BlockingListener()
        let peer = PeerThread {
            guard let served = try listener.accept(timeoutSeconds: 5) else { return }
            usleep(300_000) // the agent's receive is waiting, its socket closed under it
            served.close() // wakes the wait, which then reads a closed descriptor
        }
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: Self.fast)
        let number = connection.descriptorForPolling
        let closer = PeerThread {
            usleep(100_000)
            close(number)
        }
        #expect(throws: WireError.descriptorLost) { _ = try connection.receiveFrame(timeoutSeconds: 2) }
        #expect(!connection.isOpen)
        #expect(closer.join() && peer.join())
    }

    @Test func localhostResolves() throws {
        let listener = try BlockingListener()
        let peer = PeerThread { _ = try listener.accept(timeoutSeconds: 5) }
        let connection = try BlockingConnection.connect(host: "localhost", port: listener.port, options: Self.fast)
        #expect(connection.isOpen)
        #expect(peer.join())
    }

    @Test func aWrongTokenGetsAClearErrorFrameAndAClosedConnection() throws {
        let listener = try BlockingListener()
        let peer = PeerThread {
            guard let connection = try listener.accept(timeoutSeconds: 5) else { return }
            _ = try Self.serve(connection, token: Fixtures.token, lastAcknowledged: 0)
        }
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: Self.fast)
        do {
            _ = try connection.handshake(hello: Fixtures.exampleWireHello, token: Array("not the token".utf8))
            Issue.record("handshake succeeded with a wrong token")
        } catch let error as WireError {
            #expect(error == .remoteError)
            #expect(error.detail.contains("authenticationFailed"))
            #expect(error.detail.contains("same token"))
        }
        #expect(throws: WireError.connectionClosed) { try connection.receive() }
        #expect(peer.join())
    }

    @Test func anUnresolvableHostIsAnErrorNotAHang() async throws {
        // The system resolver may take seconds: on a thread of its own, not one every test shares,
        // and timed there, not by when this task next runs.
        let (outcome, took) = try await blocking { () -> (Result<Void, any Error>, Duration) in
            let start = ContinuousClock.now
            let outcome = Result { _ = try BlockingConnection.connect(host: "no-such-collector.invalid", port: 7070, options: Self.fast) }
            return (outcome, ContinuousClock.now - start)
        }
        #expect(throws: WireError.nameResolutionFailed) { try outcome.get() }
        #expect(took < .seconds(30))
    }

    @Test func aRefusedConnectionIsConnectFailed() throws {
        let port = try closedPort()
        #expect(throws: WireError.connectFailed) {
            try BlockingConnection.connect(host: "127.0.0.1", port: port, options: Self.fast)
        }
    }

    @Test func garbageFromThePeerIsRejected() throws {
        let listener = try BlockingListener()
        let release = DispatchSemaphore(value: 0)
        let peer = PeerThread {
            guard let connection = try listener.accept(timeoutSeconds: 5) else { return }
            _ = try connection.receive(timeoutSeconds: 5)  // the Hello, so closing sends no RST
            try connection.send(frameBytes: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
            _ = release.wait(timeout: .now() + 20)
        }
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: Self.fast)
        try connection.send(.hello(Fixtures.exampleHello))
        #expect(throws: WireError.badMagic) { try connection.receive() }
        release.signal()
        #expect(peer.join())
    }

    @Test func aStalledPeerTimesOut() throws {
        let listener = try BlockingListener()
        let release = DispatchSemaphore(value: 0)
        let peer = PeerThread {
            guard let connection = try listener.accept(timeoutSeconds: 5) else { return }
            _ = try connection.receive(timeoutSeconds: 5)  // reads the Hello, never answers
            _ = release.wait(timeout: .now() + 20)
        }
        var options = Self.fast
        options.ioTimeoutSeconds = 0.3
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: options)
        try connection.send(.hello(Fixtures.exampleHello))
        #expect(try connection.receive(timeoutSeconds: 0.1) == nil)
        let start = ContinuousClock.now
        #expect(throws: WireError.timedOut) { try connection.receive() }
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(250) && waited < .seconds(3))
        release.signal()
        #expect(peer.join())
    }

    @Test func aPeerClosingMidFrameIsTruncated() throws {
        let listener = try BlockingListener()
        let peer = PeerThread {
            guard let connection = try listener.accept(timeoutSeconds: 5) else { return }
            let frame = try FrameEncoder().encode(.welcome(Leakwatch_V1_Welcome()))
            try connection.send(frameBytes: Array(frame.prefix(5)))
            connection.close()
        }
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: Self.fast)
        #expect(throws: WireError.truncated) { try connection.receive() }
        #expect(peer.join())
    }

    @Test func cancellationReturnsTheThreadPromptly() throws {
        let listener = try BlockingListener()
        let release = DispatchSemaphore(value: 0)
        let peer = PeerThread {
            // Keeps the connection open and silent until the test is done.
            let connection = try listener.accept(timeoutSeconds: 5)
            _ = release.wait(timeout: .now() + 20)
            withExtendedLifetime(connection) {}
        }
        let cancelled = CancelFlag()
        var options = Self.fast
        options.ioTimeoutSeconds = 30
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: listener.port, options: options,
                                                        isCancelled: { cancelled.isSet })
        Thread {
            Thread.sleep(forTimeInterval: 0.2)
            cancelled.set()
        }.start()
        let start = ContinuousClock.now
        #expect(throws: WireError.cancelled) { try connection.receive() }
        // Cancellation is checked every 100 ms; allow for a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(3))
        release.signal()
        #expect(peer.join())
    }
}

final class ReceivedSnapshot: @unchecked Sendable {
    private let lock = NSLock()
    private var snapshot: Leakwatch_V1_Snapshot?
    var value: Leakwatch_V1_Snapshot? { lock.withLock { snapshot } }
    func set(_ value: Leakwatch_V1_Snapshot) { lock.withLock { snapshot = value } }
}

final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
