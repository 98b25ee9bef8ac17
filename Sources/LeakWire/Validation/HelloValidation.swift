import LeakWireCore

/// The rules an agent's Hello keeps (docs/PROTOCOL.md section 5, "Hello rules"), checked before
/// the collector answers with a Challenge. A broken one is `malformedMessage` naming the field;
/// the handshake then ends with that Error and a close.
///
/// Unlike a rejected snapshot, a rejected Hello is retried: the agent reconnects with backoff.
/// That is what the time rule needs: a process start ahead of the collector's clock is accepted
/// once the collector's clock has caught up. The other rules hold for the life of the process:
/// the Swift agent checks its names against `HelloLimits` before it starts, and another
/// agent that breaks them never connects; its error log says which field.
///
/// A client's Hello (collector-cli) names no process: none of this applies to it.
public enum HelloValidation {
    public static let maximumNameBytes = HelloLimits.maximumNameBytes
    public static let maximumVersionBytes = HelloLimits.maximumVersionBytes
    /// 16 random bytes from the Swift agent; other agents may use any id of this length.
    public static let processInstanceIDBytes = 1...64

    /// - Parameters:
    ///   - receivedAtUnixNanos: the collector's clock when the Hello arrived.
    ///   - limits: the timestamp rules (`earliestTimestampUnixNanos`, `maximumFutureSkewSeconds`)
    ///     and the counter bound, shared with the snapshots this process will send.
    public static func check(
        _ hello: Leakwatch_V1_Hello, receivedAtUnixNanos: Int64, limits: SnapshotLimits = .default
    ) throws(WireError) {
        guard hello.role == .agent else { return }
        guard processInstanceIDBytes.contains(hello.processInstanceID.count) else {
            throw malformed("process_instance_id", "is \(hello.processInstanceID.count) bytes; expected 1...64 (16 random bytes)")
        }
        guard !hello.hostName.isEmpty else { throw malformed("host_name", "is empty; expected the host's name") }
        for (field, text, limit) in [("host_name", hello.hostName, maximumNameBytes),
                                     ("service_name", hello.serviceName, maximumNameBytes),
                                     ("agent_version", hello.agentVersion, maximumVersionBytes)]
        where text.utf8.count > limit {
            throw malformed(field, "is \(text.utf8.count) bytes; expected at most \(limit)")
        }
        let start = hello.processStartUnixNanos
        guard start >= limits.earliestTimestampUnixNanos else {
            throw malformed("process_start_unix_nanos",
                            "is \(start) ns, before \(limits.earliestTimestampUnixNanos) (2020-01-01); is the agent's clock set?")
        }
        let latest = limits.latestTimestampUnixNanos(receivedAtUnixNanos: receivedAtUnixNanos)
        guard start <= latest else {
            throw malformed("process_start_unix_nanos",
                            "is \(start) ns, more than \(limits.maximumFutureSkewSeconds) s ahead of the collector's clock "
                                + "(latest accepted \(latest)); check the agent host's clock (NTP), the agent retries")
        }
        guard hello.sampleMeanBytes <= limits.maximumCounter else {
            throw malformed("sample_mean_bytes", "is \(hello.sampleMeanBytes); expected at most \(limits.maximumCounter) (2^56)")
        }
    }

    private static func malformed(_ field: String, _ detail: String) -> WireError {
        WireError.malformedMessage.with("agent Hello's \(field) \(detail)")
    }
}
