import Foundation
@testable import LeakCollector
import Testing

/// Migration v4 keys stored stacks with its own frozen copy of the digest, so a database
/// upgraded today and one upgraded after `StackDigest` changes agree. The expected values were
/// computed with `StackDigest(frames:)` as v4 shipped; they must never change.
@Suite struct MigrationV4StackDigestTests {
    typealias Frame = Migrations.V4StackDigest.Frame

    static func hex(_ data: Data?) -> String? { data.map { $0.map { String(format: "%02x", $0) }.joined() } }

    /// One stack with a frame of each identity: symbolized, offset in the image, address only.
    static let mixed: [Frame] = [
        Frame(address: 0x55a0_1234_0040, function: "App.Handler.leak()", file: "/src/App/Handler.swift", line: 42,
              image: "app", imageOffset: 0x4_0040),
        Frame(address: 0x7f3a_0000_2000, function: "0x7f3a00002000", file: "", line: 0,
              image: "libstripped.so", imageOffset: 0x2000),
        Frame(address: 0x7f3a_0000_3000, function: "", file: "", line: 0, image: "?", imageOffset: nil),
    ]

    @Test func theFrozenDigestKeepsTheValuesItShippedWith() {
        func digest(_ frames: [Frame]) -> String? { Self.hex(Migrations.V4StackDigest.digest(frames)) }
        #expect(digest([]) == "cbf29ce4842223256c62272e07bb0142")
        #expect(digest(Self.mixed) == "000eaa5d3376274aa5118f09976580bd")
        // Symbolized: the address and the offset do not count.
        #expect(digest([Frame(address: 1, function: "A.f()", file: "A.swift", line: 3, image: "app", imageOffset: nil)])
            == "c3dcae813a5de5cad7dc39ada92ec89c")
        #expect(digest([Frame(address: 2, function: "A.f()", file: "A.swift", line: 3, image: "app", imageOffset: 9)])
            == "c3dcae813a5de5cad7dc39ada92ec89c")
        // A name that merely starts with 0x is a symbol; non-ASCII names mix their UTF-8 bytes.
        #expect(digest([Frame(address: 3, function: "0xDEADBEEF.handler()", file: "", line: 0, image: "app",
                              imageOffset: 0x10)]) == "253801d2137a0d629982389c2758e0ac")
        #expect(digest([Frame(address: 4, function: "Größe.ändern()", file: "Ü.swift", line: UInt32.max,
                              image: "bibliothek.so", imageOffset: nil)]) == "90be02a7903cbb19844dba5e540f0838")
    }

    @Test func theFrozenDigestReadsFramesAsTheStackTableStoresThem() {
        func digest(_ json: String) -> String? { Self.hex(Migrations.V4StackDigest.digest(framesJSON: json)) }
        // Written by JSONEncoder from `mixed`, as ingest wrote it when v4 shipped.
        let stored = #"""
            [{"line":42,"file":"\/src\/App\/Handler.swift","imageOffset":262208,"function":"App.Handler.leak()",\#
            "image":"app","address":94145988526144},{"line":0,"file":"","imageOffset":8192,\#
            "function":"0x7f3a00002000","image":"libstripped.so","address":139887084838912},{"line":0,"file":"",\#
            "function":"","image":"?","address":139887084843008}]
            """#
        #expect(digest(stored) == "000eaa5d3376274aa5118f09976580bd")
        #expect(digest("[]") == "cbf29ce4842223256c62272e07bb0142")
        // Keys it does not know are ignored; a frame missing one it needs leaves the row as it is.
        #expect(digest(#"[{"address":1,"function":"A.f()","file":"A.swift","line":3,"image":"app","isInlined":true}]"#)
            == "c3dcae813a5de5cad7dc39ada92ec89c")
        #expect(digest(#"[{"address":1,"function":"A.f()","file":"A.swift","image":"app"}]"#) == nil)
        #expect(digest("not json") == nil)
    }
}
