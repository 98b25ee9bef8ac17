import Foundation
import LeakTestSupport

/// Debian's chromium, headless, opening a page from a file as someone opening a ticket
/// attachment would: what the page's DOM became after its script ran, what it logged to the
/// console, and a screenshot at 1280 px.
struct HeadlessChromium {
    let executable: URL

    /// nil when chromium is not installed (`.ci/run` installs it).
    static func find() -> HeadlessChromium? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"]
            .first(where: FileManager.default.isExecutableFile(atPath:))
            .map { HeadlessChromium(executable: URL(fileURLWithPath: $0)) }
    }

    static let skipReason = "chromium is not installed (apt-get install chromium; .ci/run installs it)"

    struct LoadedPage {
        /// The DOM after the page's script ran (`--dump-dom`), with the probe's attributes.
        var dom: String
        /// Uncaught errors and console.error calls seen by the probe, and every console message
        /// chromium logged (an SVG attribute it could not parse is one).
        var consoleErrors: [String]
        /// Resources the page fetched besides itself: none for a self-contained page.
        var resourcesFetched: Int?
        var screenshot: URL
    }

    /// Loads `page` twice: a copy with a probe script early in its head, dumped as DOM, then the
    /// page itself, screenshotted into `directory`.
    func load(_ page: URL, in directory: URL) async throws -> LoadedPage {
        let html = try String(contentsOf: page, encoding: .utf8)
        // After the charset, which must come within the first 1024 bytes.
        guard let head = html.range(of: "<meta charset=\"utf-8\"/>") else { throw TestFailure("no charset in \(page.path)") }
        let probed = directory.appendingPathComponent("probe-" + page.lastPathComponent)
        try (html[..<head.upperBound] + Self.probe + html[head.upperBound...]).write(to: probed, atomically: true, encoding: .utf8)

        let dump = try await run(["--dump-dom", "--virtual-time-budget=3000", probed.absoluteString], directory: directory)
        guard dump.status == 0 else { throw TestFailure("chromium --dump-dom failed: \(dump.summary)") }
        var errors = Self.consoleLines(dump.standardError)
        if let recorded = Self.attribute("data-probe-errors", in: dump.standardOutput), !recorded.isEmpty {
            errors += recorded.split(separator: "\u{1E}").map(String.init)
        }
        let resources = Self.attribute("data-probe-resources", in: dump.standardOutput).flatMap { Int($0) }

        let screenshot = directory.appendingPathComponent(page.deletingPathExtension().lastPathComponent + ".png")
        let shot = try await run(["--screenshot=" + screenshot.path, "--window-size=1280,2000", "--hide-scrollbars",
                                  page.absoluteString], directory: directory)
        guard shot.status == 0 else { throw TestFailure("chromium --screenshot failed: \(shot.summary)") }
        errors += Self.consoleLines(shot.standardError)
        return LoadedPage(dom: dump.standardOutput, consoleErrors: errors, resourcesFetched: resources, screenshot: screenshot)
    }

    private func run(_ arguments: [String], directory: URL) async throws -> ChildResult {
        let profile = directory.appendingPathComponent("chromium-profile").path
        // Root needs --no-sandbox; no network is wanted, so every host name fails to resolve.
        let common = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-dev-shm-usage",
                      "--user-data-dir=" + profile, "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0"]
        return try await ChildProcess.run(executable, common + arguments,
                                          environment: ["HOME": directory.path, "XDG_CONFIG_HOME": directory.path + "/config"],
                                          timeoutSeconds: 120)
    }

    /// Records errors and console.error calls into `data-probe-errors` on <html>, and after the
    /// load event the number of resources fetched into `data-probe-resources`.
    private static let probe = """
        <script>(function () {
          var root = document.documentElement;
          function record(text) {
            root.setAttribute('data-probe-errors', (root.getAttribute('data-probe-errors') || '') + text + '\\u001e');
          }
          window.addEventListener('error', function (event) {
            record('error: ' + (event.message || (event.target && event.target.outerHTML) || 'unknown'));
          }, true);
          var consoleError = console.error;
          console.error = function () { record('console.error: ' + Array.prototype.join.call(arguments, ' ')); consoleError.apply(console, arguments); };
          window.addEventListener('load', function () {
            root.setAttribute('data-probe-resources', String(performance.getEntriesByType('resource').length));
          });
        })();</script>
        """

    /// chromium's log lines for console messages: `[…:INFO:CONSOLE(12)] "message", source: … (12)`.
    static func consoleLines(_ standardError: String) -> [String] {
        standardError.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
    }

    /// The value of an attribute on the dumped <html> element.
    static func attribute(_ name: String, in dom: String) -> String? {
        guard let start = dom.range(of: name + "=\"") else { return nil }
        let rest = dom[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
