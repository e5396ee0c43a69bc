import ExperimentSpec
import Foundation
import GSLBridge
import Geometry

/// One epoch of training as the reference prints it: running means of the minibatch loss and
/// accuracy, and the test accuracy at report epochs (nil otherwise).
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testAccuracy: Double?
    /// Seconds spent in this epoch (training and, at report epochs, the test pass).
    public var seconds: Double

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, testAccuracy: Double?, seconds: Double) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy; self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", testAccuracy = "test_accuracy"
    }
}

/// The summary of a run (the JSON of `fcollapse train --json`, also in metrics.json).
public struct TrainingSummary: Codable, Sendable, Equatable {
    public var name: String?
    public var optimizer: Optimizer
    /// Epochs done (SGD) or minimiser iterations (full batch).
    public var epochs: Int
    /// Last epoch's running train loss (SGD) or mean cross-entropy over the training set (full batch).
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testAccuracy: Double
    /// Training wall-clock seconds over all sessions of the run (resumes included).
    public var seconds: Double
    /// Top three PCA singular values of the n_w word vectors (after LayerNorm when on), centred.
    public var svW: [Double]
    /// Top three PCA singular values of the K·L classifier blocks u_{k,ℓ}, centred.
    public var svU: [Double]
    /// Full-batch only: the objective (mean CE + penalties), gradient norm and stop reason.
    public var objective: Double?
    public var gradientNorm: Double?
    public var stopReason: String?

    public init(
        name: String?, optimizer: Optimizer, epochs: Int, trainLoss: Double, trainAccuracy: Double,
        testAccuracy: Double, seconds: Double, svW: [Double], svU: [Double],
        objective: Double? = nil, gradientNorm: Double? = nil, stopReason: String? = nil
    ) {
        self.name = name; self.optimizer = optimizer; self.epochs = epochs; self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy; self.testAccuracy = testAccuracy; self.seconds = seconds
        self.svW = svW; self.svU = svU; self.objective = objective; self.gradientNorm = gradientNorm
        self.stopReason = stopReason
    }

    enum CodingKeys: String, CodingKey {
        case name, optimizer, epochs, seconds, objective
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", testAccuracy = "test_accuracy"
        case svW = "sv_W", svU = "sv_U", gradientNorm = "gradient_norm", stopReason = "stop_reason"
    }
}

/// What metrics.json holds: the summary and the per-epoch history.
public struct TrainingMetrics: Codable, Sendable, Equatable {
    public var summary: TrainingSummary
    public var history: [EpochRecord]
    public init(summary: TrainingSummary, history: [EpochRecord]) { self.summary = summary; self.history = history }
}

extension Parameters {
    /// σ(W) and σ(U) as the reference reports them (SPEC §3): the top three singular values of the
    /// centred word features (after ψ) and of the centred K·L classifier blocks, by the toolkit's one
    /// PCA (`Geometry.PCA`). NaN when the parameters are not finite (a diverged run).
    public func referenceSingularValues(network: Network) -> (svW: [Double], svU: [Double]) {
        func top3(_ values: [Float], rows: Int) -> [Double] {
            let m = Matrix(rows: rows, cols: d, data: values.map(Double.init))
            guard let pca = try? PCA.compute(m) else { return [Double](repeating: .nan, count: 3) }
            return Array(pca.singularValues.prefix(3))
        }
        return (top3(network.features(self), rows: nw), top3(U, rows: K * L))
    }
}
