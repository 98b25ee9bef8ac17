import LeakWireCore

extension WireError {
    /// An Error message telling the peer about this error.
    public func errorMessage(requestID: UInt64 = 0) -> Leakwatch_V1_Error {
        var message = Leakwatch_V1_Error()
        message.code = Leakwatch_V1_ErrorCode(rawValue: Int(errorCode.rawValue)) ?? .internal
        message.message = description
        message.requestID = requestID
        return message
    }
}
