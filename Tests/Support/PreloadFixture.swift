import Foundation

/// The C programs of Tests/Fixtures/Preload: compiled for a test, run under agent/leakwatch-run.
public enum PreloadFixture {
    public static var script: URL { ChildProcess.repositoryRoot.appendingPathComponent("agent/leakwatch-run") }

    /// Compiles Tests/Fixtures/Preload/`source` with the flags that keep frames and line numbers,
    /// and `flags` after them (`-no-pie`, `-s`...), into `name` (the source's base name by default).
    public static func compile(_ source: String, into directory: TemporaryDirectory, flags: [String] = [], name: String? = nil,
                               libraries: [String] = []) async throws -> URL {
        let sourceURL = ChildProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/Preload/\(source)")
        let output = directory.appendingPathComponent(name ?? (source as NSString).deletingPathExtension)
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/cc"),
                                                ["-g", "-fno-omit-frame-pointer", "-O0"] + flags + [sourceURL.path, "-o", output.path] + libraries)
        guard result.status == 0 else { throw TestFailure("cc failed: \(result.summary)") }
        return output
    }
}
