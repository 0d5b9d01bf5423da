// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "qmp-probe",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "QMP", targets: ["QMP"]),
        .library(name: "Prober", targets: ["Prober"]),
        .executable(name: "qmp-probe", targets: ["qmp-probe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CJSONC",
            pkgConfig: "json-c",
            providers: [.apt(["libjson-c-dev"])]
        ),
        .target(name: "QMPJSON", dependencies: ["CJSONC", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .target(
            name: "QMP",
            dependencies: [
                "QMPJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CSpawn"),
        .target(
            name: "Prober",
            dependencies: ["QMP", "CSpawn", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "qmp-probe",
            dependencies: [
                "QMP", "Prober",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(name: "QMPFuzzing", dependencies: ["QMP"]),
        .executableTarget(
            name: "qmp-fuzz",
            dependencies: ["QMP", "QMPFuzzing"]
        ),
        .target(name: "FaultInjection", dependencies: ["QMP"], path: "Tests/FaultInjection"),
        .testTarget(name: "QMPTests", dependencies: ["QMP", "QMPFuzzing", "FaultInjection"], exclude: ["FuzzRegressions", "FuzzSeeds"]),
        .testTarget(name: "LiveQEMUTests", dependencies: ["QMP", "Prober", "FaultInjection"]),
        .testTarget(name: "ProberTests", dependencies: ["Prober", "QMP", "FaultInjection"],
                    exclude: ["Expectations"]),
    ],
    swiftLanguageModes: [.v6]
)
