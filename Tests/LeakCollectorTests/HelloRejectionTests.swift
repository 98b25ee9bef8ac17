import Foundation
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// docs/PROTOCOL.md section 5, "Hello rules", against a live collector: an agent Hello breaking one
/// hears MALFORMED_MESSAGE naming the field and is closed before the Challenge, nothing is stored,
/// and an agent connected at the same time is not disturbed. Section 7: a snapshot from long before
/// its process started is rejected alone.
@Suite struct HelloRejectionTests {
    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let field: String
        let mutate: @Sendable (inout Leakwatch_V1_Hello) -> Void
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "process start 0 (clock never set)", field: "process_start_unix_nanos") { $0.processStartUnixNanos = 0 },
        Case(name: "process start in 1999", field: "process_start_unix_nanos") { $0.processStartUnixNanos = 946_000_000_000_000_000 },
        Case(name: "process start an hour ahead", field: "process_start_unix_nanos") {
            $0.processStartUnixNanos = now + 3_600_000_000_000
        },
        Case(name: "process start in 2262", field: "process_start_unix_nanos") { $0.processStartUnixNanos = .max },
        Case(name: "sampling mean 2^63", field: "sample_mean_bytes") { $0.sampleMeanBytes = 1 << 63 },
        Case(name: "65-byte process instance", field: "process_instance_id") { $0.processInstanceID = Data(count: 65) },
        Case(name: "300-byte host name", field: "host_name") { $0.hostName = String(repeating: "h", count: 300) },
        Case(name: "65-byte agent version", field: "agent_version") { $0.agentVersion = String(repeating: "1", count: 65) },
    ]

    static func validHello() -> Leakwatch_V1_Hello {
        .with {
            $0.supportedVersions = ProtocolVersion.supported
            $0.role = .agent
            $0.hostName = "hello-\(UUID().uuidString.prefix(6))"
            $0.serviceName = "api"
            $0.processInstanceID = Data(randomInstanceID())
            $0.pid = 4242
            $0.processStartUnixNanos = now - 60_000_000_000
            $0.sampleMeanBytes = 512 << 10
        }
    }

    /// Sends `hello` on a fresh connection; returns the Error frame and whether the collector closed.
    static func answer(to hello: Leakwatch_V1_Hello, port: Int) throws -> (error: Leakwatch_V1_Error?, closed: Bool) {
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: port, options: .init(ioTimeoutSeconds: 30))
        defer { connection.close() }
        try connection.send(.hello(hello))
        var error: Leakwatch_V1_Error?
        while true {
            do {
                switch try connection.receive() {
                case .error(let received): error = received
                case let other: throw TestFailure("expected an Error frame, got \(other)")
                }
            } catch let failure as WireError where failure == .connectionClosed {
                return (error, true)
            }
        }
    }

    @Test(arguments: cases)
    func aBrokenHelloRuleIsMalformedAndNamesTheField(_ testCase: Case) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let healthy = try await blocking { try TestAgent(port: port, hostName: "healthy") }
            #expect(try await blocking { try healthy.sendAndWait(makeSnapshot(sequence: 1)) } == 1)

            var hello = Self.validHello()
            testCase.mutate(&hello)
            let (error, closed) = try await blocking { [hello] in try Self.answer(to: hello, port: port) }
            #expect(error?.code == .malformedMessage, "\(String(describing: error))")
            #expect(error?.message.contains(testCase.field) == true, "\(error?.message ?? "no message")")
            #expect(error?.requestID == 0, "a Hello names no snapshot to drop")
            #expect(closed)

            #expect(try await blocking { try healthy.sendAndWait(makeSnapshot(sequence: 2, defineStacks: false)) } == 2)
            #expect(try running.collector.store.hosts().map(\.name) == ["healthy"])
        }
    }

    @Test func aHelloAtTheEdgeOfTheRulesIsWelcomed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            // An agent clock 2 minutes fast: its process "started" ahead of the collector's clock,
            // within the allowed 300 s.
            let start = Self.now + 120_000_000_000
            let agent = try await blocking { try TestAgent(port: port, hostName: "fast-clock", processStartUnixNanos: start) }
            #expect(agent.welcome.accepted)
            let snapshot = makeSnapshot(sequence: 1, timestampNanos: start + 10_000_000_000)
            #expect(try await blocking { try agent.sendAndWait(snapshot) } == 1)
            let startedAtMs = try running.collector.sqliteStore.read { db in
                try Int64.fetchOne(db, sql: "SELECT startedAtMs FROM processInstance")
            }
            #expect(startedAtMs == start / 1_000_000)
        }
    }

    @Test func aSnapshotFromBeforeItsProcessStartedIsRejectedAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let start = Self.now - 3_600_000_000_000
            let agent = try await blocking { try TestAgent(port: port, hostName: "restarted", processStartUnixNanos: start) }
            // A minute before the start it reports: within the skew (its clock may have been stepped back).
            #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 1, timestampNanos: start - 60_000_000_000)) } == 1)
            // An hour before: a time from another process (or a broken clock).
            let early = makeSnapshot(sequence: 2, timestampNanos: start - 3_600_000_000_000, defineStacks: false)
            let error = try await blocking { try SnapshotRejectionTests.expectRejection(agent, early) }
            #expect(error.code == .malformedMessage)
            #expect(error.requestID == 2)
            #expect(error.message.contains("timestamp_unix_nanos"), "\(error.message)")
            #expect(error.message.contains("before the process started"), "\(error.message)")
            #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 3, timestampNanos: start, defineStacks: false)) } == 3)
            #expect(try SnapshotRejectionTests.storedSequences(running) == [1, 3])
        }
    }
}
