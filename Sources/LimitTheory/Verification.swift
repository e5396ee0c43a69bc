import Foundation
import ExperimentSpec
import GSLBridge
import TaskModel

/// Collapse metrics of a set of word features (after ψ), SPEC section 5.
public struct ConfigurationMetrics: Codable, Sendable, Equatable {
    /// Σ‖w − mean_concept‖² / Σ‖w − mean_all‖² (unweighted over words, after centring on the global mean).
    public var withinConceptRatio: Double
    /// Mean over words of 1 − cos(w, mean of its concept), after centring on the global mean.
    public var directionResidual: Double
    /// Mean feature norm (uncentred) per rank β, averaged over the concepts.
    public var wordNorms: [Double]
    /// Gram matrix of the concept means (uncentred).
    public var conceptGram: [[Double]]

    enum CodingKeys: String, CodingKey {
        case withinConceptRatio = "within_concept_ratio"
        case directionResidual = "direction_residual"
        case wordNorms = "word_norms"
        case conceptGram = "concept_gram"
    }

    /// `features`: n_c·s_c rows (word (α, β) at α·s_c + β).
    public init(features: [[Double]], concepts nc: Int) {
        let nw = features.count, sc = nw / nc, d = features.first?.count ?? 0
        var all = [Double](repeating: 0, count: d)
        for f in features { for e in 0..<d { all[e] += f[e] / Double(nw) } }
        var means = [[Double]](repeating: [Double](repeating: 0, count: d), count: nc)
        for (w, f) in features.enumerated() { for e in 0..<d { means[w / sc][e] += f[e] / Double(sc) } }
        var within = 0.0, total = 0.0, residual = 0.0
        for (w, f) in features.enumerated() {
            let m = means[w / sc]
            var dot = 0.0, nf = 0.0, nm = 0.0
            for e in 0..<d {
                within += (f[e] - m[e]) * (f[e] - m[e])
                total += (f[e] - all[e]) * (f[e] - all[e])
                let fc = f[e] - all[e], mc = m[e] - all[e]
                dot += fc * mc; nf += fc * fc; nm += mc * mc
            }
            residual += nf > 0 && nm > 0 ? 1 - dot / (nf * nm).squareRoot() : 1
        }
        withinConceptRatio = total > 0 ? within / total : 0
        // 1 − cos ≥ 0; rounding can leave −1e-17 at an exactly collapsed configuration.
        directionResidual = max(0, residual / Double(nw))
        wordNorms = (0..<sc).map { b in
            (0..<nc).reduce(0.0) { acc, a in acc + features[a * sc + b].reduce(0) { $0 + $1 * $1 }.squareRoot() } / Double(nc)
        }
        conceptGram = means.map { u in means.map { v in zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } } }
    }
}

/// The exact limit risk minimised over all of (W, U), set against the prediction.
public struct VerifyResult: Codable, Sendable {
    /// min over starts of the exact R.
    public var bestObjective: Double
    public var predictedObjective: Double
    /// best − predicted (≥ 0 up to tolerance when the prediction is exact; negative when an approximation
    /// such as the type-II family is beaten by the unrestricted minimiser).
    public var gap: Double
    public var bestCrossEntropy: Double
    public var predictedCrossEntropy: Double
    public var withinConceptRatio: Double
    public var directionResidual: Double
    /// Measured mean feature norm by rank β at the best minimiser, and the predicted ones.
    public var wordNorms: [Double]
    public var predictedWordNorms: [Double]
    /// RMS of ‖u_{k,ℓ}‖ at the best minimiser.
    public var classifierNorm: Double
    public var conceptGram: [[Double]]
    /// Exact R reached from each start.
    public var starts: [Double]
    /// Whether each start passed the gradient test (‖∇R‖ < 1e-9); BFGS2 often stops earlier on "no progress in the
    /// line search" at a minimum, so read it with `gradient_norms`.
    public var converged: [Bool]
    /// ‖∇R‖ where each start stopped.
    public var gradientNorms: [Double]
    public var prediction: Prediction

    enum CodingKeys: String, CodingKey {
        case gap, starts, converged, prediction
        case gradientNorms = "gradient_norms"
        case bestObjective = "best_objective"
        case predictedObjective = "predicted_objective"
        case bestCrossEntropy = "best_cross_entropy"
        case predictedCrossEntropy = "predicted_cross_entropy"
        case withinConceptRatio = "within_concept_ratio"
        case directionResidual = "direction_residual"
        case wordNorms = "word_norms"
        case predictedWordNorms = "predicted_word_norms"
        case classifierNorm = "classifier_norm"
        case conceptGram = "concept_gram"
    }
}

/// Minimises the exact limit risk R(W, U) of the spec (enumerating every word tuple; small instances only:
/// refused with an error naming the size otherwise) from `starts` random starts with gsl_multimin BFGS2,
/// and sets the best minimiser against ``predict(spec:starts:options:)``.
public func verify(spec: Spec, starts: Int = 5, progress: (@Sendable (String) -> Void)? = nil) throws -> VerifyResult {
    try spec.validate()
    guard starts >= 1 else { throw LimitTheoryError("starts must be at least 1 (got \(starts))") }
    if case .full = spec.latent, (spec.fullLatentSpace.count ?? Int.max) > 100_000 {
        throw LimitTheoryError("the full latent space has n_c^L = \(spec.nc)^\(spec.L) classes: too large to enumerate for verify")
    }
    let z = spec.latentVariables()
    let risk = try ExactRisk(latents: z, mu: spec.mu, d: spec.d, lambdaW: spec.weightDecayW, lambdaU: spec.weightDecayU,
                             layerNorm: spec.layerNorm, eps: spec.layerNormEps)
    var options = PredictOptions()
    options.progress = progress
    let prediction = try predict(spec: spec, starts: max(starts, 1), options: options)
    let rng = RandomGenerator(seed: spec.seed(for: .verify))
    let xs = (0..<starts).map { _ in risk.randomStart(rng) }
    progress?("minimising the exact R (\(risk.parameterCount) variables, \(risk.tupleCount) word tuples per class) from \(starts) start(s)")
    let sols = try risk.minimise(starts: xs, progress: progress.map { p in { @Sendable i, v in p("start \(i): R = \(v)") } })
    let best = sols.min { $0.value < $1.value }!
    let metrics = ConfigurationMetrics(features: risk.features(best.x), concepts: spec.nc)
    let blocks = risk.classifierBlocks(best.x)
    let rmsU = (blocks.reduce(0.0) { $0 + $1.reduce(0) { $0 + $1 * $1 } } / Double(blocks.count)).squareRoot()
    return VerifyResult(bestObjective: best.value, predictedObjective: prediction.objective, gap: best.value - prediction.objective,
                        bestCrossEntropy: best.crossEntropy, predictedCrossEntropy: prediction.crossEntropy,
                        withinConceptRatio: metrics.withinConceptRatio, directionResidual: metrics.directionResidual,
                        wordNorms: metrics.wordNorms, predictedWordNorms: prediction.wordNorms, classifierNorm: rmsU,
                        conceptGram: metrics.conceptGram, starts: sols.map(\.value), converged: sols.map(\.converged),
                        gradientNorms: sols.map(\.gradientNorm), prediction: prediction)
}
