/// What an agent's Hello may carry for the life of its process (docs/PROTOCOL.md section 5,
/// "Hello rules"): the collector refuses a Hello past these, and the agent refuses to start with a
/// setting past them, since no retry could ever get it accepted.
public enum HelloLimits {
    /// Host and service names are stored under and shown by every report: a DNS name is at most
    /// 253 bytes.
    public static let maximumNameBytes = 255
    public static let maximumVersionBytes = 64
    /// The counter bound of section 7 (2^56), which a sample mean must keep too.
    public static let maximumSampleMeanBytes: UInt64 = 1 << 56
}
