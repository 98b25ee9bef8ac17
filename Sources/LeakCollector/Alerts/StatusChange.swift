/// One status going from `old` to `new`, as alerts see it: a host's, or one of its sites'.
struct StatusChange: Sendable, Equatable {
    var old: HostStatusValue
    var new: HostStatusValue

    init(old: HostStatusValue, new: HostStatusValue) {
        self.old = old
        self.new = new
    }

    /// This change followed by `later` (of the same subject): nil when it ends where it began.
    func then(_ later: StatusChange) -> StatusChange? {
        old == later.new ? nil : StatusChange(old: old, new: later.new)
    }
}

/// What a new verdict changes, as alerts see it: the host's status and each site's, against the
/// host's previous judged verdict. One value per host and verdict pass, so that a host whose
/// sites and total change together gets one run of the hook.
///
/// "Not enough data yet" is no status of its own here: a host is judged again after a restart,
/// and going from suspected-leak through not-enough-data back to suspected-leak is no change, for
/// the host or its sites. A host never judged before counts as ok, so its first `ok` is quiet and
/// its first `growing` is not. A site's status is the one the verdict names it with (`growing`,
/// `suspected-leak`); a site it does not name is ok.
struct StatusChanges: Sendable, Equatable {
    /// nil: the host's status stayed.
    var host: StatusChange?
    /// By collector stack id; only the sites whose status changed.
    var sites: [Int64: StatusChange]

    init(host: StatusChange?, sites: [Int64: StatusChange]) {
        self.host = host
        self.sites = sites
    }

    /// nil when nothing changed, or when `current` does not judge the host.
    /// - Parameters:
    ///   - previous: the host's newest judged verdict before `current` (nil: none).
    init?(previous: VerdictRecord?, current: VerdictRecord) {
        let new = HostStatusValue(current.status)
        guard new != .notEnoughData else { return nil }
        var old = previous.map { HostStatusValue($0.status) } ?? .ok
        if old == .notEnoughData { old = .ok }
        let oldSites = Self.siteStatuses(previous)
        let newSites = Self.siteStatuses(current)
        var sites: [Int64: StatusChange] = [:]
        for stackId in Set(oldSites.keys).union(newSites.keys) {
            let change = StatusChange(old: oldSites[stackId] ?? .ok, new: newSites[stackId] ?? .ok)
            if change.old != change.new { sites[stackId] = change }
        }
        self.init(host: old == new ? nil : StatusChange(old: old, new: new), sites: sites)
        if isEmpty { return nil }
    }

    var isEmpty: Bool { host == nil && sites.isEmpty }

    /// These changes followed by `later`'s (of the same host): each subject from its first old to
    /// its last new status; nil when every change was undone.
    func then(_ later: StatusChanges) -> StatusChanges? {
        func combine(_ first: StatusChange?, _ second: StatusChange?) -> StatusChange? {
            guard let first else { return second }
            guard let second else { return first }
            return first.then(second)
        }
        var sites: [Int64: StatusChange] = [:]
        for stackId in Set(self.sites.keys).union(later.sites.keys) {
            sites[stackId] = combine(self.sites[stackId], later.sites[stackId])
        }
        let merged = StatusChanges(host: combine(host, later.host), sites: sites)
        return merged.isEmpty ? nil : merged
    }

    private static func siteStatuses(_ verdict: VerdictRecord?) -> [Int64: HostStatusValue] {
        guard let verdict, HostStatusValue(verdict.status) != .notEnoughData else { return [:] }
        var statuses: [Int64: HostStatusValue] = [:]
        for site in verdict.decodedSites {
            let status = HostStatusValue(site.status)
            if status != .notEnoughData { statuses[site.stackId] = status }
        }
        return statuses
    }
}
