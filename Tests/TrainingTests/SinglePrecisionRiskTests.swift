import CRiskKernels
import ExperimentSpec
import Foundation
import GSLBridge
import TaskModel
import Testing
import Training

/// The single-precision path of EmpiricalRisk (C kernels, float tables, sgemm) against the
/// double-precision one, which is itself checked against the direct sum and finite differences.
/// Serialized: the baseline/AVX2 switch is process-wide.
@Suite("Single-precision full-batch risk", .serialized)
struct SinglePrecisionRiskTests {
    /// K = 20 (one block of 32, 12 padding classes) and K = 70 (three blocks, the last with 26).
    static func spec(K: Int, layerNorm: Bool) -> Spec {
        var s = Reference.tinySpec(layerNorm: layerNorm)
        s.K = K
        return s
    }

    @Test("value, gradient and accuracy agree with double precision", arguments: [(20, false), (20, true), (70, false), (70, true)])
    func agreesWithDouble(K: Int, layerNorm: Bool) {
        let spec = Self.spec(K: K, layerNorm: layerNorm)
        let set = spec.task().sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        let x = Reference.randomPoint(spec, seed: 21)
        let reference = EmpiricalRisk(spec: spec, sentences: set, threads: 1, precision: .double)
        let (v, g) = reference.evaluate(x)
        let gnorm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        defer { EmpiricalRisk.forceBaselineKernels(false) }
        for baseline in [false, true] {
            EmpiricalRisk.forceBaselineKernels(baseline)
            for threads in [1, 2, 3] {
                for save in [true, false] {
                    let risk = EmpiricalRisk(spec: spec, sentences: set, threads: threads, precision: .single, saveExponentials: save)
                    #expect(risk.precision == .single && risk.savesExponentials == save)
                    let (vs, gs) = risk.evaluate(x)
                    #expect(risk.lastFallbackSentences == 0)
                    let diff = zip(gs, g).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    // Float logits are sums of L = 3 products of order one (unit roundoff 6e-8), the
                    // exponential has relative error ~1e-7: 1e-6 relative on the value; the gradient sums
                    // a few dozen residuals per entry: 1e-5 relative in the 2-norm.
                    #expect(abs(vs - v) <= 1e-6 * abs(v), "baseline \(baseline), threads \(threads): \(vs) vs \(v)")
                    #expect(diff <= 1e-5 * gnorm, "baseline \(baseline), threads \(threads): |Δg| = \(diff), |g| = \(gnorm)")
                    #expect(abs(risk.lastCrossEntropy - reference.lastCrossEntropy) <= 1e-6 * reference.lastCrossEntropy)
                    // Accuracy: an arg max can only move on a near tie (logits within ~1e-6); at a random
                    // point none is that close, so at most one sentence of N may differ.
                    #expect(abs(risk.lastAccuracy - reference.lastAccuracy) <= 1.0 / Double(set.count) + 1e-12)
                }
            }
        }
    }

    /// Pass 1 shifts each sentence's logits by its label's logit. Where another logit exceeds it by
    /// more than FC_RISK_SHIFT_LIMIT (80) the sum could overflow, and the sentence takes the exact
    /// fallback (a running maximum) in both passes. With weights of scale 3 instead of 0.5 (12 with
    /// LayerNorm, whose features do not grow with W), logits of tens to hundreds, part of the
    /// sentences do.
    @Test(
        "sentences beyond the shift limit take the exact fallback and still agree with double precision",
        arguments: [false, true])
    func shiftLimitFallback(layerNorm: Bool) {
        let spec = Self.spec(K: 70, layerNorm: layerNorm)
        let set = spec.task().sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        let x = Reference.randomPoint(spec, seed: 22, scale: layerNorm ? 12 : 3)
        let reference = EmpiricalRisk(spec: spec, sentences: set, threads: 1, precision: .double)
        let (v, g) = reference.evaluate(x)
        let gnorm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for save in [true, false] {
            for threads in [1, 2] {
                let risk = EmpiricalRisk(spec: spec, sentences: set, threads: threads, precision: .single, saveExponentials: save)
                let (vs, gs) = risk.evaluate(x)
                #expect(
                    risk.lastFallbackSentences > 0 && risk.lastFallbackSentences < set.count,
                    "\(risk.lastFallbackSentences) of \(set.count) sentences beyond the limit")
                let diff = zip(gs, g).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                // Logits of order 100 in float carry absolute errors of ~1e-5 (L = 3 terms, unit
                // roundoff 6e-8), against a cross-entropy of order 10: 1e-5 relative on the value
                // and on the gradient's 2-norm.
                #expect(abs(vs - v) <= 1e-5 * abs(v), "save \(save), threads \(threads): \(vs) vs \(v)")
                #expect(diff <= 1e-5 * gnorm, "save \(save), threads \(threads): |Δg| = \(diff), |g| = \(gnorm)")
                #expect(abs(risk.lastAccuracy - reference.lastAccuracy) <= 1.0 / Double(set.count) + 1e-12)
            }
        }
    }

    @Test("the exponentials are saved up to 4 GiB (and a quarter of physical memory)")
    func savedExponentialsDefault() {
        // 500,000 sentences and 1000 classes (padded to 1024): 2.05 GB.
        #expect(
            EmpiricalRisk.savesExponentials(sentences: 500_000, classes: 1000) == (ProcessInfo.processInfo.physicalMemory >= 8_192_000_000))
        // 1,100,000 x 1000 (padded to 1024): 4.5 GB, beyond 4 GiB on any machine.
        #expect(!EmpiricalRisk.savesExponentials(sentences: 1_100_000, classes: 1000))
        // A double-precision risk never saves them.
        let spec = Self.spec(K: 20, layerNorm: false)
        let set = spec.task().sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        #expect(!EmpiricalRisk(spec: spec, sentences: set, precision: .double, saveExponentials: true).savesExponentials)
    }

    @Test("the default precision is single from N·K = 5e7 on")
    func automaticPrecision() {
        #expect(EmpiricalRisk.Precision.automatic(sentences: 500_000, classes: 1000) == .single)
        #expect(EmpiricalRisk.Precision.automatic(sentences: 49_999, classes: 1000) == .double)
        #expect(EmpiricalRisk.Precision.automatic(sentences: 50_000, classes: 1000) == .single)
    }

    @Test("the kernels' exponential is within 3e-7 of exp, and 0 below −87.3")
    func vectorisedExp() {
        var xs: [Float] = stride(from: -87.0, through: 88.0, by: 0.0173).map { Float($0) }
        xs += [0, -1e-8, 1e-8, -0.5 * Float(M_LN2), 0.5 * Float(M_LN2)]
        let n = xs.count
        defer { EmpiricalRisk.forceBaselineKernels(false) }
        for baseline in [false, true] {
            EmpiricalRisk.forceBaselineKernels(baseline)
            var ys = [Float](repeating: .nan, count: n)
            fc_risk_exp(xs, &ys, Int64(n))
            var worst = 0.0
            for i in 0..<n {
                let e = Foundation.exp(Double(xs[i]))
                worst = max(worst, abs(Double(ys[i]) - e) / e)
            }
            // The polynomial's truncation error is below 1.3e-9 on |r| <= ln2/16; the rest is float
            // rounding (r, the polynomial, the table entry 2^(j/8) and their product, each within
            // half an ulp, 6e-8): 3e-7 bounds their sum with room to spare.
            #expect(worst <= 3e-7, "baseline \(baseline): worst relative error \(worst)")
            let tiny: [Float] = [-87.4, -100, -1e30, -.infinity]
            var out = [Float](repeating: .nan, count: tiny.count)
            fc_risk_exp(tiny, &out, Int64(tiny.count))
            // Below the clamp the kernels return exactly 0 (a masked result, not a rounded one).
            #expect(out.allSatisfy { $0 == 0 }, "baseline \(baseline): \(out)")
        }
    }
}
