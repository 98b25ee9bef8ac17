import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport

/// collector-cli run in-process against the shared test collector.
extension TestCollector {
    /// A context pointing at this collector with the right token, a fixed clock and no terminal.
    func context(now: Int64 = FleetScenario.now, terminal: Bool = false, environment extra: [String: String] = [:]) -> CLIContext {
        var environment = ["LEAKWATCH_COLLECTOR": address, "LEAKWATCH_TOKEN": testTokenText]
        environment.merge(extra) { $1 }
        return CLIContext(environment: environment, nowUnixNanos: now, standardOutputIsTerminal: terminal,
                          currentDirectory: directory.path, connectTimeoutSeconds: 5, requestTimeoutSeconds: 30)
    }

    /// Runs collector-cli in-process on a thread of its own (it blocks on sockets).
    func run(_ arguments: [String], context: CLIContext? = nil) async throws -> CollectorCLI.Invocation {
        let context = context ?? self.context()
        return try await blocking { CollectorCLI.run(arguments: arguments, context: context) }
    }
}
