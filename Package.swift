// swift-tools-version:6.0
import PackageDescription

// No unsafe flags, so the package can be a versioned dependency. The sampler's stack walk follows
// frame pointers, which SwiftPM keeps in C code on Linux (-fno-omit-frame-pointer by default).
let cCoreSettings: [CSetting] = [
    .define("_GNU_SOURCE"),
]

let package = Package(
    name: "leakwatch",
    products: [
        .library(name: "LeakAgent", targets: ["LeakAgent", "CLeakTrack"]),
        // Linking this product is the opt-in: it installs the malloc-family interposer.
        .library(name: "LeakAgentHooks", targets: ["LeakAgentHooks", "LeakAgent"]),
        // The Swift half of the agent for programs that cannot be rebuilt: libLeakAgentPreload.so
        // (C only, linked by agent/build-preload) loads it when a LEAKWATCH_* variable is set. Its
        // lt_ symbols are left undefined, bound at load time to the preload library's tracker.
        .library(name: "LeakAgentRuntime", type: .dynamic, targets: ["LeakAgent"]),
        // Names the agent's addresses in a process of its own; installed beside libLeakAgentRuntime.so
        // or the linked executable (see agent/README.md).
        .executable(name: "leakwatch-symbolizer", targets: ["leakwatch-symbolizer"]),
        .library(name: "LeakWire", targets: ["LeakWire"]),
        .library(name: "LeakCollector", targets: ["LeakCollector"]),
        .executable(name: "collector", targets: ["collector"]),
        .executable(name: "collector-cli", targets: ["collector-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // PostgreSQL wire protocol on SwiftNIO: the shared fleet store (`--store postgres://…`).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: Agent
        .target(name: "CLeakTrack", cSettings: cCoreSettings, linkerSettings: [.linkedLibrary("dl")]),
        // CLeakTrack's header without its code: what LeakAgent compiles against, so that the
        // runtime library holds no second tracker. Whatever links LeakAgent links CLeakTrack too.
        .systemLibrary(name: "CLeakTrackAPI"),
        // C++ and Rust symbols demangled by libiberty (Debian's libiberty-dev, a static PIC archive).
        .target(name: "CDemangle", linkerSettings: [.linkedLibrary("iberty")]),
        // Inlined calls read by elfutils' libdw (Debian's libdw-dev), only in leakwatch-symbolizer.
        .target(name: "CInlineFrames", linkerSettings: [.linkedLibrary("dw"), .linkedLibrary("elf")]),
        .target(name: "LeakAgentHooks", dependencies: ["CLeakTrack"], cSettings: cCoreSettings),
        .target(
            name: "LeakAgent",
            dependencies: ["CHelperProcess", "CLeakTrackAPI", "JSONEscaping", "LeakStacks", "LeakSymbolication", "LeakWireCore"]
        ),
        // What the agent and leakwatch-symbolizer exchange: loaded images, addresses, frames.
        .target(name: "LeakSymbolication"),
        // Addresses to frames with the Swift Runtime's DWARF reader, only in leakwatch-symbolizer:
        // the agent never maps the Runtime library nor keeps debug information.
        .target(name: "LeakDebugInfo", dependencies: ["CDemangle", "CInlineFrames", "LeakSymbolication"]),
        .executableTarget(name: "leakwatch-symbolizer", dependencies: ["LeakDebugInfo", "LeakSymbolication"]),
        // Starts the symbolizer as a child the watched program cannot see or reap.
        .target(name: "CHelperProcess"),

        // The JSON string escaping of the agent's exit report and collector-cli's JSON output.
        .target(name: "JSONEscaping"),

        // Which frames of an allocation stack are the allocator's or a runtime's: one rule for the
        // agent, which drops them, and the cli, which starts a site's text after them.
        .target(name: "LeakStacks"),

        // MARK: Wire
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // OpenSSL's libcrypto, for the handshake's HMAC-SHA256 (Debian's libssl-dev).
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // OpenSSL's libssl, for TLS 1.3 around the frames of the agent and collector-cli (the
        // collector's side is swift-nio-ssl's), loaded with dlopen when TLS is first configured:
        // not linked, so that a process without TLS never maps it (include/CSSL.h).
        .target(name: "CSSL"),
        // What the agent links, so it never loads Foundation (8 MB resident in every process it is
        // preloaded into): frames, zlib, limits, the blocking connection, the client handshake, and
        // the messages an agent sends and receives, encoded by hand after leakwatch.proto, and TLS.
        .target(name: "LeakWireCore", dependencies: ["CZlib", "CCrypto", "CSSL"]),
        // Every message of leakwatch.proto as SwiftProtobuf's generated types, the server handshake
        // and snapshot validation: the collector's and the cli's side. Re-exports LeakWireCore.
        .target(
            name: "LeakWire",
            dependencies: ["LeakWireCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["leakwatch.proto"]
        ),

        // MARK: Collector
        .target(name: "LeakAnalysis"),
        .target(
            name: "LeakCollector",
            dependencies: [
                "LeakWire", "LeakAnalysis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "collector",
            dependencies: [
                "LeakCollector",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: CLI
        .target(
            name: "LeakCLI",
            dependencies: [
                "JSONEscaping", "LeakWire", "LeakStacks", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Generated/profile.pb.swift (pprof export) imports SwiftProtobuf itself.
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["profile.proto"]
        ),
        .executableTarget(name: "collector-cli", dependencies: ["LeakCLI"]),

        // MARK: Demo
        // No product: ./demo and the tests build it by its target's name (SwiftPM gives every
        // executable target of the root package a product of that name), and nothing ships it.
        .executableTarget(name: "leakwatch-demo-server", dependencies: ["LeakAgentHooks", "LeakAgent"]),

        // MARK: Benchmarks
        .executableTarget(
            name: "VerdictEvaluation", dependencies: ["LeakAnalysis", "SyntheticSeries", "VerdictReplay"], path: "Benchmarks/VerdictEvaluation",
            exclude: ["recorded", "recorded-60x"]),
        // Labelled synthetic host series and the analyzer replayed over them: what VerdictEvaluation
        // scores and LeakAnalysisTests hold to the verdict targets. Evaluation code, so not in LeakAnalysis.
        .target(name: "SyntheticSeries", dependencies: ["LeakAnalysis", "LeakTestSupport"], path: "Benchmarks/SyntheticSeries"),
        // Labelled series replayed end to end through a collector: VerdictEvaluation's figures and their test.
        .target(
            name: "VerdictReplay",
            dependencies: [
                "LeakAnalysis", "LeakCLI", "LeakCollector", "SyntheticSeries",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/VerdictReplay"
        ),
        .executableTarget(name: "IngestBenchmark", dependencies: ["LeakCollector", "LeakWire"], path: "Benchmarks/IngestBenchmark"),
        // SQLite and PostgreSQL with 1, 2 and 3 collectors side by side, through FleetStore (a
        // throwaway cluster from LeakTestSupport's TemporaryPostgres).
        .executableTarget(name: "StoreBenchmark", dependencies: ["LeakCollector", "LeakTestSupport"], path: "Benchmarks/StoreBenchmark"),
        // Plain workloads (no agent) and the driver that runs each plain and preloaded, side by side.
        .executableTarget(name: "AllocatorWorkload", path: "Benchmarks/AllocatorWorkload"),
        // A forward-only interposer, AllocatorBenchmark's measure of interposition alone. No product:
        // Benchmarks/InterpositionFloor/build links libInterpositionFloor.so; `swift build` compiles it.
        .target(name: "InterpositionFloor", path: "Benchmarks/InterpositionFloor", exclude: ["build"], cSettings: [.define("_GNU_SOURCE")]),
        .executableTarget(name: "SwiftAllocationWorkload", path: "Benchmarks/SwiftAllocationWorkload"),
        .executableTarget(name: "AllocatorBenchmark", path: "Benchmarks/AllocatorBenchmark"),
        // Start-up cost of the preloaded agent: short processes plain, preloaded, configured.
        .executableTarget(name: "StartupBenchmark", path: "Benchmarks/StartupBenchmark"),
        // Debian's redis, nginx and memcached and a SwiftNIO server, plain and shipping to a live collector.
        .executableTarget(name: "ServerBenchmark", path: "Benchmarks/ServerBenchmark"),
        .executableTarget(
            name: "NIOHTTPServer",
            dependencies: [
                "LeakAgentHooks", "LeakAgent",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/NIOHTTPServer"
        ),

        // MARK: Tests
        // Child processes linked with the agent, run by the tests.
        .executableTarget(
            name: "LeakFixtureC", dependencies: ["LeakAgentHooks", "LeakAgent"], path: "Tests/Fixtures/LeakFixtureC",
            cSettings: cCoreSettings
        ),
        .executableTarget(
            name: "LeakFixtureSwift", dependencies: ["LeakAgentHooks", "LeakAgent"], path: "Tests/Fixtures/LeakFixtureSwift"
        ),
        // What the test targets share: waiting without holding a thread, scratch directories, the
        // built products and the child processes started from them, a TCP listener for LeakWire's
        // blocking connection, and the one seeded random number generator.
        .target(name: "LeakTestSupport", dependencies: ["LeakWire"], path: "Tests/Support"),
        // The one in-process collector the collector's and the cli's tests run against.
        .target(
            name: "LeakCollectorTestSupport",
            dependencies: ["LeakCollector", "LeakTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/CollectorSupport"
        ),
        .testTarget(name: "LeakAgentTests", dependencies: ["LeakAgent", "CLeakTrack", "LeakDebugInfo", "LeakStacks", "LeakSymbolication", "LeakTestSupport"]),
        .testTarget(name: "LeakWireTests", dependencies: ["LeakWire", "LeakWireCore", "LeakTestSupport"]),
        .testTarget(name: "LeakAnalysisTests", dependencies: ["LeakAnalysis", "SyntheticSeries", "LeakTestSupport"]),
        .testTarget(
            name: "LeakCollectorTests",
            dependencies: [
                "LeakCollector", "LeakAgent", "CLeakTrack", "LeakTestSupport", "LeakCollectorTestSupport",
                // WireFrameDecoderTests: the decoder in an EmbeddedChannel.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                // PostgresStoreTests: the partitions' own rows.
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "LeakCLITests", dependencies: ["LeakCLI", "LeakCollector", "LeakWire", "LeakTestSupport", "LeakCollectorTestSupport"]
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["LeakWire", "LeakTestSupport"]),
        .testTarget(name: "VerdictReplayTests", dependencies: ["VerdictReplay", "SyntheticSeries", "LeakAnalysis", "LeakCollector", "LeakCLI"]),
    ],
    cLanguageStandard: .gnu11
)
