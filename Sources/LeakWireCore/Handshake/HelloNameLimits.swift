/// The longest names an agent's Hello may carry (docs/PROTOCOL.md section 5, "Hello rules"): the
/// collector refuses a longer one, and the agent refuses to start with one, since no retry could
/// ever get it accepted.
public enum HelloNameLimits {
    /// Host and service names are stored under and shown by every report: a DNS name is at most
    /// 253 bytes.
    public static let maximumNameBytes = 255
    public static let maximumVersionBytes = 64
}
