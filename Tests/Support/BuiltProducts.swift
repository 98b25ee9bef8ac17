import Foundation

/// The executables and libraries `swift build --build-tests` put beside the test bundle.
public enum BuiltProducts {
    /// The directory of the running test bundle, which is the build's products directory.
    public static let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// libLeakAgentPreload.so, linked by agent/build-preload (it is C only: SwiftPM would link
    /// libswiftCore into it) beside the libLeakAgentRuntime.so that `swift build --build-tests`
    /// built. Linked the first time a test asks for it, so it always matches the sources.
    public static var preloadLibrary: URL {
        get throws { try linkedPreloadLibrary.get() }
    }

    private static let linkedPreloadLibrary = Result<URL, any Error> {
        try buildPreload(["--skip-runtime", "--output", directory.path])
        return url("libLeakAgentPreload.so")
    }

    /// The preloadable agent exactly as agent/build-preload ships it (debug): the C library, its
    /// runtime built apart without the Concurrency and StringProcessing modules, and the
    /// symbolizer, in a directory of their own. Built the first time a test asks for it.
    public static var shippedPreloadAgent: URL {
        get throws { try builtShippedPreloadAgent.get() }
    }

    private static let builtShippedPreloadAgent = Result<URL, any Error> {
        let output = ChildProcess.repositoryRoot.appendingPathComponent(".build-agent/shipped-debug")
        try buildPreload(["-c", "debug", "--output", output.path])
        return output
    }

    private static func buildPreload(_ arguments: [String]) throws {
        let script = ChildProcess.repositoryRoot.appendingPathComponent("agent/build-preload")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path] + arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("agent/build-preload failed (\(process.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
    }

    /// The executable `name`, or a failure that says how to build it.
    public static func executable(_ name: String) throws -> URL {
        let url = url(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw TestFailure("\(name) is not built in \(directory.path): run `swift build --build-tests` (it builds every product)")
        }
        return url
    }
}
