import ExperimentSpec
import Foundation
import GSLBridge
import Geometry
import LimitTheory
import TaskModel
import Training

/// One trained network set against the limit-theory prediction for its spec.
public struct RunComparison: Codable, Sendable {
    public var name: String?
    public var regime: Regime
    public var nspl: Int
    /// The prediction's method ("closed-form", "restricted", "sampled", ...) and whether it is exact.
    public var predictionMethod: String
    public var predictionExact: Bool
    public var predictedObjective: Double
    /// The empirical objective of the trained network: mean cross-entropy over its training set plus
    /// the penalties, in double precision.
    public var empiricalObjective: Double
    public var empiricalCrossEntropy: Double
    public var trainAccuracy: Double
    public var metrics: CollapseMetrics
    /// Predicted feature norm per rank β, and the measured mean norm per rank.
    public var predictedWordNorms: [Double]
    public var measuredWordNorms: [Double]

    enum CodingKeys: String, CodingKey {
        case name, regime, nspl, metrics
        case predictionMethod = "prediction_method"
        case predictionExact = "prediction_exact"
        case predictedObjective = "predicted_objective"
        case empiricalObjective = "empirical_objective"
        case empiricalCrossEntropy = "empirical_cross_entropy"
        case trainAccuracy = "train_accuracy"
        case predictedWordNorms = "predicted_word_norms"
        case measuredWordNorms = "measured_word_norms"
    }
}

/// Comparing trained networks with predictions.
public enum Compare {
    /// The limit prediction used for comparisons: with the restricted classifier when there is one.
    public static func prediction(
        for spec: Spec, starts: Int = defaultPredictStarts,
        progress: (@Sendable (String) -> Void)? = nil
    ) throws -> Prediction {
        var o = PredictOptions()
        o.includeClassifier = true
        o.related = false
        o.progress = progress
        return try predict(spec: spec, starts: starts, options: o)
    }

    /// Word features after ψ as a matrix (n_w x d).
    public static func features(_ p: Parameters, spec: Spec) throws -> Matrix {
        let w = Matrix(rows: p.nw, cols: p.d, data: p.W.map(Double.init))
        return try LayerNorm.features(w, layerNorm: spec.layerNorm, epsilon: spec.layerNormEps)
    }

    /// Sets one network (trained on `spec`'s training set) against a prediction.
    public static func compare(spec: Spec, parameters p: Parameters, prediction: Prediction) throws -> RunComparison {
        let task = spec.task()
        let train = task.sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        let risk = EmpiricalRisk(spec: spec, sentences: train)
        let objective = risk.value(p.flattened)
        let words = try features(p, spec: spec)
        let u = Matrix(rows: p.K, cols: p.L * p.d, data: p.U.map(Double.init))
        let predicted = try PredictedConfiguration.from(prediction, spec: spec, latents: task.latents)
        let m = try CollapseMetrics.compute(
            words: words, classifier: u, latents: BlockLayout(task.latents), concepts: spec.nc,
            wordsPerConcept: spec.sc, layerNorm: spec.layerNorm, objective: objective,
            predicted: predicted)
        return RunComparison(
            name: spec.name, regime: spec.regime, nspl: spec.nspl, predictionMethod: prediction.method,
            predictionExact: prediction.exact, predictedObjective: prediction.objective, empiricalObjective: objective,
            empiricalCrossEntropy: risk.lastCrossEntropy, trainAccuracy: risk.lastAccuracy, metrics: m,
            predictedWordNorms: prediction.wordNorms, measuredWordNorms: m.normLaw.measured)
    }

    /// Network parameters at the predicted configuration, to start a full-batch minimisation from:
    /// W from the predicted features (rescaled to the predicted pre-LayerNorm norms ρ_β when the
    /// prediction has them and LayerNorm is on) and U the predicted classifier. Nil when the
    /// prediction has no configuration (or is trivial).
    public static func parameters(at prediction: Prediction, spec: Spec, latents: LatentVariables) throws -> Parameters? {
        let pc = try PredictedConfiguration.from(prediction, spec: spec, latents: latents)
        guard var words = pc.words, let u = pc.classifier else { return nil }
        if spec.layerNorm, let rho = prediction.rho, rho.count == spec.sc {
            for i in 0..<words.rows {
                let n = words.row(i).reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard n > 0 else { continue }
                let scale = rho[i % spec.sc] / n
                for j in 0..<words.cols { words[i, j] *= scale }
            }
        }
        return Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, W: words.data.map(Float.init), U: u.data.map(Float.init))
    }
}
