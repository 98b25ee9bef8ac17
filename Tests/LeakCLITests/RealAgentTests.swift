import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// A real process linked with the agent (leakwatch-demo-server, with its leak on) ships to the
/// in-process collector; collector-cli must show its symbolized stack and Swift type.
@Suite("collector-cli with a real agent process")
struct RealAgentTests {
    @Test("sites and export name the leaking function and the Swift type the agent symbolized",
          .timeLimit(.minutes(3)))
    func realAgent() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            let server = try startLeakingDemoServer(collector: collector.address, token: testTokenText, host: "web-3")
            defer { server.stop(graceSeconds: 0) }

            // Wait until the leaking site has shipped its stack (a few intervals).
            let deadline = Date().addingTimeInterval(60)
            var sites: CollectorCLI.Invocation
            repeat {
                try await Task.sleep(for: .milliseconds(500))
                let context = collector.context(now: Int64(Date().timeIntervalSince1970 * 1e9))
                sites = try await collector.run(["sites", "--host", "web-3", "--frames", "8"], context: context)
            } while Date() < deadline && !sites.text.contains("SessionRegistry.openSession")
            #expect(sites.exitCode == 0, "stderr: \(sites.standardError)")
            #expect(sites.text.contains("SessionRegistry.openSession(id:payloadBytes:) (main.swift:"), "\(sites.text)")
            #expect(sites.text.contains("type Session"), "\(sites.text)")
            #expect(sites.text.contains("allocator and runtime frame"), "swift_allocObject and friends are folded: \(sites.text)")
            for line in sites.text.split(separator: "\n") { #expect(line.count <= 100, "too wide: \(line)") }

            let export = try await collector.run(["export", "--host", "web-3", "-o", "-"])
            #expect(export.exitCode == 0, "stderr: \(export.standardError)")
            let profile = try Perftools_Profiles_Profile(serializedBytes: try Gzip.decompress(export.standardOutput))
            #expect(profile.stringTable.contains { $0.contains("SessionRegistry.openSession") })
            #expect(profile.stringTable.contains("Session"), "the type label")
        }
    }
}
