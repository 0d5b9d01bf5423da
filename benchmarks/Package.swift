// swift-tools-version:6.0
// The benchmark executables, kept out of the library's manifest (as postgres-nio keeps its benchmarks): they depend
// on the project by path. Build one with `swift build --package-path benchmarks -c release --product NAME`.
import PackageDescription

let package = Package(
    name: "qmp-probe-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "qmp-probe", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "qmp-bench",
            dependencies: [.product(name: "QMP", package: "qmp-probe")],
            path: "qmp-bench"
        ),
        .executableTarget(
            name: "qmp-load-bench",
            dependencies: [.product(name: "QMP", package: "qmp-probe")],
            path: "load-bench"
        ),
        .executableTarget(
            name: "baseline-bench",
            dependencies: [.product(name: "Prober", package: "qmp-probe"), .product(name: "QMP", package: "qmp-probe")],
            path: "baseline-bench"
        ),
    ],
    swiftLanguageModes: [.v6]
)
