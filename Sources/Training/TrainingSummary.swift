import ExperimentSpec
import Foundation
import GSLBridge

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
    /// "sgd" or "full-batch".
    public var optimizer: String
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

    public init(name: String?, optimizer: String, epochs: Int, trainLoss: Double, trainAccuracy: Double,
                testAccuracy: Double, seconds: Double, svW: [Double], svU: [Double],
                objective: Double? = nil, gradientNorm: Double? = nil, stopReason: String? = nil) {
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

/// PCA singular values as the reference reports them.
public enum PCA {
    /// The top `count` singular values of the centred `rows` x `cols` matrix (row-major), from the
    /// eigenvalues of its cols x cols scatter matrix (computed in double).
    public static func singularValues(_ a: [Float], rows: Int, cols: Int, count: Int = 3) -> [Double] {
        precondition(a.count == rows * cols && rows > 0)
        var mean = [Double](repeating: 0, count: cols)
        for r in 0..<rows { for c in 0..<cols { mean[c] += Double(a[r * cols + c]) } }
        for c in 0..<cols { mean[c] /= Double(rows) }
        var centred = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows { for c in 0..<cols { centred[r * cols + c] = Double(a[r * cols + c]) - mean[c] } }
        var scatter = [Double](repeating: 0, count: cols * cols)
        BLAS.dgemm(transA: true, transB: false, m: cols, n: cols, k: rows, alpha: 1, a: centred, lda: cols,
                   b: centred, ldb: cols, beta: 0, c: &scatter, ldc: cols)
        guard let e = try? LinearAlgebra.symmetricEigen(Matrix(rows: cols, cols: cols, data: scatter)) else {
            return [Double](repeating: .nan, count: count)
        }
        let vals = e.values.reversed().map { max($0, 0).squareRoot() }
        return Array(vals.prefix(count))
    }

    /// σ(W): word vectors after ψ. σ(U): the K·L blocks u_{k,ℓ} as rows of a (K·L) x d matrix.
    public static func summary(_ p: Parameters, network: Network) -> (svW: [Double], svU: [Double]) {
        let psi = network.features(p)
        return (singularValues(psi, rows: p.nw, cols: p.d), singularValues(p.U, rows: p.K * p.L, cols: p.d))
    }
}
