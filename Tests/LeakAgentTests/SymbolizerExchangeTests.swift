import Foundation
@testable import LeakAgent
import LeakDebugInfo
import LeakSymbolication
import LeakTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The agent and `leakwatch-symbolizer` agree on the bytes between them, a damaged message is a
/// clear error, and the program names addresses exactly as its symbol tables do in this process.
@Suite struct SymbolizerExchangeTests {
    static let image = LoadedImage(path: "/usr/lib/x86_64-linux-gnu/libc.so.6", loadBias: 0x7f00_0000_0000,
                                   mappedStart: 0x7f00_0000_0000, endOfText: 0x7f00_0019_0000, buildID: [0xde, 0xad, 0x01])

    @Test func aRequestAndAnAnswerSurviveTheirEncoding() throws {
        let request = SymbolizationRequest(images: [Self.image, LoadedImage(path: "/a b/ü", loadBias: 0, mappedStart: 0x400000,
                                                                            endOfText: 0x500000, buildID: [])],
                                           addresses: [0, 1, .max, 0x7f00_0000_1234])
        #expect(try SymbolizerExchange.decodeRequest(SymbolizerExchange.encode(request)) == request)
        let answer: [[SymbolizedFrame]] = [
            [],
            [SymbolizedFrame(function: "inlined()", file: "/src/a.swift", line: 12, image: "server", isInlined: true),
             SymbolizedFrame(function: "caller()", file: "/src/a.swift", line: 40, image: "server")],
            [SymbolizedFrame(function: "libc.so.6+0x1234", image: "libc.so.6", buildID: "dead01")],
        ]
        #expect(try SymbolizerExchange.decodeAnswer(SymbolizerExchange.encode(answer: answer)) == answer)
    }

    @Test func aDamagedMessageIsAnErrorThatSaysWhere() throws {
        let request = SymbolizerExchange.encode(SymbolizationRequest(images: [Self.image], addresses: [1, 2]))
        for cut in [0, 10, request.count / 2, request.count - 1] {
            #expect(throws: SymbolizerExchangeError.self) { _ = try SymbolizerExchange.decodeRequest(Array(request.prefix(cut))) }
        }
        let extra = try #require(throwsError { _ = try SymbolizerExchange.decodeRequest(request + [0]) })
        #expect(extra.description == "1 bytes after the end of the message")
        // A count far beyond the bytes left must not be allocated for.
        var huge = Array(request.prefix(23)) // the magic
        huge += [0xff, 0xff, 0xff, 0x7f]
        let truncated = try #require(throwsError { _ = try SymbolizerExchange.decodeRequest(huge) })
        #expect(truncated.description.hasPrefix("message truncated"))
        let answerAsRequest = try #require(throwsError { _ = try SymbolizerExchange.decodeRequest(SymbolizerExchange.encode(answer: [])) })
        #expect(answerAsRequest.description == "not a leakwatch-symbolizer message of this version")
    }

    private func throwsError(_ body: () throws -> Void) -> SymbolizerExchangeError? {
        do {
            try body()
            return nil
        } catch {
            return error as? SymbolizerExchangeError
        }
    }

    @Test func theProgramNamesAddressesAsItsSymbolTablesDo() throws {
        let program = try BuiltProducts.executable("leakwatch-symbolizer")
        let inTests = UInt64(UInt(bitPattern: unsafeBitCast(symbolizerProbe as @convention(c) () -> Int32, to: Int.self))) + 1
        let inLibc = UInt64(UInt(bitPattern: unsafeBitCast(getpid as @convention(c) () -> pid_t, to: Int.self))) + 1
        let images = ProcessImages(images: LoadedImage.read())
        let addresses = [inTests, inLibc, 1]
        var process = SymbolizerProcess(path: program.path)
        defer { process.stop() }
        let named = try process.symbolize(SymbolizationRequest(images: images.images, addresses: addresses))
        let inProcess = addresses.map(SymbolTables(images).frames(forReturnAddress:))
        #expect(named == inProcess)
        // The same program answers the next request, and one started again after a stop.
        #expect(try process.symbolize(SymbolizationRequest(images: images.images, addresses: [inLibc])) == [inProcess[1]])
        process.stop()
        #expect(try process.symbolize(SymbolizationRequest(images: images.images, addresses: [inTests])) == [inProcess[0]])
        #expect(named[0].last?.function == "leakwatch_symbolizer_probe", "\(named[0])")
        #expect(named[2] == [SymbolizedFrame(function: "0x1", image: "?")])
    }

    @Test func aProgramThatFailsIsAnErrorNotAHang() throws {
        let request = SymbolizationRequest(images: [], addresses: [1])
        func symbolize(with path: String, timeoutSeconds: Int = 30) throws {
            var process = SymbolizerProcess(path: path)
            process.timeoutSeconds = timeoutSeconds
            defer { process.stop() }
            _ = try process.symbolize(request)
        }
        #expect(throws: SymbolizerProcess.Failure.self) { try symbolize(with: "/bin/false") }
        #expect(throws: SymbolizerProcess.Failure.self) { try symbolize(with: "/nonexistent/leakwatch-symbolizer") }
        // `cat` echoes the request back, which is not an answer.
        #expect(throws: SymbolizerProcess.Failure.self) { try symbolize(with: "/bin/cat") }

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let hanging = directory.appendingPathComponent("hangs").path
        try "#!/bin/sh\nexec sleep 60\n".write(toFile: hanging, atomically: true, encoding: .utf8)
        chmod(hanging, 0o755)
        let started = ContinuousClock.now
        #expect(throws: SymbolizerProcess.Failure.self) { try symbolize(with: hanging, timeoutSeconds: 1) }
        #expect(ContinuousClock.now - started < .seconds(20), "killed at its timeout, not waited for")
    }
}

@_cdecl("leakwatch_symbolizer_probe")
func symbolizerProbe() -> Int32 { 7 }
