import ArrayIO
import ExperimentSpec
import Foundation
import TaskModel
import TestSupport
import Testing
import Training

@Suite("SGD training protocol")
struct TrainerTests {
    @Test("the reference initialisation has the reference scales")
    func initialisationScales() {
        let spec = Spec.preset("quick")!
        let p = Parameters.initial(for: spec)
        let sdW = (p.W.map { Double($0 * $0) }.reduce(0, +) / Double(p.W.count)).squareRoot()
        let bound = Float(1 / (Double(spec.L * spec.d).squareRoot() * 1000))
        // N(0,1)/1000 over 480 draws: the sample s.d. is within 15% of 1e-3 with overwhelming probability.
        #expect(abs(sdW - 1e-3) < 1.5e-4)
        #expect(p.U.allSatisfy { abs($0) <= bound })
        #expect(p.U.map(abs).max()! > 0.9 * bound)
    }

    @Test("the quick preset learns within seconds")
    func quickPresetLearns() throws {
        let spec = Spec.preset("quick")!
        let (_, summary, history) = try Trainer.train(spec: spec)
        let dups = spec.task().latents.duplicateGroups().reduce(0) { $0 + $1.count - 1 }
        // Classes sharing a latent variable cannot be told apart: the best accuracy is 1 − dups/K.
        let ceiling = 1 - Double(dups) / Double(spec.K)
        // Learned: within 8 points of that ceiling (chance is 1/K = 2%), and the loss fell well below log K.
        #expect(summary.testAccuracy >= ceiling - 0.08, "test accuracy \(summary.testAccuracy), ceiling \(ceiling)")
        #expect(summary.trainLoss < 0.5 * log(Double(spec.K)))
        #expect(history.count == spec.numEpochs)
        #expect(summary.svW.count == 3 && summary.svU.count == 3)
        // Uniform μ collapses the words of a concept: the third PCA singular value is far below the first two.
        #expect(summary.svW[2] < 0.05 * summary.svW[1])
    }

    @Test("same seed, same run; another seed, another run")
    func determinism() throws {
        var spec = Spec.preset("quick")!
        spec.numEpochs = 5
        let a = try Trainer.train(spec: spec), b = try Trainer.train(spec: spec)
        // Identical inputs and single-threaded BLAS calls of identical shapes: no difference is expected;
        // 1e-7 absolute only allows for nothing more than last-bit noise.
        #expect(Fixtures.maxDifference(a.parameters.W, b.parameters.W) <= 1e-7)
        #expect(Fixtures.maxDifference(a.parameters.U, b.parameters.U) <= 1e-7)
        #expect(abs(a.summary.trainLoss - b.summary.trainLoss) <= 1e-12)
        spec.seed = 1
        let c = try Trainer.train(spec: spec)
        #expect(Fixtures.maxDifference(a.parameters.W, c.parameters.W) > 1e-5)
    }

    @Test("full-batch minimisation lowers the empirical risk")
    func fullBatchLowersRisk() throws {
        let spec = Reference.tinySpec(layerNorm: false)
        let fb = FullBatchTrainer(spec: spec)
        let start = fb.risk.value(Parameters.initial(for: spec).flattened)
        let r = try fb.minimise(maxIterations: 200)
        #expect(r.summary.objective! < start - 0.5)
        // Chance is 1/K = 5%; classes sharing a latent variable cap the accuracy below 100%.
        #expect(r.summary.trainAccuracy >= 0.8)
    }

    @Test("full batch in single precision finishes in double and reaches the double-precision minimum")
    func singlePrecisionFullBatchPolishes() throws {
        let spec = Spec.preset("quick")!
        let single = try FullBatchTrainer(spec: spec, precision: .single).minimise(maxIterations: 3000)
        let double = try FullBatchTrainer(spec: spec, precision: .double).minimise(maxIterations: 3000)
        #expect(single.summary.stopReason?.contains("then double") == true, "\(single.summary.stopReason ?? "")")
        #expect(single.summary.gradientNorm! <= 1e-6)
        // Both stop at |∇| ≤ 1e-6 (objective within ~|∇|²/λ_min of the minimum) at the same local
        // minimum from the same start: 1e-6 absolute on an objective of about 0.3.
        #expect(
            abs(single.summary.objective! - double.summary.objective!) <= 1e-6,
            "single \(single.summary.objective!) vs double \(double.summary.objective!)")
    }
}
