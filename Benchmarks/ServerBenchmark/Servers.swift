// The four servers: how each starts on a loopback port, how it is loaded, and how a quick check
// proves it answers correctly. Debian's programs get the agent as a user would give it to them,
// through agent/leakwatch-run; the SwiftNIO server links LeakAgentHooks and reads LEAKWATCH_*.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a server runs: without the agent, or with it shipping at the default T or at T = 1.
enum Way: String, CaseIterable {
    case plain = "plain"
    case agent = "agent"
    case agentEveryAllocation = "agent T=1"

    /// What the agent reads besides where to ship.
    var agentEnvironment: [String: String] {
        switch self {
        case .plain, .agent: [:]
        case .agentEveryAllocation: ["LEAKWATCH_SAMPLE_BYTES": "1"]
        }
    }
}

/// Where the agent ships and how often.
struct AgentSettings {
    var leakwatchRun: String
    var library: String
    var collector: String
    var tokenFile: String
    var intervalSeconds: String? // nil: the agent's default (10 s)
}

struct Server {
    enum Agent { case preloaded, linked }

    var name: String
    var agent: Agent
    /// The server's command line on `port`, its scratch files under `directory`.
    var command: (_ port: Int, _ directory: String) -> [String]
    /// The rows it reports and how one load run of `seconds` measures them.
    var rows: [String]
    var load: (_ port: Int, _ seconds: Int) -> [Measurement]
    /// A quick request-and-answer check: nil when every answer was right, else what went wrong.
    var check: (_ port: Int) -> String?

    var hostName: String { "bench-\(name)" }

    /// The command line and environment for `way`.
    func launch(_ way: Way, port: Int, directory: String, settings: AgentSettings) -> (arguments: [String], environment: [String: String]) {
        let base = command(port, directory)
        switch (agent, way) {
        case (.preloaded, .plain):
            return (base, [:])
        case (.linked, .plain):
            return (base + ["--agent-off"], [:])
        case (.preloaded, _):
            var options = ["--library", settings.library, "--collector", settings.collector, "--token-file", settings.tokenFile,
                           "--host", hostName, "--service", "server-benchmark"]
            if let interval = settings.intervalSeconds { options += ["--interval", interval] }
            return ([settings.leakwatchRun] + options + ["--"] + base, way.agentEnvironment)
        case (.linked, _):
            var environment = ["LEAKWATCH_COLLECTOR": settings.collector, "LEAKWATCH_TOKEN_FILE": settings.tokenFile,
                               "LEAKWATCH_HOST": hostName, "LEAKWATCH_SERVICE": "server-benchmark"]
            if let interval = settings.intervalSeconds { environment["LEAKWATCH_INTERVAL"] = interval }
            return (base, environment.merging(way.agentEnvironment) { $1 })
        }
    }
}

enum Servers {
    /// redis-benchmark counts requests, not seconds: each test's rate in a first plain run (the
    /// warm-up), from which a run of about `seconds` (the four tests share it) gets its counts.
    nonisolated(unsafe) static var redisRates: [String: Double] = [:]

    static func redis() -> Server {
        Server(
            name: "redis", agent: .preloaded,
            command: { port, directory in
                ["/usr/bin/redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--protected-mode", "no", "--dir", directory]
            },
            rows: RedisBenchmark.tests.map { "redis \($0)" },
            load: { port, seconds in
                RedisBenchmark.tests.map { test in
                    guard let rate = redisRates[test] else {
                        let probe = RedisBenchmark.run(port: port, test: test, requests: 200_000)
                        redisRates[test] = probe.opsPerSecond
                        return probe
                    }
                    let requests = max(100_000, Int(rate * Double(seconds) / Double(RedisBenchmark.tests.count)))
                    return RedisBenchmark.run(port: port, test: test, requests: requests)
                }
            },
            check: { port in
                let script: [([String], String)] = [
                    (["SET", "smoke:key", "hello"], "OK"), (["GET", "smoke:key"], "hello"),
                    (["DEL", "smoke:list"], ""), (["LPUSH", "smoke:list", "a", "b"], "2"), (["LRANGE", "smoke:list", "0", "-1"], "b\na"),
                    (["SET", "smoke:counter", "41"], "OK"), (["INCR", "smoke:counter"], "42"),
                ]
                for (arguments, expected) in script {
                    let (status, output) = Children.runTool(["/usr/bin/redis-cli", "-p", String(port)] + arguments, timeoutSeconds: 10)
                    let answer = output.trimmingCharacters(in: .whitespacesAndNewlines)
                    if status != 0 || (answer != expected && !(expected.isEmpty && Int(answer) != nil)) {
                        return "redis-cli \(arguments.joined(separator: " ")) answered '\(answer)', expected '\(expected)'"
                    }
                }
                let probe = RedisBenchmark.run(port: port, test: "SET", requests: 20_000)
                return probe.opsPerSecond > 0 ? nil : "redis-benchmark measured no requests"
            })
    }

    static let nginxPage: String = (0..<64).map { "<p>line \($0) of the page nginx serves to wrk in ServerBenchmark</p>\n" }.joined()

    /// nginx with a master and 2 workers (the agent must follow the fork), serving a static page.
    static func nginx() -> Server {
        Server(
            name: "nginx", agent: .preloaded,
            command: { port, directory in
                let prefix = "\(directory)/nginx-\(port)"
                try? FileManager.default.createDirectory(atPath: "\(prefix)/www", withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: "\(prefix)/www/index.html", contents: Data(nginxPage.utf8))
                let configuration = """
                    worker_processes 2;
                    master_process on;
                    daemon off;
                    user root;
                    pid \(prefix)/nginx.pid;
                    error_log \(prefix)/error.log warn;
                    events { worker_connections 1024; }
                    http {
                        access_log off;
                        server {
                            listen 127.0.0.1:\(port);
                            root \(prefix)/www;
                        }
                    }
                    """
                _ = FileManager.default.createFile(atPath: "\(prefix)/nginx.conf", contents: Data(configuration.utf8))
                return ["/usr/sbin/nginx", "-p", prefix, "-e", "\(prefix)/error.log", "-c", "\(prefix)/nginx.conf"]
            },
            rows: ["nginx (2 workers)"],
            load: { port, seconds in [Wrk.run(url: "http://127.0.0.1:\(port)/index.html", seconds: seconds)] },
            check: { port in
                for _ in 0..<20 {
                    guard let (status, body) = httpGet(port: port, path: "/index.html") else { return "nginx closed the connection" }
                    if status != 200 || body != nginxPage { return "nginx answered \(status) with \(body.utf8.count) bytes" }
                }
                return httpGet(port: port, path: "/missing")?.status == 404 ? nil : "nginx did not answer 404 for a missing page"
            })
    }

    static func memcached() -> Server {
        Server(
            name: "memcached", agent: .preloaded,
            command: { port, _ in
                ["/usr/bin/memcached", "-l", "127.0.0.1", "-p", String(port), "-U", "0", "-t", "2", "-m", "256", "-u", "root"]
            },
            rows: ["memcached (own load, 16 conns)"],
            load: { port, seconds in
                MemcachedLoad.populate(port: port)
                return [MemcachedLoad.run(port: port, connections: 16, seconds: Double(seconds))]
            },
            check: { port in
                MemcachedLoad.populate(port: port)
                // Every answer is compared with what was stored; a wrong one fails the run.
                return MemcachedLoad.run(port: port, connections: 4, seconds: 1).opsPerSecond > 0 ? nil : "memcached answered nothing"
            })
    }

    static func swiftNIO(executable: String) -> Server {
        Server(
            name: "swift-nio", agent: .linked,
            command: { port, _ in [executable, "--port", String(port), "--threads", "2"] },
            rows: ["SwiftNIO HTTP (LeakAgentHooks)"],
            load: { port, seconds in [Wrk.run(url: "http://127.0.0.1:\(port)/hello", seconds: seconds)] },
            check: { port in
                for number in 0..<20 {
                    guard let (status, body) = httpGet(port: port, path: "/smoke/\(number)") else { return "NIOHTTPServer closed the connection" }
                    if status != 200 || !body.hasPrefix(#"{"path":"/smoke/\#(number)","method":"GET","#) {
                        return "NIOHTTPServer answered \(status): \(body)"
                    }
                }
                return nil
            })
    }
}
