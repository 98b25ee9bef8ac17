import LeakWireCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything the shipper needs, with documented defaults. The shipper knows nothing of the
/// C core: the agent hands it this and a snapshot source.
public struct ShipperConfiguration: Sendable {
    /// The collector's host name or address (resolved on the shipper thread at each connect).
    public var collectorHost: String
    public var collectorPort: Int
    /// Shared secret proving this agent to the collector (never sent; see docs/PROTOCOL.md).
    public var token: [UInt8]
    /// TLS 1.3 around the frames; the collector's certificate must name `collectorHost`. Default
    /// nil: plaintext.
    public var tls: TLSClientContext?

    /// This machine's name as the collector shows it. Default: gethostname().
    public var hostName: String
    /// The service this process belongs to (e.g. "checkout"). Default: empty.
    public var serviceName: String

    /// Seconds between snapshots. Default 10.
    public var intervalSeconds: Double
    /// Shortest time between a snapshot and one taken for `requestImmediateSnapshot()`;
    /// requests in between are merged into one. Default 0.2 s.
    public var minimumImmediateSpacingSeconds: Double
    /// Bytes of unacknowledged snapshots kept for resending (protobuf-encoded size, stacks
    /// excluded: they are kept once, apart). Default 8 MiB. When full, the oldest go.
    public var spoolLimitBytes: Int
    /// Reconnect delays: exponential from the minimum to the maximum, with full jitter.
    /// Defaults 0.5 s and 60 s.
    public var backoffMinimumSeconds: Double
    public var backoffMaximumSeconds: Double
    /// Defaults 5 s and 10 s.
    public var connectTimeoutSeconds: Double
    public var ioTimeoutSeconds: Double
    /// The longest `stop()` waits for the shipper thread. Default 2 s.
    public var stopTimeoutSeconds: Double
    /// Shortest time between two failure warnings. Default 60.
    public var warningIntervalSeconds: Double

    // Identity sent in Hello.
    /// 16 random bytes, drawn once per process start. Default: fresh random bytes.
    public var processInstanceID: [UInt8]
    /// Default: getpid().
    public var pid: UInt32
    /// Default: the time this configuration was made.
    public var processStartUnixNanos: Int64
    public var agentVersion: String
    /// Mean sampling interval T in bytes. Default 512 KiB.
    public var sampleMeanBytes: UInt64

    public init(
        collectorHost: String,
        collectorPort: Int,
        token: [UInt8],
        tls: TLSClientContext? = nil,
        hostName: String = ShipperConfiguration.systemHostName(),
        serviceName: String = "",
        intervalSeconds: Double = 10,
        minimumImmediateSpacingSeconds: Double = 0.2,
        spoolLimitBytes: Int = 8 << 20,
        backoffMinimumSeconds: Double = 0.5,
        backoffMaximumSeconds: Double = 60,
        connectTimeoutSeconds: Double = 5,
        ioTimeoutSeconds: Double = 10,
        stopTimeoutSeconds: Double = 2,
        warningIntervalSeconds: Double = 60,
        processInstanceID: [UInt8] = ShipperConfiguration.randomInstanceID(),
        pid: UInt32 = UInt32(truncatingIfNeeded: getpid()),
        processStartUnixNanos: Int64 = ShipperClock.wallUnixNanos(),
        agentVersion: String = "0.1.0",
        sampleMeanBytes: UInt64 = 512 << 10
    ) {
        self.collectorHost = collectorHost
        self.collectorPort = collectorPort
        self.token = token
        self.tls = tls
        self.hostName = hostName
        self.serviceName = serviceName
        self.intervalSeconds = intervalSeconds
        self.minimumImmediateSpacingSeconds = minimumImmediateSpacingSeconds
        self.spoolLimitBytes = spoolLimitBytes
        self.backoffMinimumSeconds = backoffMinimumSeconds
        self.backoffMaximumSeconds = backoffMaximumSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.ioTimeoutSeconds = ioTimeoutSeconds
        self.stopTimeoutSeconds = stopTimeoutSeconds
        self.warningIntervalSeconds = warningIntervalSeconds
        self.processInstanceID = processInstanceID
        self.pid = pid
        self.processStartUnixNanos = processStartUnixNanos
        self.agentVersion = agentVersion
        self.sampleMeanBytes = sampleMeanBytes
    }

    /// How the shipper and `leakwatch-run --check` connect.
    public var connectionOptions: BlockingConnection.Options {
        var options = BlockingConnection.Options(connectTimeoutSeconds: connectTimeoutSeconds, ioTimeoutSeconds: ioTimeoutSeconds)
        options.tls = tls
        return options
    }

    /// The Hello this configuration describes.
    public var hello: Wire.Hello {
        Wire.Hello(supportedVersions: ProtocolVersion.supported, role: .agent, hostName: hostName,
                   serviceName: serviceName, processInstanceID: processInstanceID, pid: pid,
                   processStartUnixNanos: processStartUnixNanos, agentVersion: agentVersion,
                   sampleMeanBytes: sampleMeanBytes)
    }

    public static func systemHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func randomInstanceID() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
