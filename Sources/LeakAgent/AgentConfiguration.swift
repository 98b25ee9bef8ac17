import LeakWireCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything the agent needs to run: where to ship, who this process is, how often, how finely.
public struct AgentConfiguration: Sendable {
    public struct CollectorAddress: Sendable, Equatable {
        public var host: String
        public var port: UInt16
        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }
    }

    /// Where snapshots go; nil runs the agent locally (monitor, reports) without shipping.
    public var collector: CollectorAddress?
    /// Default: the machine's host name.
    public var hostName: String
    /// Default: the program's name.
    public var serviceName: String
    /// The fleet token proving this agent may report; it never crosses the wire.
    public var token: [UInt8]
    /// TLS 1.3 to the collector (LEAKWATCH_TLS_CA, and for mutual TLS LEAKWATCH_TLS_CERT and
    /// LEAKWATCH_TLS_KEY); nil: plaintext.
    public var tls: TLSClientContext?
    /// Seconds between snapshots (default 10).
    public var intervalSeconds: Double
    /// Mean bytes between sampled allocations (T, default 512 KiB; 1 = every allocation; 0 = none).
    public var sampleMeanBytes: UInt64
    /// Unacknowledged snapshots kept across collector outages (default 8 MiB).
    public var spoolLimitBytes: Int
    /// Optional warning/critical thresholds; a crossing fires `onThresholdCrossing` once and
    /// ships a snapshot at once.
    public var thresholds: MemoryThresholds?
    public var onThresholdCrossing: (@Sendable (ThresholdCrossing) -> Void)?

    public init(collector: CollectorAddress? = nil, hostName: String = AgentConfiguration.machineHostName(),
                serviceName: String = AgentConfiguration.programName(), token: [UInt8] = [],
                tls: TLSClientContext? = nil,
                intervalSeconds: Double = 10, sampleMeanBytes: UInt64 = 512 * 1024,
                spoolLimitBytes: Int = 8 << 20, thresholds: MemoryThresholds? = nil,
                onThresholdCrossing: (@Sendable (ThresholdCrossing) -> Void)? = nil) {
        self.collector = collector
        self.hostName = hostName
        self.serviceName = serviceName
        self.token = token
        self.tls = tls
        self.intervalSeconds = intervalSeconds
        self.sampleMeanBytes = sampleMeanBytes
        self.spoolLimitBytes = spoolLimitBytes
        self.thresholds = thresholds
        self.onThresholdCrossing = onThresholdCrossing
    }

    public static func machineHostName() -> String { ShipperConfiguration.systemHostName() }

    public static func programName() -> String {
        let name = ProcessMemory.readSmallFile("/proc/self/comm")?.split(separator: "\n").first.map(String.init)
        return name ?? "unknown"
    }
}

/// A configuration value that cannot be used, with the variable or field it came from.
public struct AgentConfigurationError: Error, CustomStringConvertible, Equatable {
    public let setting: String
    public let value: String
    public let expected: String

    public var description: String {
        "leakwatch: \(setting)=\"\(value)\" is not valid: expected \(expected); the agent is off, the program runs unchanged"
    }
}

extension AgentConfiguration {
    /// Reads LEAKWATCH_COLLECTOR (host:port), LEAKWATCH_HOST, LEAKWATCH_SERVICE, LEAKWATCH_TOKEN or
    /// LEAKWATCH_TOKEN_FILE, LEAKWATCH_TLS_CA, LEAKWATCH_TLS_CERT and LEAKWATCH_TLS_KEY (read only with
    /// a collector), LEAKWATCH_INTERVAL (seconds) and LEAKWATCH_SAMPLE_BYTES, and checks the
    /// LEAKWATCH_GUARD_* settings the C core reads.
    public static func fromEnvironment(_ environment: [String: String]) throws(AgentConfigurationError) -> AgentConfiguration {
        var configuration = AgentConfiguration()
        func nonEmpty(_ key: String) -> String? {
            guard let value = environment[key], !value.isEmpty else { return nil }
            return value
        }
        if let text = nonEmpty("LEAKWATCH_COLLECTOR") {
            guard let address = parseAddress(text) else {
                throw AgentConfigurationError(setting: "LEAKWATCH_COLLECTOR", value: text,
                                              expected: "host:port with a port from 1 to 65535, e.g. collector.internal:7070")
            }
            configuration.collector = address
        }
        // The collector refuses a longer name in every Hello: an agent with one could never ship.
        for key in ["LEAKWATCH_HOST", "LEAKWATCH_SERVICE"] {
            if let name = nonEmpty(key), name.utf8.count > HelloLimits.maximumNameBytes {
                throw AgentConfigurationError(setting: key, value: name, expected: """
                    a name of at most \(HelloLimits.maximumNameBytes) bytes (it is \(name.utf8.count)), \
                    the longest the collector accepts
                    """)
            }
        }
        if let host = nonEmpty("LEAKWATCH_HOST") { configuration.hostName = host }
        if let service = nonEmpty("LEAKWATCH_SERVICE") { configuration.serviceName = service }
        if let token = nonEmpty("LEAKWATCH_TOKEN") {
            configuration.token = Array(token.utf8)
        } else if let path = nonEmpty("LEAKWATCH_TOKEN_FILE") {
            guard let token = readToken(path) else {
                throw AgentConfigurationError(setting: "LEAKWATCH_TOKEN_FILE", value: path,
                                              expected: "a readable file holding the fleet token")
            }
            configuration.token = token
        }
        if configuration.collector != nil {
            configuration.tls = try tlsContext(certificateAuthority: nonEmpty("LEAKWATCH_TLS_CA"),
                                               certificate: nonEmpty("LEAKWATCH_TLS_CERT"), privateKey: nonEmpty("LEAKWATCH_TLS_KEY"))
        }
        if let text = nonEmpty("LEAKWATCH_INTERVAL") {
            guard let seconds = Double(text), seconds.isFinite, seconds >= 0.05, seconds <= 86_400 else {
                throw AgentConfigurationError(setting: "LEAKWATCH_INTERVAL", value: text,
                                              expected: "seconds between snapshots, from 0.05 to 86400")
            }
            configuration.intervalSeconds = seconds
        }
        if let text = nonEmpty("LEAKWATCH_SAMPLE_BYTES") {
            guard let bytes = UInt64(text), bytes <= HelloLimits.maximumSampleMeanBytes else {
                throw AgentConfigurationError(setting: "LEAKWATCH_SAMPLE_BYTES", value: text, expected: """
                    a whole number of bytes up to 2^56 (0 = no stacks, 1 = every allocation)
                    """)
            }
            configuration.sampleMeanBytes = bytes
        }
        // Read by the C core, which turns the guard pool off when one is malformed; checked here
        // so that the one line on stderr names it.
        for key in ["LEAKWATCH_GUARD_SAMPLE", "LEAKWATCH_GUARD_SLOTS"] {
            if let text = nonEmpty(key), UInt64(text) == nil {
                throw AgentConfigurationError(setting: key, value: text, expected: "a whole number (0 turns the guard-page pool off)")
            }
        }
        if let mode = nonEmpty("LEAKWATCH_GUARD_MODE"), mode != "recover", mode != "crash" {
            throw AgentConfigurationError(setting: "LEAKWATCH_GUARD_MODE", value: mode,
                                          expected: "recover or crash")
        }
        return configuration
    }

    static func parseAddress(_ text: String) -> CollectorAddress? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        return CollectorAddress(host: host, port: port)
    }

    /// The TLS the three variables describe, its files read now so that a bad one is a configuration
    /// error; nil when none is set.
    static func tlsContext(certificateAuthority: String?, certificate: String?,
                           privateKey: String?) throws(AgentConfigurationError) -> TLSClientContext? {
        guard certificateAuthority != nil || certificate != nil || privateKey != nil else { return nil }
        guard let certificateAuthority else {
            let (setting, value) = certificate.map { ("LEAKWATCH_TLS_CERT", $0) } ?? ("LEAKWATCH_TLS_KEY", privateKey ?? "")
            throw AgentConfigurationError(setting: setting, value: value,
                                          expected: "LEAKWATCH_TLS_CA too: the CA that signed the collector's certificate")
        }
        do {
            return try TLSClientContext(files: .init(certificateAuthorityFile: certificateAuthority,
                                                     certificateFile: certificate, privateKeyFile: privateKey))
        } catch {
            switch error.role {
            case .certificateAuthority:
                throw AgentConfigurationError(setting: "LEAKWATCH_TLS_CA", value: certificateAuthority,
                                              expected: "a PEM file of the CA that signed the collector's certificate; \(error.reason)")
            case .certificate:
                throw AgentConfigurationError(setting: "LEAKWATCH_TLS_CERT", value: certificate ?? "",
                                              expected: "this host's PEM client certificate, with LEAKWATCH_TLS_KEY; \(error.reason)")
            case .privateKey:
                throw AgentConfigurationError(setting: "LEAKWATCH_TLS_KEY", value: privateKey ?? "",
                                              expected: "the unencrypted PEM key of LEAKWATCH_TLS_CERT; \(error.reason)")
            }
        }
    }

    static func readToken(_ path: String) -> [UInt8]? {
        guard let text = ProcessMemory.readSmallFile(path) else { return nil }
        let token = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
        return token.isEmpty ? nil : Array(token.utf8)
    }

    public static func processEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        // Preloaded, the variables as the process started (see preload.c): by now the program may
        // have cleared its environment.
        typealias SavedEnvironment = @convention(c) () -> UnsafePointer<UnsafeMutablePointer<CChar>?>?
        var entry = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "leakwatch_preload_environment")
            .flatMap { unsafeBitCast($0, to: SavedEnvironment.self)() }
            .map { UnsafeMutablePointer(mutating: $0) } ?? environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if text.hasPrefix("LEAKWATCH_"), let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return environment
    }
}
