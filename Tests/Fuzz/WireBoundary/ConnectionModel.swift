import LeakWire
import SwiftProtobuf

/// What the collector's connection handler does with each frame, without I/O: decode the message,
/// drive two handshakes (one checking the documented token, one accepting any proof so that the
/// fuzzer reaches the later states), validate every Snapshot, and check what each would send back.
struct ConnectionModel {
    private var tokenHandshake = HandshakeModel(authentication: .token(WireBoundary.token))
    private var openHandshake = HandshakeModel(authentication: .acceptAnyProof)
    /// Counters of the newest snapshot accepted, as `SnapshotTranslator` keeps them.
    private var previous: SnapshotCounters?

    mutating func receive(_ frame: Frame) {
        let message: WireMessage
        do {
            message = try WireMessage(frame)
        } catch let error as WireError {
            invariant(error == .malformedMessage, "undecodable \(frame.kind) body threw \(error), not malformedMessage")
            return
        } catch {
            invariant(false, "WireMessage threw a non-WireError: \(error)")
            return
        }
        checkReencoding(message)
        tokenHandshake.receive(message)
        openHandshake.receive(message)
        // Validation is stateless: every Snapshot goes through it, authenticated or not, so the
        // fuzzer need not find a handshake first.
        if case .snapshot(let snapshot) = message { validate(snapshot) }
    }

    /// A decoded message encodes again, and its encoding decodes to the same encoding.
    private func checkReencoding(_ message: WireMessage) {
        do {
            let body = try message.serializedBody()
            let again = try WireMessage(kind: message.kind, body: body)
            let reencoded = try again.serializedBody()
            invariant(reencoded == body, "\(message.name) does not re-encode to the same bytes")
        } catch {
            invariant(false, "decoded \(message.name) does not re-encode: \(error)")
        }
    }

    private mutating func validate(_ snapshot: Leakwatch_V1_Snapshot) {
        let documented = SnapshotRules.violations(snapshot, receivedAtUnixNanos: WireBoundary.receivedAtUnixNanos,
                                                  limits: WireBoundary.snapshotLimits)
        let stacksAccepted = (try? SnapshotValidation.checkStacks(snapshot, limits: WireBoundary.snapshotLimits)) != nil
        do {
            try SnapshotValidation.check(snapshot, receivedAtUnixNanos: WireBoundary.receivedAtUnixNanos,
                                         limits: WireBoundary.snapshotLimits)
            invariant(documented.isEmpty, "snapshot \(snapshot.sequence) accepted, but breaks documented rules: \(documented)")
            invariant(stacksAccepted, "snapshot \(snapshot.sequence) accepted, its stacks rejected")
        } catch {
            invariant(!documented.isEmpty, "snapshot \(snapshot.sequence) rejected (\(error)), but keeps every documented rule")
            invariant(documented.contains(error.field), "rejection names \(error.field), documented rules find \(documented)")
            checkRejectionReachesAgent(error, sequence: snapshot.sequence)
            return
        }
        let counters = SnapshotCounters(snapshot)
        if let previous, snapshot.sequence > previous.sequence {
            do {
                try SnapshotValidation.checkContinuity(counters, after: previous, sequence: snapshot.sequence)
                invariant(counters.totalAllocatedBytes >= previous.totalAllocatedBytes
                            && counters.allocationCount >= previous.allocationCount
                            && counters.freeCount >= previous.freeCount,
                          "snapshot \(snapshot.sequence) accepted with a total below snapshot \(previous.sequence)'s")
            } catch {
                checkRejectionReachesAgent(error, sequence: snapshot.sequence)
                return
            }
        }
        if snapshot.sequence > previous?.sequence ?? 0 { previous = counters }
    }

    /// The Error frame for a rejected snapshot must tell the agent to drop exactly that snapshot,
    /// or an agent whose spool holds it retries it forever (issue 15).
    private func checkRejectionReachesAgent(_ violation: SnapshotViolation, sequence: UInt64) {
        invariant(!violation.field.isEmpty, "a violation names no field: \(violation)")
        invariant(violation.sequence == sequence, "violation of snapshot \(sequence) names sequence \(violation.sequence)")
        let received = AgentView.receive(.error(violation.errorMessage))
        guard case .error(let error) = received else {
            return invariant(false, "the agent read a rejection as \(received)")
        }
        invariant(error.code == .malformedMessage, "the agent read a rejection's code as \(error.code)")
        if sequence != 0 {
            invariant(error.rejectedSnapshotSequence == sequence,
                      "the agent reads the rejection of \(sequence) as \(String(describing: error.rejectedSnapshotSequence))")
        }
    }
}

/// One `ServerHandshake` and the rules its actions keep (docs/PROTOCOL.md sections 5 and 6).
struct HandshakeModel {
    private var handshake: ServerHandshake
    private let authentication: ServerHandshake.Authentication
    private var hello: Leakwatch_V1_Hello?
    private var rejected = false
    private var authenticated = false

    init(authentication: ServerHandshake.Authentication) {
        self.authentication = authentication
        handshake = ServerHandshake(
            configuration: .init(authentication: authentication, nowUnixNanos: { WireBoundary.receivedAtUnixNanos }),
            nonce: WireBoundary.nonce)
    }

    mutating func receive(_ message: WireMessage) {
        // Past authentication the handler no longer asks the handshake.
        if authenticated { return }
        if case .hello(let hello) = message, self.hello == nil { self.hello = hello }
        let action = handshake.receive(message)
        switch action {
        case .send(let reply):
            invariant(!rejected, "handshake answered \(message.name) after rejecting")
            guard case .challenge(let challenge) = reply, case .hello(let hello) = message else {
                return invariant(false, "handshake sent \(reply.name) in answer to \(message.name)")
            }
            invariant(Array(challenge.nonce) == WireBoundary.nonce, "Challenge carries another nonce")
            invariant(hello.supportedVersions.contains(challenge.chosenVersion)
                        && ProtocolVersion.supported.contains(challenge.chosenVersion),
                      "chose version \(challenge.chosenVersion) from \(hello.supportedVersions)")
        case .authenticated(let peer, let version):
            invariant(!rejected, "handshake authenticated after rejecting")
            guard case .authenticate(let authenticate) = message, let hello else {
                return invariant(false, "authenticated on \(message.name)")
            }
            invariant(peer == hello, "authenticated a peer other than its Hello")
            checkHelloRules(peer)
            if case .token(let token) = authentication {
                let expected = WireAuthentication.proof(token: token, nonce: WireBoundary.nonce, chosenVersion: version,
                                                        identity: peer.authenticationIdentity)
                invariant(expected != nil && Array(authenticate.proof) == expected!, "authenticated a wrong proof")
            }
            invariant(handshake.peer == peer, "peer is not the authenticated Hello")
            guard case .welcome(let welcome) = handshake.welcome(lastAcknowledgedSequence: 7) else {
                return invariant(false, "welcome(...) is not a Welcome")
            }
            invariant(welcome.accepted && welcome.version == version && welcome.lastAcknowledgedSequence == 7,
                      "Welcome \(welcome) after authenticating version \(version)")
            #if LEAKWATCH_FUZZ_PROVOKE
            invariant(false, "provoked: the harness reached an authenticated \(peer.hostName)")
            #endif
            authenticated = true
        case .reject(let error):
            rejected = true
            let received = AgentView.receive(.error(error.errorMessage()))
            guard case .error(let sent) = received else {
                return invariant(false, "the peer read a rejection as \(received)")
            }
            invariant(sent.code == error.errorCode, "rejection \(error) reached the peer as \(sent.code)")
            invariant(sent.rejectedSnapshotSequence == nil, "a handshake rejection reads as dropping a snapshot")
        }
    }

    /// docs/PROTOCOL.md section 5: an agent's Hello names a process instance of 1...64 bytes, a
    /// host, and names of at most 255 bytes (version 64), a process start from 2020-01-01 to 300 s
    /// ahead of the collector's clock, and a sampling mean of at most 2^56; a client's Hello needs
    /// none of it.
    private func checkHelloRules(_ hello: Leakwatch_V1_Hello) {
        switch hello.role {
        case .agent:
            invariant((1...64).contains(hello.processInstanceID.count), "agent with a \(hello.processInstanceID.count)-byte instance id")
            invariant(!hello.hostName.isEmpty, "agent with an empty host name")
            invariant(hello.hostName.utf8.count <= 255 && hello.serviceName.utf8.count <= 255
                        && hello.agentVersion.utf8.count <= 64, "agent with an over-long name")
            invariant(hello.processStartUnixNanos >= 1_577_836_800_000_000_000
                        && Int128(hello.processStartUnixNanos) <= Int128(WireBoundary.receivedAtUnixNanos) + 300_000_000_000,
                      "agent whose process started at \(hello.processStartUnixNanos)")
            invariant(hello.sampleMeanBytes <= 1 << 56, "agent with a sampling mean of \(hello.sampleMeanBytes)")
        case .client:
            break
        default:
            invariant(false, "authenticated role \(hello.role)")
        }
    }
}

/// What an agent makes of a message the collector sends: LeakWireCore's hand-written decoding,
/// through a real frame.
enum AgentView {
    static func receive(_ message: WireMessage) -> Wire.CollectorMessage {
        do {
            let bytes = try FrameEncoder().encode(message)
            return try Wire.CollectorMessage(FrameDecoder.decodeSingleFrame(bytes))
        } catch {
            invariant(false, "the agent cannot read the collector's \(message.name): \(error)")
            return .other(message.kind)
        }
    }
}
