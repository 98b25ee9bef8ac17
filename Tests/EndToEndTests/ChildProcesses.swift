import Foundation

/// The executables `swift build` put next to the test bundle, started as real child processes
/// that are killed when the test ends.
final class ChildProcesses {
    static let productsDirectory: URL = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // Inside the .xctest bundle on some layouts; the products sit beside the bundle.
        while directory.path != "/", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("collector").path) {
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    private var running: [Process] = []

    @discardableResult
    func start(_ product: String, _ arguments: [String], environment: [String: String] = [:],
               log: URL) throws -> Process {
        let process = Process()
        process.executableURL = Self.productsDirectory.appendingPathComponent(product)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil) // if it fails, the next line throws
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        running.append(process)
        return process
    }

    /// SIGTERM, then SIGKILL for whatever has not exited within `graceSeconds` (a child may
    /// inherit a blocked SIGTERM from the test runner's thread).
    func stopAll(graceSeconds: Double = 3) {
        for process in running where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(graceSeconds)
        while running.contains(where: \.isRunning), Date() < deadline { usleep(50_000) }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in running { process.waitUntilExit() }
        running.removeAll()
    }

    deinit { stopAll() }
}

func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Waits until a TCP port on 127.0.0.1 accepts connections.
func waitForPort(_ port: Int, timeoutSeconds: Double = 20) -> Bool {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        close(socket)
        if connected { return true }
        usleep(100_000)
    }
    return false
}

/// A port nobody listens on right now (bind to 0, read it back, release it).
func freePort() -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socket, pointer, length) == 0 ? getsockname(socket, pointer, &length) : -1
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
