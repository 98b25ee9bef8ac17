import Foundation
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// Two real starts of the same leaking program (the agent linked in, ASLR on): its leaking site is
/// one stack row whose series runs through both process instances.
@Suite struct RealRestartTests {
    /// Ids of the stacks whose frames include the demo's leaking function.
    static func leakingStacks(_ store: SQLiteStore) throws -> Set<Int64> {
        let ids = try store.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM stack") }
        return Set(try store.stacks(ids: ids).filter { stack in
            stack.decodedFrames().contains { $0.function.contains("SessionRegistry.openSession") }
        }.map(\.id))
    }

    /// Runs the demo server until its leaking site, in its own process instance, holds 256 KiB.
    /// Returns that site's stack id.
    static func runUntilLeakIsSeen(_ store: SQLiteStore, port: Int, start: Int) async throws -> Int64 {
        let server = try startLeakingDemoServer(collector: "127.0.0.1:\(port)",
                                                token: String(decoding: testToken, as: UTF8.self), host: "web-9")
        defer { server.stop(graceSeconds: 0) }
        let deadline = Date().addingTimeInterval(45)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(250))
            guard let host = try store.host(named: "web-9") else { continue }
            let window = try store.window(host: host, fromMs: 0, toMs: .max)
            guard let newest = window.points.last, Set(window.points.map(\.instanceId)).count == start + 1 else { continue }
            let leaking = try leakingStacks(store)
            let current = window.sites.filter { leaking.contains($0.key) }.compactMap { id, series -> (Int64, Int64)? in
                guard let last = series.last, last.instanceId == newest.instanceId else { return nil }
                return (id, last.liveBytes)
            }
            if let top = current.max(by: { $0.1 < $1.1 }), top.1 >= 256 * 1024 { return top.0 }
        }
        throw TestFailure("start \(start + 1): the leaking site was not seen within 45 s")
    }

    @Test(.timeLimit(.minutes(3)))
    func aRealProgramStartedTwiceKeepsItsLeakingSite() async throws {
        let aslr = try String(contentsOfFile: "/proc/sys/kernel/randomize_va_space", encoding: .utf8)
        try #require(aslr.trimmingCharacters(in: .whitespacesAndNewlines) != "0", "ASLR is off: this test would prove nothing")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let store = running.collector.sqliteStore

            let first = try await Self.runUntilLeakIsSeen(store, port: running.port, start: 0)
            // With the hooks linked, the shipper thread's own allocations are counted apart.
            let agentHeap = try store.read { db in try Int64.fetchOne(db, sql: "SELECT max(agentHeapBytes) FROM sample") }
            #expect((agentHeap ?? 0) > 0, "the agent's own heap was not counted apart from the program's")
            let stacksAfterFirst = try store.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM stack") }
            let second = try await Self.runUntilLeakIsSeen(store, port: running.port, start: 1)
            #expect(second == first, "the second start's leaking site is the first start's stack row")
            #expect(stacksAfterFirst.contains(second))

            // Its series runs through both instances.
            let host = try #require(try store.host(named: "web-9"))
            let window = try store.window(host: host, fromMs: 0, toMs: .max)
            #expect(Set(window.points.map(\.instanceId)).count == 2)
            #expect(Set((window.sites[second] ?? []).map(\.instanceId)).count == 2)
            // The stored frames carry image offsets, and the executable is not loaded at 0 (PIE).
            let frames = try #require(try store.stacks(ids: [second]).first?.decodedFrames())
            let leaking = try #require(frames.first { $0.function.contains("SessionRegistry.openSession") })
            let offset = try #require(leaking.imageOffset)
            #expect(leaking.address != offset)
        }
    }
}
