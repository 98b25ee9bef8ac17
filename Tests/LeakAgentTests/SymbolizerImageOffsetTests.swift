import Foundation
import LeakAgent
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the agent sends in Frame.image_offset: the address minus the load address of the image
/// that holds it, so that it is the same in every start of a binary despite ASLR.
@Suite struct SymbolizerImageOffsetTests {
    /// Load address of the file mapped at `address`, from /proc/self/maps: the start of the mapping
    /// holding it less that mapping's file offset (the linkers' segments keep virtual address and
    /// file offset equal). Not the file's lowest mapping: a symbolizer in this process maps the
    /// same files again to read them.
    static func loadAddress(of address: UInt64) throws -> UInt64? {
        // Read to the end: procfs reports a size of 0, and the map of a process running many
        // tests at once is longer than any single read.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
        defer { try? file.close() }
        let maps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                  let offset = UInt64(fields[2], radix: 16), start <= address, address < end else { continue }
            return start - offset
        }
        return nil
    }

    @Test func imageOffsetIsTheAddressLessItsImagesLoadAddress() throws {
        // A code address in this test executable and one in the C library.
        let inTests = UInt64(UInt(bitPattern: unsafeBitCast(imageOffsetProbe as @convention(c) () -> Int32, to: Int.self)))
        let inLibc = UInt64(UInt(bitPattern: unsafeBitCast(getpid as @convention(c) () -> pid_t, to: Int.self)))
        let offsets = Symbolizer().imageOffsets(forAddresses: [inTests, inLibc, 0])
        for (address, offset) in zip([inTests, inLibc], offsets) {
            let base = try #require(try Self.loadAddress(of: address))
            #expect(offset == address - base, "address 0x\(String(address, radix: 16)), load address 0x\(String(base, radix: 16))")
        }
        #expect(offsets[2] == nil, "no image holds address 0")
    }
}

@_cdecl("leakwatch_image_offset_probe")
func imageOffsetProbe() -> Int32 { 42 }
