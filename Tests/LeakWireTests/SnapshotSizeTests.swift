import Testing
@testable import LeakWire
@testable import LeakWireCore

/// The wire budget: a steady-state snapshot with 200 live sites is at most 2 KiB after the
/// first one, because stacks are interned (carried once per connection).
/// Prints the figures: `swift test --filter SnapshotSize`.
@Suite("Snapshot size")
struct SnapshotSizeTests {
    static func frameSizes(smallStackIDs: Bool, compression: FrameEncoder.Compression) throws
        -> (first: Int, steady: [Int])
    {
        var process = RealisticProcess(siteCount: 200, smallStackIDs: smallStackIDs)
        let encoder = FrameEncoder(compression: compression)
        var decoder = FrameDecoder()
        let firstSnapshot = process.nextSnapshot()
        let firstFrame = try encoder.encode(.snapshot(firstSnapshot))
        decoder.append(firstFrame)
        #expect(try WireMessage(#require(try decoder.nextFrame())) == .snapshot(firstSnapshot))
        var steady: [Int] = []
        for _ in 0..<30 {
            var snapshot = process.nextSnapshot()
            snapshot.stacks = []  // already carried on this connection
            let frame = try encoder.encode(.snapshot(snapshot))
            decoder.append(frame)
            #expect(try WireMessage(#require(try decoder.nextFrame())) == .snapshot(snapshot))
            steady.append(frame.count)
        }
        return (firstFrame.count, steady)
    }

    @Test func steadyStateSnapshotWith200SitesFitsIn2KiB() throws {
        let context = FrameEncoder.Compression.context(minimumBytes: 256)
        let perFrame = FrameEncoder.Compression.automatic(minimumBytes: 256)
        let (first, steady) = try Self.frameSizes(smallStackIDs: true, compression: context)
        let (hashedFirst, hashedSteady) = try Self.frameSizes(smallStackIDs: false, compression: context)
        let (plainFirst, plainSteady) = try Self.frameSizes(smallStackIDs: true, compression: perFrame)
        func summary(_ first: Int, _ steady: [Int]) -> String {
            "first (with stacks) \(first), steady max \(steady.max()!) mean \(steady.reduce(0, +) / steady.count)"
        }
        print("snapshot frame bytes, 200 sites, 31 snapshots:")
        print("  CONTEXT deflate, small stack ids:  \(summary(first, steady))")
        print("  CONTEXT deflate, 64-bit stack ids: \(summary(hashedFirst, hashedSteady))")
        print("  per-frame deflate, small ids:      \(summary(plainFirst, plainSteady))")
        #expect(steady.max()! <= 2048)
        #expect(first > 10 * steady.max()!)
    }
}
