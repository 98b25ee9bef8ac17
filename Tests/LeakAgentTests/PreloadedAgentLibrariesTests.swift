import Foundation
import LeakTestSupport
import Testing

/// What the preloaded agent brings into a C program besides its own two libraries: the Swift core
/// and libcrypto; libssl only once TLS is configured (LEAKWATCH_TLS_CA: CSSL loads it then). Never Foundation (~8 MB resident: libFoundation, FoundationEssentials,
/// FoundationInternationalization and ICU, measured with /proc/PID/smaps), the Concurrency and
/// StringProcessing modules with libdispatch and the regex parser (~1.8 MB), nor the Runtime module
/// and its DWARF reader (only leakwatch-symbolizer, a process of its own, names addresses).
/// Checked on the libraries agent/build-preload ships and in a process that ships with them.
@Suite("The preloaded agent's libraries")
struct PreloadedAgentLibrariesTests {
    static let unwanted = ["libFoundation", "_FoundationICU", "libswift_Concurrency", "libdispatch",
                           "libswift_StringProcessing", "libswift_RegexParser", "libswiftRuntime"]

    static func isUnwanted(_ library: Substring) -> Bool {
        unwanted.contains { library.contains($0) }
    }

    /// `readelf -d` lists what the runtime library itself needs; `ldd`, everything those need in turn.
    @Test func theRuntimeLibraryNeedsOnlyTheSwiftCore() async throws {
        let runtime = try BuiltProducts.shippedPreloadAgent.appendingPathComponent("libLeakAgentRuntime.so")
        try #require(FileManager.default.fileExists(atPath: runtime.path), "\(runtime.path) is not built")
        let dynamic = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/readelf"), ["-d", runtime.path])
        try #require(dynamic.status == 0, "\(dynamic.summary)")
        let needed = dynamic.standardOutput.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        // A parse that found nothing would pass below: the Swift runtime must be among them.
        #expect(needed.contains { $0.contains("[libswiftCore.so]") }, "\(dynamic.standardOutput)")
        #expect(needed.contains { $0.contains("[libcrypto.so") }, "HMAC comes from libcrypto: \(dynamic.standardOutput)")
        #expect(!needed.contains { $0.contains("[libssl.so") }, "libssl is loaded when TLS is configured, not linked: \(dynamic.standardOutput)")
        #expect(!needed.contains { Self.isUnwanted($0) }, "\(needed.joined(separator: "\n"))")

        let closure = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/ldd"), [runtime.path])
        try #require(closure.status == 0 && closure.standardOutput.contains("libswiftCore.so"), "\(closure.summary)")
        let loaded = closure.standardOutput.split(separator: "\n")
        #expect(!loaded.contains { Self.isUnwanted($0) }, "\(closure.standardOutput)")
    }

    /// A C program, preloaded and shipping to a collector: once a snapshot has been acknowledged
    /// the runtime is in its memory map, and none of the unwanted libraries is.
    @Test func aPreloadedProcessThatShipsMapsOnlyTheSwiftCore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let collector = try ShipperTestCollector(token: Array("foundation-free-token".utf8))
        defer { collector.shutDown() }
        let tokenFile = directory.appendingPathComponent("token")
        try Data(collector.token).write(to: tokenFile)
        let program = try await PreloadTests.compile("run_until_file.c", into: directory)
        let stop = directory.appendingPathComponent("stop").path

        async let run = PreloadTests.runThroughScript([
            "--library", try BuiltProducts.shippedPreloadAgent.appendingPathComponent("libLeakAgentPreload.so").path, "--collector", "127.0.0.1:\(collector.port)",
            "--token-file", tokenFile.path, "--interval", "0.2", "--", program.path, stop, "120",
        ])
        let shipped = await waitUntil(seconds: 100) { collector.committed >= 1 }
        let maps = Self.memoryMap(ofProcessWithArgument: stop)
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        let result = try await run
        #expect(result.status == 0, "\(result.summary)")
        try #require(shipped, "no snapshot arrived: \(result.summary)")
        let libraries = try #require(maps, "no process runs with \(stop)").split(separator: "\n")
        // Also what proves the whole map was read (a single read of /proc/PID/maps stops at a page).
        #expect(libraries.contains { $0.contains("libLeakAgentRuntime.so") }, "the agent's runtime is not loaded")
        #expect(!libraries.contains { Self.isUnwanted($0) },
                "\(libraries.filter { Self.isUnwanted($0) }.joined(separator: "\n"))")
        #expect(!libraries.contains { $0.contains("libssl.so") }, "libssl mapped in a process without TLS")
    }

    /// /proc/PID/maps of the process whose command line holds `argument`.
    static func memoryMap(ofProcessWithArgument argument: String) -> String? {
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in processes where Int32(pid) != nil {
            guard let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  commandLine.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == argument }),
                  let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
                  exe.hasSuffix("/run_until_file")
            else { continue }
            guard let maps = FileHandle(forReadingAtPath: "/proc/\(pid)/maps") else { return nil }
            defer { try? maps.close() }
            return (try? maps.readToEnd()).map { String(decoding: $0, as: UTF8.self) }
        }
        return nil
    }
}
