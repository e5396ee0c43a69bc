// swift-tools-version: 6.1
// fcollapse: numerical checks of the theory of "Feature Collapse" (Laurent, von Brecht, Bresson, ICLR 2024).
//
// Modules, from the bottom up (each has a README saying what it is for); data flows one way:
// spec -> task -> {prediction, trained network} -> metrics -> experiments (sweep, tables, report).
//
//   CGSLBridge, CRiskKernels   internal C: GSL + OpenBLAS headers; the single-precision risk kernels
//   GSLBridge                  the door to GSL and CBLAS (random numbers, minimisers, dense linear algebra)
//   ArrayIO                    .npy, JSON and atomic file writes
//   TaskModel                  the data model of SPEC 1            <- GSLBridge
//   ExperimentSpec             the spec, presets, Regime, Optimizer <- TaskModel
//   Geometry                   LayerNorm psi, PCA, simplex frames, every metric of SPEC 5 <- GSLBridge
//   Plots                      SVG figures                          <- Geometry, ArrayIO
//   LimitTheory                the large-sample limit (SPEC 4, 6)   <- GSLBridge, TaskModel, ExperimentSpec, Geometry
//   Training                   finite networks (SPEC 2)             <- CRiskKernels, GSLBridge, TaskModel, ExperimentSpec, ArrayIO, Geometry
//   Comparison                 a trained network set against its prediction <- LimitTheory, Training, Geometry, ...
//   Experiments                run folders, sweeps, tables, the report <- Comparison, Plots, ...
//   Notebooks                  executable text notebooks            <- ArrayIO
//   FCollapseCLI, FCollapseBench  the `fcollapse` and `fcollapse-bench` commands (thin shells)
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
        .library(name: "Geometry", targets: ["Geometry"]),
        .library(name: "LimitTheory", targets: ["LimitTheory"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Comparison", targets: ["Comparison"]),
        .library(name: "Experiments", targets: ["Experiments"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0")
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
        .target(name: "TaskModel", dependencies: ["GSLBridge"], exclude: docs, swiftSettings: strict),
        .target(name: "ExperimentSpec", dependencies: ["TaskModel"], exclude: docs, swiftSettings: strict),
        .target(name: "Geometry", dependencies: ["GSLBridge"], exclude: docs, swiftSettings: strict),
        .target(name: "Plots", dependencies: ["Geometry", "ArrayIO"], exclude: docs, swiftSettings: strict),
        .target(
            name: "LimitTheory", dependencies: ["GSLBridge", "TaskModel", "ExperimentSpec", "Geometry"],
            exclude: docs, swiftSettings: strict),
        .target(
            name: "Training",
            dependencies: ["CRiskKernels", "GSLBridge", "TaskModel", "ExperimentSpec", "ArrayIO", "Geometry"],
            exclude: docs, swiftSettings: strict),
        .target(
            name: "Comparison",
            dependencies: ["GSLBridge", "TaskModel", "ExperimentSpec", "Geometry", "LimitTheory", "Training"],
            exclude: docs, swiftSettings: strict),
        .target(
            name: "Experiments",
            dependencies: [
                "GSLBridge", "TaskModel", "ExperimentSpec", "ArrayIO", "Geometry", "Plots", "LimitTheory", "Training",
                "Comparison"
            ],
            exclude: docs, swiftSettings: strict),
        .target(name: "Notebooks", dependencies: ["ArrayIO"], exclude: docs, swiftSettings: strict),
        .executableTarget(
            name: "FCollapseCLI",
            dependencies: [
                "GSLBridge", "TaskModel", "ExperimentSpec", "ArrayIO", "Geometry", "Plots", "LimitTheory", "Training",
                "Comparison", "Experiments", "Notebooks",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            exclude: docs, swiftSettings: strict),
        .executableTarget(
            name: "FCollapseBench",
            dependencies: [
                "GSLBridge", "TaskModel", "ExperimentSpec", "LimitTheory", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            exclude: docs, swiftSettings: strict),

        // Shared test helpers (fixtures with known geometry, random rotations built independently of
        // the code under test).
        .target(
            name: "TestSupport", dependencies: ["GSLBridge", "TaskModel", "Geometry"], path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(name: "GSLBridgeTests", dependencies: ["GSLBridge"], swiftSettings: strict),
        .testTarget(name: "ArrayIOTests", dependencies: ["ArrayIO"], swiftSettings: strict),
        .testTarget(name: "TaskModelTests", dependencies: ["TaskModel", "GSLBridge"], swiftSettings: strict),
        .testTarget(
            name: "ExperimentSpecTests", dependencies: ["ExperimentSpec", "TaskModel", "ArrayIO"],
            swiftSettings: strict),
        .testTarget(
            name: "GeometryTests", dependencies: ["Geometry", "GSLBridge", "TaskModel", "ArrayIO", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LimitTheoryTests",
            dependencies: ["LimitTheory", "ExperimentSpec", "TaskModel", "GSLBridge", "Geometry"], swiftSettings: strict),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "CRiskKernels", "ExperimentSpec", "TaskModel", "GSLBridge", "ArrayIO", "Geometry", "TestSupport"
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: [
                "Experiments", "Comparison", "Geometry", "Plots", "LimitTheory", "Training", "CRiskKernels", "ExperimentSpec", "TaskModel",
                "GSLBridge", "ArrayIO", "TestSupport"
            ],
            swiftSettings: strict),
        // Runs the built `fcollapse` binary (a sibling of the test bundle) as a user would.
        .testTarget(name: "CLITests", dependencies: ["ArrayIO"], swiftSettings: strict),
        .testTarget(name: "NotebooksTests", dependencies: ["Notebooks"], swiftSettings: strict),
        .testTarget(
            name: "PropertyTests",
            dependencies: [
                "LimitTheory", "Training", "CRiskKernels", "Comparison", "Geometry", "ExperimentSpec", "TaskModel", "GSLBridge",
                "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based")
            ],
            exclude: docs, swiftSettings: strict)
    ]
)
