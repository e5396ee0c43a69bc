import ArgumentParser
import ArrayIO
import ExperimentSpec
import Foundation
import LimitTheory

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Minimise the exact limit risk R(W, U) over all parameters and compare with the prediction.",
        discussion: """
            Enumerates every word tuple of every class (small instances only: larger ones are refused), \
            minimises R from N random starts with gsl_multimin BFGS2, and sets the best minimiser against \
            `fcollapse predict`: objective, within-concept ratio, direction residual, word norms by rank.
            """
    )

    @OptionGroup var source: SpecSource
    @Option(help: "Random starts for the exact minimisation.") var starts = 5
    @Flag(help: "Print JSON instead of a summary.") var json = false
    @Option(help: "Also write the JSON to this file (atomically).") var output: String?

    func run() throws {
        let spec = try source.load()
        let r = try verify(spec: spec, starts: starts, progress: { printError("verify: \($0)") })
        if let output { try AtomicFile.writeJSON(r, to: output) }
        if json {
            print(try JSONOutput.string(r), terminator: "")
            return
        }
        print("exact R minimum     \(format(r.bestObjective)) (starts: \(r.starts.map(format).joined(separator: ", ")))")
        print(
            "predicted objective \(format(r.predictedObjective)) [\(r.prediction.method)\(r.prediction.exact ? "" : ", approximation")], gap \(format(r.gap))"
        )
        print("cross-entropy       \(format(r.bestCrossEntropy)) (predicted \(format(r.predictedCrossEntropy)))")
        print("within-concept ratio \(format(r.withinConceptRatio)), direction residual \(format(r.directionResidual))")
        print("word norms by rank  \(r.wordNorms.map(format).joined(separator: ", "))")
        print("predicted           \(r.predictedWordNorms.map(format).joined(separator: ", "))")
        print("classifier RMS norm \(format(r.classifierNorm)) (predicted \(format(r.prediction.classifierNorm)))")
    }
}
