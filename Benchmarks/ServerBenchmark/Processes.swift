// The benchmark's children: servers in process groups of their own (so that nginx's workers and
// anything else a server forks go with it), load tools with a hard deadline, and cleanup that
// runs at exit and on SIGINT/SIGTERM, so that no server outlives the benchmark.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum Children {
    /// Process groups started and not yet stopped. Touched only from the main thread and from the
    /// signal handler, which kills and exits.
    nonisolated(unsafe) static var groups: Set<pid_t> = []

    static func installCleanup() {
        atexit { Children.killAll() }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                Children.killAll()
                _exit(128 + received)
            }
        }
    }

    static func killAll() {
        for group in groups { kill(-group, SIGKILL) }
        groups.removeAll()
    }

    /// Starts `arguments` in a new process group with `environment` added to a clean copy of ours
    /// (no LEAKWATCH_* or LD_PRELOAD inherited), standard output and error to `logPath`.
    static func spawn(_ arguments: [String], environment: [String: String], logPath: String) -> pid_t {
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LEAKWATCH_") && $0.key != "LD_PRELOAD" }
        merged.merge(environment) { $1 }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard status == 0 else { fail("cannot start \(arguments[0]): \(String(cString: strerror(status)))") }
        groups.insert(pid)
        return pid
    }

    /// Whether `pid` (a child of ours) has exited; reaps it if so.
    static func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid
    }

    /// SIGTERM to the group, up to `graceSeconds` for the leader to exit, then SIGKILL to the group.
    static func stop(_ pid: pid_t, graceSeconds: Double = 5) {
        kill(-pid, SIGTERM)
        let deadline = Date().addingTimeInterval(graceSeconds)
        var exited = false
        while Date() < deadline {
            if hasExited(pid) { exited = true; break }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        if !exited { var status: Int32 = 0; waitpid(pid, &status, 0) }
        groups.remove(pid)
    }

    /// The resident memory of every process in `group`, in bytes (nginx: master and workers).
    static func residentBytes(ofGroup group: pid_t) -> Int { memory(ofGroup: group).resident }

    /// The server's processes; leakwatch-symbolizer, which the agent starts in the server's process
    /// group for a second or two when it names new addresses, apart.
    struct GroupMemory {
        var processes = 0
        /// RSS: the pages each process has in memory, shared library code included.
        var resident = 0
        /// Pages no other process maps (smaps_rollup's Private_Clean + Private_Dirty): what the
        /// process costs the machine beyond libraries every process on it shares.
        var unshared = 0
        var symbolizerResident = 0
    }

    static func memory(ofGroup group: pid_t) -> GroupMemory {
        var memory = GroupMemory()
        for pid in processes(inGroup: group) {
            guard let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { continue }
            var resident = 0, unshared = 0
            for line in rollup.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 2, let kibibytes = Int(fields[1]) else { continue }
                switch fields[0] {
                case "Rss:": resident += kibibytes * 1024
                case "Private_Clean:", "Private_Dirty:": unshared += kibibytes * 1024
                default: break
                }
            }
            // The kernel keeps the first 15 bytes of the name.
            if (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("leakwatch-symbo") == true {
                memory.symbolizerResident += resident
                continue
            }
            memory.processes += 1
            memory.resident += resident
            memory.unshared += unshared
        }
        return memory
    }

    private static func processes(inGroup group: pid_t) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard entry.first?.isNumber == true,
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let afterName = stat.range(of: ")", options: .backwards) else { return false }
            // Fields after the name: state ppid pgrp ...
            let fields = stat[afterName.upperBound...].split(separator: " ")
            return fields.count > 2 && Int32(fields[2]) == group
        }
    }

    /// Runs a load tool to completion (killed after `timeoutSeconds`); its exit status and output.
    static func runTool(_ arguments: [String], timeoutSeconds: Double) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LEAKWATCH_") && $0.key != "LD_PRELOAD" }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { fail("cannot run \(arguments[0]): \(error)") }
        let pid = process.processIdentifier
        // Cancelled once the tool has exited, so that a later process given the same pid is safe.
        let deadline = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: deadline)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        deadline.cancel()
        return (process.terminationStatus, output)
    }
}

/// A loopback port nothing listens on now: bound to port 0, then closed.
func freeLoopbackPort() -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = loopbackAddress(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(socket, pointer, length)
            _ = getsockname(socket, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

/// A connected TCP socket to 127.0.0.1:`port`, or nil.
func connectLoopback(port: Int) -> Int32? {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return nil }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else { close(socket); return nil }
    var one: Int32 = 1
    setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    return socket
}

/// Waits until something accepts on `port` (true), `pid` exits, or `timeoutSeconds` pass.
func waitUntilListening(port: Int, pid: pid_t, timeoutSeconds: Double = 20) -> Bool {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
        if let socket = connectLoopback(port: port) { close(socket); return true }
        if Children.hasExited(pid) { return false }
        usleep(50_000)
    }
    return false
}

func fail(_ message: String) -> Never {
    print("ServerBenchmark: \(message)")
    exit(1)
}
