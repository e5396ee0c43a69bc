import Geometry
import ExperimentSpec
import Foundation
import GSLBridge
import LimitTheory
import TaskModel
import Testing

/// Largest |central difference − analytic| over a stride of coordinates, relative to max(1, |analytic|).
func worstGradientError(_ f: ([Double]) -> Double, _ grad: [Double], at x: [Double], h: Double = 1e-5, stride step: Int = 1) -> Double {
    var worst = 0.0
    for i in Swift.stride(from: 0, to: x.count, by: step) {
        var p = x, m = x
        p[i] += h; m[i] -= h
        let fd = (f(p) - f(m)) / (2 * h)
        worst = max(worst, abs(fd - grad[i]) / max(1, abs(grad[i])))
    }
    return worst
}

// Central differences with h = 1e-5 on objectives O(1): truncation ~h²·f''' ≈ 1e-10 and rounding
// ~1e-16/h ≈ 1e-11, so 1e-7 separates a correct gradient from a wrong one by orders of magnitude.
let gradientTolerance = 1e-7

@Suite struct GradientTests {
    @Test func exactRiskGradient() throws {
        let z = LatentVariables.random(concepts: 3, length: 2, count: 5, seed: 4)
        for (ln, eps) in [(false, 0.0), (true, 1e-2), (true, 0.0)] {
            let risk = try ExactRisk(latents: z, mu: [0.5, 0.3, 0.2], d: 4, lambdaW: 0.01, lambdaU: 0.02, layerNorm: ln, eps: eps)
            let x = risk.randomStart(RandomGenerator(seed: 9), sigmaW: 0.7, sigmaU: 0.5)
            let err = worstGradientError(risk.value, risk.gradient(x), at: x)
            #expect(err < gradientTolerance, "layerNorm \(ln), eps \(eps): \(err)")
        }
    }

    @Test func restrictedProblemGradient() {
        let z = LatentVariables.random(concepts: 3, length: 7, count: 30, seed: 3)
        for ln in [false, true] {
            let pr = RestrictedProblem(latents: z, wordsPerConcept: 4, d: 6, lambdaW: 0.01, lambdaU: 0.01, idealisedLayerNorm: ln)
            let x = pr.start(a: 1.2, b: 0.5, rng: RandomGenerator(seed: 5))
            let err = worstGradientError(pr.value, pr.gradient(x), at: x, stride: 3)
            #expect(err < gradientTolerance, "layerNorm \(ln): \(err)")
        }
    }

    @Test func sampledFamilyGradient() throws {
        // L = 7 uses a partial last chunk; L = 15 the unrolled three-chunk path.
        for L in [7, 15] {
            let z = LatentVariables.random(concepts: 3, length: L, count: 40, seed: 8)
            for map in [ReducedObjectives.NormMap.identity, .layerNorm(d: 5, eps: 1e-2)] {
                let fam = try SampledFamily(
                    latents: z, mu: [0.5, 0.25, 0.15, 0.1], map: map, lambdaW: 0.01, lambdaU: 0.01,
                    samplesPerClass: 6, seed: 2)
                let x = [0.4, 1.1, 0.9, 0.6, 0.35]
                let err = worstGradientError(fam.value, fam.gradient(x), at: x)
                #expect(err < gradientTolerance, "L \(L), layerNorm \(map.layerNorm): \(err)")
            }
        }
    }

    @Test func pooledGradientIsTheExactGradientUnderEnumeration() throws {
        // With the enumerated β-expectation, conditioning a position on each rank is exact, so the pooled
        // estimating function must equal the analytic gradient of Q and its central differences.
        // L = 4 (one partial chunk), L = 7 (two chunks), L = 15 with s_c = 2 (the unrolled three-chunk path).
        for (L, mu) in [(4, [0.5, 0.3, 0.2]), (7, [0.6, 0.25, 0.15]), (15, [0.7, 0.3])] {
            let z = LatentVariables.random(concepts: 3, length: L, count: 12, seed: 31)
            for map in [ReducedObjectives.NormMap.identity, .layerNorm(d: 5, eps: 1e-2)] {
                let fam = try SampledFamily(
                    latents: z, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.01,
                    samplesPerClass: 4, seed: 2, exactLimit: 40_000)
                #expect(fam.isExact)
                let x = [0.6] + mu.indices.map { 1.2 - 0.3 * Double($0) }
                let pooled = fam.pooledGradient(x), analytic = fam.gradient(x)
                // The same sums in another order: rounding only (objectives O(1), K·tuples·L terms).
                let diff = zip(pooled, analytic).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                #expect(diff < 1e-10, "L \(L), layerNorm \(map.layerNorm): pooled vs analytic \(diff)")
                let err = worstGradientError(fam.value, pooled, at: x)
                #expect(err < gradientTolerance, "L \(L), layerNorm \(map.layerNorm): pooled vs central differences \(err)")
            }
        }
    }

    @Test func pooledGradientBComponentIsTheSampleObjectivesDerivative() throws {
        // Sampled: the b-equation of the pooled estimator is the plain sample objective's ∂/∂b (every sample
        // informs b), so it must match central differences of that objective in b.
        let z = LatentVariables.random(concepts: 3, length: 15, count: 40, seed: 8)
        for map in [ReducedObjectives.NormMap.identity, .layerNorm(d: 5, eps: 1e-2)] {
            let fam = try SampledFamily(
                latents: z, mu: [0.5, 0.25, 0.15, 0.1], map: map, lambdaW: 0.01, lambdaU: 0.01,
                samplesPerClass: 6, seed: 2)
            let x = [0.4, 1.1, 0.9, 0.6, 0.35]
            let g = fam.pooledGradient(x)
            var p = x, m = x
            p[0] += 1e-5; m[0] -= 1e-5
            let fd = (fam.value(p) - fam.value(m)) / 2e-5
            #expect(abs(fd - g[0]) / max(1, abs(g[0])) < gradientTolerance, "layerNorm \(map.layerNorm): \(fd) vs \(g[0])")
        }
    }

    @Test func sampledFamilyEnumerationMatchesExactRiskAtFamilyPoint() throws {
        // The family objective with exact β-enumeration equals the exact R evaluated at the family's
        // configuration (simplex directions, norms ρ_β, blocks b·f_{z_kℓ}).
        let nc = 3, sc = 2, L = 3, d = 4
        let z = LatentVariables.random(concepts: nc, length: L, count: 6, seed: 21)
        let mu = [0.8, 0.2]
        let fam = try SampledFamily(latents: z, mu: mu, map: .identity, lambdaW: 0.02, lambdaU: 0.02, samplesPerClass: 4, seed: 0)
        #expect(fam.isExact)
        let b = 0.7, rho = [1.3, 0.9]
        let frame = simplexFrame(concepts: nc, dimension: d)
        var x: [Double] = []
        for a in 0..<nc { for beta in 0..<sc { x += frame[a].map { $0 * rho[beta] } } }
        for k in 0..<z.count { for l in 0..<L { x += frame[z[k, l]].map { $0 * b } } }
        let risk = try ExactRisk(latents: z, mu: mu, d: d, lambdaW: 0.02, lambdaU: 0.02, layerNorm: false, eps: 0)
        // Two exact evaluations of one number in different orders: rounding only.
        #expect(abs(risk.value(x) - fam.value([b] + rho)) < 1e-12)
    }
}
