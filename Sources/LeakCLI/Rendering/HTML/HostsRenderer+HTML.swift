import LeakWire

/// `collector-cli hosts --format html`: the fleet table, most suspicious first, each host's
/// name linking to its section below (verdict, explanation, memory, and the command that
/// writes its full report).
extension HostsRenderer {
    /// Hosts charted on the fleet page: each chart is a query of its own.
    public static let chartedHosts = 20

    /// `heapSeries`: the heap of growing and leaking hosts over their last day, by host name.
    public func html(_ hosts: [Leakwatch_V1_HostOverview], verdictLoop: Leakwatch_V1_VerdictLoopStatus? = nil,
                     heapSeries: [String: [Leakwatch_V1_SeriesPoint]] = [:]) -> String {
        let anchors = Self.anchors(hosts.map(\.host))
        let rows = zip(hosts, anchors).map { host, anchor in row(host, anchor: anchor) }
        let sections = zip(hosts, anchors).map { host, anchor in section(host, anchor: anchor, series: heapSeries[host.host]) }
        let warning: HTML = verdictLoop.flatMap(loopWarning).map { "<p class=\"warning-line\">\($0)</p>" } ?? .empty
        let body: HTML = """
            <header>
            <h1>Leakwatch fleet</h1>
            <p class="context">\(summary(hosts))</p>
            <p class="generated">Generated \(Units.minuteTime(unixNanos: nowUnixNanos)) by collector-cli \(CollectorCLI.version) · \
            most suspicious first · times UTC</p>\(warning)
            </header>
            <section id="fleet"><table class="fleet"><thead><tr><th>host</th><th>service</th><th>status</th>\
            <th class="number">rate</th><th class="number">heap</th><th class="number">RSS</th><th>last seen</th></tr></thead>
            <tbody>\(rows)</tbody></table></section>
            \(sections)
            """
        return HTMLPage.document(title: "Leakwatch fleet: \(summary(hosts))", body: body).markup
    }

    private func lastSeen(_ host: Leakwatch_V1_HostOverview) -> String {
        let seen = host.lastSeenUnixNanos == 0 ? "never" : Units.ago(unixNanos: host.lastSeenUnixNanos, now: nowUnixNanos)
        return host.stale ? seen + " (stale)" : seen
    }

    private func row(_ host: Leakwatch_V1_HostOverview, anchor: String) -> HTML {
        let status = HostStatus(host.status)
        let rate = status >= .growing ? Units.rate(bytesPerHour: host.rateBytesPerHour) : "–"
        return """
            <tr\(host.stale ? " class=\"stale\"" as HTML : .empty) data-host="\(host.host)"><td class="wrap"><a href="#\(anchor)">\(host.host)</a></td>\
            <td class="wrap">\(host.serviceName.isEmpty ? "–" : host.serviceName)</td><td>\(HTMLPage.badge(status))</td>\
            <td class="number">\(HTMLPage.figure("rate", value: String(Saturating.int64(host.rateBytesPerHour)), shown: rate))</td>\
            <td class="number">\(HTMLPage.figure("heap", value: String(host.currentBytes), shown: Units.bytes(host.currentBytes)))</td>\
            <td class="number">\(host.rssBytes == 0 ? "–" : Units.bytes(host.rssBytes))</td>\
            <td class="nowrap">\(lastSeen(host))</td></tr>
            """
    }

    private func section(_ host: Leakwatch_V1_HostOverview, anchor: String, series: [Leakwatch_V1_SeriesPoint]?) -> HTML {
        let status = HostStatus(host.status)
        var verdict: [HTML] = [HTMLPage.badge(status)]
        switch status {
        case .suspectedLeak, .growing:
            verdict.append("<strong>\(Units.rate(bytesPerHour: host.rateBytesPerHour))</strong>")
            if host.sinceUnixNanos != 0 {
                verdict.append("since \(Units.minuteTime(unixNanos: host.sinceUnixNanos)) (\(Units.ago(unixNanos: host.sinceUnixNanos, now: nowUnixNanos)))")
            }
            verdict.append("confidence \(Saturating.int(host.confidence * 100))%")
        case .ok:
            verdict.append("no sustained growth, confidence \(Saturating.int(host.confidence * 100))%")
        case .notEnoughData:
            verdict.append("not enough data for a verdict yet")
        }
        let command = "collector-cli report --host \(ShellWord.quoted(host.host)) --format html --output "
            + ShellWord.quoted(Self.fileName(host.host))
        var chart: HTML = .empty
        if let series, let low = series.map(\.currentBytes).min(), let high = series.map(\.currentBytes).max() {
            let points = series.map {
                TimeSeriesChart.Point(timeUnixNanos: $0.timestampUnixNanos, bytes: Double($0.currentBytes), instance: Array($0.processInstanceID))
            }
            let svg = TimeSeriesChart(width: 360, height: 72, compact: true).svg(
                [TimeSeriesChart.Series(name: "heap", points: points, filled: true)], label: "heap in use over the last day")
            chart = "<div class=\"host-chart\">\(svg)<div class=\"chart-note\">heap over its last day: \(Units.bytes(low)) to \(Units.bytes(high))</div></div>"
        }
        return """
            <section class="host" id="\(anchor)">\(chart)<h2>\(host.host)</h2>
            <p>\(verdict[0]) \(HTML.joined(Array(verdict.dropFirst()), separator: " · "))</p>
            <p class="context">service \(host.serviceName.isEmpty ? "(none)" : host.serviceName)\
            \(host.explanation.isEmpty ? "" : " · " + host.explanation)</p>
            <p>heap \(Units.bytes(host.currentBytes))\(host.rssBytes == 0 ? "" : " · RSS " + Units.bytes(host.rssBytes)) · \
            last seen \(lastSeen(host))</p>
            <p class="muted">Full report: <code>\(command)</code> · <a href="#fleet">back to the fleet</a></p></section>
            """
    }

    /// `host-web-3`: an id per host from its name's letters, digits, `-`, `_` and `.`, the rest
    /// as `_`; a name that comes out like an earlier one gets `-2`, `-3`, ...
    static func anchors(_ names: [String]) -> [String] {
        var used: Set<String> = []
        return names.map { name in
            let cleaned = String(name.prefix(64).unicodeScalars.map { scalar -> Character in
                let plain = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "-" || scalar == "_" || scalar == "."
                return plain ? Character(scalar) : "_"
            })
            var anchor = "host-" + cleaned, suffix = 2
            while used.contains(anchor) {
                anchor = "host-\(cleaned)-\(suffix)"
                suffix += 1
            }
            used.insert(anchor)
            return anchor
        }
    }

    /// `web-3.html`; a name that is no good as a file name (a slash, a leading dot) as its anchor's letters.
    static func fileName(_ host: String) -> String {
        let safe = !host.contains("/") && !host.hasPrefix(".") && host.count <= 200 && !host.isEmpty
        return (safe ? host : String(anchors([host])[0].dropFirst(5))) + ".html"
    }
}
