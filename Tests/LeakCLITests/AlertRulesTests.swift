import Foundation
import LeakTestSupport
import Testing

/// The operator examples in collector/: the Prometheus rules pass promtool's check and their unit
/// tests, and the Grafana dashboard charts only metrics the collector documents.
@Suite("collector/ examples for Prometheus and Grafana")
struct AlertRulesTests {
    static let collectorDirectory = ChildProcess.repositoryRoot.appendingPathComponent("collector")

    static func promtool(_ arguments: [String]) async throws -> ChildResult {
        try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/promtool"), arguments, timeoutSeconds: 60)
    }

    @Test("promtool check rules accepts leakwatch-alerts.rules.yml")
    func checkRules() async throws {
        let result = try await Self.promtool(["check", "rules", Self.collectorDirectory.appendingPathComponent("leakwatch-alerts.rules.yml").path])
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.standardOutput.contains("SUCCESS"))
    }

    @Test("the rules fire as their unit tests say (promtool test rules)")
    func ruleUnitTests() async throws {
        let result = try await Self.promtool(["test", "rules", Self.collectorDirectory.appendingPathComponent("leakwatch-alerts.test.yml").path])
        #expect(result.status == 0, "\(result.summary)")
    }

    @Test("the rules and the dashboard name only metrics docs/OPERATIONS.md documents")
    func metricNamesExist() throws {
        let operations = try String(contentsOf: ChildProcess.repositoryRoot.appendingPathComponent("docs/OPERATIONS.md"), encoding: .utf8)
        let documented = Set(Self.metricNames(in: operations))
        #expect(documented.count >= 15)
        for file in ["leakwatch-alerts.rules.yml", "grafana-dashboard.json"] {
            let text = try String(contentsOf: Self.collectorDirectory.appendingPathComponent(file), encoding: .utf8)
            if file.hasSuffix(".json") { _ = try JSONSerialization.jsonObject(with: Data(text.utf8)) }
            let used = Set(Self.metricNames(in: text).map { name in
                ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
            })
            #expect(!used.isEmpty)
            #expect(used.subtracting(documented).isEmpty, "\(file) names undocumented metrics: \(used.subtracting(documented).sorted())")
        }
    }

    static func metricNames(in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "leakwatch_[a-z_]+")
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text).map { String(text[$0]) } }
    }
}
