import Foundation
import Testing

/// Golden text lives in Swift files under Golden/ (raw string literals), so the test target
/// needs no resources. Run with UPDATE_GOLDEN=1 to rewrite a golden file from the actual
/// output, then read the diff before committing it.
enum Golden {
    static func check(_ actual: String, matches expected: String, name: String, filePath: String = #filePath,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            write(actual, name: name, filePath: filePath)
            return
        }
        let expectedText = expected + "\n"
        if actual != expectedText {
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLines = expectedText.split(separator: "\n", omittingEmptySubsequences: false)
            var firstDifference = "lengths differ"
            for index in 0..<max(actualLines.count, expectedLines.count) {
                let a = index < actualLines.count ? String(actualLines[index]) : "<none>"
                let e = index < expectedLines.count ? String(expectedLines[index]) : "<none>"
                if a != e {
                    firstDifference = "line \(index + 1):\n  expected: \(e)\n  actual:   \(a)"
                    break
                }
            }
            Issue.record("golden '\(name)' differs at \(firstDifference)\n--- actual output ---\n\(actual)",
                         sourceLocation: sourceLocation)
        }
    }

    private static func write(_ actual: String, name: String, filePath: String) {
        let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden")
        var body = actual
        if body.hasSuffix("\n") { body.removeLast() }
        let source = """
            // Golden output for \(name). Regenerate: UPDATE_GOLDEN=1 swift test --filter LeakCLITests
            extension Golden {
                static let \(name) = #\"\"\"
            \(body)
            \"\"\"#
            }

            """
        try? source.write(to: directory.appendingPathComponent("Golden+\(name).swift"), atomically: true, encoding: .utf8)
    }
}
