import Foundation

/// Where the collector listens: `host:port`, `[v6]:port`, or a bare host (port 7070).
public struct CollectorEndpoint: Sendable, Equatable, CustomStringConvertible {
    public static let defaultPort = 7070
    public static let environmentVariable = "LEAKWATCH_COLLECTOR"
    public static let fallback = CollectorEndpoint(host: "127.0.0.1", port: defaultPort)

    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; throws `badArguments` with the expected form.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let invalid = CLIError.badArguments.with(
            "collector address '\(text)' is not host:port (e.g. 127.0.0.1:7070, collector.internal:7070, [::1]:7070)")
        var host = trimmed
        var portText: Substring?
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else { throw invalid }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw invalid }
                portText = rest.dropFirst()
            }
        } else if let colon = trimmed.lastIndex(of: ":") {
            guard trimmed.firstIndex(of: ":") == colon else { throw invalid }  // bare IPv6 needs [ ]
            host = String(trimmed[..<colon])
            portText = trimmed[trimmed.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw invalid }
        var port = Self.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw CLIError.badArguments.with("collector port '\(portText)' in '\(text)' is not a number from 1 to 65535")
            }
            port = value
        }
        self.init(host: host, port: port)
    }

    /// `--collector` if given, else LEAKWATCH_COLLECTOR, else 127.0.0.1:7070.
    public static func resolve(option: String?, environment: [String: String]) throws -> CollectorEndpoint {
        if let option { return try CollectorEndpoint(parsing: option) }
        if let value = environment[environmentVariable], !value.isEmpty {
            do {
                return try CollectorEndpoint(parsing: value)
            } catch let error as CLIError {
                throw error.with("\(environmentVariable): \(error.message)")
            }
        }
        return fallback
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
