import ExperimentSpec
import Foundation
import GSLBridge
import TaskModel
import Training

/// A direct, loop-by-loop double-precision implementation of the network of SPEC 2, written
/// independently of the module's blocked code, to compare against.
enum Reference {
    static func features(_ W: [Double], nw: Int, d: Int, layerNorm: Bool, eps: Double) -> [Double] {
        guard layerNorm else { return W }
        var out = W
        for w in 0..<nw {
            let v = Array(W[(w * d)..<((w + 1) * d)])
            let mean = v.reduce(0, +) / Double(d)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
            for c in 0..<d { out[w * d + c] = (v[c] - mean) / (variance + eps).squareRoot() }
        }
        return out
    }

    /// Mean cross-entropy over `set` plus (λ_W/2)‖W‖² + (λ_U/2)‖U‖², by the direct sum.
    static func objective(_ x: [Double], spec: Spec, set: SentenceSet, weightDecay: Bool = true) -> Double {
        let nw = spec.nw, d = spec.d, K = spec.K, L = spec.L
        let W = Array(x[0..<(nw * d)]), U = Array(x[(nw * d)...])
        let psi = features(W, nw: nw, d: d, layerNorm: spec.layerNorm, eps: spec.layerNormEps)
        var total = 0.0
        for i in 0..<set.count {
            var y = [Double](repeating: 0, count: K)
            for j in 0..<K {
                for l in 0..<L {
                    let w = Int(set.words[i * L + l])
                    for c in 0..<d { y[j] += U[j * L * d + l * d + c] * psi[w * d + c] }
                }
            }
            let m = y.max()!
            let lse = m + log(y.map { exp($0 - m) }.reduce(0, +))
            total += lse - y[Int(set.labels[i])]
        }
        var value = total / Double(set.count)
        if weightDecay {
            value += 0.5 * spec.weightDecayW * W.map { $0 * $0 }.reduce(0, +)
            value += 0.5 * spec.weightDecayU * U.map { $0 * $0 }.reduce(0, +)
        }
        return value
    }

    /// A tiny spec: K = 20 is not a multiple of the risk's class blocks (8), so padding is exercised.
    static func tinySpec(layerNorm: Bool, zipf: Bool = false) -> Spec {
        Spec(
            nc: 3, nw: 9, L: 3, K: 20, d: 5, wordFreq: zipf ? .zipf : .uniform, layerNorm: layerNorm, layerNormEps: 1e-5,
            weightDecayW: 0.01, weightDecayU: 0.02, lr: 0.1, bsz: 8, numEpochs: 10, nspl: 4, nTest: 2, report: 5,
            latent: .random, seed: 7, name: "tiny")
    }

    /// Random parameters of order one (the reference initialisation is too small to exercise the loss).
    static func randomPoint(_ spec: Spec, seed: UInt64, scale: Double = 0.5) -> [Double] {
        let rng = RandomGenerator(seed: seed)
        return (0..<(spec.nw * spec.d + spec.K * spec.L * spec.d)).map { _ in rng.gaussian(sigma: scale) }
    }
}
