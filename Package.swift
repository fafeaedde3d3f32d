// swift-tools-version: 6.0
import PackageDescription

import Foundation

// Every module is built with the compiler's checks on (overflow, bounds,
// exclusivity): the readers index with values from files and flags, and a
// bug there must trap rather than become undefined behaviour. Unchecked
// arithmetic was measured not to earn its place (README, "Results").
// On x86-64 the release build targets Haswell-class CPUs (AVX2 + FMA, every
// x86 laptop and server since about 2015); set DISSECT_PORTABLE=1 to build
// for any x86-64.
#if arch(x86_64)
let cpuFlags = ProcessInfo.processInfo.environment["DISSECT_PORTABLE"] == "1" ? [] : ["-target-cpu", "haswell"]
#else
let cpuFlags: [String] = []
#endif
let kernelSettings: [SwiftSetting] = cpuFlags.isEmpty ? [] : [
    .unsafeFlags(cpuFlags, .when(configuration: .release)),
]

let package = Package(
    name: "dissect",
    products: [
        .executable(name: "dissect", targets: ["dissect"]),
        .library(name: "DissectKit", targets: ["DissectCore", "DissectCorpus", "DissectModel", "DissectAnalysis", "DissectReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "DissectCore", dependencies: ["COpenBLAS"], swiftSettings: kernelSettings),
        .target(name: "DissectCorpus", dependencies: ["DissectCore"], swiftSettings: kernelSettings),
        .target(name: "DissectModel", dependencies: ["DissectCore", "DissectCorpus"], swiftSettings: kernelSettings),
        .target(name: "DissectAnalysis", dependencies: ["DissectModel", "DissectCorpus"], swiftSettings: kernelSettings),
        .target(name: "DissectReport", dependencies: ["DissectCore", "DissectAnalysis"], swiftSettings: kernelSettings),
        .executableTarget(
            name: "dissect",
            dependencies: [
                "DissectModel",
                "DissectAnalysis",
                "DissectReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DissectCoreTests", dependencies: ["DissectCore"]),
        .testTarget(
            name: "DissectCorpusTests",
            dependencies: ["DissectCorpus"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "DissectModelTests",
            dependencies: ["DissectModel"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "DissectCLITests", dependencies: ["DissectModel"]),
        .testTarget(name: "DissectReportTests", dependencies: ["DissectReport"]),
        .testTarget(
            name: "DissectAnalysisTests",
            dependencies: ["DissectAnalysis"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
