import LeakWireCore

// LeakWireCore's connection and encoder take any `WireEncodable`; these overloads let a call site
// name a message by its case (`connection.send(.ack(ack))`), which a generic parameter cannot infer.

extension BlockingConnection {
    /// Sends one message as a frame; returns the frame's size on the wire.
    @discardableResult
    public func send(_ message: WireMessage) throws -> Int {
        let encodable: any WireEncodable = message  // opened into the generic overload
        return try send(encodable)
    }

    /// The next message, waiting at most the I/O timeout.
    public func receive() throws -> WireMessage {
        try receive(WireMessage.self)
    }

    /// The next message, or nil if none is complete within `timeoutSeconds` (0: only what
    /// has already arrived).
    public func receive(timeoutSeconds: Double) throws -> WireMessage? {
        try receive(WireMessage.self, timeoutSeconds: timeoutSeconds)
    }
}

extension FrameEncoder {
    /// One complete frame carrying `message`.
    public func encode(_ message: WireMessage) throws -> [UInt8] {
        let encodable: any WireEncodable = message
        return try encode(encodable)
    }
}
