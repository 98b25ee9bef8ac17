// Golden output for hostsFleetJSON. Regenerate: UPDATE_GOLDEN=1 swift test --filter LeakCLITests
extension Golden {
    static let hostsFleetJSON = #"""
[
  {
    "host": "web-3",
    "service": "checkout",
    "status": "suspected-leak",
    "rateBytesPerHour": 20971520,
    "since": "2026-03-02T06:00:00Z",
    "confidence": 0.97,
    "explanation": "floor rises in both process instances; 1 growing site(s)",
    "lastSeen": "2026-03-02T11:55:00Z",
    "stale": false,
    "currentBytes": 252007765,
    "rssBytes": 377836885
  },
  {
    "host": "web-2",
    "service": "checkout",
    "status": "growing",
    "rateBytesPerHour": 2097152,
    "since": "2026-03-02T07:00:00Z",
    "confidence": 0.62,
    "explanation": "slow rise, not yet conclusive; 0 growing site(s)",
    "lastSeen": "2026-03-02T11:45:00Z",
    "stale": false,
    "currentBytes": 179830784,
    "rssBytes": 305659904
  },
  {
    "host": "web-1",
    "service": "checkout",
    "status": "ok",
    "rateBytesPerHour": 0,
    "since": null,
    "confidence": 0.9,
    "explanation": "flat; 0 growing site(s)",
    "lastSeen": "2026-03-02T11:45:00Z",
    "stale": false,
    "currentBytes": 158334976,
    "rssBytes": 284164096
  },
  {
    "host": "db-1",
    "service": "ledger",
    "status": "not-enough-data",
    "rateBytesPerHour": 0,
    "since": null,
    "confidence": 0,
    "explanation": "",
    "lastSeen": "2026-03-02T10:00:00Z",
    "stale": true,
    "currentBytes": 943718400,
    "rssBytes": 1069547520
  }
]
"""#
}
