import CHelperProcess
import LeakSymbolication
import LeakWireCore
#if canImport(Glibc)
import Glibc
#endif

/// `leakwatch-symbolizer`, started when the agent has addresses to name and left to exit when it
/// has been idle, so that the debug information read to name them never stays in the watched
/// process.
struct SymbolizerProcess {
    static let programName = "leakwatch-symbolizer"

    let path: String
    init(path: String) {
        self.path = path
    }

    /// The longest one request may take: a large binary's DWARF is read in seconds.
    var timeoutSeconds = 30

    /// `LEAKWATCH_SYMBOLIZER` when set, else the program beside the file holding the agent's code
    /// (libLeakAgentRuntime.so when preloaded, the executable when linked); why not, if neither is
    /// an executable file.
    static func locate(environment: [String: String] = AgentConfiguration.processEnvironment()) -> Result<SymbolizerProcess, Failure> {
        let path: String
        if let configured = environment["LEAKWATCH_SYMBOLIZER"], !configured.isEmpty {
            path = configured
        } else if let directory = agentImageDirectory() {
            path = directory + "/" + programName
        } else {
            return .failure(Failure(description: "\(programName) not found: the agent's own file is unknown"))
        }
        guard access(path, X_OK) == 0 else {
            return .failure(Failure(description: "\(path) is not an executable file"))
        }
        // Valgrind runs only the clones of thread libraries, fork and vfork, and ends the whole
        // process at the intermediate child's (no exit signal, a shared descriptor table).
        if LoadedImage.read().contains(where: { $0.name.hasPrefix("vgpreload_core") }) {
            return .failure(Failure(description: "not started under valgrind, which cannot run the clone that starts it"))
        }
        return .success(SymbolizerProcess(path: path))
    }

    private static func agentImageDirectory() -> String? {
        var file = lw_image_path(#dsohandle).map { String(cString: $0) }
        if file?.hasPrefix("/") != true {
            file = LoadedImage.executablePath()
        }
        guard let file, let slash = file.lastIndex(of: "/") else { return nil }
        return String(file[..<slash])
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The running program: the agent's end of its socket, a pidfd to kill it, and the process
    /// that started it. It stays up while requests come, so its parsed DWARF serves the next
    /// batch; idle, it exits on its own.
    private var running: Running?

    private struct Running {
        var channel: SymbolizerChannel
        var pidfd: Int32
        var owner: pid_t
        var channelIdentity: FileIdentity?
        var pidfdIdentity: FileIdentity?

        init(channel: SymbolizerChannel, pidfd: Int32) {
            self.channel = channel
            self.pidfd = pidfd
            self.owner = getpid()
            self.channelIdentity = FileIdentity(descriptor: channel.descriptor)
            self.pidfdIdentity = FileIdentity(descriptor: pidfd)
        }

        /// Whether both numbers still name the descriptors the agent opened. A program may close
        /// every descriptor it did not open (daemons and closefrom() do) and get the same numbers
        /// for files or sockets of its own, which the agent must then never write to or close.
        var isIntact: Bool {
            channelIdentity != nil && FileIdentity(descriptor: channel.descriptor) == channelIdentity
                && pidfdIdentity != nil && FileIdentity(descriptor: pidfd) == pidfdIdentity
        }
    }

    /// The frames of each requested address, in order. A program that has exited since the last
    /// request (idle) is started again, once.
    mutating func symbolize(_ request: SymbolizationRequest) throws(Failure) -> [[SymbolizedFrame]] {
        let message = SymbolizerExchange.encode(request)
        let wasRunning = running != nil
        var answer = try exchange(message)
        if answer == nil, wasRunning { answer = try exchange(message) }
        guard let answer else {
            throw Failure(description: "\(path) gave no answer within \(timeoutSeconds) s: missing, not executable, or it failed")
        }
        let frames: [[SymbolizedFrame]]
        do {
            frames = try SymbolizerExchange.decodeAnswer(answer)
        } catch {
            stop()
            throw Failure(description: "\(path): \(error)")
        }
        guard frames.count == request.addresses.count else {
            stop()
            throw Failure(description: "\(path): \(frames.count) answers for \(request.addresses.count) addresses")
        }
        return frames
    }

    /// One request and its answer, starting the program if none runs; nil, the program stopped,
    /// when it does not answer.
    private mutating func exchange(_ message: [UInt8]) throws(Failure) -> [UInt8]? {
        if let running, !running.isIntact {
            // The program closed them: the numbers are its own now, or nothing.
            self.running = nil
        } else if let running, running.owner != getpid() {
            // A forked child's copies of its parent's descriptors: the parent's program, not ours.
            close(running.channel.descriptor)
            close(running.pidfd)
            self.running = nil
        }
        let channel: SymbolizerChannel
        if let running { channel = running.channel } else { channel = try start() }
        // The program is not this process's child (see lw_helper_spawn): an answer is how it
        // says it is alive.
        if channel.send(message), let answer = channel.receive() { return answer }
        stop()
        return nil
    }

    private mutating func start() throws(Failure) -> SymbolizerChannel {
        var descriptors: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0 else {
            throw Failure(description: "socketpair: errno \(errno)")
        }
        let pidfd = spawn(descriptors[1])
        close(descriptors[1])
        guard pidfd >= 0 else {
            close(descriptors[0])
            throw Failure(description: "cannot start \(path): errno \(errno)")
        }
        let channel = SymbolizerChannel(descriptor: descriptors[0])
        channel.setTimeout(seconds: timeoutSeconds)
        running = Running(channel: channel, pidfd: pidfd)
        return channel
    }

    /// Kills the program if it still runs and closes both descriptors, when they are still the
    /// agent's.
    mutating func stop() {
        guard let running else { return }
        self.running = nil
        guard running.isIntact else { return }
        _ = lw_helper_kill(running.pidfd)
        close(running.channel.descriptor)
        close(running.pidfd)
    }

    /// A pidfd for the started helper, or -1.
    private func spawn(_ descriptor: Int32) -> Int32 {
        // Nothing of the watched program's environment: not LD_PRELOAD (the agent in the helper),
        // only where the Swift runtime may have been put.
        var environment = ["SWIFT_BACKTRACE=enable=no"]
        if let libraryPath = getenv("LD_LIBRARY_PATH") { environment.append("LD_LIBRARY_PATH=" + String(cString: libraryPath)) }
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let environmentStrings: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            arguments.forEach { free($0) }
            environmentStrings.forEach { free($0) }
        }
        return lw_helper_spawn(path, arguments, environmentStrings, descriptor, descriptor)
    }
}
