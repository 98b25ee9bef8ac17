import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// `report --format html` and `hosts --format html` against a real collector seeded through the
/// real protocol: the page says what `--format json` says, is one self-contained well-formed file
/// whatever the names in it, and opens in headless Chromium without a console error.
@Suite("collector-cli's HTML pages", .serialized)
struct HTMLReportTests {
    static let chromium = HeadlessChromium.find()

    /// Where to keep the pages and screenshots for a person to look at (LEAKWATCH_HTML_ARTIFACTS).
    static func keep(_ files: [URL]) {
        guard let directory = ProcessInfo.processInfo.environment["LEAKWATCH_HTML_ARTIFACTS"] else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            let target = URL(fileURLWithPath: directory).appendingPathComponent(file.lastPathComponent)
            try? FileManager.default.removeItem(at: target)
            try? FileManager.default.copyItem(at: file, to: target)
        }
    }

    @Test("the report page carries the JSON's verdict, rate, memory and each site's bytes, in one self-contained file")
    func reportAgreesWithJSON() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let json = try await collector.run(["report", "--host", "web-3", "--since", "6h", "--format", "json"])
            let result = try await collector.run(["report", "--host", "web-3", "--since", "6h", "--format", "html", "--output", "web-3.html"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.hasPrefix("wrote web-3.html: html report of web-3, suspected leak, "), "\(result.text)")
            let html = try String(contentsOfFile: collector.directory.path + "/web-3.html", encoding: .utf8)
            #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
            #expect(PageChecks.wellFormedProblem(html) == nil, "\(PageChecks.wellFormedProblem(html) ?? "")")
            #expect(PageChecks.externalReferences(html).isEmpty, "\(PageChecks.externalReferences(html))")
            #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; "))
            try Self.expectAgreement(page: html, json: json.standardOutput)

            // The verdict comes first: nothing but the page's frame before it.
            let verdict = try #require(html.range(of: "<h1 class=\"verdict\""))
            #expect(!html[..<verdict.lowerBound].contains("<section"))
            #expect(html.contains("<span class=\"badge suspected-leak\" data-status=\"suspected-leak\">SUSPECTED LEAK</span>"))
            #expect(html.contains("since 2026-03-02 06:00 UTC (6h ago)"))
            // Restart and the threshold crossing are marked on the chart; the flame graph has the leaking frame.
            #expect(html.contains("<g class=\"restart\"><title>process restart at 2026-03-02 09:00 UTC</title>"))
            #expect(html.contains("<g class=\"crossing warning\"><title>03-02 07:40:00  warning: heap 213.3 MiB crossed the threshold 200.0 MiB"))
            #expect(html.contains("<g class=\"level warning\">"))
            #expect(html.contains("<g data-hover=\"moment\"><title>2026-03-02 07:40 UTC\nheap 213.3 MiB\nRSS 333.3 MiB</title>"))
            #expect(html.contains("<g data-hover=\"frame\"><title>Checkout.SessionCache.insert(_:)\n/src/Sources/Checkout/SessionCache.swift:42\n"
                                  + "live 60.3 MiB (62.6% of sampled), 1 site\nrate +20.0 MiB/h</title>"))
            // The size histogram and the events.
            #expect(html.contains("<td class=\"nowrap\">≤ 64 B</td><td class=\"number\">12,960,000</td>"))
            #expect(html.contains("<td class=\"nowrap\">&gt; 1.0 KiB</td>"))
            #expect(html.contains("dropped data: 3 snapshots lost: spool full while the collector was unreachable"))

            // Standard output without --output.
            let stdout = try await collector.run(["report", "--host", "web-3", "--since", "6h", "--format", "html"])
            #expect(stdout.text == html)
        }
    }

    /// The figures in the page's data attributes and text against the JSON document's.
    static func expectAgreement(page: String, json: [UInt8]) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        let verdict = try #require(object["verdict"] as? [String: Any])
        let latest = try #require(object["latest"] as? [String: Any])
        let status = try #require(verdict["status"] as? String)
        #expect(page.contains("<h1 class=\"verdict\" data-status=\"\(status)\">"))
        let rate = try #require(verdict["rateBytesPerHour"] as? Int)
        #expect(PageChecks.figures("verdict-rate", in: page) == [String(rate)])
        #expect(page.contains(">\(Units.rate(bytesPerHour: Double(rate)))</span>"))
        let confidence = try #require(verdict["confidence"] as? Double)
        #expect(PageChecks.figures("confidence", in: page).compactMap(Double.init) == [confidence])
        for (field, key) in [("heap", "currentBytes"), ("peak", "peakBytes"), ("rss", "rssBytes")] {
            let value = try #require(latest[key] as? Int)
            #expect(PageChecks.figures(field, in: page) == [String(value)], "\(field)")
            #expect(page.contains(">\(Units.bytes(value))</span>"), "\(field) shown as \(Units.bytes(value))")
        }
        let growing = try #require(object["growingSites"] as? [Int])
        let sites = try #require(object["sites"] as? [[String: Any]])
        let articles = PageChecks.siteArticles(in: page)
        #expect(articles.map(\.stackID) == growing.prefix(5).map(String.init))
        for article in articles {
            let site = try #require(sites.first { String($0["stackId"] as? Int ?? -1) == article.stackID })
            let bytes = try #require(site["liveBytes"] as? Int)
            #expect(article.liveBytes == String(bytes))
            #expect(article.rate == String(site["rateBytesPerHour"] as? Int ?? -1))
            #expect(page.contains("data-value=\"\(bytes)\">\(Units.bytes(bytes))</span>"))
        }
    }

    @Test("in headless Chromium the report loads without console errors or fetches, and its DOM has the JSON's numbers",
          .enabled(if: chromium != nil, "\(HeadlessChromium.skipReason)"))
    func reportInChromium() async throws {
        let chromium = try #require(Self.chromium)
        try await FleetScenario.startSeededCollector().use { collector in
            let json = try await collector.run(["report", "--host", "web-3", "--since", "6h", "--format", "json"])
            let result = try await collector.run(["report", "--host", "web-3", "--since", "6h", "--format", "html", "--output", "web-3.html"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            let page = try await chromium.load(collector.directory.appendingPathComponent("web-3.html"), in: collector.directory.url)
            Self.keep([collector.directory.appendingPathComponent("web-3.html"), page.screenshot])
            #expect(page.consoleErrors.isEmpty, "\(page.consoleErrors)")
            #expect(page.resourcesFetched == 0, "a self-contained page fetches nothing")
            let size = try PageChecks.pngSize(page.screenshot)
            #expect(size.width == 1280 && size.height == 2000, "\(size)")
            try Self.expectAgreement(page: page.dom, json: json.standardOutput)
            // The script ran: the flame graph's titles became hover text.
            #expect(page.dom.contains("<g data-hover=\"frame\" data-tip=\"Checkout.SessionCache.insert(_:)\n"))
        }
    }

    @Test("the fleet page links every host to its section and loads in Chromium without console errors")
    func fleetPage() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let json = try await collector.run(["hosts", "--format", "json"])
            let result = try await collector.run(["hosts", "--format", "html", "--output", "fleet.html"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.hasPrefix("wrote fleet.html: html fleet view, "), "\(result.text)")
            let html = try String(contentsOfFile: collector.directory.path + "/fleet.html", encoding: .utf8)
            #expect(PageChecks.wellFormedProblem(html) == nil, "\(PageChecks.wellFormedProblem(html) ?? "")")
            #expect(PageChecks.externalReferences(html).isEmpty, "\(PageChecks.externalReferences(html))")
            let hosts = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput)) as? [[String: Any]])
            #expect(PageChecks.values(after: " data-host=\"", in: html) == hosts.map { $0["host"] as? String ?? "" }, "one row per host")
            let links = PageChecks.values(after: "<a href=\"#", in: html).filter { $0 != "fleet" }
            #expect(links == hosts.map { "host-" + ($0["host"] as? String ?? "") }, "one link per host, in the JSON's order")
            for link in links { #expect(html.contains("<section class=\"host\" id=\"\(link)\">")) }
            #expect(PageChecks.figures("heap", in: html) == hosts.map { String($0["currentBytes"] as? Int ?? -1) })
            #expect(html.contains("collector-cli report --host web-3 --format html --output web-3.html"))
            #expect(html.contains("<tr class=\"stale\" data-host=\"db-1\">"))
            // Growing and leaking hosts have their heap charted; the others do not.
            #expect(html.contains("<section class=\"host\" id=\"host-web-3\"><div class=\"host-chart\"><svg class=\"chart spark\""))
            #expect(html.contains("heap over its last day: 180.0 MiB to 240.3 MiB"))
            #expect(html.contains("<section class=\"host\" id=\"host-web-2\"><div class=\"host-chart\">"))
            #expect(html.contains("<section class=\"host\" id=\"host-web-1\"><h2>"))

            guard let chromium = Self.chromium else { return }
            let page = try await chromium.load(collector.directory.appendingPathComponent("fleet.html"), in: collector.directory.url)
            Self.keep([collector.directory.appendingPathComponent("fleet.html"), page.screenshot])
            #expect(page.consoleErrors.isEmpty, "\(page.consoleErrors)")
            #expect(page.resourcesFetched == 0)
            #expect(try PageChecks.pngSize(page.screenshot).width == 1280)
        }
    }

    @Test("--watch and --format html do not go together")
    func watchRejectsHTML() async throws {
        let result = CollectorCLI.run(arguments: ["hosts", "--watch", "--format", "html"],
                                      context: CLIContext(environment: [:], nowUnixNanos: 0, standardOutputIsTerminal: false,
                                                          currentDirectory: "/"))
        #expect(result.exitCode == CLIExitCode.badArguments)
        #expect(result.standardError.contains("--watch redraws on the terminal: --format html and --output write one page"))
    }

    @Test("an --output that cannot be written is exit 8 naming the path")
    func unwritableOutput() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["report", "--host", "web-3", "--format", "html", "--output", "no/such/dir/web-3.html"])
            #expect(result.exitCode == CLIExitCode.outputFailed)
            #expect(result.standardError.contains("cannot write \(collector.directory.path)/no/such/dir/web-3.html"), "\(result.standardError)")
        }
    }

    // MARK: Hostile names

    /// No whitespace, so `--host` takes it; a tag, quotes of both kinds and an ampersand.
    static let hostileHost = "web-<script>document.title='pwned'</script>&\"q\""
    static let hostileFunction = "<img src=x onerror=\"document.title='pwned'\">&amp;"

    static func seedHostile(port: Int) throws {
        let agent = try SeedAgent(port: port, host: hostileHost, service: "svc<b>\"&'", instance: 9, pid: 9,
                                  startNanos: FleetScenario.now - 2 * FleetScenario.hour)
        defer { agent.close() }
        for sequence in 1...12 as ClosedRange<UInt64> {
            let time = FleetScenario.now - 2 * FleetScenario.hour + Int64(sequence) * 10 * FleetScenario.minute
            var snapshot = FleetScenario.bareSnapshot(sequence: sequence, time: time, heap: (64 << 20) + sequence * (4 << 20))
            var site = Leakwatch_V1_Site()
            site.stackID = 1
            site.liveBytes = sequence * (4 << 20)
            site.liveObjects = sequence * 100
            site.allocatedBytes = sequence * (8 << 20)
            site.typeName = "T<\"'&>"
            snapshot.sites.append(site)
            if sequence == 1 {
                var stack = Leakwatch_V1_Stack()
                stack.id = 1
                stack.frames = [
                    FleetScenario.frame(hostileFunction, "/src/\"a\"&<b>.swift", 7, image: "app'<x>", address: 0x1000),
                    FleetScenario.frame("main", "/src/<main>.swift", 1, image: "app'<x>", address: 0x2000),
                ]
                snapshot.stacks.append(stack)
            }
            if sequence == 6 {
                var event = Leakwatch_V1_Event()
                event.kind = .thresholdWarning
                event.timestampUnixNanos = time
                event.value = snapshot.stats.currentBytes
                event.thresholdBytes = 80 << 20
                event.message = "</td></tr></table><script>document.title='pwned'</script>"
                snapshot.events.append(event)
            }
            try agent.send(snapshot)
        }
    }

    @Test("names, paths and messages from agents are escaped: a hostile host's pages run no script of theirs")
    func hostileNames() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            let port = collector.port
            try await blocking { try Self.seedHostile(port: port) }
            _ = try collector.collector.maintenance.evaluateVerdicts()
            let context = collector.context()
            let report = try await collector.run(["report", "--host", Self.hostileHost, "--format", "html", "--output", "hostile.html"],
                                                 context: context)
            #expect(report.exitCode == 0, "stderr: \(report.standardError)")
            let fleet = try await collector.run(["hosts", "--format", "html", "--output", "hostile-fleet.html"], context: context)
            #expect(fleet.exitCode == 0, "stderr: \(fleet.standardError)")
            for name in ["hostile.html", "hostile-fleet.html"] {
                let html = try String(contentsOfFile: collector.directory.path + "/" + name, encoding: .utf8)
                #expect(PageChecks.wellFormedProblem(html) == nil, "\(name): \(PageChecks.wellFormedProblem(html) ?? "")")
                #expect(!html.contains("<script>document"), "\(name)")
                #expect(!html.contains("<img"), "\(name)")
                #expect(!html.contains("<b>"), "\(name)")
                #expect(html.components(separatedBy: "<script").count == 2, "\(name): the page's own script only")
                #expect(html.contains("web-&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;&amp;&quot;q&quot;"), "\(name)")
            }
            let html = try String(contentsOfFile: collector.directory.path + "/hostile.html", encoding: .utf8)
            #expect(html.contains("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;&amp;amp;"))
            #expect(html.contains("type <strong>T&lt;&quot;&#39;&amp;&gt;</strong>"))
            #expect(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;"))
            #expect(html.contains("--host &#39;web-&lt;script&gt;document.title=&#39;\\&#39;&#39;pwned"), "shell-quoted in the footer")

            guard let chromium = Self.chromium else { return }
            for name in ["hostile.html", "hostile-fleet.html"] {
                let page = try await chromium.load(collector.directory.appendingPathComponent(name), in: collector.directory.url)
                Self.keep([page.screenshot])
                #expect(page.consoleErrors.isEmpty, "\(name): \(page.consoleErrors)")
                let title = PageChecks.values(after: "<title>", in: page.dom.replacingOccurrences(of: "</title>", with: "\"")).first ?? ""
                #expect(title.hasPrefix(name == "hostile.html" ? "web-&lt;script&gt;" : "Leakwatch fleet"), "\(name): title \(title)")
                #expect(page.dom.components(separatedBy: "<script").count == 3, "\(name): the probe's and the page's scripts only")
                #expect(!page.dom.contains("<img"), "\(name)")
            }
        }
    }
}
