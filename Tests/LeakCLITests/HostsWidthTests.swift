import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

@Suite("collector-cli hosts: names whole when there is room, connection options anywhere")
struct HostsWidthTests {
    static let longHost = "checkout-web-eu-west-1a-0042"
    static let longService = "checkout-payments-gateway"

    /// A collector whose one host has a 28-character name and a 25-character service.
    static func startLongNamedCollector() async throws -> TestCollector {
        let collector = try await TestCollector.start()
        var plan = FleetScenario.plans[1]
        plan.host = longHost
        plan.service = longService
        let port = collector.port, longNamed = plan
        try await blocking { try FleetScenario.seed(port: port, plans: [longNamed]) }
        return collector
    }

    static func hostLine(_ invocation: CollectorCLI.Invocation) -> String {
        invocation.text.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
    }

    @Test("piped output and --wide never cut; a wide terminal has room; a narrow one cuts with …")
    func namesCutOnlyToFit() async throws {
        try await Self.startLongNamedCollector().use { collector in
            let piped = try await collector.run(["hosts"])
            #expect(piped.exitCode == 0, "stderr: \(piped.standardError)")
            #expect(Self.hostLine(piped).hasPrefix(Self.longHost + "  " + Self.longService + "  "))

            var wideTerminal = collector.context(terminal: true, environment: ["NO_COLOR": "1"])
            wideTerminal.terminalColumns = 160
            #expect(Self.hostLine(try await collector.run(["hosts"], context: wideTerminal)) == Self.hostLine(piped))

            var narrowTerminal = wideTerminal
            narrowTerminal.terminalColumns = 100
            let narrow = Self.hostLine(try await collector.run(["hosts"], context: narrowTerminal))
            #expect(narrow.hasPrefix("checkout-web-eu-… checkout-pay… "), "\(narrow)")
            #expect(Self.hostLine(try await collector.run(["hosts", "--wide"], context: narrowTerminal)) == Self.hostLine(piped))
        }
    }

    @Test("--collector and --token-file before the subcommand work as after it")
    func connectionOptionsBeforeSubcommand() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let tokenFile = scratch.path + "/token"
            try testTokenText.write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let bare = CLIContext(environment: [:], nowUnixNanos: FleetScenario.now, standardOutputIsTerminal: false,
                                  currentDirectory: scratch.path)
            let after = try await collector.run(["hosts", "--collector", collector.address, "--token-file", tokenFile], context: bare)
            #expect(after.exitCode == 0, "stderr: \(after.standardError)")
            let before = try await collector.run(["--collector", collector.address, "--token-file=\(tokenFile)", "hosts"], context: bare)
            #expect(before.exitCode == 0, "stderr: \(before.standardError)")
            #expect(before.text == after.text)
            let sites = try await collector.run(
                ["--collector=\(collector.address)", "--token-file", tokenFile, "sites", "--host", "web-3"], context: bare)
            #expect(sites.exitCode == 0, "stderr: \(sites.standardError)")
        }
    }
}
