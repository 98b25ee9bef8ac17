/// Whether a new verdict changes a host's status, as alerts see it.
///
/// "Not enough data yet" is no status of its own here: a host is judged again after a restart,
/// and going from suspected-leak through not-enough-data back to suspected-leak is no change. A
/// host never judged before counts as ok, so its first `ok` is quiet and its first `growing` is
/// not.
struct StatusChange: Sendable, Equatable {
    var old: HostStatusValue
    var new: HostStatusValue

    init(old: HostStatusValue, new: HostStatusValue) {
        self.old = old
        self.new = new
    }

    /// - Parameters:
    ///   - previous: the status of the host's newest judged verdict before this one (nil: none).
    ///   - current: the new verdict's status.
    init?(previous: String?, current: String) {
        var old = previous.map(HostStatusValue.init) ?? .ok
        if old == .notEnoughData { old = .ok }
        let new = HostStatusValue(current)
        guard new != .notEnoughData, new != old else { return nil }
        self.old = old
        self.new = new
    }
}
