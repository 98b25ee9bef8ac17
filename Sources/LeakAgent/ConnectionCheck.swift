import LeakWireCore
#if canImport(Glibc)
import Glibc
#endif

/// `leakwatch-run --check`: the agent's own configuration, connection and handshake, made once
/// the way the shipper makes them, and what came of each step, for a person at a terminal.
enum ConnectionCheck {
    static func run(environment: [String: String]) -> (succeeded: Bool, report: String) {
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration.fromEnvironment(environment)
        } catch {
            return (false, "leakwatch: the configuration is not valid: \(error)\n")
        }
        guard let shipping = configuration.shipperConfiguration(processStartUnixNanos: ShipperClock.wallUnixNanos()) else {
            return (false, "leakwatch: no collector is configured (--collector HOST:PORT or LEAKWATCH_COLLECTOR)\n")
        }
        let collector = "\(shipping.collectorHost):\(shipping.collectorPort)"
        var report = "leakwatch: host \"\(shipping.hostName)\", service \"\(shipping.serviceName)\", collector \(collector)\n"
        if shipping.token.isEmpty { report += "leakwatch: no token (--token-file or LEAKWATCH_TOKEN): a collector that requires one refuses it\n" }
        if let tls = shipping.tls {
            report += "leakwatch: TLS 1.3, the collector's certificate checked against \(tls.files.certificateAuthorityFile)"
                + (tls.files.certificateFile.map { ", client certificate \($0)" } ?? "") + "\n"
        }
        do {
            let connection = try BlockingConnection.connect(host: shipping.collectorHost, port: shipping.collectorPort,
                                                            options: shipping.connectionOptions, isCancelled: { false })
            defer { connection.close() }
            report += "leakwatch: connected to \(collector)\(shipping.tls == nil ? "" : " over TLS")\n"
            let welcome = try connection.handshake(hello: shipping.hello, token: shipping.token)
            report += "leakwatch: authenticated; protocol version \(welcome.version): this agent can ship\n"
            return (true, report)
        } catch {
            return (false, report + "leakwatch: cannot ship to \(collector): \(error)\n")
        }
    }
}
