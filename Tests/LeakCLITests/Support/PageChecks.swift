import Foundation
import FoundationXML
import LeakTestSupport

/// What every page collector-cli writes must be, checked on its text: well-formed (so every
/// string in it was escaped), self-contained (nothing to fetch), and its figures readable.
enum PageChecks {
    /// Parses the page as XML: an unescaped `<` or `&` from a host or function name breaks it.
    static func wellFormedProblem(_ html: String) -> String? {
        let parser = XMLParser(data: Data(html.utf8))
        guard !parser.parse() else { return nil }
        return "line \(parser.lineNumber), column \(parser.columnNumber): \(parser.parserError.map { "\($0)" } ?? "unknown error")"
    }

    /// Every reference to something outside the page: a `src`, an `href` not to an anchor of
    /// its own, a CSS `url(` or `@import`, any URL but the SVG namespace's name.
    static func externalReferences(_ html: String) -> [String] {
        var found: [String] = []
        for pattern in ["src=", "url(", "@import", "<link", "<iframe", "<object", "<embed"] where html.contains(pattern) {
            found.append(pattern)
        }
        var rest = Substring(html)
        while let href = rest.range(of: "href=\"") {
            rest = rest[href.upperBound...]
            if !rest.hasPrefix("#") { found.append("href=\"" + rest.prefix(40)) }
        }
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        for scheme in ["http://", "https://", "//cdn", "file://"] where withoutNamespace.contains(scheme) { found.append(scheme) }
        return found
    }

    /// Each `data-value` of the elements with `data-field="field"`, in document order.
    static func figures(_ field: String, in page: String) -> [String] {
        values(after: "data-field=\"\(field)\" data-value=\"", in: page)
    }

    /// The value of every `prefix…"` in `page`.
    static func values(after prefix: String, in page: String) -> [String] {
        var values: [String] = []
        var rest = Substring(page)
        while let start = rest.range(of: prefix) {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { break }
            values.append(String(rest[..<end]))
        }
        return values
    }

    /// Growing-site articles: stack id, live bytes and rate from their data attributes.
    static func siteArticles(in page: String) -> [(stackID: String, liveBytes: String, rate: String)] {
        var articles: [(String, String, String)] = []
        var rest = Substring(page)
        while let start = rest.range(of: "<article class=\"site\" ") {
            rest = rest[start.upperBound...]
            let tag = String(rest.prefix { $0 != ">" })
            func attribute(_ name: String) -> String { values(after: name + "=\"", in: tag).first ?? "" }
            articles.append((attribute("data-stack-id"), attribute("data-live-bytes"), attribute("data-rate")))
        }
        return articles
    }

    /// A PNG's signature and a nonzero width and height from its IHDR chunk.
    static func pngSize(_ url: URL) throws -> (width: Int, height: Int) {
        let bytes = try [UInt8](Data(contentsOf: url))
        guard bytes.count > 24, bytes.prefix(8).elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw TestFailure("\(url.path) is not a PNG (\(bytes.count) bytes)")
        }
        func u32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (u32(16), u32(20))
    }
}
