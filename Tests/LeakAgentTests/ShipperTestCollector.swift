import Foundation
import LeakTestSupport
import LeakWire

/// A minimal collector for shipper tests: real TCP on 127.0.0.1, the LeakWire server-side
/// handshake, one connection at a time on its own thread. Each connection follows the next
/// scripted behaviour (then `.normal`). It commits what it receives, acks it, and reports the
/// highest committed sequence in Welcome, as the real collector does; it also checks stack
/// interning on every connection.
final class ShipperTestCollector: @unchecked Sendable {
    enum Behaviour: Sendable {
        case normal
        /// After `snapshots` snapshots, close without committing or acking the last one.
        case closeAfter(snapshots: Int)
        /// Answer with bytes that are not a frame, then close.
        case garbage
        /// Accept, read nothing for `seconds`, then close.
        case stall(seconds: Double)
        /// After Welcome and `snapshots` snapshots (committed and acked), send bytes that are not a frame.
        case garbageAfter(snapshots: Int)
        /// After Welcome and `snapshots` snapshots, send Error SHUTTING_DOWN and close.
        case shutDownAfter(snapshots: Int)
        /// After Welcome, stop reading for `seconds` (the shipper's sends time out), then close.
        case stallAfterWelcome(seconds: Double)
    }

    struct Received {
        var connection: Int
        var snapshot: Leakwatch_V1_Snapshot
        var arrived = ContinuousClock.now
    }

    let token: [UInt8]
    private let lock = NSLock()
    private var listener: BlockingListener?
    private(set) var port = 0
    private var script: [Behaviour]
    private var running = true
    private var _received: [Received] = []
    private var _violations: [String] = []
    private var _committed: UInt64 = 0
    private var _connections = 0
    private var _errorsSent: [Leakwatch_V1_Error] = []
    private let done = DispatchSemaphore(value: 0)

    init(token: [UInt8], script: [Behaviour] = [], listening: Bool = true) throws {
        self.token = token
        self.script = script
        let listener = try BlockingListener()
        port = listener.port
        if listening { self.listener = listener } else { listener.close() }
        Thread { [self] in serve(); done.signal() }.start()
    }

    var received: [Received] { lock.withLock { _received } }
    var violations: [String] { lock.withLock { _violations } }
    var committed: UInt64 { lock.withLock { _committed } }
    var connections: Int { lock.withLock { _connections } }
    var errorsSent: [Leakwatch_V1_Error] { lock.withLock { _errorsSent } }

    /// Distinct sequences in order of first arrival (the collector's dedupe by sequence).
    var dedupedSequences: [UInt64] {
        var seen = Set<UInt64>()
        return received.map(\.snapshot.sequence).filter { seen.insert($0).inserted }
    }

    /// Closes the listening socket: connects are refused until `resumeListening()`.
    func stopListening() {
        let current = lock.withLock { defer { listener = nil }; return listener }
        current?.close()
    }

    func resumeListening() throws {
        let reopened = try BlockingListener(port: port)
        lock.withLock { listener = reopened }
    }

    func shutDown() {
        lock.withLock { running = false }
        stopListening()
        _ = done.wait(timeout: .now() + 5)
    }

    private var isRunning: Bool { lock.withLock { running } }

    private func serve() {
        while isRunning {
            guard let listener = lock.withLock({ listener }) else {
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            guard let connection = try? listener.accept(timeoutSeconds: 0.05,
                                                        options: .init(ioTimeoutSeconds: 2)) else { continue }
            let (index, behaviour) = lock.withLock { () -> (Int, Behaviour) in
                _connections += 1
                return (_connections, script.isEmpty ? .normal : script.removeFirst())
            }
            handle(connection, index: index, behaviour: behaviour)
            connection.close()
        }
    }

    private func handle(_ connection: BlockingConnection, index: Int, behaviour: Behaviour) {
        switch behaviour {
        case .garbage:
            try? connection.send(frameBytes: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
            return
        case .stall(let seconds):
            Thread.sleep(forTimeInterval: seconds)
            return
        case .normal, .closeAfter, .garbageAfter, .shutDownAfter, .stallAfterWelcome:
            break
        }
        var handshake = ServerHandshake(configuration: .init(token: token))
        do {
            handshaking: while true {
                switch handshake.receive(try connection.receive()) {
                case .send(let message):
                    try connection.send(message)
                case .authenticated:
                    try connection.send(handshake.welcome(lastAcknowledgedSequence: committed))
                    break handshaking
                case .reject(let error):
                    let message = error.errorMessage()
                    lock.withLock { _errorsSent.append(message) }
                    try connection.send(.error(message))
                    return
                }
            }
            if case .stallAfterWelcome(let seconds) = behaviour {
                Thread.sleep(forTimeInterval: seconds)
                return
            }
            var carried = Set<UInt64>()
            var count = 0
            while isRunning {
                guard let message = try connection.receive(timeoutSeconds: 0.05) else { continue }
                guard case .snapshot(let snapshot) = message else {
                    note("connection \(index): unexpected \(message.name)")
                    return
                }
                checkInterning(snapshot, carried: &carried, connection: index)
                count += 1
                lock.withLock { _received.append(Received(connection: index, snapshot: snapshot)) }
                if case .closeAfter(let limit) = behaviour, count >= limit { return }
                let committedNow = lock.withLock { () -> UInt64 in
                    _committed = max(_committed, snapshot.sequence)
                    return _committed
                }
                var ack = Leakwatch_V1_Ack()
                ack.sequence = committedNow
                try connection.send(.ack(ack))
                if case .garbageAfter(let limit) = behaviour, count >= limit {
                    try connection.send(frameBytes: [0x4C, 0x01, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00])  // kind 99
                    Thread.sleep(forTimeInterval: 0.1)
                    return
                }
                if case .shutDownAfter(let limit) = behaviour, count >= limit {
                    var error = Leakwatch_V1_Error()
                    error.code = .shuttingDown
                    error.message = "the collector is stopping; reconnect later"
                    try connection.send(.error(error))
                    return
                }
            }
        } catch {
            // The shipper went away or misbehaved: a real collector logs and closes.
        }
    }

    private func checkInterning(_ snapshot: Leakwatch_V1_Snapshot, carried: inout Set<UInt64>, connection: Int) {
        for stack in snapshot.stacks {
            if !carried.insert(stack.id).inserted {
                note("connection \(connection): stack \(stack.id) carried twice (sequence \(snapshot.sequence))")
            }
            if stack.frames.isEmpty { note("connection \(connection): stack \(stack.id) without frames") }
        }
        for site in snapshot.sites where !carried.contains(site.stackID) {
            note("connection \(connection): site refers to stack \(site.stackID) never carried (sequence \(snapshot.sequence))")
        }
    }

    private func note(_ violation: String) { lock.withLock { _violations.append(violation) } }
}
