import Foundation
import LeakWire

/// The seed corpus (Tests/Fuzz/corpus/wire-boundary): a valid frame of every message kind, whole
/// sessions that reach snapshot validation past the handshake, and one of each way to be wrong.
/// Made by the product's encoders, so `.ci/fuzz.sh seeds` rewrites them after a protocol change.
enum Seeds {
    static func write(to directory: String) {
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, bytes) in all() {
            let path = "\(directory)/\(name)"
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
        }
        print("wrote \(all().count) seeds to \(directory)")
    }

    static func frame(_ message: WireMessage, _ compression: FrameEncoder.Compression = .never) -> [UInt8] {
        try! FrameEncoder(compression: compression).encode(message)
    }

    static func all() -> [(String, [UInt8])] {
        let plain = FrameEncoder.Compression.never
        var seeds: [(String, [UInt8])] = [
            ("hello-agent", frame(.hello(agentHello))),
            ("hello-client", frame(.hello(clientHello))),
            ("challenge", frame(.challenge(challenge))),
            ("authenticate", frame(.authenticate(authenticate(for: agentHello)))),
            ("welcome", frame(.welcome(welcome))),
            ("error", frame(.error(.with { $0.code = .malformedMessage; $0.message = "stats.uptime_seconds is nan"; $0.requestID = 7 }))),
            ("snapshot", frame(.snapshot(snapshot(sequence: 7)))),
            ("snapshot-deflated", frame(.snapshot(snapshot(sequence: 7)), .always)),
            ("ack", frame(.ack(.with { $0.sequence = 7 }))),
            ("fleet-overview-request", frame(.fleetOverviewRequest(.with { $0.requestID = 1 }))),
            ("fleet-overview-response", frame(.fleetOverviewResponse(.with { $0.requestID = 1 }))),
            ("host-report-request", frame(.hostReportRequest(.with { $0.requestID = 2; $0.host = "web-3" }))),
            ("host-report-response", frame(.hostReportResponse(.with { $0.requestID = 2 }))),
            ("sites-request", frame(.sitesRequest(.with { $0.requestID = 3; $0.host = "web-3"; $0.limit = 10 }))),
            ("sites-response", frame(.sitesResponse(.with { $0.requestID = 3; $0.host = "web-3" }))),
            ("series-request", frame(.seriesRequest(.with { $0.requestID = 4; $0.host = "web-3" }))),
            ("series-response", frame(.seriesResponse(.with { $0.requestID = 4 }))),
            ("stacks-request", frame(.stacksRequest(.with { $0.requestID = 5; $0.host = "web-3"; $0.ids = [3] }))),
            ("stacks-response", frame(.stacksResponse(.with { $0.requestID = 5; $0.stacks = [stack] }))),
            ("memory-errors-request", frame(.memoryErrorsRequest(.with { $0.requestID = 6; $0.limit = 10 }))),
            ("memory-errors-response", frame(.memoryErrorsResponse(.with {
                $0.requestID = 6
                $0.sites = [.with { $0.kind = .heapBufferOverflow; $0.allocationFrames = stack.frames; $0.hostCount = 1 }]
            }))),
        ]
        // Sessions: what a real agent and a real client send, in order.
        let context = FrameEncoder(compression: .context(minimumBytes: 64))
        var agent = frame(.hello(agentHello)) + frame(.authenticate(authenticate(for: agentHello)))
        agent += try! context.encode(.snapshot(snapshot(sequence: 7)))
        var later = snapshot(sequence: 8)
        later.stacks = []
        later.stats.totalAllocatedBytes += 1000
        later.stats.allocationCount += 10
        agent += try! context.encode(.snapshot(later))
        agent += frame(.snapshot(snapshot(sequence: 9)), .automatic(minimumBytes: 64))
        seeds.append(("session-agent", agent))
        seeds.append(("session-client", frame(.hello(clientHello)) + frame(.authenticate(authenticate(for: clientHello)))
            + frame(.fleetOverviewRequest(.with { $0.requestID = 1 })) + frame(.sitesRequest(.with { $0.requestID = 2; $0.host = "web-3" }))))

        // Wrong, one way each.
        let hello = frame(.hello(agentHello))
        seeds.append(("bad-magic", [0x47] + hello.dropFirst()))
        seeds.append(("bad-version", patched(hello, at: 1, 2)))
        seeds.append(("unknown-kind", patched(hello, at: 2, 9)))
        seeds.append(("reserved-flags", patched(hello, at: 3, 0x04)))
        seeds.append(("context-without-deflated", patched(hello, at: 3, 0x02)))
        seeds.append(("length-over-limit", [0x4C, 0x01, 0x01, 0x00, 0x00, 0x40, 0x00, 0x01]))
        seeds.append(("truncated-body", Array(hello.dropLast(5))))
        seeds.append(("not-protobuf", FrameEncoder(compression: plain).encode(kind: .snapshot, body: [0x0A, 0xFF, 0xFF, 0x01])))
        seeds.append(("zlib-bomb", FrameEncoder(compression: .always).encode(kind: .snapshot, body: [UInt8](repeating: 0, count: 1 << 20))))
        var corrupt = frame(.snapshot(snapshot(sequence: 7)), .always)
        corrupt[corrupt.count / 2] ^= 0x55
        seeds.append(("zlib-corrupt", corrupt))
        let deflated = frame(.snapshot(snapshot(sequence: 7)), .always)
        seeds.append(("zlib-trailing-bytes", withBody(of: deflated, Array(deflated.dropFirst(8)) + [1, 2, 3])))
        let contextFrame = try! FrameEncoder(compression: .context(minimumBytes: 0)).encode(.snapshot(snapshot(sequence: 7)))
        seeds.append(("context-no-sync-flush", withBody(of: contextFrame, Array(contextFrame.dropFirst(8).dropLast(2)))))
        seeds.append(("hello-no-role", frame(.hello(.with { $0.supportedVersions = [1] }))))
        seeds.append(("hello-no-common-version", frame(.hello(.with { $0.supportedVersions = [9]; $0.role = .client }))))
        seeds.append(("snapshot-nan-uptime", frame(.snapshot(snapshot(sequence: 7) { $0.stats.uptimeSeconds = .nan }))))
        seeds.append(("snapshot-counter-2e63", frame(.snapshot(snapshot(sequence: 7) { $0.stats.currentBytes = 1 << 63 }))))
        seeds.append(("snapshot-year-2262", frame(.snapshot(snapshot(sequence: 7) { $0.timestampUnixNanos = .max }))))
        seeds.append(("snapshot-deep-stack", frame(.snapshot(snapshot(sequence: 7) {
            $0.stacks[0].frames = Array(repeating: $0.stacks[0].frames[0], count: 257)
        }), .always)))
        seeds.append(("snapshot-ran-backwards", frame(.snapshot(snapshot(sequence: 7)))
            + frame(.snapshot(snapshot(sequence: 8) { $0.stacks = []; $0.stats.freeCount -= 1 }))))
        return seeds
    }

    static func patched(_ bytes: [UInt8], at index: Int, _ value: UInt8) -> [UInt8] {
        var bytes = bytes
        bytes[index] = value
        return bytes
    }

    /// The frame's header with its length set to `body`'s, then `body`.
    static func withBody(of frame: [UInt8], _ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count)
        return Array(frame.prefix(4)) + [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF),
                                         UInt8(length & 0xFF)] + body
    }

    // MARK: Messages (those of docs/PROTOCOL.md's worked example and Tests/LeakWireTests/Fixtures.swift)

    static var agentHello: Leakwatch_V1_Hello {
        .with {
            $0.supportedVersions = [1]
            $0.role = .agent
            $0.hostName = "web-3"
            $0.serviceName = "checkout"
            $0.processInstanceID = .init((0..<16).map { UInt8($0) })
            $0.pid = 4242
            $0.processStartUnixNanos = 1_764_000_000_000_000_000
            $0.agentVersion = "0.1.0"
            $0.sampleMeanBytes = 524_288
        }
    }

    static var clientHello: Leakwatch_V1_Hello { .with { $0.supportedVersions = [1]; $0.role = .client } }

    static var challenge: Leakwatch_V1_Challenge {
        .with { $0.chosenVersion = 1; $0.nonce = .init(WireBoundary.nonce); $0.collectorVersion = "0.1.0" }
    }

    static var welcome: Leakwatch_V1_Welcome {
        .with { $0.accepted = true; $0.lastAcknowledgedSequence = 6; $0.version = 1 }
    }

    /// The valid proof for `hello` under the harness's token and nonce (the documented test vector
    /// for the example Hello).
    static func authenticate(for hello: Leakwatch_V1_Hello) -> Leakwatch_V1_Authenticate {
        let proof = WireAuthentication.proof(token: WireBoundary.token, nonce: WireBoundary.nonce, chosenVersion: 1,
                                             identity: hello.authenticationIdentity)!
        return .with { $0.proof = .init(proof) }
    }

    static var stack: Leakwatch_V1_Stack {
        .with {
            $0.id = 3
            $0.frames = [.with {
                $0.function = "Checkout.OrderCache.insert(_:)"
                $0.file = "OrderCache.swift"
                $0.line = 41
                $0.image = "/usr/local/bin/checkout"
                $0.address = 0x5555_0000_1234
                $0.imageOffset = 0x1234
            }]
        }
    }

    static func snapshot(sequence: UInt64, _ change: (inout Leakwatch_V1_Snapshot) -> Void = { _ in }) -> Leakwatch_V1_Snapshot {
        var snapshot = Leakwatch_V1_Snapshot.with {
            $0.sequence = sequence
            $0.timestampUnixNanos = 1_764_000_600_000_000_000 + Int64(sequence) * 1_000_000_000
            $0.stats.totalAllocatedBytes = 9_000_000_000
            $0.stats.currentBytes = 120_000_000
            $0.stats.peakBytes = 130_000_000
            $0.stats.allocationCount = 50_000_000
            $0.stats.freeCount = 49_900_000
            $0.stats.blocksOutstanding = 100_000
            $0.stats.rssBytes = 200_000_000
            $0.stats.uptimeSeconds = 600.5
            $0.overhead.trackerBytes = 4 << 20
            $0.overhead.agentHeapBytes = 300_000
            $0.sizeClasses = [.with { $0.upperBoundBytes = 64; $0.count = 1000; $0.bytes = 40_000 },
                              .with { $0.upperBoundBytes = .max; $0.count = 1; $0.bytes = 1 << 30 }]
            $0.topSizes = [.with { $0.size = 48; $0.count = 777 }]
            $0.sites = [.with {
                $0.stackID = 3; $0.liveBytes = 1_048_576; $0.liveObjects = 2; $0.allocatedBytes = 10_485_760
                $0.typeName = "Checkout.Order"
            }]
            $0.stacks = [stack]
            $0.events = [.with {
                $0.kind = .snapshotsDropped
                $0.timestampUnixNanos = 1_764_000_590_000_000_000
                $0.droppedCount = 3
                $0.message = "spool full"
            }, .with {
                $0.kind = .thresholdWarning
                $0.timestampUnixNanos = 1_764_000_595_000_000_000
                $0.value = 120_000_000
                $0.thresholdBytes = 100_000_000
            }]
        }
        change(&snapshot)
        return snapshot
    }
}
