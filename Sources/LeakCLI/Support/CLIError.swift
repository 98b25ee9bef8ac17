/// Every failure collector-cli reports, each with its own exit code (docs/CLI.md, "Exit codes").
///
/// A public struct wrapping a private enum, so new cases never break callers. Compare with the
/// static members (`error == .unknownHost`): equality looks at the case only.
public struct CLIError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case badArguments
        case unknownHost
        case noData
        case collectorUnreachable
        case authenticationRefused
        case collectorFailed
        case outputFailed
    }

    private let code: Code
    /// What happened, what was expected, and what to do next: printed after "error: ".
    public let message: String

    private init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public static func == (lhs: CLIError, rhs: CLIError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { message.isEmpty ? "CLIError.\(code)" : message }

    /// The arguments make no sense (unknown flag, bad duration, bad address): exit 2.
    public static let badArguments = CLIError(.badArguments)
    /// The collector never heard of the host named: exit 3.
    public static let unknownHost = CLIError(.unknownHost)
    /// The host (or the fleet) exists but has no snapshot to report on yet: exit 4.
    public static let noData = CLIError(.noData)
    /// No connection to the collector (refused, timed out, unresolvable name): exit 5.
    public static let collectorUnreachable = CLIError(.collectorUnreachable)
    /// The collector refused the token: exit 6.
    public static let authenticationRefused = CLIError(.authenticationRefused)
    /// The collector answered with an error or broke the protocol: exit 7.
    public static let collectorFailed = CLIError(.collectorFailed)
    /// Writing the output (an export file) failed: exit 8.
    public static let outputFailed = CLIError(.outputFailed)

    /// The same case with a specific message.
    public func with(_ message: String) -> CLIError { CLIError(code, message) }

    /// The process exit status for this error.
    public var exitCode: Int32 {
        switch code {
        case .badArguments: CLIExitCode.badArguments
        case .unknownHost: CLIExitCode.unknownHost
        case .noData: CLIExitCode.noData
        case .collectorUnreachable: CLIExitCode.collectorUnreachable
        case .authenticationRefused: CLIExitCode.authenticationRefused
        case .collectorFailed: CLIExitCode.collectorFailed
        case .outputFailed: CLIExitCode.outputFailed
        }
    }
}

/// collector-cli's exit statuses. Stable: scripts depend on them (docs/CLI.md).
public enum CLIExitCode {
    public static let success: Int32 = 0
    /// A bug or an unexpected failure not covered below.
    public static let internalError: Int32 = 1
    public static let badArguments: Int32 = 2
    public static let unknownHost: Int32 = 3
    public static let noData: Int32 = 4
    public static let collectorUnreachable: Int32 = 5
    public static let authenticationRefused: Int32 = 6
    public static let collectorFailed: Int32 = 7
    public static let outputFailed: Int32 = 8
}
