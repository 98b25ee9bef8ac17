import Foundation
import LeakWire
import Testing

/// docs/PROTOCOL.md section 5, "Hello rules": every rule names the field, every bound is inclusive,
/// and a client's Hello, which names no process, keeps none of them.
@Suite struct HelloValidationTests {
    /// The collector's clock in these tests: 15 minutes after the example process started.
    static let receivedAt = Fixtures.exampleHello.processStartUnixNanos + 900_000_000_000

    static func problem(_ mutate: (inout Leakwatch_V1_Hello) -> Void) -> WireError? {
        var hello = Fixtures.exampleHello
        mutate(&hello)
        do {
            try HelloValidation.check(hello, receivedAtUnixNanos: receivedAt)
            return nil
        } catch {
            return error
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let field: String
        let mutate: @Sendable (inout Leakwatch_V1_Hello) -> Void
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "process start 0 (clock never set)", field: "process_start_unix_nanos") { $0.processStartUnixNanos = 0 },
        Case(name: "process start negative", field: "process_start_unix_nanos") { $0.processStartUnixNanos = .min },
        Case(name: "process start 2019-12-31", field: "process_start_unix_nanos") {
            $0.processStartUnixNanos = 1_577_836_800_000_000_000 - 1
        },
        Case(name: "process start 5 min + 1 ns ahead", field: "process_start_unix_nanos") {
            $0.processStartUnixNanos = receivedAt + 300_000_000_000 + 1
        },
        Case(name: "process start in 2262", field: "process_start_unix_nanos") { $0.processStartUnixNanos = .max },
        Case(name: "sampling mean 2^64-1", field: "sample_mean_bytes") { $0.sampleMeanBytes = .max },
        Case(name: "no process instance", field: "process_instance_id") { $0.processInstanceID = Data() },
        Case(name: "65-byte process instance", field: "process_instance_id") { $0.processInstanceID = Data(count: 65) },
        Case(name: "no host", field: "host_name") { $0.hostName = "" },
        Case(name: "256-byte host", field: "host_name") { $0.hostName = String(repeating: "h", count: 256) },
        Case(name: "256-byte service", field: "service_name") { $0.serviceName = String(repeating: "s", count: 256) },
        Case(name: "65-byte agent version", field: "agent_version") { $0.agentVersion = String(repeating: "1", count: 65) },
    ]

    @Test(arguments: cases)
    func aBrokenRuleIsMalformedAndNamesTheField(_ testCase: Case) throws {
        let error = try #require(Self.problem(testCase.mutate), "\(testCase.name) was accepted")
        #expect(error == .malformedMessage)
        #expect(error.errorCode == .malformedMessage)
        #expect(error.detail.contains(testCase.field), "\(error.detail)")
    }

    @Test func theExampleHelloAndEveryBoundItselfAreAccepted() {
        #expect(Self.problem { _ in } == nil)
        #expect(Self.problem {
            $0.processStartUnixNanos = 1_577_836_800_000_000_000
            $0.sampleMeanBytes = 1 << 56
            $0.processInstanceID = Data(count: 64)
            $0.hostName = String(repeating: "h", count: 255)
        } == nil)
        #expect(Self.problem { $0.processStartUnixNanos = Self.receivedAt + 300_000_000_000 } == nil)
        #expect(Self.problem { $0.sampleMeanBytes = 0 } == nil, "0: an agent that does not sample")
    }

    @Test func aClientsHelloNamesNoProcess() {
        var client = Leakwatch_V1_Hello()
        client.role = .client
        client.supportedVersions = [1]
        #expect((try? HelloValidation.check(client, receivedAtUnixNanos: Self.receivedAt)) != nil)
    }

    @Test func theHandshakeAppliesTheRulesAtItsOwnClock() {
        // The same Hello, before and after the collector's clock catches up with the agent's.
        var hello = Fixtures.exampleHello
        hello.processStartUnixNanos = Self.receivedAt + 600_000_000_000
        var early = ServerHandshake(configuration: .init(authentication: .token(Fixtures.token), nowUnixNanos: { Self.receivedAt }))
        guard case .reject(let error) = early.receive(.hello(hello)) else { Issue.record("accepted"); return }
        #expect(error.detail.contains("process_start_unix_nanos"), "\(error.detail)")
        let later = Self.receivedAt + 301_000_000_000
        var caughtUp = ServerHandshake(configuration: .init(authentication: .token(Fixtures.token), nowUnixNanos: { later }))
        guard case .send(.challenge) = caughtUp.receive(.hello(hello)) else { Issue.record("refused after the clock caught up"); return }
    }
}
