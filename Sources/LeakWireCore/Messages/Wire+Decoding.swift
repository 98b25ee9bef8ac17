// The decodings of what an agent receives. Unknown fields are skipped (proto3); the last value of
// a repeated singular field wins.

extension Wire.Challenge {
    public init(decoding body: [UInt8]) throws(WireError) {
        self.init()
        var reader = ProtobufReader(body, message: "Challenge")
        while let field = try reader.nextField() {
            switch field {
            case 1: chosenVersion = try reader.uint32()
            case 2: nonce = try reader.bytes()
            case 3: collectorVersion = try reader.string()
            default: try reader.skip()
            }
        }
    }
}

extension Wire.Welcome {
    public init(decoding body: [UInt8]) throws(WireError) {
        self.init()
        var reader = ProtobufReader(body, message: "Welcome")
        while let field = try reader.nextField() {
            switch field {
            case 1: accepted = try reader.bool()
            case 2: lastAcknowledgedSequence = try reader.uint64()
            case 3: version = try reader.uint32()
            default: try reader.skip()
            }
        }
    }
}

extension Wire.Error {
    public init(decoding body: [UInt8]) throws(WireError) {
        self.init()
        var reader = ProtobufReader(body, message: "Error")
        while let field = try reader.nextField() {
            switch field {
            case 1: code = Wire.ErrorCode(rawValue: try reader.enumeration())
            case 2: message = try reader.string()
            case 3: requestID = try reader.uint64()
            default: try reader.skip()
            }
        }
    }
}

extension Wire.Ack {
    public init(decoding body: [UInt8]) throws(WireError) {
        self.init()
        var reader = ProtobufReader(body, message: "Ack")
        while let field = try reader.nextField() {
            switch field {
            case 1: sequence = try reader.uint64()
            default: try reader.skip()
            }
        }
    }
}
