import Foundation
import GRDB

// Migration "v4-stack-digest-by-meaning", frozen as it shipped. It reads `stack.frames` with its
// own copy of the frame's JSON shape and computes the digest with its own copy of the function,
// never with `StackFrame` or `StackDigest`: a later change to those would otherwise make a
// database upgraded before the change and one upgraded after it key the same stacks differently.
// Nothing here may change; a new keying is a new migration.

extension Migrations {
    /// Stacks stored before "v4" were keyed by a digest that mixed every frame's absolute address,
    /// so each process start had its own rows. Re-keys them by what the frames mean
    /// (`V4StackDigest`), newest row first: the newest row of each code path takes the new digest,
    /// so the running processes' sites continue under their ids after the upgrade; older
    /// duplicates keep their old digest, are never matched again and go with their data (stack
    /// collection). Swift rather than SQL because the digest is computed in Swift. Pages of 1,000
    /// rows by id.
    static func rekeyStacksByMeaning(_ db: Database) throws {
        var assigned = Set<Data>()
        var before = Int64.max
        let update = try db.makeStatement(sql: "UPDATE OR IGNORE stack SET digest = ? WHERE id = ?")
        while true {
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, digest, frames FROM stack WHERE id < ? ORDER BY id DESC LIMIT 1000", arguments: [before])
            guard let last = rows.last else { return }
            before = last["id"]
            for row in rows {
                let json: String = row["frames"]
                guard let digest = V4StackDigest.digest(framesJSON: json) else { continue }
                guard assigned.insert(digest).inserted, digest != row["digest"] as Data? else { continue }
                try update.execute(arguments: [digest, row["id"] as Int64])
            }
        }
    }

    /// The stack digest as migration v4 computes it: two FNV-1a passes with different offset
    /// bases over each frame's image and identity, where the identity is (function, file, line)
    /// when symbolized, else the offset in the image, else the absolute address. Equal, for
    /// every input, to `StackDigest(frames:)` as it was when v4 shipped (a test holds both to
    /// fixed values).
    enum V4StackDigest {
        /// One element of `stack.frames` as v4 reads it: the keys `StackFrame` encoded then.
        /// Unknown keys are ignored; a missing one (other than `imageOffset`) skips the row.
        struct Frame: Decodable, Equatable {
            var address: UInt64
            var function: String
            var file: String
            var line: UInt32
            var image: String
            var imageOffset: UInt64?
        }

        /// The 16 digest bytes (high word then low, big-endian) of a `stack.frames` JSON array;
        /// nil when it does not decode.
        static func digest(framesJSON: String) -> Data? {
            guard let frames = try? JSONDecoder().decode([Frame].self, from: Data(framesJSON.utf8)) else { return nil }
            return digest(frames)
        }

        static func digest(_ frames: [Frame]) -> Data {
            var high: UInt64 = 0xcbf2_9ce4_8422_2325
            var low: UInt64 = 0x6c62_272e_07bb_0142
            func mix(_ byte: UInt8) {
                high = (high ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                low = (low ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 &+ 0x9e37_79b9
            }
            func mix(_ value: UInt64) {
                var v = value
                for _ in 0..<8 { mix(UInt8(truncatingIfNeeded: v)); v >>= 8 }
            }
            func mix(_ text: String) {
                for byte in text.utf8 { mix(byte) }
                mix(UInt8(0))
            }
            for frame in frames {
                mix(frame.image)
                if isSymbolized(frame.function) {
                    mix(UInt8(1))
                    mix(frame.function)
                    mix(frame.file)
                    mix(UInt64(frame.line))
                } else if let offset = frame.imageOffset {
                    mix(UInt8(2))
                    mix(offset)
                } else {
                    mix(UInt8(3))
                    mix(frame.address)
                }
            }
            var bytes = Data(capacity: 16)
            for word in [high, low] {
                for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
            }
            return bytes
        }

        /// False for the placeholders agents send when no symbol covers the address: an empty
        /// name or "0x" followed by hexadecimal digits only.
        static func isSymbolized(_ function: String) -> Bool {
            let utf8 = function.utf8
            guard utf8.count > 2, utf8.starts(with: "0x".utf8) else { return !function.isEmpty }
            return !utf8.dropFirst(2).allSatisfy { byte in
                (48...57).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte)
            }
        }
    }
}
