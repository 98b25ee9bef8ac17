import CHelperProcess
import LeakSymbolication
#if canImport(Glibc)
import Glibc
#endif

/// `leakwatch-symbolizer`, started once for each batch of addresses the agent has not named yet,
/// so that the debug information read to name them never stays in the watched process.
struct SymbolizerProcess {
    static let programName = "leakwatch-symbolizer"

    let path: String
    /// The longest one run may take: a large binary's DWARF is read in seconds.
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

    /// The frames of each requested address, in order.
    func symbolize(_ request: SymbolizationRequest) throws(Failure) -> [[SymbolizedFrame]] {
        var descriptors: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0 else {
            throw Failure(description: "socketpair: errno \(errno)")
        }
        let (agentEnd, helperEnd) = (descriptors[0], descriptors[1])
        defer { close(agentEnd) }
        let helper = spawn(helperEnd)
        close(helperEnd)
        guard helper >= 0 else { throw Failure(description: "cannot start \(path): errno \(errno)") }
        defer { close(helper) }

        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(agentEnd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(agentEnd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // The helper is not this process's child (see lw_helper_spawn): its answer, whole and
        // well-formed, is how it says it succeeded.
        guard let answer = exchange(SymbolizerExchange.encode(request), over: agentEnd) else {
            _ = lw_helper_kill(helper)
            throw Failure(description: "\(path) did not answer within \(timeoutSeconds) s")
        }
        guard !answer.isEmpty else { throw Failure(description: "\(path) gave no answer: missing, not executable, or it failed") }
        let frames: [[SymbolizedFrame]]
        do {
            frames = try SymbolizerExchange.decodeAnswer(answer)
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
        guard frames.count == request.addresses.count else {
            throw Failure(description: "\(path): \(frames.count) answers for \(request.addresses.count) addresses")
        }
        return frames
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

    /// Sends the request and reads the answer to its end; nil on a timeout or a lost helper.
    /// `send` with MSG_NOSIGNAL: a helper that died must not bring SIGPIPE to the program.
    private func exchange(_ request: [UInt8], over socket: Int32) -> [UInt8]? {
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            sent += count
        }
        shutdown(socket, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return answer }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            answer += chunk.prefix(count)
        }
    }
}
