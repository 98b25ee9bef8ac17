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
    /// The terminal's width in columns when standard output is one; nil otherwise.
    public var terminalColumns: Int?
    /// Where a command that keeps running writes as it goes; nil: it answers once (tests of one frame).
    public var liveOutput: LiveOutput?
    /// The clock a command that keeps running reads at each redraw.
    public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1e9) }

    public init(environment: [String: String], nowUnixNanos: Int64, standardOutputIsTerminal: Bool,
                currentDirectory: String, connectTimeoutSeconds: Double = 5, requestTimeoutSeconds: Double = 30,
                terminalColumns: Int? = nil, liveOutput: LiveOutput? = nil) {
        self.environment = environment
        self.nowUnixNanos = nowUnixNanos
        self.standardOutputIsTerminal = standardOutputIsTerminal
        self.currentDirectory = currentDirectory
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.terminalColumns = terminalColumns
        self.liveOutput = liveOutput
    }

    /// The real process: its environment, the system clock, isatty(1) and the terminal's width,
    /// the working directory, standard output written as it goes and stopped by SIGINT.
    public static func process() -> CLIContext {
        let terminal = isatty(STDOUT_FILENO) == 1
        return CLIContext(
            environment: ProcessInfo.processInfo.environment,
            nowUnixNanos: Int64(Date().timeIntervalSince1970 * 1e9),
            standardOutputIsTerminal: terminal,
            currentDirectory: FileManager.default.currentDirectoryPath,
            terminalColumns: terminal ? terminalWidth() : nil,
            liveOutput: .process())
    }

    /// TIOCGWINSZ on standard output, else $COLUMNS.
    private static func terminalWidth() -> Int? {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init)
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
