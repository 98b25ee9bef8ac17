// Golden output for hostsFleet. Regenerate: UPDATE_GOLDEN=1 swift test --filter LeakCLITests
extension Golden {
    static let hostsFleet = #"""
HOST              SERVICE       STATUS          RATE         HEAP       RSS        LAST SEEN
web-3             checkout      suspected leak  +20.0 MiB/h  240.3 MiB  360.3 MiB  5m ago
web-2             checkout      growing         +2.0 MiB/h   171.5 MiB  291.5 MiB  15m ago
web-1             checkout      ok              -            151.0 MiB  271.0 MiB  15m ago
db-1              ledger        not enough data -            900.0 MiB  1020.0 MiB 2h ago (stale)
4 hosts, 1 suspected leak, 1 growing, 1 ok, 1 not enough data, 1 stale
"""#
}
