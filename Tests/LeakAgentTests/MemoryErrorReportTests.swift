import Testing
@testable import LeakAgent
import LeakWireCore

/// The symbolized report's wording: where the address is from the block, what the program does
/// next, and which stacks it shows (AddressSanitizer's shape).
@Suite("memory error report")
struct MemoryErrorReportTests {
    static func error(_ kind: Wire.MemoryErrorKind, access: Wire.MemoryAccess, offset: Int64, size: UInt64,
                      freed: Bool = false, crash: Bool = false) -> MemoryError {
        MemoryError(sequence: 1, kind: kind, access: access, address: 0x7f00_0000_1000 &+ UInt64(bitPattern: offset),
                    offset: offset, blockAddress: size == 0 ? 0 : 0x7f00_0000_1000, blockSizeBytes: size, thread: 42,
                    crash: crash, accessFrames: [0x10], allocationFrames: [0x20], allocationThread: 41,
                    freeFrames: freed ? [0x30] : [], freeThread: 43)
    }

    static func report(_ error: MemoryError) -> MemoryErrorReport {
        let frame = { (name: String) in [StackFrame(function: name, file: "/src/parser.c", line: 7, image: "app", address: 0x10)] }
        return MemoryErrorReport(error: error, accessStack: frame("write_past_end"), allocationStack: frame("allocate_block"),
                                 freeStack: error.freeFrames.isEmpty ? [] : frame("release_block"), caughtAtUnixNanos: 0)
    }

    @Test func theHeadlineSaysWhereTheAddressIsFromTheBlock() {
        #expect(Self.report(Self.error(.heapBufferOverflow, access: .write, offset: 28, size: 24)).headline
            == "heap-buffer-overflow on address 0x7f000000101c 4 bytes after a 24-byte block (write, thread 42)")
        #expect(Self.report(Self.error(.heapBufferUnderflow, access: .read, offset: -100, size: 4000)).headline
            == "heap-buffer-underflow on address 0x7f0000000f9c 100 bytes before a 4000-byte block (read, thread 42)")
        #expect(Self.report(Self.error(.invalidFree, access: .free, offset: 8, size: 64)).headline
            == "invalid-free on address 0x7f0000001008 8 bytes inside a 64-byte block (free, thread 42)")
        #expect(Self.report(Self.error(.wildAccess, access: .read, offset: 0, size: 0)).headline
            == "wild-access on address 0x7f0000001000 in the guarded pool, near no block (read, thread 42)")
    }

    @Test func theStacksAreShownAsAddressSanitizerShowsThem() {
        let useAfterFree = Self.report(Self.error(.heapUseAfterFree, access: .read, offset: 5, size: 64, freed: true)).text()
        #expect(useAfterFree == """
            leakwatch: heap-use-after-free on address 0x7f0000001005 5 bytes inside a 64-byte block (read, thread 42)
                #0 write_past_end at /src/parser.c:7 (app)
              freed by thread 43:
                #0 release_block at /src/parser.c:7 (app)
              allocated by thread 41:
                #0 allocate_block at /src/parser.c:7 (app)
            leakwatch: the program runs on (LEAKWATCH_GUARD_MODE=recover)

            """)
        let crash = Self.report(Self.error(.heapBufferOverflow, access: .write, offset: 32, size: 32, crash: true)).text()
        #expect(!crash.contains("freed by"), "no free stack before the block is freed")
        #expect(crash.hasSuffix("leakwatch: the program dies of it (LEAKWATCH_GUARD_MODE=crash)\n"))
    }
}
