import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// The real executable: the thin @main passes exit codes and streams through unchanged.
@Suite("collector-cli binary")
struct BinaryTests {
    @Test("exit codes and streams of the spawned binary against a real collector")
    func exitCodes() async throws {
        let binary = try BuiltProducts.executable("collector-cli")
        try await FleetScenario.startSeededCollector().use { collector in
            let environment = ["LEAKWATCH_COLLECTOR": collector.address, "LEAKWATCH_TOKEN": testTokenText, "PATH": "/usr/bin:/bin"]
            let port = try closedPort()

            let hosts = try await ChildProcess.run(binary, ["hosts", "--format", "json"], environment: environment)
            #expect(hosts.status == 0, "\(hosts.standardError)")
            #expect(hosts.standardOutput.hasPrefix("[\n  {\n    \"host\": \"web-3\""))

            let unknown = try await ChildProcess.run(binary, ["report", "--host", "web3"], environment: environment)
            #expect(unknown.status == 3)
            #expect(unknown.standardError.hasPrefix("error: the collector knows no host named 'web3'; did you mean 'web-3'"))
            #expect(unknown.standardOutput.isEmpty)

            let wrongToken = environment.merging(["LEAKWATCH_TOKEN": "wrong"]) { $1 }
            let refused = try await ChildProcess.run(binary, ["hosts"], environment: wrongToken)
            #expect(refused.status == 6, "\(refused.standardError)")

            let unreachable = try await ChildProcess.run(binary, ["hosts", "--collector", "127.0.0.1:\(port)"], environment: environment)
            #expect(unreachable.status == 5, "\(unreachable.standardError)")

            let bad = try await ChildProcess.run(binary, ["report", "--host", "web-3", "--since", "soon"], environment: environment)
            #expect(bad.status == 2)
            #expect(bad.standardError.contains("--since 'soon' is not a duration"))

            let help = try await ChildProcess.run(binary, ["export", "--help"], environment: environment)
            #expect(help.status == 0)
            #expect(help.standardOutput.contains("collector-cli export --host web-3 --format pprof"))
        }
    }
}
