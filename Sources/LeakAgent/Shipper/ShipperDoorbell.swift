#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A doorbell any thread can ring without blocking, allocating or taking a lock (one
/// `write` to a non-blocking pipe; a full pipe already means "wake up"), and that the
/// shipper thread waits on with a timeout.
final class ShipperDoorbell: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) != 0 { ends = [-1, -1] }
        for end in ends where end >= 0 {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        if writeEnd >= 0 { close(writeEnd) }
    }

    /// The end `ring` writes to, for a ringer that cannot call Swift (CLeakTrack's fault handler).
    var writeDescriptor: Int32 { writeEnd }

    func ring() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Waits until rung, `other` (if ≥ 0) is readable, or `seconds` pass. Without a pipe it
    /// sleeps in short slices instead.
    func wait(seconds: Double, orReadable other: Int32 = -1) {
        let milliseconds = Int32(max(0, min(seconds, 3600)) * 1000)
        guard readEnd >= 0 else {
            usleep(UInt32(min(milliseconds, 50)) * 1000)
            return
        }
        var descriptors = [pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: other, events: Int16(POLLIN), revents: 0)]
        guard poll(&descriptors, other >= 0 ? 2 : 1, milliseconds) > 0,
              descriptors[0].revents != 0 else { return }
        var drain = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &drain, { read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
