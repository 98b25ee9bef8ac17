#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a descriptor names: the same device and inode are the same open file. A program may close
/// a descriptor the agent opened and get the same number for a file or socket of its own; the
/// agent compares identities before it reads, writes or closes a number it kept.
public struct FileIdentity: Equatable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    /// The identity of what `descriptor` names now; nil when it names nothing.
    public init?(descriptor: Int32) {
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}
