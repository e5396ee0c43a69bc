import Foundation
import ExperimentSpec
import GSLBridge
import Geometry
import TaskModel

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
    /// SPEC §5's within-concept ratio (`Geometry.WithinConceptVariability`, scatter ratio) of the features.
    public var withinConceptRatio: Double
    /// SPEC §5's direction residual (`Geometry.DirectionResidual`) of the features.
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
    let risk = try ExactRisk(
        latents: z, mu: spec.mu, d: spec.d, lambdaW: spec.weightDecayW, lambdaU: spec.weightDecayU,
        layerNorm: spec.layerNorm, eps: spec.layerNormEps)
    var options = PredictOptions()
    options.progress = progress
    let prediction = try predict(spec: spec, starts: max(starts, 1), options: options)
    let rng = RandomGenerator(seed: spec.seed(for: .verify))
    let xs = (0..<starts).map { _ in risk.randomStart(rng) }
    progress?("minimising the exact R (\(risk.parameterCount) variables, \(risk.tupleCount) word tuples per class) from \(starts) start(s)")
    let sols = try risk.minimise(starts: xs, progress: progress.map { p in { @Sendable i, v in p("start \(i): R = \(v)") } })
    let best = sols.min { $0.value < $1.value }!
    // SPEC §5's metrics, by their one definition in Geometry (the same functions `compare` and the sweep use).
    let features = Matrix(rows: spec.nw, cols: spec.d, data: risk.features(best.x).flatMap { $0 })
    let layout = try ConceptLayout(concepts: spec.nc, wordsPerConcept: spec.sc)
    let metrics = (
        withinConceptRatio: try WithinConceptVariability.compute(features, layout: layout).scatterRatio,
        directionResidual: try DirectionResidual.compute(features, layout: layout),
        wordNorms: try NormLaw.compute(features, layout: layout).measured,
        conceptGram: ConceptGeometry.gram(try ConceptMeans.compute(features, layout: layout, centring: .none))
    )
    let blocks = risk.classifierBlocks(best.x)
    let rmsU = (blocks.reduce(0.0) { $0 + $1.reduce(0) { $0 + $1 * $1 } } / Double(blocks.count)).squareRoot()
    return VerifyResult(
        bestObjective: best.value, predictedObjective: prediction.objective, gap: best.value - prediction.objective,
        bestCrossEntropy: best.crossEntropy, predictedCrossEntropy: prediction.crossEntropy,
        withinConceptRatio: metrics.withinConceptRatio, directionResidual: metrics.directionResidual,
        wordNorms: metrics.wordNorms, predictedWordNorms: prediction.wordNorms, classifierNorm: rmsU,
        conceptGram: (0..<spec.nc).map { Array(metrics.conceptGram.row($0)) }, starts: sols.map(\.value), converged: sols.map(\.converged),
        gradientNorms: sols.map(\.gradientNorm), prediction: prediction)
}
