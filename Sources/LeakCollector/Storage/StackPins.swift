/// Stacks that open agent connections have defined: the stack garbage collector never deletes
/// them.
///
/// An agent sends a stack's frames once per connection and afterwards only its id, possibly
/// days later (a site whose objects were all freed comes back). Had the collector deleted the
/// stack meanwhile, that snapshot could not be stored. A connection holds a `Lease`; the pins
/// go when the lease does (the connection's translator is dropped at close).
///
/// Ordering against the collector: a connection pins a stack when it translates the snapshot
/// defining it, before that snapshot reaches the writer. A collection that runs before the
/// snapshot is written may delete the row, but the snapshot carries the frames and interns them
/// again; a collection that runs after sees the pin.
public final class StackPins: Sendable {
    private let counts = Locked([StackDigest: Int]())

    public init() {}

    /// Pins held by one connection; released when the lease is deallocated.
    public final class Lease: @unchecked Sendable {
        // Touched only under `pins.counts`' lock.
        private var held: Set<StackDigest> = []
        private let pins: StackPins

        init(pins: StackPins) { self.pins = pins }

        /// Pins the digests this lease does not hold yet.
        public func pin(_ digests: some Sequence<StackDigest>) {
            pins.counts.withLock { counts in
                for digest in digests where held.insert(digest).inserted {
                    counts[digest, default: 0] += 1
                }
            }
        }

        deinit {
            let held = self.held
            pins.counts.withLock { counts in
                for digest in held {
                    let remaining = (counts[digest] ?? 1) - 1
                    counts[digest] = remaining > 0 ? remaining : nil
                }
            }
        }
    }

    public func lease() -> Lease { Lease(pins: self) }

    /// The given digests that some open connection holds.
    func pinned(among digests: [StackDigest]) -> Set<StackDigest> {
        counts.withLock { counts in Set(digests.filter { counts[$0] != nil }) }
    }

    /// Distinct stacks pinned by any connection.
    public var count: Int { counts.withLock { $0.count } }
}
