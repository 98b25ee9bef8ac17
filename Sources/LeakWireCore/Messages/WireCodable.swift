/// A message that travels as the body of one frame: its kind byte and its protobuf encoding.
/// The agent's hand-written messages (``Wire``) and the generated ones (LeakWire's `WireMessage`)
/// both conform, so one connection and one frame encoder carry either.
public protocol WireEncodable {
    var kind: MessageKind { get }
    func serializedBody() throws -> [UInt8]
}

/// A message read from one frame's kind and body.
public protocol WireDecodable {
    init(_ frame: Frame) throws
}
