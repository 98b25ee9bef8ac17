import LeakWireCore

extension Leakwatch_V1_Hello {
    /// What the authentication transcript binds of this Hello.
    public var authenticationIdentity: WireAuthentication.Identity {
        .init(role: Int32(truncatingIfNeeded: role.rawValue), processInstanceID: Array(processInstanceID),
              hostName: hostName, serviceName: serviceName)
    }
}
