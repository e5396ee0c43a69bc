import ArgumentParser
import ArrayIO
import ExperimentSpec
import Foundation
import LimitTheory

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "What the large-sample limit predicts: norms, geometry and objective at the minimiser.",
        discussion: """
            Full latent space: the closed form of the regime (type I g, type II J, LayerNorm h or J_ε).
            Given latent variables: the collapse-restricted problem R_c (uniform μ, or LayerNorm with ε = 0), \
            or the type-II family with a sampled β-expectation (non-uniform μ; LayerNorm with ε > 0, where \
            the idealised R_c prediction is listed under "related"). The sampled family uses the pooled estimator \
            by default (every rank uses every sampled position) and reports a Monte Carlo standard error per rank \
            (word_norms_se in the JSON).

            --finite-sample adds SPEC 6's leading 1/N coefficients (predicted E[metric] ≈ coefficient / N, \
            N = K·n_spl): exactly on small instances, through the decoupled blocks at a collapsed θ* otherwise.
            """
    )

    @OptionGroup var source: SpecSource
    @Option(help: "Starts for the non-convex restricted problem.") var starts = defaultPredictStarts
    @Option(
        help:
            "β-samples per class for the sampled type-II family (default: about 64,000 sentences in all for the pooled estimator, 8000 for the plain one)."
    ) var samples: Int?
    @Option(
        help:
            "Estimator of the sampled type-II family: pooled (every rank uses every sample; per-rank standard errors) or plain (BFGS on the sample objective)."
    )
    var estimator: String = SampledEstimator.pooled.rawValue
    @Option(help: "Independent replicates for the pooled estimator's per-rank standard errors.") var replicates = 10
    @Flag(help: "Include the classifier U (K x L·d) of the restricted minimiser in the JSON.") var withClassifier = false
    @Flag(help: "Also compute P6's finite-sample coefficients (SPEC 6): E[metric] ≈ coefficient/N, N = K·n_spl.") var finiteSample = false
    @Flag(help: "Print JSON instead of a summary.") var json = false
    @Option(help: "Also write the JSON to this file (atomically).") var output: String?

    func run() throws {
        let spec = try source.load()
        var options = PredictOptions()
        options.samplesPerClass = samples
        guard let est = SampledEstimator(rawValue: estimator) else {
            throw ValidationError("unknown estimator '\(estimator)' (pooled, plain)")
        }
        options.sampledEstimator = est
        options.replicates = replicates
        options.includeClassifier = withClassifier
        let t0 = Date()
        options.progress = { printError(String(format: "predict [%.1f s]: ", Date().timeIntervalSince(t0)) + $0) }
        if finiteSample { options.includeClassifier = true }
        var p = try predict(spec: spec, starts: starts, options: options)
        if finiteSample {
            let fs = try finiteSampleCoefficients(spec: spec, prediction: p, starts: max(starts, 1), progress: options.progress)
            if !withClassifier { p.classifier = nil }
            let seconds = Date().timeIntervalSince(t0)
            let both = PredictionWithFiniteSample(prediction: p, finiteSample: fs)
            if let output { try AtomicFile.writeJSON(both, to: output) }
            if json {
                print(try JSONOutput.string(both), terminator: "")
                return
            }
            print(summary(p, spec: spec))
            print(finiteSampleSummary(fs, spec: spec, classes: p.classes).joined(separator: "\n"))
            print(String(format: "(%.2f s)", seconds))
            return
        }
        let seconds = Date().timeIntervalSince(t0)
        if let output { try AtomicFile.writeJSON(p, to: output) }
        if json {
            print(try JSONOutput.string(p), terminator: "")
            return
        }
        print(summary(p, spec: spec))
        print(String(format: "(%.2f s)", seconds))
    }
}

func format(_ v: Double) -> String { String(format: "%.6g", v) }

func summary(_ p: Prediction, spec: Spec, indent: String = "") -> String {
    var lines: [String] = []
    lines.append(
        "\(indent)regime \(p.regime), method \(p.method)\(p.exact ? "" : " (approximation)")"
            + (p.layerNormEps.map { ", layer_norm_eps \(format($0))" } ?? "") + ", K = \(format(p.classes))")
    lines.append("\(indent)  objective      \(format(p.objective))")
    lines.append("\(indent)  cross-entropy  \(format(p.crossEntropy))" + (p.crossEntropyStandardError.map { " ± \(format($0))" } ?? ""))
    lines.append(
        "\(indent)  trivial        \(p.trivial)"
            + (p.thresholdStatistic.map { s in
                " (threshold statistic \(format(s)) vs limit \(format(p.thresholdLimit ?? .nan)))"
            } ?? ""))
    if let a = p.a { lines.append("\(indent)  word norm a    \(format(a))") }
    let wn = p.wordNorms
    if let f = wn.first, let l = wn.last {
        lines.append("\(indent)  feature norms  rank 0: \(format(f)), rank \(wn.count - 1): \(format(l)), RMS \(format(p.rmsWordNorm))")
    }
    if let se = p.wordNormsStandardError, let f = se.first, let l = se.last {
        let rel = zip(se, wn).map { $1 > 0 ? $0 / $1 : 0 }.max() ?? 0
        lines.append(
            "\(indent)  norms' SE      rank 0: ± \(format(f)), rank \(se.count - 1): ± \(format(l)), largest relative \(String(format: "%.3g", 100 * rel))% (Monte Carlo, per rank)"
        )
    }
    if let rho = p.rho, !rho.isEmpty, p.a == nil {
        lines.append("\(indent)  Σ‖w‖²          \(format(Double(spec.nc) * rho.reduce(0) { $0 + $1 * $1 }))")
    }
    lines.append("\(indent)  classifier     RMS ‖u_kℓ‖ = \(format(p.classifierNorm))")
    let cos = p.conceptGram.indices.flatMap { i in
        (0..<i).map { j in
            p.conceptGram[i][j] / (p.conceptGram[i][i] * p.conceptGram[j][j]).squareRoot()
        }
    }
    lines.append(
        "\(indent)  concept cosines \(cos.map { $0.isFinite ? String(format: "%.4f", $0) : "undefined (zero vectors)" }.joined(separator: ", "))"
    )
    if p.starts.count > 1 { lines.append("\(indent)  starts         \(p.starts.map(format).joined(separator: ", "))") }
    if p.duplicateClasses > 0 { lines.append("\(indent)  duplicates     \(p.duplicateClasses) classes repeat a latent variable") }
    for n in p.notes { lines.append("\(indent)  note: \(n)") }
    for r in p.related {
        lines.append("\(indent)  related:")
        lines.append(summary(r, spec: spec, indent: indent + "    "))
    }
    return lines.joined(separator: "\n")
}
