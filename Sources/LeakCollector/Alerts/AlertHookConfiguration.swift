import Foundation

/// The alert hook's settings (`alertCommand`, `alertTimeoutSeconds`, `alertQueueCapacity`,
/// `reportCommand` in the configuration file).
public struct AlertHookConfiguration: Sendable, Equatable {
    /// Executable run once per alert with the JSON document on stdin. nil: no alerts.
    public var command: String?
    /// A run still going after this is sent SIGTERM, and SIGKILL 2 s later. Default 10 s.
    public var timeoutSeconds: Double = 10
    /// Alerts waiting for their run; one more is dropped and counted
    /// (`leakwatch_alerts_dropped_total`). Default 64: a fleet-wide change is still mostly
    /// delivered, a hook that hangs every time holds at most this much.
    public var queueCapacity: Int = 64
    /// How the document's `reportCommand` starts: `collector-cli`, or a path and options
    /// (`/usr/local/bin/collector-cli --collector leakwatch.internal:7070`). Default "collector-cli".
    public var reportCommand: String = "collector-cli"

    public init() {}

    func validate() throws {
        if let command, !FileManager.default.isExecutableFile(atPath: command) {
            throw ConfigurationError(
                "alert command \(command) is not an executable file; give the path of a program (see collector/alert-webhook.sh) and make it executable")
        }
        if !(timeoutSeconds > 0) { throw ConfigurationError("alertTimeoutSeconds must be greater than 0") }
        if queueCapacity < 1 { throw ConfigurationError("alertQueueCapacity must be at least 1") }
    }
}
