import Foundation
import LeakTestSupport
import Testing

/// collector/alert-webhook.sh against Debian's prometheus-alertmanager: the alert a status change
/// raises is active with the host's labels, a site's change raises one of its own, and the
/// return to ok resolves them.
@Suite("collector/alert-webhook.sh with a real Alertmanager")
struct AlertWebhookScriptTests {
    static let script = ChildProcess.repositoryRoot.appendingPathComponent("collector/alert-webhook.sh")

    /// A status-change document; `siteChange` (old, new) adds a change of the buffer site (stack 2).
    static func document(old: String, new: String, siteChange: (String, String)? = nil) -> String {
        let siteChanges = siteChange.map { old, new in
            """
            [{"liveBytes":33554432,"newStatus":"\(new)","oldStatus":"\(old)","rateBytesPerHour":\(new == "ok" ? 0 : 31457280),"stackId":2,
              "topFrames":[{"function":"NIOCore.ByteBufferAllocator.buffer(capacity:)","image":"checkout-server"},
                           {"function":"Checkout.ResponseWriter.write(_:)","image":"checkout-server"}]}]
            """
        } ?? "[]"
        return """
        {"at":"2026-03-02T11:58:00Z","confidence":1,"host":"leaky-1","kind":"status-change","memoryErrors":[],"siteChanges":\(siteChanges),
         "newStatus":"\(new)","oldStatus":"\(old)","rateBytesPerHour":31457280,
         "reportCommand":"collector-cli report --host 'leaky-1'","service":"checkout","since":"2026-03-02T00:00:00Z",
         "sites":[{"liveBytes":379584511,"rateBytesPerHour":31457280,"stackId":1,"status":"suspected-leak","typeName":"Checkout.Session",
           "topFrames":[{"function":"Checkout.Session.__allocating_init(id:cart:)","image":"checkout-server"},
                        {"function":"Checkout.SessionCache.insert(_:)","image":"checkout-server"}]}],
         "summary":"sustained growth over 6h (trend score 8.6); 1 growing site(s)"}
        """
    }

    /// Runs the script with `document` on stdin, as the collector does.
    static func post(_ document: String, to url: String, scratch: TemporaryDirectory) async throws -> ChildResult {
        let input = scratch.appendingPathComponent("alert-\(UUID().uuidString).json")
        try document.write(to: input, atomically: true, encoding: .utf8)
        return try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "'\(script.path)' < '\(input.path)'"],
            environment: ["LEAKWATCH_ALERTMANAGER_URL": url], timeoutSeconds: 30)
    }

    static func alerts(_ url: String) async throws -> [[String: Any]] {
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/curl"), ["--silent", "--fail", "\(url)/api/v2/alerts"])
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]] ?? []
    }

    @Test("a suspected leak is an active alert, and ok resolves it")
    func raiseAndResolve() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        try "route: {receiver: none}\nreceivers: [{name: none}]\n".write(
            to: scratch.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
        let log = scratch.appendingPathComponent("alertmanager.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let alertmanager = Process()
        alertmanager.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-alertmanager")
        alertmanager.arguments = [
            "--config.file=\(scratch.path)/alertmanager.yml", "--storage.path=\(scratch.path)/data",
            "--web.listen-address=127.0.0.1:0", "--cluster.listen-address=",
        ]
        alertmanager.standardError = try FileHandle(forWritingTo: log)
        try alertmanager.run()
        defer { alertmanager.stop(graceSeconds: 0) }
        var port: Substring?
        _ = await waitUntil(seconds: 20) {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.contains("Listening on") }?.split(separator: ":").last
            return port != nil
        }
        let url = "http://127.0.0.1:\(try #require(port, "alertmanager did not start"))"

        let raised = try await Self.post(Self.document(old: "ok", new: "suspected-leak"), to: url, scratch: scratch)
        #expect(raised.status == 0, "\(raised.summary)")
        let active = try #require(try await Self.alerts(url).first)
        let labels = active["labels"] as? [String: String] ?? [:]
        #expect(labels == ["alertname": "LeakwatchHostLeak", "host": "leaky-1", "service": "checkout", "severity": "warning"])
        #expect((active["status"] as? [String: Any])?["state"] as? String == "active")
        let annotations = active["annotations"] as? [String: String] ?? [:]
        #expect(annotations["summary"] == "leaky-1: ok -> suspected-leak, 30 MiB/h")
        #expect(annotations["report"] == "collector-cli report --host 'leaky-1'")
        #expect(annotations["top_site"] == "Checkout.Session.__allocating_init(id:cart:) <- Checkout.SessionCache.insert(_:)")

        // A site of the leaking host starts leaking too: its own alert, the host's stays as it was.
        let site = try await Self.post(Self.document(old: "suspected-leak", new: "suspected-leak", siteChange: ("ok", "growing")),
                                       to: url, scratch: scratch)
        #expect(site.status == 0, "\(site.summary)")
        let both = try await Self.alerts(url)
        #expect(both.count == 2, "\(both)")
        let siteAlert = try #require(both.first { ($0["labels"] as? [String: String])?["alertname"] == "LeakwatchSiteLeak" })
        #expect(siteAlert["labels"] as? [String: String]
                    == ["alertname": "LeakwatchSiteLeak", "host": "leaky-1", "service": "checkout", "site": "2", "severity": "warning"])
        let siteAnnotations = siteAlert["annotations"] as? [String: String] ?? [:]
        #expect(siteAnnotations["summary"] == "leaky-1: site NIOCore.ByteBufferAllocator.buffer(capacity:): ok -> growing, 30 MiB/h")
        #expect(siteAnnotations["top_site"] == "NIOCore.ByteBufferAllocator.buffer(capacity:) <- Checkout.ResponseWriter.write(_:)")

        let resolved = try await Self.post(Self.document(old: "suspected-leak", new: "ok", siteChange: ("growing", "ok")),
                                           to: url, scratch: scratch)
        #expect(resolved.status == 0, "\(resolved.summary)")
        // Alertmanager lists only unresolved alerts by default.
        let remaining = try await Self.alerts(url)
        #expect(remaining.isEmpty, "\(remaining)")
    }

    @Test("an unreachable Alertmanager is a failure the collector logs")
    func unreachable() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let result = try await Self.post(Self.document(old: "ok", new: "growing"), to: "http://127.0.0.1:\(try closedPort())", scratch: scratch)
        #expect(result.status != 0)
        #expect(result.standardError.contains("curl"), "\(result.summary)")
    }
}
