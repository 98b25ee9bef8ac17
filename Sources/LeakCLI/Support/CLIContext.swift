import Foundation

/// Everything a command reads from the world besides its arguments, so tests can fix it:
/// the environment, the clock, whether output is a terminal, where relative paths resolve.
public struct CLIContext: Sendable {
    /// Environment variables (LEAKWATCH_COLLECTOR, LEAKWATCH_TOKEN_FILE, LEAKWATCH_TOKEN, LEAKWATCH_TLS_*,
    /// NO_COLOR).
    public var environment: [String: String]
    /// "Now" in unix nanoseconds: the reference for `--since` and for "ago" in text output.
    public var nowUnixNanos: Int64
    /// True when standard output is a terminal (colour is used only then).
    public var standardOutputIsTerminal: Bool
    /// Directory that relative output paths are resolved against.
    public var currentDirectory: String
    /// Connect timeout towards the collector.
    public var connectTimeoutSeconds: Double
    /// Timeout of each request to the collector.
    public var requestTimeoutSeconds: Double

    public init(environment: [String: String], nowUnixNanos: Int64, standardOutputIsTerminal: Bool,
                currentDirectory: String, connectTimeoutSeconds: Double = 5, requestTimeoutSeconds: Double = 30) {
        self.environment = environment
        self.nowUnixNanos = nowUnixNanos
        self.standardOutputIsTerminal = standardOutputIsTerminal
        self.currentDirectory = currentDirectory
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
    }

    /// The real process: its environment, the system clock, isatty(1), the working directory.
    public static func process() -> CLIContext {
        CLIContext(
            environment: ProcessInfo.processInfo.environment,
            nowUnixNanos: Int64(Date().timeIntervalSince1970 * 1e9),
            standardOutputIsTerminal: isatty(STDOUT_FILENO) == 1,
            currentDirectory: FileManager.default.currentDirectoryPath)
    }

    /// Colour only on a terminal, and never when NO_COLOR is set to anything non-empty
    /// (https://no-color.org).
    public var usesColour: Bool {
        guard standardOutputIsTerminal else { return false }
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return true
    }
}

/// What a command produced: bytes for standard output and the exit status.
public struct CommandOutput: Sendable, Equatable {
    public var standardOutput: [UInt8]
    public var exitCode: Int32

    public init(standardOutput: [UInt8], exitCode: Int32 = CLIExitCode.success) {
        self.standardOutput = standardOutput
        self.exitCode = exitCode
    }

    public init(text: String, exitCode: Int32 = CLIExitCode.success) {
        self.init(standardOutput: Array(text.utf8), exitCode: exitCode)
    }

    public var text: String { String(decoding: standardOutput, as: UTF8.self) }
}
