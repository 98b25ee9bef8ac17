import Foundation

/// A throwaway PostgreSQL 15 cluster for the tests: `initdb` in a temporary directory, its own
/// free port on 127.0.0.1, trust authentication, and `pg_ctl stop` when the test process exits.
/// One cluster per test process, started by the first test that asks; every test gets a database
/// of its own from `database()`, so tests share no rows.
///
/// initdb and postgres refuse to run as root: as root, the cluster runs as Debian's `postgres`
/// user (created by the postgresql-15 package; `.ci/run` installs it), which owns the directory.
public actor TemporaryPostgres {
    public static let shared = TemporaryPostgres()

    /// Debian's PostgreSQL 15 programs.
    public static let binaries = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin")

    public struct Cluster: Sendable {
        public var port: Int
        public var user: String
        public var directory: String
    }

    private var started: Task<Cluster, any Error>?
    private var databases = 0

    /// The URL of a new, empty database on the shared cluster.
    public func database() async throws -> String {
        let cluster = try await cluster()
        databases += 1
        let name = "test_\(ProcessInfo.processInfo.processIdentifier)_\(databases)"
        let created = try await ChildProcess.run(
            Self.binaries.appendingPathComponent("psql"),
            ["-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", cluster.user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
             "-c", "CREATE DATABASE \(name)"], timeoutSeconds: 60)
        guard created.status == 0 else { throw TestFailure("cannot create database \(name):\n\(created.summary)") }
        return "postgres://\(cluster.user)@127.0.0.1:\(cluster.port)/\(name)"
    }

    /// The running cluster, started at the first call.
    public func cluster() async throws -> Cluster {
        if let started { return try await started.value }
        let task = Task { try await Self.start() }
        started = task
        return try await task.value
    }

    private static func start() async throws -> Cluster {
        guard FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent("initdb").path) else {
            throw TestFailure("PostgreSQL 15 is not installed at \(binaries.path): apt-get install postgresql-15 (.ci/run does)")
        }
        let directory = try TemporaryDirectory()
        let data = directory.path + "/data"
        let runAs: String? = getuid() == 0 ? "postgres" : nil
        if let runAs {
            let owned = try await ChildProcess.run(URL(fileURLWithPath: "/bin/chown"), ["-R", runAs, directory.path])
            guard owned.status == 0 else { throw TestFailure("cannot give \(directory.path) to \(runAs):\n\(owned.summary)") }
        }
        func run(_ program: String, _ arguments: [String], timeoutSeconds: Int = 120) async throws -> ChildResult {
            // The server pg_ctl leaves running must not inherit the descriptor Foundation watches for
            // its child's exit (a socket): while the server held it, the start never "ended".
            let closingInherited = [
                "/bin/bash", "-c", #"for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@""#,
                "bash", binaries.appendingPathComponent(program).path,
            ] + arguments
            if let runAs {
                return try await ChildProcess.run(
                    URL(fileURLWithPath: "/sbin/runuser"), ["-u", runAs, "--"] + closingInherited, timeoutSeconds: timeoutSeconds)
            }
            return try await ChildProcess.run(URL(fileURLWithPath: closingInherited[0]), Array(closingInherited.dropFirst()), timeoutSeconds: timeoutSeconds)
        }
        let user = "leakwatch"
        let initialized = try await run("initdb", ["-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        guard initialized.status == 0 else { throw TestFailure("initdb failed:\n\(initialized.summary)") }
        // A port another test could take between this check and the server's bind: retried once.
        for attempt in 1...3 {
            let port = try freePort()
            let options = [
                "-p \(port)", "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=\(directory.path)",
                // A test cluster: durability is not what is under test, speed is.
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=400",
            ].joined(separator: " ")
            let startedServer = try await run("pg_ctl", ["-D", data, "-o", options, "-l", directory.path + "/server.log", "-w", "-t", "60", "start"])
            if startedServer.status == 0 {
                stopAtExit(pgCtl: binaries.appendingPathComponent("pg_ctl").path, data: data, directory: directory.path, runAs: runAs)
                return Cluster(port: port, user: user, directory: directory.path)
            }
            if attempt == 3 {
                let log = (try? String(contentsOfFile: directory.path + "/server.log", encoding: .utf8)) ?? ""
                throw TestFailure("pg_ctl start failed:\n\(startedServer.summary)\n--- server.log\n\(log)")
            }
        }
        preconditionFailure("unreachable")
    }
}

/// The command that stops the cluster and removes its directory, run when the test process exits.
nonisolated(unsafe) private var stopCommand: String?

private func stopAtExit(pgCtl: String, data: String, directory: String, runAs: String?) {
    let stop = "\(pgCtl) -D '\(data)' -m immediate -w stop"
    stopCommand = (runAs.map { "runuser -u \($0) -- \(stop)" } ?? stop) + " >/dev/null 2>&1; rm -rf '\(directory)'"
    atexit {
        guard let command = stopCommand else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try? process.run()
        process.waitUntilExit()
    }
}
