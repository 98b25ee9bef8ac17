import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// Every documented failure, its exit code, and a message that says what to do next.
@Suite("collector-cli errors and exit codes")
struct ErrorPathTests {
    @Test("unknown host: exit 3, nearest known names suggested, nothing on standard output",
          arguments: [["report", "--host", "web3"], ["sites", "--host", "web3"], ["export", "--host", "web3"]])
    func unknownHost(arguments: [String]) async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(arguments)
            #expect(result.exitCode == CLIExitCode.unknownHost, "stderr: \(result.standardError)")
            #expect(result.standardOutput.isEmpty)
            #expect(result.standardError.contains("no host named 'web3'"))
            #expect(result.standardError.contains("did you mean 'web-3', 'web-1', 'web-2'?"), "\(result.standardError)")
            #expect(result.standardError.contains("collector-cli hosts"))
        }
    }

    @Test("collector unreachable: exit 5, names the address and the variable to set")
    func unreachable() async throws {
        let port = try closedPort()
        let context = CLIContext(environment: ["LEAKWATCH_TOKEN": testTokenText], nowUnixNanos: FleetScenario.now,
                                 standardOutputIsTerminal: false, currentDirectory: "/tmp", connectTimeoutSeconds: 2)
        for arguments in [["hosts"], ["report", "--host", "web-3"], ["sites", "--host", "web-3"], ["export", "--host", "web-3"]] {
            let result = try await blocking {
                CollectorCLI.run(arguments: arguments + ["--collector", "127.0.0.1:\(port)"], context: context)
            }
            #expect(result.exitCode == CLIExitCode.collectorUnreachable, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("cannot reach the collector at 127.0.0.1:\(port)"))
            #expect(result.standardError.contains("LEAKWATCH_COLLECTOR"))
        }
    }

    @Test("LEAKWATCH_COLLECTOR is the default address; --collector wins over it")
    func collectorFromEnvironment() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let port = try closedPort()
            let viaEnvironment = try await collector.run(["hosts"], context: collector.context())
            #expect(viaEnvironment.exitCode == 0)
            let overridden = try await collector.run(["hosts", "--collector", "127.0.0.1:\(port)"])
            #expect(overridden.exitCode == CLIExitCode.collectorUnreachable)
            let badEnvironment = try await collector.run(
                ["hosts"], context: collector.context(environment: ["LEAKWATCH_COLLECTOR": "nonsense:port:9"]))
            #expect(badEnvironment.exitCode == CLIExitCode.badArguments)
            #expect(badEnvironment.standardError.contains("LEAKWATCH_COLLECTOR"))
        }
    }

    @Test("authentication refused: wrong token or no token is exit 6 with a hint")
    func authenticationRefused() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let wrong = try await collector.run(["hosts"], context: collector.context(environment: ["LEAKWATCH_TOKEN": "not-the-token"]))
            #expect(wrong.exitCode == CLIExitCode.authenticationRefused, "stderr: \(wrong.standardError)")
            #expect(wrong.standardError.contains("refused the token"))
            #expect(wrong.standardOutput.isEmpty)

            var noToken = collector.context()
            noToken.environment["LEAKWATCH_TOKEN"] = nil
            let missing = try await collector.run(["report", "--host", "web-3"], context: noToken)
            #expect(missing.exitCode == CLIExitCode.authenticationRefused, "stderr: \(missing.standardError)")
            #expect(missing.standardError.contains("--token-file"))

            // The collector still serves a correct client afterwards.
            let good = try await collector.run(["hosts"])
            #expect(good.exitCode == 0)
        }
    }

    @Test("--token-file and LEAKWATCH_TOKEN_FILE: the file's trimmed contents; a missing file is exit 2")
    func tokenFile() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let path = collector.directory.path + "/token"
            try (testTokenText + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            var context = collector.context()
            context.environment["LEAKWATCH_TOKEN"] = "wrong-token"  // the file wins over the value
            let viaOption = try await collector.run(["hosts", "--token-file", "token"], context: context)
            #expect(viaOption.exitCode == 0, "stderr: \(viaOption.standardError)")
            context.environment["LEAKWATCH_TOKEN_FILE"] = path
            let viaEnvironment = try await collector.run(["hosts"], context: context)
            #expect(viaEnvironment.exitCode == 0, "stderr: \(viaEnvironment.standardError)")
            let missing = try await collector.run(["hosts", "--token-file", "/nonexistent/token"])
            #expect(missing.exitCode == CLIExitCode.badArguments)
            #expect(missing.standardError.contains("cannot read token file /nonexistent/token"))
            try "  \n".write(toFile: path, atomically: true, encoding: .utf8)
            let empty = try await collector.run(["hosts", "--token-file", path])
            #expect(empty.exitCode == CLIExitCode.badArguments)
            #expect(empty.standardError.contains("is empty"))
        }
    }

    @Test("no data yet: a host whose snapshots have all aged out is exit 4")
    func noDataYet() async throws {
        try await TestCollector.start().use { collector in
            let port = collector.port
            try await blocking {
                let agent = try SeedAgent(port: port, host: "old-1", service: "batch", instance: 3, pid: 3, startNanos: FleetScenario.now)
                for sequence in 1...3 as ClosedRange<UInt64> {
                    try agent.send(FleetScenario.bareSnapshot(sequence: sequence, time: FleetScenario.now + Int64(sequence) * FleetScenario.minute))
                }
                agent.close()
            }
            // Retention once the hour retention has passed the last snapshot removes every sample and
            // rollup; the host record stays for another hour (then it goes too: StorageTests).
            let store = collector.collector.store
            let lastSnapshotMs = (FleetScenario.now + 3 * FleetScenario.minute) / 1_000_000
            _ = try store.applyRetention(nowMs: lastSnapshotMs + (store.configuration.hourRetentionSeconds + 3600) * 1000)
            let result = try await collector.run(["report", "--host", "old-1"])
            #expect(result.exitCode == CLIExitCode.noData, "stderr: \(result.standardError)")
            #expect(result.standardError.contains("host 'old-1' is known but has sent no snapshot"))
            #expect(result.standardOutput.isEmpty)
        }
    }

    @Test("bad arguments are exit 2 before any connection is tried", arguments: [
        ["report"],                                         // --host is required
        ["report", "--host", "web-3", "--since", "6x"],
        ["report", "--host", "web-3", "--since", "h"],
        ["report", "--host", "web-3", "--format", "yaml"],
        ["report", "--host", ""],
        ["sites", "--host", "web-3", "--frames", "-1"],
        ["export", "--host", "web-3", "--format", "svg"],
        ["hosts", "--collector", "no port:x"],
        ["hosts", "--collector", "127.0.0.1:99999"],
        ["hosts", "--bogus"],
        ["frobnicate"],
    ])
    func badArguments(arguments: [String]) async throws {
        // Pointing at a closed port proves no connection was needed to reject the arguments.
        let port = try closedPort()
        let context = CLIContext(environment: ["LEAKWATCH_COLLECTOR": "127.0.0.1:\(port)"], nowUnixNanos: FleetScenario.now,
                                 standardOutputIsTerminal: false, currentDirectory: "/tmp")
        let result = try await blocking { CollectorCLI.run(arguments: arguments, context: context) }
        #expect(result.exitCode == CLIExitCode.badArguments, "\(arguments): \(result.standardError)")
        #expect(!result.standardError.isEmpty)
        #expect(result.standardOutput.isEmpty)
    }

    @Test("--help for every subcommand has an example and fits 100 columns",
          arguments: [[], ["report"], ["hosts"], ["sites"], ["diff"], ["export"], ["simulate"]])
    func help(subcommand: [String]) async throws {
        let context = CLIContext(environment: [:], nowUnixNanos: 0, standardOutputIsTerminal: false, currentDirectory: "/tmp")
        let result = CollectorCLI.run(arguments: subcommand + ["--help"], context: context)
        #expect(result.exitCode == 0)
        #expect(result.text.contains("Examples:"))
        #expect(result.text.contains("collector-cli \(subcommand.first ?? "report")"))
        for line in result.text.split(separator: "\n") { #expect(line.count <= 100, "too wide: \(line)") }
    }
}
