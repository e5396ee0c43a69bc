import ArgumentParser
import ArrayIO
import ExperimentSpec
import Experiments
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

            With --finite-sample, checks SPEC 6 (P6) by simulation instead: at θ* (the exact minimiser, Newton-polished) \
            the coefficients of the expected within-concept ratio and objective gap, then --sets training sets of each \
            size in --nspl, each minimised exactly from θ* (BFGS2 on the empirical objective of its word-tuple counts), \
            and per size the mean ± standard error against coefficient/N, the smallest eigenvalue of the empirical \
            Hessian at θ* modulo the orbit, and the verdict of the report's P6 check (sizes ≥ --judged-from are judged; \
            the largest size below calibrates the next term of the expansion).
            """
    )

    @OptionGroup var source: SpecSource
    @Option(help: "Random starts for the exact minimisation.") var starts = 5
    @Flag(help: "Print JSON instead of a summary.") var json = false
    @Option(help: "Also write the JSON to this file (atomically).") var output: String?
    @Flag(help: "Check P6 (SPEC 6) by simulating training sets and minimising each exactly.") var finiteSample = false
    @Option(help: "With --finite-sample: training sentences per class, comma-separated.") var nspl = "10,40,160,640"
    @Option(help: "With --finite-sample: training sets per size.") var sets = 40
    @Option(help: "With --finite-sample: n₀, the first judged size.") var judgedFrom = 40
    @Option(help: "With --finite-sample: seed of the training sets.") var seed: UInt64 = 0
    @Option(
        help:
            "With --finite-sample: stop each minimisation after this many BFGS iterations from a random start instead (a negative control: not a minimiser)."
    )
    var stoppedEarly: Int?

    func run() throws {
        let spec = try source.load()
        if finiteSample { return try runFiniteSample(spec) }
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

    func runFiniteSample(_ spec: Spec) throws {
        let sizes = try nspl.split(separator: ",").map { part -> Int in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--nspl: '\(part)' is not an integer (expected e.g. 10,40,160,640)")
            }
            return v
        }
        let plan = try FiniteSamplePlan(nspl: sizes, sets: sets, judgedFrom: judgedFrom, seed: seed)
        let how = stoppedEarly.map { EmpiricalMinimisation.stoppedEarly(iterations: $0) }
        let study = try FiniteSampleStudy.run(spec: spec, plan: plan, how: how, progress: { printError("verify: \($0)") })
        if let output { try AtomicFile.writeJSON(study, to: output) }
        if json {
            print(try JSONOutput.string(study), terminator: "")
            return
        }
        let c = study.coefficients
        print(
            "P6 coefficients (\(c.method)): ratio \(c.withinConceptRatioCoefficient.map(format) ?? "none"), gap \(c.objectiveGapCoefficient.map(format) ?? "none"); null space \(c.nullSpaceDimension.map(String.init) ?? "?") (orbit \(c.expectedNullSpaceDimension.map(String.init) ?? "?")); smallest normal eigenvalue of H \(c.smallestNormalEigenvalue.map(format) ?? "?")"
        )
        print("θ_n: \(study.minimisation); \(plan.sets) training sets per size")
        print("n_spl  N       ratio mean ± se        predicted   gap mean ± se          predicted   λ_min(Ĥ_n) (PD sets)  max ‖∇‖")
        for r in study.rows {
            func cell(_ s: FiniteSampleStudy.Summary) -> String {
                String(format: "%10.4g ± %-9.2g %10@", s.mean, s.se, s.predicted.map { String(format: "%.4g", $0) } ?? "-")
            }
            print(
                String(
                    format: "%-6d %-7d %@  %@  %10.3g (%d/%d)  %.1e", r.nspl, r.sentences, cell(r.withinConceptRatio), cell(r.objectiveGap),
                    r.smallestEmpiricalNormalEigenvalue, r.positiveDefiniteSets, r.sets, r.worstGradientNorm))
        }
        let v = study.judge()
        print("criterion: \(study.criterion)")
        print("measured: \(v.measured)")
        print("P6 \(v.holds ? "holds" : "does not hold")\(v.failures.isEmpty ? "" : ": " + v.failures.joined(separator: "; "))")
    }
}
