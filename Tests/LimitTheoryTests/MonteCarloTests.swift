import ExperimentSpec
import Foundation
import GSLBridge
import LimitTheory
import TaskModel
import Testing

@Suite struct MonteCarloTests {
    @Test func exactRiskMatchesMonteCarloEstimate() throws {
        // The enumerated expectation against an average over sentences drawn by ConceptTask.sample, at a random
        // (W, U), with LayerNorm ε > 0 so that ψ is exercised. The scores are computed here from scratch.
        let nc = 3, sc = 3, L = 2, d = 4, K = 5
        let mu = [0.6, 0.3, 0.1]
        let z = LatentVariables.random(concepts: nc, length: L, count: K, seed: 6)
        let eps = 0.05
        let risk = try ExactRisk(latents: z, mu: mu, d: d, lambdaW: 0, lambdaU: 0, layerNorm: true, eps: eps)
        let x = risk.randomStart(RandomGenerator(seed: 1), sigmaW: 1, sigmaU: 1)
        let exact = risk.crossEntropy(x)
        let task = ConceptTask(vocabulary: Vocabulary(concepts: nc, wordsPerConcept: sc), mu: mu, latents: z)
        let perClass = 4000
        let set = task.sample(perClass: perClass, seed: 77)
        let nw = nc * sc
        // ψ of every word.
        var psi = [[Double]]()
        for w in 0..<nw {
            let v = Array(x[(w * d)..<((w + 1) * d)])
            let m = v.reduce(0, +) / Double(d)
            let vc = v.map { $0 - m }
            let q = (vc.reduce(0) { $0 + $1 * $1 } + Double(d) * eps).squareRoot()
            psi.append(vc.map { Double(d).squareRoot() * $0 / q })
        }
        var losses: [Double] = []
        for i in 0..<set.count {
            let words = set.sentence(i).map(Int.init), k = Int(set.labels[i])
            var y = [Double](repeating: 0, count: K)
            for j in 0..<K {
                for l in 0..<L {
                    let off = nw * d + (j * L + l) * d
                    for e in 0..<d { y[j] += x[off + e] * psi[words[l]][e] }
                }
            }
            let m = y.max()!
            losses.append(m + Foundation.log(y.reduce(0) { $0 + Foundation.exp($1 - m) }) - y[k])
        }
        let mean = losses.reduce(0, +) / Double(losses.count)
        let sd = (losses.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(losses.count - 1)).squareRoot()
        let se = sd / Double(losses.count).squareRoot()
        // 20000 independent sentences: the estimate is within 4 standard errors with probability > 0.9999.
        #expect(abs(mean - exact) < 4 * se, "exact \(exact), Monte Carlo \(mean) ± \(se)")
    }
}

@Suite struct SampledEstimateTests {
    @Test func sampledFamilyAgreesWithEnumerationWithinItsStandardError() throws {
        // s_c^L = 3^4 = 81 tuples: enumerable; forcing sampling (exactLimit 0) must agree within 4 SE.
        let z = LatentVariables.random(concepts: 3, length: 4, count: 20, seed: 12)
        let mu = [0.6, 0.3, 0.1]
        let x = [0.5, 1.4, 0.9, 0.5]
        let exact = try SampledFamily(latents: z, mu: mu, map: .identity, lambdaW: 0.01, lambdaU: 0.01, samplesPerClass: 4, seed: 1)
        let sampled = try SampledFamily(
            latents: z, mu: mu, map: .identity, lambdaW: 0.01, lambdaU: 0.01, samplesPerClass: 400,
            seed: 2, exactLimit: 0)
        #expect(exact.isExact && !sampled.isExact)
        let e = exact.crossEntropy(x), s = sampled.crossEntropy(x)
        #expect(e.standardError == 0 && s.standardError > 0)
        // 8000 independent sentences: within 4 standard errors with probability > 0.9999.
        #expect(abs(e.value - s.value) < 4 * s.standardError, "exact \(e.value), sampled \(s.value) ± \(s.standardError)")
    }
}
