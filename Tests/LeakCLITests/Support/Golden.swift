import Foundation
import Testing

/// Golden text lives in Swift files under Golden/ (raw string literals), so the test target
/// needs no resources. Run with UPDATE_GOLDEN=1 to rewrite a golden file from the actual
/// output, then read the diff before committing it. A rewrite fails the test that made it, so a
/// run with UPDATE_GOLDEN=1 left set (in CI, say) can never pass without comparing anything.
enum Golden {
    static func check(_ actual: String, matches expected: String, name: String, filePath: String = #filePath,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            do {
                let file = try write(actual, name: name, filePath: filePath)
                Issue.record("""
                    UPDATE_GOLDEN=1: rewrote golden '\(name)' (\(file)) instead of comparing; read its diff, \
                    then run again without UPDATE_GOLDEN
                    """, sourceLocation: sourceLocation)
            } catch {
                Issue.record("UPDATE_GOLDEN=1: could not rewrite golden '\(name)': \(error)", sourceLocation: sourceLocation)
            }
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

    /// Writes Golden+`name`.swift beside the test and returns its path.
    private static func write(_ actual: String, name: String, filePath: String) throws -> String {
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
        let file = directory.appendingPathComponent("Golden+\(name).swift")
        try source.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}
