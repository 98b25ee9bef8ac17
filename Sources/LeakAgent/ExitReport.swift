import CLeakTrackAPI
import LeakStacks
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes the leak report at exit when LEAKWATCH_REPORT is set: a JSON file at that path, or text
/// on stderr for `-`. The C core registers this with atexit when the hooks are installed.
@_cdecl("leakwatch_write_exit_report")
public func leakwatchWriteExitReport() {
    guard let destination = getenv("LEAKWATCH_REPORT").map({ String(cString: $0) }), !destination.isEmpty else {
        return
    }
    // What the report itself allocates (the symbolizer, the Runtime's metadata) is not the program's.
    lt_thread_pause_sampling()
    defer { lt_thread_resume_sampling() }
    let report = LeakReport.capture(siteLimit: 200)
    let path: String
    // Closed, or taken by a later open for reading (bash leaves a script it runs on a closed fd 2).
    let flags = fcntl(STDERR_FILENO, F_GETFL)
    let standardErrorWritable = flags != -1 && (flags & O_ACCMODE) != O_RDONLY
    switch ExitReportDestination(destination, standardErrorOpen: standardErrorWritable, pid: getpid()) {
    case .standardError:
        StandardError.write(report.text())
        return
    case .file(let file):
        path = file
    }
    let json = report.json()
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
        StandardError.write("leakwatch: cannot write the exit report to \(path): \(String(cString: strerror(errno)))\n")
        return
    }
    defer { close(descriptor) }
    var remaining = Array(json.utf8)[...]
    while !remaining.isEmpty {
        let written = remaining.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written <= 0 { break }
        remaining = remaining.dropFirst(written)
    }
}

/// Where LEAKWATCH_REPORT sends the report of process `pid`: `-` is text on stderr, or
/// `leakwatch-PID.json` in the working directory when the program's stderr is closed (or open only
/// for reading); in a path,
/// `%p` is the pid (every process of a tree then writes its own, as LSan's log_path).
enum ExitReportDestination: Equatable {
    case standardError
    case file(String)

    init(_ setting: String, standardErrorOpen: Bool, pid: Int32) {
        if setting == "-" {
            self = standardErrorOpen ? .standardError : .file("leakwatch-\(pid).json")
        } else {
            self = .file(Self.path(setting, withPID: pid))
        }
    }

    private static func path(_ setting: String, withPID pid: Int32) -> String {
        var path = "", rest = setting[...]
        while let marker = rest.firstRange(ofText: "%p") {
            path += rest[..<marker.lowerBound] + String(pid)
            rest = rest[marker.upperBound...]
        }
        return path + rest
    }
}
