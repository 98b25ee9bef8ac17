import CLeakTrack
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
    if destination == "-" {
        StandardError.write(report.text())
        return
    }
    let json = report.json()
    let descriptor = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
        StandardError.write("leakwatch: cannot write the exit report to \(destination): \(String(cString: strerror(errno)))\n")
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
