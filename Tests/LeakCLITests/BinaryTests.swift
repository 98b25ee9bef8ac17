import Foundation
import LeakCLI
import LeakTestSupport
import Testing

/// The real executable: the thin @main passes exit codes and streams through unchanged.
@Suite("collector-cli binary")
struct BinaryTests {
    /// .build/<config>/collector-cli, next to the test bundle (built by `swift build --build-tests`).
    static let binary = BuiltProducts.url("collector-cli")

    static func spawn(_ arguments: [String], environment: [String: String]) throws -> (code: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test("exit codes and streams of the spawned binary against a real collector")
    func exitCodes() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build collector-cli first: \(Self.binary.path)")
        try await FleetScenario.startSeededCollector().use { collector in
            let environment = ["LEAKWATCH_COLLECTOR": collector.address, "LEAKWATCH_TOKEN": fleetToken, "PATH": "/usr/bin:/bin"]
            let port = try closedPort()

            let hosts = try await blocking { try Self.spawn(["hosts", "--format", "json"], environment: environment) }
            #expect(hosts.code == 0, "\(hosts.err)")
            #expect(hosts.out.hasPrefix("[\n  {\n    \"host\": \"web-3\""))

            let unknown = try await blocking { try Self.spawn(["report", "--host", "web3"], environment: environment) }
            #expect(unknown.code == 3)
            #expect(unknown.err.hasPrefix("error: the collector knows no host named 'web3'; did you mean 'web-3'"))
            #expect(unknown.out.isEmpty)

            let wrongToken = environment.merging(["LEAKWATCH_TOKEN": "wrong"]) { $1 }
            let refused = try await blocking { try Self.spawn(["hosts"], environment: wrongToken) }
            #expect(refused.code == 6, "\(refused.err)")

            let unreachable = try await blocking {
                try Self.spawn(["hosts", "--collector", "127.0.0.1:\(port)"], environment: environment)
            }
            #expect(unreachable.code == 5, "\(unreachable.err)")

            let bad = try await blocking { try Self.spawn(["report", "--host", "web-3", "--since", "soon"], environment: environment) }
            #expect(bad.code == 2)
            #expect(bad.err.contains("--since 'soon' is not a duration"))

            let help = try await blocking { try Self.spawn(["export", "--help"], environment: environment) }
            #expect(help.code == 0)
            #expect(help.out.contains("collector-cli export --host web-3 --format pprof"))
        }
    }
}
