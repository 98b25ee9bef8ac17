#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A doorbell any thread can ring without ever blocking (a non-blocking pipe), and the shipper
/// thread can wait on with a timeout.
final class Wakeup: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            ends = [-1, -1]
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Never blocks: a full pipe already means "wake up".
    func ring() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Waits until rung or `seconds` pass; returns whether it was rung.
    @discardableResult
    func wait(seconds: Double) -> Bool {
        var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(seconds, 3600)) * 1000)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
        var drain = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &drain, drain.count) > 0 {}
        return true
    }
}
