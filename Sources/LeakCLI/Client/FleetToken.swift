import Foundation

/// The fleet token, read the way the collector reads its own: a file's contents with
/// surrounding whitespace removed, taken as UTF-8 bytes.
public enum FleetToken {
    public static let fileEnvironmentVariable = "LEAKWATCH_TOKEN_FILE"
    public static let valueEnvironmentVariable = "LEAKWATCH_TOKEN"

    /// `--token-file`, else LEAKWATCH_TOKEN_FILE, else the value of LEAKWATCH_TOKEN, else none
    /// (the collector then refuses us unless it runs with --insecure-no-auth).
    public static func resolve(option: String?, context: CLIContext) throws -> [UInt8]? {
        if let path = option ?? context.environment[fileEnvironmentVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try read(path: path, relativeTo: context.currentDirectory)
        }
        if let value = context.environment[valueEnvironmentVariable] {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return Array(trimmed.utf8) }
        }
        return nil
    }

    static func read(path: String, relativeTo directory: String) throws -> [UInt8] {
        let absolute = path.hasPrefix("/") ? path : directory + "/" + path
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw CLIError.badArguments.with(
                "cannot read token file \(path): give the file holding the fleet token (the collector's --token-file)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            throw CLIError.badArguments.with("token file \(path) is empty: it should hold the fleet token")
        }
        return Array(text.utf8)
    }
}
