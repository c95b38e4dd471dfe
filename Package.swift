// swift-tools-version:6.0
import PackageDescription

/// Fault-injection hooks (MOORING_TEST_*) for the crash and concurrency tests: debug builds only, so a release
/// binary cannot be made to stop or stall by its environment.
let testHooks: [SwiftSetting] = [.define("MOORING_TEST_HOOKS", .when(configuration: .debug))]

let package = Package(
    name: "mooring",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mooring", targets: ["mooring"]),
        // For the fuzzing package in fuzz/, which links the decoder with -sanitize=fuzzer.
        .library(name: "MooringModel", targets: ["MooringModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // Prometheus's text format for the metrics (`--metrics-file`, `run --metrics-address`).
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, found with pkg-config.
        .systemLibrary(name: "CNetlink", path: "Sources/CNetlink", pkgConfig: "libnl-route-3.0",
                       providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),
        .systemLibrary(name: "CNftables", path: "Sources/CNftables", pkgConfig: "libnftables",
                       providers: [.apt(["libnftables-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSystemd", path: "Sources/CSystemd", pkgConfig: "libsystemd",
                       providers: [.apt(["libsystemd-dev"])]),
        // Reads the manifests' commit without running git: no hooks, fsmonitor or filter drivers (see GitInfo).
        .systemLibrary(name: "CGit2", path: "Sources/CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),

        // Pure core: manifests -> DesiredState, and the value types drivers fill in (ObservedState).
        // MooringModel composes documents from libyaml's events itself; see YAMLComposer.
        .target(name: "MooringModel", dependencies: ["CYAML"]),
        // The plan as data: changes, the actions drivers execute (unit specs, nftables tables), execution order.
        // The planner makes it, the drivers execute it, the reports render it; none of them needs another.
        .target(name: "MooringPlan", dependencies: ["MooringModel"]),
        // Pure core: DesiredState + ObservedState -> Plan.
        .target(name: "MooringPlanner", dependencies: ["MooringModel", "MooringPlan"]),
        // The plan for people and machines: text, JSON, status.
        .target(name: "MooringReports", dependencies: ["MooringModel", "MooringPlan", .product(name: "Prometheus", package: "swift-prometheus")]),
        // Thin drivers: observe and execute against the kernel, nftables and systemd. They read plans, never make them.
        .target(name: "MooringDrivers", dependencies: [
            "MooringModel", "MooringPlan", "CNetlink", "CNftables", "CSystemd",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: testHooks),
        // Orchestration: observe -> plan -> apply -> verify, locking, git metadata, the watch loop.
        .target(name: "MooringEngine", dependencies: [
            "MooringModel", "MooringPlan", "MooringPlanner", "MooringReports", "MooringDrivers", "CGit2",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: testHooks),
        // The commit a binary was built from (`mooring --version`), set by `make release` through the C compiler.
        .target(name: "CBuildInfo", path: "Sources/CBuildInfo"),
        // glibc's mallopt (malloc.h), which Swift's Glibc module leaves out: see MemoryAllocator.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .executableTarget(name: "mooring", dependencies: [
            "CBuildInfo", "CMalloc", "MooringModel", "MooringPlan", "MooringReports", "MooringDrivers", "MooringEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "MooringModelTests", dependencies: ["MooringModel"], exclude: ["Fixtures"]),
        .testTarget(name: "MooringPlannerTests", dependencies: ["MooringModel", "MooringPlan", "MooringPlanner", "MooringReports"]),
        .testTarget(name: "MooringIntegrationTests", dependencies: [
            "MooringModel", "MooringPlan", "MooringPlanner", "MooringReports", "MooringDrivers", "MooringEngine",
        ], swiftSettings: testHooks),
    ]
)
