// libFuzzer entry point for the collector's wire boundary: arbitrary bytes as one TCP stream from
// a peer, through what the collector runs on them (FrameParser with its limits and bounded inflate,
// the SwiftProtobuf messages, ServerHandshake, SnapshotValidation). A crash, a trap or an ASan
// report fails the run, and so does a broken invariant (`invariant` below traps).
//
// Not a SwiftPM target: `.ci/fuzz.sh` builds LeakWire with -sanitize=fuzzer,address and compiles
// these files against it (a target without `main` would break `swift build`). Tests/Fuzz/README.md.
import Foundation
import LeakWire
import SwiftProtobuf

@_cdecl("LLVMFuzzerTestOneInput")
public func leakwireFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    WireBoundary.run(input)
    return 0
}

/// `LEAKWATCH_FUZZ_WRITE_SEEDS=dir` writes the seed corpus instead of fuzzing (`.ci/fuzz.sh seeds`).
@_cdecl("LLVMFuzzerInitialize")
public func leakwireFuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                                   _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["LEAKWATCH_FUZZ_WRITE_SEEDS"] {
        Seeds.write(to: directory)
        exit(0)
    }
    return 0
}

/// Traps with the broken rule: libFuzzer saves the input as crash-<sha1>.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

enum WireBoundary {
    static let limits = WireLimits.default
    static let snapshotLimits = SnapshotLimits.default
    /// The collector's clock, fixed so that a crashing input reproduces.
    static let receivedAtUnixNanos: Int64 = 1_764_000_900_000_000_000
    /// docs/PROTOCOL.md's test vector: the seeds' Authenticate carries its valid proof.
    static let token: [UInt8] = Array("correct horse battery staple".utf8)
    static let nonce: [UInt8] = (0..<32).map { UInt8($0) }

    static func run(_ input: [UInt8]) {
        let whole = StreamDecoding(input, chunking: nil)
        // The same bytes as TCP might deliver them: chunk sizes drawn from the input itself.
        let chunked = StreamDecoding(input, chunking: ChunkSizes(seed: fnv1a(input)))
        invariant(whole.frames == chunked.frames,
                  "chunking changed the frames: \(whole.frames.count) whole vs \(chunked.frames.count) in chunks")
        invariant(whole.outcome == chunked.outcome,
                  "chunking changed the outcome: \(whole.outcome) whole vs \(chunked.outcome) in chunks")
        var connection = ConnectionModel()
        for frame in whole.frames { connection.receive(frame) }
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}

/// Deterministic chunk sizes of 1...64 bytes (SplitMix64), small ones most often.
struct ChunkSizes {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z & 1 == 0 ? Int((z >> 1) % 8) + 1 : Int((z >> 8) % 64) + 1
    }
}
