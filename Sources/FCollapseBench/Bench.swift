import ArgumentParser

/// Benchmarks: each prints its figures and the command that produced them, for BENCHMARKS.md.
/// Run with a release build: `swift run -c release fcollapse-bench <name>`.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fcollapse-bench",
        abstract: "Benchmarks of the fcollapse toolkit (results go to BENCHMARKS.md).",
        subcommands: [SgemmBench.self, PredictBench.self, EpochBench.self, FullBatchBench.self]
    )
}

/// Median of a sample.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}
