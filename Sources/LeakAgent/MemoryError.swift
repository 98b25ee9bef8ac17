import CLeakTrackAPI
import LeakWireCore

/// A memory-safety error the guarded pool caught (CLeakTrack's `lt_guard_error`), as the fault
/// handler recorded it: raw return addresses, no names yet.
struct MemoryError: Sendable, Equatable {
    var sequence: UInt64
    var kind: Wire.MemoryErrorKind
    var access: Wire.MemoryAccess
    var address: UInt64
    /// From the block's first byte; negative before it.
    var offset: Int64
    /// 0 when no block is near (a wild access into the pool).
    var blockAddress: UInt64
    var blockSizeBytes: UInt64
    var thread: Int32
    /// The process dies once the error is settled (LEAKWATCH_GUARD_MODE=crash).
    var crash: Bool
    /// Innermost first. For a fault, frame 0 is the faulting instruction itself, not a return address.
    var accessFrames: [UInt64]
    var allocationFrames: [UInt64]
    var allocationThread: Int32
    /// Empty until the block is freed.
    var freeFrames: [UInt64]
    var freeThread: Int32

    /// AddressSanitizer's name of the kind: what the raw report's first line says too.
    var kindName: String {
        switch kind {
        case .heapBufferOverflow: "heap-buffer-overflow"
        case .heapBufferUnderflow: "heap-buffer-underflow"
        case .heapUseAfterFree: "heap-use-after-free"
        case .doubleFree: "double-free"
        case .invalidFree: "invalid-free"
        case .wildAccess: "wild-access"
        case .unspecified, .unrecognized: "memory-error"
        }
    }

    var hasBlock: Bool { blockAddress != 0 }
}

extension MemoryError {
    init(_ raw: lt_guard_error) {
        var raw = raw
        func frames<T>(_ field: inout T, count: Int32) -> [UInt64] {
            withUnsafeBytes(of: &field) { Array($0.bindMemory(to: UInt64.self).prefix(Int(max(0, count)))) }
        }
        self.init(
            sequence: raw.sequence,
            kind: Self.kinds[Int(raw.kind)] ?? .unspecified,
            access: Wire.MemoryAccess(rawValue: raw.access),
            address: raw.address, offset: raw.offset, blockAddress: raw.block_address, blockSizeBytes: raw.block_size,
            thread: raw.thread, crash: raw.crash != 0,
            accessFrames: frames(&raw.access_frames, count: raw.access_frame_count),
            allocationFrames: frames(&raw.allocation_frames, count: raw.allocation_frame_count),
            allocationThread: raw.allocation_thread,
            freeFrames: frames(&raw.free_frames, count: raw.free_frame_count),
            freeThread: raw.free_thread)
    }

    /// `lt_guard_error_kind` to the schema's kinds (the numbers differ: the core's 0 is a wild access).
    private static let kinds: [Int: Wire.MemoryErrorKind] = [
        Int(LT_GUARD_ERROR_WILD_ACCESS.rawValue): .wildAccess,
        Int(LT_GUARD_ERROR_OVERFLOW.rawValue): .heapBufferOverflow,
        Int(LT_GUARD_ERROR_UNDERFLOW.rawValue): .heapBufferUnderflow,
        Int(LT_GUARD_ERROR_USE_AFTER_FREE.rawValue): .heapUseAfterFree,
        Int(LT_GUARD_ERROR_DOUBLE_FREE.rawValue): .doubleFree,
        Int(LT_GUARD_ERROR_INVALID_FREE.rawValue): .invalidFree,
    ]
}
