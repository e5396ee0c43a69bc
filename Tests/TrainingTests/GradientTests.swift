import ExperimentSpec
import Foundation
import GSLBridge
import TaskModel
import Testing
import Training

@Suite("Gradients and objectives")
struct GradientTests {
    @Test("full-batch objective equals the direct sum", arguments: [false, true])
    func objectiveMatchesDirectSum(layerNorm: Bool) {
        let spec = Reference.tinySpec(layerNorm: layerNorm)
        let set = spec.task().sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        let x = Reference.randomPoint(spec, seed: 11)
        let direct = Reference.objective(x, spec: spec, set: set)
        for threads in [1, 2, 3] {
            let risk = EmpiricalRisk(spec: spec, sentences: set, threads: threads)
            let v = risk.value(x)
            // Both in double; the fast exp has relative error < 1e-14 and sums are reordered: 1e-10 relative.
            #expect(abs(v - direct) <= 1e-10 * abs(direct), "threads \(threads): \(v) vs \(direct)")
        }
    }

    @Test("full-batch gradient equals central finite differences", arguments: [false, true])
    func gradientMatchesFiniteDifferences(layerNorm: Bool) {
        let spec = Reference.tinySpec(layerNorm: layerNorm)
        let set = spec.task().sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        let risk = EmpiricalRisk(spec: spec, sentences: set)
        let x = Reference.randomPoint(spec, seed: 12)
        let (_, g) = risk.evaluate(x)
        let h = 1e-5
        var worst = 0.0
        let gmax = g.map(abs).max()!
        // Every W coordinate and a spread of U coordinates.
        let coords = Array(0..<(spec.nw * spec.d)) + Array(stride(from: spec.nw * spec.d, to: x.count, by: 7))
        for i in coords {
            var xp = x, xm = x
            xp[i] += h; xm[i] -= h
            let fd = (risk.value(xp) - risk.value(xm)) / (2 * h)
            worst = max(worst, abs(fd - g[i]))
        }
        // Central differences in double with h = 1e-5: truncation O(h²·f''') ≈ 1e-10 and rounding
        // ≈ 1e-16/1e-5 ≈ 1e-11; 1e-7 of the largest gradient component leaves a wide margin.
        #expect(worst <= 1e-7 * gmax, "worst |fd − g| = \(worst), max |g| = \(gmax)")
    }

    @Test("single-precision minibatch gradient equals the double-precision one", arguments: [false, true])
    func floatGradientMatchesDouble(layerNorm: Bool) {
        var spec = Reference.tinySpec(layerNorm: layerNorm)
        spec.weightDecayW = 0; spec.weightDecayU = 0
        let set = spec.task().sample(perClass: 1, seed: spec.seed(for: .train))  // 20 sentences
        let x = Reference.randomPoint(spec, seed: 13)
        let p = Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, flattened: x)
        // The double reference at the float-rounded point.
        let risk = EmpiricalRisk(spec: spec, sentences: set)
        let (v, g) = risk.evaluate(p.flattened)
        let net = Network(spec: spec, maxBatch: 32)
        let r = net.lossAndGradient(p, words: set.words, labels: set.labels)
        let gf = r.gradW.map(Double.init) + r.gradU.map(Double.init)
        let gmax = g.map(abs).max()!
        let worst = zip(gf, g).map { abs($0 - $1) }.max()!
        // Float32 arithmetic (unit roundoff 6e-8) over sums of a few dozen terms: 1e-5 relative.
        #expect(abs(r.loss - v) <= 1e-5 * abs(v))
        #expect(worst <= 1e-5 * gmax, "worst \(worst) vs max \(gmax)")
    }

    @Test("one SGD step equals θ − lr·(∇ + λθ) computed by hand", arguments: [false, true])
    func sgdStepMatchesHandComputedStep(layerNorm: Bool) {
        let spec = Reference.tinySpec(layerNorm: layerNorm)
        let set = spec.task().sample(perClass: 1, seed: spec.seed(for: .train))
        let words = Array(set.words.prefix(8 * spec.L)), labels = Array(set.labels.prefix(8))
        let batch = SentenceSet(length: spec.L, words: words, labels: labels)
        let x = Reference.randomPoint(spec, seed: 14)
        var p = Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, flattened: x)
        let x0 = p.flattened
        // Gradient of the mean loss by central differences of the direct sum (no weight decay).
        let h = 1e-6
        var g = [Double](repeating: 0, count: x0.count)
        for i in x0.indices {
            var xp = x0, xm = x0
            xp[i] += h; xm[i] -= h
            g[i] =
                (Reference.objective(xp, spec: spec, set: batch, weightDecay: false)
                    - Reference.objective(xm, spec: spec, set: batch, weightDecay: false)) / (2 * h)
        }
        let nW = spec.nw * spec.d
        let expected = x0.indices.map { i in
            x0[i] - spec.lr * (g[i] + (i < nW ? spec.weightDecayW : spec.weightDecayU) * x0[i])
        }
        let net = Network(spec: spec)
        words.withUnsafeBufferPointer { wb in
            labels.withUnsafeBufferPointer { lb in
                _ = net.sgdStep(
                    &p, words: wb.baseAddress!, labels: lb.baseAddress!, count: 8, lr: Float(spec.lr),
                    weightDecayW: Float(spec.weightDecayW), weightDecayU: Float(spec.weightDecayU))
            }
        }
        let got = p.flattened
        let worst = zip(got, expected).map { abs($0 - $1) }.max()!
        let moved = zip(expected, x0).map { abs($0 - $1) }.max()!
        // Parameters of order 1 stored in float32 (roundoff 6e-8 each) and a step of order 0.1:
        // 2e-6 absolute is float precision with margin; the step itself must be far larger.
        #expect(worst <= 2e-6, "worst \(worst)")
        #expect(moved > 1e-3)
    }
}
