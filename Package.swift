// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "ewmatch",
    platforms: [.macOS(.v15)],  // Mutex (Synchronization) needs macOS 15; irrelevant on Linux
    products: [
        .executable(name: "ewmatch", targets: ["ewmatch"]),
        .library(name: "MatchingEngine", targets: ["MatchingEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // Pure: the line protocol's framing, parser and renderer. No dependencies, so it can be fuzzed.
        .target(name: "CommandProtocol", swiftSettings: swiftSettings),
        // Pure: the matching engine. Standard library only.
        .target(name: "MatchingEngine", swiftSettings: swiftSettings),
        // Business logic: commands to replies, behind a Repository protocol.
        .target(
            name: "MatchCore",
            dependencies: [
                "CommandProtocol", "MatchingEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The only target that talks to libpq.
        .target(
            name: "PostgresStore",
            dependencies: [
                "CLibPQ", "MatchCore", "CommandProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedSQL"]
        ),
        // A private PostgreSQL cluster (initdb + pg_ctl) for the zero-configuration default.
        .target(
            name: "EmbeddedPostgres",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // TCP transport: framing, limits, connections, graceful shutdown. Serves any LineResponder.
        .target(
            name: "LineServer",
            dependencies: [
                "CommandProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Prometheus scrape endpoint: GET /metrics over HTTP/1.1, nothing else.
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: one function builds the services that `serve` and the tests run.
        .target(
            name: "EWMatchService",
            dependencies: [
                "LineServer", "PostgresStore", "EmbeddedPostgres", "MatchCore", "MetricsEndpoint",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ewmatch",
            dependencies: [
                "EWMatchService", "LineServer", "PostgresStore", "EmbeddedPostgres", "MatchCore", "MatchingEngine", "CommandProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Build tool: compiles sql/*.sql into the binary, so migrations travel with it.
        .executableTarget(name: "EmbedSQLTool", swiftSettings: swiftSettings),
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["EmbedSQLTool"]),

        .testTarget(name: "CommandProtocolTests", dependencies: ["CommandProtocol"], swiftSettings: swiftSettings),
        // The command logic and its rules against an in-memory store: pure unit tests, no database.
        .testTarget(
            name: "MatchCoreTests",
            dependencies: ["MatchCore", "CommandProtocol", "MatchingEngine", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MatchingEngineTests", dependencies: ["MatchingEngine"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        // Shared by the tests that need PostgreSQL and a live server.
        .target(
            name: "TestSupport",
            dependencies: [
                "EWMatchService", "LineServer", "PostgresStore", "MatchCore", "MatchingEngine", "CommandProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        // LineServer alone, with a small responder of its own: no database.
        .testTarget(
            name: "TransportTests",
            dependencies: [
                "LineServer", "CommandProtocol", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: [
                "PostgresStore", "EmbeddedPostgres", "MatchCore", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LineServerTests",
            dependencies: [
                "LineServer", "PostgresStore", "MatchCore", "MatchingEngine", "CommandProtocol", "EmbeddedPostgres", "TestSupport",
                "EWMatchService",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ewmatchTests", dependencies: ["ewmatch", "TestSupport", "MatchCore", "PostgresStore"], swiftSettings: swiftSettings),
    ]
)
