// swift-tools-version: 6.0
import PackageDescription

import Foundation

// Every module that reads or validates input (files, flags, JSON) is built
// with the compiler's checks on (overflow, bounds, exclusivity), so a bug in a
// reader traps instead of becoming undefined behaviour. Only DissectKernels,
// the numeric loops that take raw buffers and sizes their callers have
// validated, is built with -Ounchecked in release builds: measured side by
// side, checked kernels cost about 13% of the training time (README, "Results").
// On x86-64 the release build targets Haswell-class CPUs (AVX2 + FMA, every
// x86 laptop and server since about 2015); set DISSECT_PORTABLE=1 to build
// for any x86-64.
#if arch(x86_64)
let cpuFlags = ProcessInfo.processInfo.environment["DISSECT_PORTABLE"] == "1" ? [] : ["-target-cpu", "haswell"]
#else
let cpuFlags: [String] = []
#endif
let checkedSettings: [SwiftSetting] = cpuFlags.isEmpty ? [] : [
    .unsafeFlags(cpuFlags, .when(configuration: .release)),
]
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"] + cpuFlags, .when(configuration: .release)),
]

let package = Package(
    name: "dissect",
    products: [
        .executable(name: "dissect", targets: ["dissect"]),
        .library(name: "DissectKit", targets: ["DissectCore", "DissectKernels", "DissectCorpus", "DissectModel", "DissectAnalysis", "DissectStudy", "DissectReport"]),
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
        .target(name: "DissectCore", dependencies: ["COpenBLAS"], swiftSettings: checkedSettings),
        // AVX-512 twins of the widest kernels, chosen at run time (bit-identical results).
        .target(name: "CKernels"),
        .target(name: "DissectKernels", dependencies: ["DissectCore", "CKernels"], swiftSettings: kernelSettings),
        .target(name: "DissectCorpus", dependencies: ["DissectCore"], swiftSettings: checkedSettings),
        .target(name: "DissectModel", dependencies: ["DissectCore", "DissectKernels", "DissectCorpus"], swiftSettings: checkedSettings),
        .target(name: "DissectAnalysis", dependencies: ["DissectModel", "DissectKernels", "DissectCorpus"], swiftSettings: checkedSettings),
        .target(name: "DissectStudy", dependencies: ["DissectCore", "DissectCorpus", "DissectModel", "DissectAnalysis"], swiftSettings: checkedSettings),
        .target(name: "DissectReport", dependencies: ["DissectCore", "DissectAnalysis", "DissectStudy"], swiftSettings: checkedSettings),
        .executableTarget(
            name: "dissect",
            dependencies: [
                "DissectModel",
                "DissectAnalysis",
                "DissectStudy",
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
            dependencies: ["DissectModel", "DissectKernels", "CKernels"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "DissectCLITests", dependencies: ["DissectModel"]),
        .testTarget(name: "DissectStudyTests", dependencies: ["DissectStudy"]),
        .testTarget(name: "DissectReportTests", dependencies: ["DissectReport"]),
        .testTarget(
            name: "DissectAnalysisTests",
            dependencies: ["DissectAnalysis"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
