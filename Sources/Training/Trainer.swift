import ExperimentSpec
import Foundation
import GSLBridge
import TaskModel

/// Progress events of a training run.
public enum TrainingProgress: Sendable {
    /// After each minibatch: epoch, minibatches done in it, minibatches per epoch.
    case minibatch(epoch: Int, done: Int, total: Int)
    /// After each epoch; `isReport` at epoch 1, every `spec.report` epochs and at the last epoch.
    case epoch(EpochRecord, isReport: Bool)
}

/// The reference protocol of SPEC 2: plain SGD with coupled weight decay, minibatches of `bsz`
/// reshuffled every epoch, running train loss/accuracy, test accuracy at report epochs.
///
/// Randomness: training set from `spec.seed(for: .train)`, test set from `.test`, initial parameters
/// from `.initialisation`, and the shuffle of epoch e from `derive(spec.seed(for: .shuffle), stream: e)`,
/// so that a run resumed from a checkpoint continues exactly as an uninterrupted one.
public final class Trainer {
    public let spec: Spec
    public private(set) var parameters: Parameters
    /// Epochs completed.
    public private(set) var epoch: Int
    public private(set) var history: [EpochRecord]
    /// Training seconds accumulated over all sessions.
    public private(set) var seconds: Double
    public let trainingSet: SentenceSet
    public let testSet: SentenceSet
    public let network: Network

    /// A fresh run (reference initialisation) or, with `state`, a run resumed from a checkpoint.
    public convenience init(spec: Spec, resuming state: TrainingState? = nil) {
        let task = spec.task()
        self.init(
            spec: spec, trainingSet: task.sample(perClass: spec.nspl, seed: spec.seed(for: .train)),
            testSet: task.sample(perClass: spec.nTest, seed: spec.seed(for: .test)), resuming: state)
    }

    /// A run on given training and test sets (e.g. read back from `fcollapse sample --out`); the
    /// initialisation and the shuffles still come from the spec's streams.
    public init(spec: Spec, trainingSet: SentenceSet, testSet: SentenceSet, resuming state: TrainingState? = nil) {
        self.spec = spec
        self.trainingSet = trainingSet
        self.testSet = testSet
        network = Network(spec: spec)
        if let s = state {
            parameters = s.parameters; epoch = s.epoch; history = s.history; seconds = s.seconds
        } else {
            parameters = Parameters.initial(for: spec); epoch = 0; history = []; seconds = 0
        }
    }

    /// The state to checkpoint.
    public var state: TrainingState {
        TrainingState(parameters: parameters, epoch: epoch, history: history, seconds: seconds)
    }

    /// The permutation of the training set used in epoch `e` (1-based).
    public func shuffle(epoch e: Int) -> [Int32] {
        RandomGenerator(seed: RandomGenerator.derive(spec.seed(for: .shuffle), stream: UInt64(e))).permutation(trainingSet.count)
    }

    /// True when epoch `e` is reported (test accuracy, progress line, checkpoint).
    public func isReportEpoch(_ e: Int, last: Int) -> Bool {
        e == 1 || e == last || (spec.report > 0 && e % spec.report == 0)
    }

    /// Trains until `epochs` epochs in total are done (default `spec.numEpochs`). `onReport` is called
    /// after each report epoch (to checkpoint); a divergence throws ``TrainingError/diverged`` before
    /// any report of the diverged epoch, so the last checkpoint stays the last good state.
    @discardableResult
    public func train(
        epochs: Int? = nil, progress: ((TrainingProgress) -> Void)? = nil,
        onReport: ((Trainer) throws -> Void)? = nil
    ) throws -> TrainingSummary {
        let last = epochs ?? spec.numEpochs
        let N = trainingSet.count, L = spec.L, bsz = max(1, spec.bsz)
        let batches = (N + bsz - 1) / bsz
        let lr = Float(spec.lr), lw = Float(spec.weightDecayW), lu = Float(spec.weightDecayU)
        var bw = [Int32](repeating: 0, count: bsz * L), bl = [Int32](repeating: 0, count: bsz)
        var lastGood = epoch
        while epoch < last {
            let e = epoch + 1
            let t0 = DispatchTime.now().uptimeNanoseconds
            let perm = shuffle(epoch: e)
            var lossSum = 0.0, accSum = 0.0
            for b in 0..<batches {
                let start = b * bsz, n = min(bsz, N - start)
                trainingSet.words.withUnsafeBufferPointer { tw in
                    for i in 0..<n {
                        let s = Int(perm[start + i])
                        bl[i] = trainingSet.labels[s]
                        for l in 0..<L { bw[i * L + l] = tw[s * L + l] }
                    }
                }
                let r = network.sgdStep(
                    &parameters, words: bw, labels: bl, count: n, lr: lr,
                    weightDecayW: lw, weightDecayU: lu)
                if !r.loss.isFinite {
                    throw TrainingError.diverged(epoch: e, minibatch: b + 1, lr: spec.lr, lastGoodEpoch: lastGood)
                }
                lossSum += r.loss; accSum += r.accuracy
                progress?(.minibatch(epoch: e, done: b + 1, total: batches))
            }
            let report = isReportEpoch(e, last: last)
            let test: Double? = report ? network.evaluate(parameters, on: testSet).accuracy : nil
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let rec = EpochRecord(
                epoch: e, trainLoss: lossSum / Double(batches), trainAccuracy: accSum / Double(batches),
                testAccuracy: test, seconds: dt)
            epoch = e; seconds += dt; history.append(rec)
            progress?(.epoch(rec, isReport: report))
            if report {
                try onReport?(self)
                lastGood = e
            }
        }
        return summary()
    }

    /// The summary of the run so far (PCA singular values of the current parameters).
    public func summary() -> TrainingSummary {
        let last = history.last
        let sv = parameters.referenceSingularValues(network: network)
        let test =
            history.last(where: { $0.testAccuracy != nil })?.testAccuracy
            ?? network.evaluate(parameters, on: testSet).accuracy
        return TrainingSummary(
            name: spec.name, optimizer: .sgd, epochs: epoch, trainLoss: last?.trainLoss ?? .nan,
            trainAccuracy: last?.trainAccuracy ?? .nan, testAccuracy: test, seconds: seconds,
            svW: sv.svW, svU: sv.svU)
    }

    /// Trains a fresh run of `spec` for `epochs` (default `spec.numEpochs`) without writing files.
    public static func train(spec: Spec, epochs: Int? = nil, progress: ((TrainingProgress) -> Void)? = nil)
        throws -> (parameters: Parameters, summary: TrainingSummary, history: [EpochRecord])
    {
        let t = Trainer(spec: spec)
        let s = try t.train(epochs: epochs, progress: progress)
        return (t.parameters, s, t.history)
    }
}
