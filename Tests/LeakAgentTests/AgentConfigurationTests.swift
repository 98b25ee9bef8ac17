import Foundation
import LeakAgent
import LeakTestSupport
import Testing

/// LEAKWATCH_* settings: every good value is read, every bad one is refused with a line that says
/// what was wrong and what was expected, and a process given a bad value runs as if the agent were
/// not there.
@Suite("Agent configuration from the environment")
struct AgentConfigurationTests {
    @Test func everySettingIsRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = directory.appendingPathComponent("token")
        try "fleet-secret\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let configuration = try AgentConfiguration.fromEnvironment([
            "LEAKWATCH_COLLECTOR": "collector.internal:7070", "LEAKWATCH_HOST": "web-3",
            "LEAKWATCH_SERVICE": "checkout", "LEAKWATCH_TOKEN_FILE": tokenFile.path,
            "LEAKWATCH_INTERVAL": "2.5", "LEAKWATCH_SAMPLE_BYTES": "4096",
        ])
        #expect(configuration.collector == .init(host: "collector.internal", port: 7070))
        #expect(configuration.hostName == "web-3")
        #expect(configuration.serviceName == "checkout")
        #expect(configuration.token == Array("fleet-secret".utf8))
        #expect(configuration.intervalSeconds == 2.5)
        #expect(configuration.sampleMeanBytes == 4096)
        #expect(try AgentConfiguration.fromEnvironment(["LEAKWATCH_COLLECTOR": "[::1]:7070"]).collector
            == .init(host: "::1", port: 7070))
        #expect(try AgentConfiguration.fromEnvironment(["LEAKWATCH_TOKEN": "inline"]).token == Array("inline".utf8))
    }

    @Test func defaultsWithoutSettings() throws {
        let configuration = try AgentConfiguration.fromEnvironment([:])
        #expect(configuration.collector == nil)
        #expect(configuration.intervalSeconds == 10)
        #expect(configuration.sampleMeanBytes == 512 * 1024)
        #expect(configuration.spoolLimitBytes == 8 << 20)
        #expect(!configuration.hostName.isEmpty)
    }

    @Test(arguments: [
        ("LEAKWATCH_COLLECTOR", "collector.internal", "host:port"),
        ("LEAKWATCH_COLLECTOR", "collector.internal:0", "host:port"),
        ("LEAKWATCH_COLLECTOR", "collector.internal:99999", "host:port"),
        ("LEAKWATCH_INTERVAL", "abc", "seconds between snapshots"),
        ("LEAKWATCH_INTERVAL", "0", "seconds between snapshots"),
        ("LEAKWATCH_INTERVAL", "-5", "seconds between snapshots"),
        ("LEAKWATCH_SAMPLE_BYTES", "lots", "a whole number of bytes"),
        ("LEAKWATCH_SAMPLE_BYTES", "-1", "a whole number of bytes"),
        ("LEAKWATCH_SAMPLE_BYTES", "72057594037927937", "a whole number of bytes up to 2^56"),
        ("LEAKWATCH_TOKEN_FILE", "/nonexistent/token", "a readable file"),
        ("LEAKWATCH_GUARD_SAMPLE", "often", "a whole number"),
        ("LEAKWATCH_GUARD_SLOTS", "-64", "a whole number"),
        ("LEAKWATCH_GUARD_MODE", "abort", "recover or crash"),
        // The collector would refuse every Hello: never a retry loop that cannot succeed.
        ("LEAKWATCH_HOST", String(repeating: "h", count: 256), "at most 255 bytes (it is 256)"),
        ("LEAKWATCH_SERVICE", String(repeating: "é", count: 128), "at most 255 bytes (it is 256)"),
    ])
    func aBadValueIsRefusedClearly(setting: String, value: String, expected: String) {
        #expect {
            try AgentConfiguration.fromEnvironment([setting: value])
        } throws: { error in
            let text = "\(error)"
            return text.contains(setting) && text.contains("\"\(value)\"") && text.contains(expected)
                && text.contains("the program runs unchanged")
        }
    }

    /// A real process: one line on stderr, and the program does all its work and exits 0.
    @Test func aProcessWithABadSettingRunsWithTheAgentOff() async throws {
        let result = try await ChildProcess.run(
            try BuiltProducts.executable("leakwatch-demo-server"), ["--seconds", "1"],
            environment: ["LEAKWATCH_COLLECTOR": "127.0.0.1:7070", "LEAKWATCH_INTERVAL": "often"])
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.standardOutput.contains("checksum"), "\(result.summary)")
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(result.summary)")
        #expect(lines.first?.hasPrefix("leakwatch: LEAKWATCH_INTERVAL=\"often\" is not valid") == true)
    }
}
