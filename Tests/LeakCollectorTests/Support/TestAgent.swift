import Foundation
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire

/// A blocking agent written for the tests: real TCP, real frames, real handshake.
/// Used by one thread at a time (handed between `blocking` calls), hence @unchecked.
final class TestAgent: @unchecked Sendable {
    let connection: BlockingConnection
    let hello: Leakwatch_V1_Hello
    let welcome: Wire.Welcome

    var instanceHex: String { hello.processInstanceID.map { String(format: "%02x", $0) }.joined() }

    init(port: Int, hostName: String, instanceID: [UInt8] = randomInstanceID(), serviceName: String = "api",
         token: [UInt8] = testToken, role: Leakwatch_V1_Role = .agent,
         collectorHost: String = "127.0.0.1", tls: TLSClientContext? = nil,
         processStartUnixNanos: Int64 = 1_700_000_000_000_000_000) throws {
        var options = BlockingConnection.Options()
        options.tls = tls
        // Bounds only a hang: a debug collector on a loaded 2-core machine can take seconds.
        options.ioTimeoutSeconds = 30
        connection = try BlockingConnection.connect(host: collectorHost, port: port, options: options)
        var hello = Leakwatch_V1_Hello()
        hello.supportedVersions = ProtocolVersion.supported
        hello.role = role
        hello.hostName = hostName
        hello.serviceName = serviceName
        if role == .agent {
            hello.processInstanceID = Data(instanceID)
            hello.pid = 4242
            hello.processStartUnixNanos = processStartUnixNanos
            hello.sampleMeanBytes = 512 * 1024
        }
        self.hello = hello
        welcome = try connection.handshake(hello: Wire.Hello(hello), token: token)
    }

    /// Sends a snapshot without waiting for its Ack.
    func send(_ snapshot: Leakwatch_V1_Snapshot) throws {
        try connection.send(.snapshot(snapshot))
    }

    /// The next Ack's sequence (throws on anything else).
    func receiveAck() throws -> UInt64 {
        let message = try connection.receive()
        guard case .ack(let ack) = message else { throw TestFailure("expected Ack, got \(message)") }
        return ack.sequence
    }

    /// Sends and waits for the Ack.
    @discardableResult
    func sendAndWait(_ snapshot: Leakwatch_V1_Snapshot) throws -> UInt64 {
        try send(snapshot)
        return try receiveAck()
    }

    func query(_ request: WireMessage) throws -> WireMessage {
        try connection.send(request)
        return try connection.receive()
    }
}

func randomInstanceID() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

let baseTimeNanos: Int64 = 1_750_000_000_000_000_000

/// A snapshot with `siteCount` sites; stacks with id < `definedStacks` are (re)defined in it.
func makeSnapshot(
    sequence: UInt64, timestampNanos: Int64? = nil, currentBytes: UInt64 = 10_000_000, siteCount: Int = 3,
    defineStacks: Bool = true, siteLiveBytes: (Int) -> UInt64 = { UInt64(1000 * ($0 + 1)) }
) -> Leakwatch_V1_Snapshot {
    var snapshot = Leakwatch_V1_Snapshot()
    snapshot.sequence = sequence
    snapshot.timestampUnixNanos = timestampNanos ?? (baseTimeNanos + Int64(sequence) * 10_000_000_000)
    snapshot.stats.currentBytes = currentBytes
    snapshot.stats.totalAllocatedBytes = currentBytes * 3
    snapshot.stats.peakBytes = currentBytes + 1000
    snapshot.stats.allocationCount = 1000 * sequence
    snapshot.stats.freeCount = 900 * sequence
    snapshot.stats.blocksOutstanding = Int64(100 * sequence)
    snapshot.stats.rssBytes = currentBytes * 2
    snapshot.stats.uptimeSeconds = Double(sequence) * 10
    var sizeClass = Leakwatch_V1_SizeClass()
    sizeClass.upperBoundBytes = 64
    sizeClass.count = 500
    sizeClass.bytes = 20_000
    snapshot.sizeClasses = [sizeClass]
    var exact = Leakwatch_V1_ExactSize()
    exact.size = 48
    exact.count = 300
    snapshot.topSizes = [exact]
    for index in 0..<siteCount {
        var site = Leakwatch_V1_Site()
        site.stackID = UInt64(index + 1)
        site.liveBytes = siteLiveBytes(index)
        site.liveObjects = 10
        site.allocatedBytes = 5000
        if index == 0 { site.typeName = "MyApp.Session" }
        snapshot.sites.append(site)
        if defineStacks {
            var stack = Leakwatch_V1_Stack()
            stack.id = UInt64(index + 1)
            for depth in 0..<4 {
                var frame = Leakwatch_V1_Frame()
                frame.function = "function_\(index)_\(depth)"
                frame.file = "File\(index).swift"
                frame.line = UInt32(10 + depth)
                frame.image = "app"
                frame.address = UInt64(0x1000 * (index + 1) + depth)
                stack.frames.append(frame)
            }
            snapshot.stacks.append(stack)
        }
    }
    return snapshot
}
