// The handshake's messages (leakwatch.proto, "Handshake"); field comments are in the schema.

extension Wire {
    /// First frame on every connection, peer -> collector.
    public struct Hello: Hashable, Sendable {
        public var supportedVersions: [UInt32]
        public var role: Role
        public var hostName: String
        public var serviceName: String
        public var processInstanceID: [UInt8]
        public var pid: UInt32
        public var processStartUnixNanos: Int64
        public var agentVersion: String
        public var sampleMeanBytes: UInt64

        public init(supportedVersions: [UInt32] = [], role: Role = .unspecified, hostName: String = "",
                    serviceName: String = "", processInstanceID: [UInt8] = [], pid: UInt32 = 0,
                    processStartUnixNanos: Int64 = 0, agentVersion: String = "", sampleMeanBytes: UInt64 = 0) {
            self.supportedVersions = supportedVersions
            self.role = role
            self.hostName = hostName
            self.serviceName = serviceName
            self.processInstanceID = processInstanceID
            self.pid = pid
            self.processStartUnixNanos = processStartUnixNanos
            self.agentVersion = agentVersion
            self.sampleMeanBytes = sampleMeanBytes
        }
    }

    /// Collector -> peer, in answer to Hello.
    public struct Challenge: Hashable, Sendable {
        public var chosenVersion: UInt32
        public var nonce: [UInt8]
        public var collectorVersion: String

        public init(chosenVersion: UInt32 = 0, nonce: [UInt8] = [], collectorVersion: String = "") {
            self.chosenVersion = chosenVersion
            self.nonce = nonce
            self.collectorVersion = collectorVersion
        }
    }

    /// Peer -> collector: the proof of the token (``WireAuthentication``).
    public struct Authenticate: Hashable, Sendable {
        public var proof: [UInt8]

        public init(proof: [UInt8] = []) { self.proof = proof }
    }

    /// Collector -> peer: the connection is established.
    public struct Welcome: Hashable, Sendable {
        public var accepted: Bool
        public var lastAcknowledgedSequence: UInt64
        public var version: UInt32

        public init(accepted: Bool = false, lastAcknowledgedSequence: UInt64 = 0, version: UInt32 = 0) {
            self.accepted = accepted
            self.lastAcknowledgedSequence = lastAcknowledgedSequence
            self.version = version
        }
    }

    /// Either side -> the other.
    public struct Error: Hashable, Sendable {
        public var code: ErrorCode
        public var message: String
        public var requestID: UInt64

        public init(code: ErrorCode = .unspecified, message: String = "", requestID: UInt64 = 0) {
            self.code = code
            self.message = message
            self.requestID = requestID
        }

        /// The sequence of the snapshot this error rejects for good (MALFORMED_MESSAGE with a
        /// request_id, docs/PROTOCOL.md "Validation"), or nil when the error is about the
        /// connection or a failure worth retrying (INTERNAL, SHUTTING_DOWN).
        public var rejectedSnapshotSequence: UInt64? {
            code == .malformedMessage && requestID != 0 ? requestID : nil
        }
    }
}
