// A real collector for the agents to ship to (release build, scratch data directory, its own
// token, a loopback port), and what it stored, read back through collector-cli as an operator
// would: the proof that the agent runs measured were really shipping.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct LiveCollector {
    let address: String
    let tokenFile: String
    let cli: String
    let pid: pid_t

    static func start(collector: String, cli: String, directory: String) -> LiveCollector {
        let tokenFile = "\(directory)/token"
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        let port = freeLoopbackPort()
        let arguments = [collector, "--listen", "127.0.0.1:\(port)", "--data", "\(directory)/collector-data", "--token-file", tokenFile]
        let pid = Children.spawn(arguments, environment: [:], logPath: "\(directory)/collector.log")
        guard waitUntilListening(port: port, pid: pid) else {
            fail("the collector did not start; its log:\n" + ((try? String(contentsOfFile: "\(directory)/collector.log", encoding: .utf8)) ?? ""))
        }
        return LiveCollector(address: "127.0.0.1:\(port)", tokenFile: tokenFile, cli: cli, pid: pid)
    }

    private func cli(_ arguments: [String]) -> (status: Int32, output: String) {
        Children.runTool([cli] + arguments + ["--collector", address, "--token-file", tokenFile], timeoutSeconds: 60)
    }

    /// The hosts `collector-cli hosts` lists.
    func hosts() -> Set<String> {
        let (status, output) = cli(["hosts", "--format", "json"])
        guard status == 0 || status == 4 else { fail("collector-cli hosts failed (status \(status)): \(output)") }
        guard let array = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] else { return [] }
        return Set(array.compactMap { $0["host"] as? String })
    }

    /// The process instances of `host` with a retained snapshot (0: none).
    func instances(of host: String) -> Int {
        let (status, output) = cli(["report", "--host", host, "--format", "json"])
        guard status == 0,
              let report = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let series = report["series"] as? [[String: Any]] else { return 0 }
        return Set(series.compactMap { $0["processInstance"] as? String }).count
    }
}
