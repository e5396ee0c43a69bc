// swift-tools-version: 6.1
// fcollapse: numerical checks of the theory of "Feature Collapse" (Laurent, von Brecht, Bresson, ICLR 2024).
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]
let docs = ["README.md"]

let package = Package(
    name: "fcollapse",
    products: [
        .executable(name: "fcollapse", targets: ["FCollapseCLI"]),
        .executable(name: "fcollapse-bench", targets: ["FCollapseBench"]),
        .library(name: "TaskModel", targets: ["TaskModel"]),
        .library(name: "ExperimentSpec", targets: ["ExperimentSpec"]),
        .library(name: "LimitTheory", targets: ["LimitTheory"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Comparison", targets: ["Comparison"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    ],
    targets: [
        // Internal C shim: GSL headers (whose gsl_cblas.h also declares the CBLAS API) linked
        // against OpenBLAS, which is listed first so that its cblas_* symbols win over libgslcblas.
        .target(
            name: "CGSLBridge",
            linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("gsl"), .linkedLibrary("m")]
        ),
        // Internal C kernels of the single-precision full-batch risk (AVX2 + FMA chosen at run time).
        .target(name: "CRiskKernels", exclude: docs),
        .target(name: "GSLBridge", dependencies: ["CGSLBridge"], exclude: docs, swiftSettings: strict),
        .target(name: "ArrayIO", exclude: docs, swiftSettings: strict),
        .target(name: "Notebooks", dependencies: ["ArrayIO"], exclude: docs, swiftSettings: strict),
        .target(name: "TaskModel", dependencies: ["GSLBridge"], exclude: docs, swiftSettings: strict),
        .target(name: "ExperimentSpec", dependencies: ["TaskModel", "GSLBridge"], exclude: docs, swiftSettings: strict),
        .target(
            name: "LimitTheory", dependencies: ["GSLBridge", "TaskModel", "ExperimentSpec"], exclude: docs,
            swiftSettings: strict),
        .target(
            name: "Training", dependencies: ["CRiskKernels", "GSLBridge", "TaskModel", "ExperimentSpec", "ArrayIO"], exclude: docs,
            swiftSettings: strict),
        .target(
            name: "Comparison",
            dependencies: ["GSLBridge", "TaskModel", "ExperimentSpec", "ArrayIO", "LimitTheory", "Training"],
            exclude: docs, swiftSettings: strict
        ),
        .executableTarget(
            name: "FCollapseCLI",
            dependencies: [
                "GSLBridge", "TaskModel", "ExperimentSpec", "ArrayIO", "LimitTheory", "Training", "Comparison",
                "Notebooks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: docs, swiftSettings: strict
        ),
        .executableTarget(
            name: "FCollapseBench",
            dependencies: [
                "GSLBridge", "TaskModel", "ExperimentSpec", "LimitTheory", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: docs, swiftSettings: strict
        ),
        .testTarget(name: "GSLBridgeTests", dependencies: ["GSLBridge"], swiftSettings: strict),
        .testTarget(name: "TaskModelTests", dependencies: ["TaskModel", "GSLBridge"], swiftSettings: strict),
        .testTarget(name: "ExperimentSpecTests", dependencies: ["ExperimentSpec", "TaskModel", "ArrayIO"], swiftSettings: strict),
        .testTarget(
            name: "LimitTheoryTests",
            dependencies: ["LimitTheory", "ExperimentSpec", "TaskModel", "GSLBridge"], swiftSettings: strict),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Training", "CRiskKernels", "ExperimentSpec", "TaskModel", "GSLBridge", "ArrayIO"], swiftSettings: strict),
        .testTarget(
            name: "ComparisonTests",
            dependencies: ["Comparison", "LimitTheory", "Training", "ExperimentSpec", "TaskModel", "GSLBridge", "ArrayIO"],
            swiftSettings: strict),
        // Runs the built `fcollapse` binary (a sibling of the test bundle) as a user would.
        .testTarget(name: "CLITests", dependencies: ["ArrayIO"], swiftSettings: strict),
        .testTarget(name: "NotebooksTests", dependencies: ["Notebooks"], swiftSettings: strict),
        .testTarget(
            name: "PropertyTests",
            dependencies: [
                "LimitTheory", "Training", "Comparison", "ExperimentSpec", "TaskModel", "GSLBridge",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: docs, swiftSettings: strict),
    ]
)
