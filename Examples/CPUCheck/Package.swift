// swift-tools-version:6.0
// A consumer of the library, as another project would be: it depends on qmp-probe by path and uses only its public
// API. Run it from this folder with `swift run`, or from the repository with `swift run --package-path Examples/CPUCheck`.
import PackageDescription

let package = Package(
    name: "CPUCheck",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "qmp-probe", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "cpu-check-example",
            dependencies: [.product(name: "Prober", package: "qmp-probe"), .product(name: "QMP", package: "qmp-probe")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
