import ExperimentSpec
import Foundation
import GSLBridge
import TaskModel

/// Minimises the exact empirical risk of a spec's training set with gsl_multimin (BFGS2, double
/// precision), from the reference initialisation. With the single-precision risk (the default at
/// paper scale) BFGS runs on it until its line search stalls, then finishes on the double one.
public final class FullBatchTrainer {
    public let spec: Spec
    public let trainingSet: SentenceSet
    public let testSet: SentenceSet
    public let risk: EmpiricalRisk

    /// `precision`: arithmetic of the risk's passes over the sentences (default: single from
    /// N·K = 5e7 on, double below; see ``EmpiricalRisk/Precision``). BFGS itself runs in double.
    public init(spec: Spec, precision: EmpiricalRisk.Precision? = nil) {
        self.spec = spec
        let task = spec.task()
        trainingSet = task.sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        testSet = task.sample(perClass: spec.nTest, seed: spec.seed(for: .test))
        risk = EmpiricalRisk(spec: spec, sentences: trainingSet, precision: precision)
    }

    /// Runs BFGS2 for at most `maxIterations` iterations from `start` (default: the reference
    /// initialisation). `progress` gets (iteration, objective).
    public func minimise(
        from start: Parameters? = nil, maxIterations: Int, gradientTolerance: Double = 1e-6,
        progress: ((Int, Double) -> Void)? = nil
    ) throws -> (parameters: Parameters, summary: TrainingSummary) {
        let p0 = start ?? Parameters.initial(for: spec)
        var options = MultiMinimizer.Options()
        options.maxIterations = maxIterations
        options.gradientTolerance = gradientTolerance
        options.initialStep = 0.1
        let t0 = DispatchTime.now().uptimeNanoseconds
        let risk = self.risk
        var result = try MultiMinimizer.minimise(
            { x, g in risk.evaluate(x, gradient: g) }, from: p0.flattened,
            options: options, progress: progress)
        if risk.precision == .single && !result.converged && result.iterations < maxIterations {
            // Single-precision values carry rounding noise of ~1e-7 relative, and near the minimum the
            // decrease that the line search looks for (~|∇|²) falls below it: it stops with "no further
            // progress" at |∇| ≈ 1e-4. From there BFGS continues on the double-precision risk.
            let first = result.iterations
            let polish = EmpiricalRisk(spec: spec, sentences: trainingSet, precision: .double)
            options.maxIterations = maxIterations - first
            let more = try MultiMinimizer.minimise(
                { x, g in polish.evaluate(x, gradient: g) }, from: result.x,
                options: options, progress: progress.map { p in { it, v in p(first + it, v) } })
            result = MultiMinimizer.Result(
                x: more.x, value: more.value, gradientNorm: more.gradientNorm,
                iterations: first + more.iterations, converged: more.converged,
                stopReason: more.stopReason + " (single precision for \(first) iterations, then double)")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let p = Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, flattened: result.x)
        let net = Network(spec: spec, maxBatch: 1000)
        let train = net.evaluate(p, on: trainingSet)
        let test = net.evaluate(p, on: testSet)
        let sv = p.referenceSingularValues(network: net)
        let summary = TrainingSummary(
            name: spec.name, optimizer: .fullBatch, epochs: result.iterations,
            trainLoss: train.loss, trainAccuracy: train.accuracy, testAccuracy: test.accuracy,
            seconds: seconds, svW: sv.svW, svU: sv.svU, objective: result.value,
            gradientNorm: result.gradientNorm, stopReason: result.stopReason)
        return (p, summary)
    }
}
