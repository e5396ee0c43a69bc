import ExperimentSpec
import Foundation
import GSLBridge
import LimitTheory
import TaskModel
import Testing

@Suite struct ReducedObjectiveTests {
    @Test func closedFormEqualsHistogramFormOnFullLatentSpace() throws {
        let space = FullLatentSpace(concepts: 3, length: 4)
        let closed = LatentProfile.full(space)
        let shared = LatentProfile.histogramForm(of: space)
        let materialised = LatentProfile(latents: LatentVariables.full(space))
        for t in [0.0, 0.3, 1.0, 4.0, 30.0] {
            let a = closed.logPartition(t), b = shared.logPartition(t), c = materialised.logPartition(t)
            // Three evaluations of the same sum in different orders: agreement to rounding (1e-12).
            #expect(abs(a.value - b.value) < 1e-12 && abs(a.value - c.value) < 1e-12)
            #expect(abs(a.derivative - b.derivative) < 1e-12 && abs(a.derivative - c.derivative) < 1e-12)
        }
        let s1 = try ReducedObjectives.typeI(profile: closed, wordsPerConcept: 5, lambdaW: 0.01, lambdaU: 0.01)
        let s2 = try ReducedObjectives.typeI(profile: materialised, wordsPerConcept: 5, lambdaW: 0.01, lambdaU: 0.01)
        #expect(abs(s1.objective - s2.objective) < 1e-10)  // same function, minimised to ~1e-12 in p
        let h1 = try ReducedObjectives.layerNormIdealised(profile: closed, wordsPerConcept: 5, d: 4, lambdaU: 0.01)
        let h2 = try ReducedObjectives.layerNormIdealised(profile: materialised, wordsPerConcept: 5, d: 4, lambdaU: 0.01)
        #expect(abs(h1.objective - h2.objective) < 1e-10)
    }

    @Test func gIsMinimisedAtTheStationaryPoint() throws {
        let profile = LatentProfile(latents: LatentVariables.random(concepts: 3, length: 6, count: 40, seed: 2))
        let s = try ReducedObjectives.typeI(profile: profile, wordsPerConcept: 10, lambdaW: 1e-3, lambdaU: 1e-3)
        let p = s.p ?? 0
        let at = ReducedObjectives.g(p, profile: profile, wordsPerConcept: 10, lambdaW: 1e-3, lambdaU: 1e-3)
        #expect(abs(at.derivative) < 1e-8)  // Brent to 1e-12 relative in p; g'' = O(1)
        for q in [p * 0.99, p * 1.01] {
            #expect(ReducedObjectives.g(q, profile: profile, wordsPerConcept: 10, lambdaW: 1e-3, lambdaU: 1e-3).value > at.value)
        }
    }

    @Test func jGradientMatchesFiniteDifferences() {
        let space = FullLatentSpace(concepts: 3, length: 5)
        let mu = [0.5, 0.3, 0.2]
        for map in [ReducedObjectives.NormMap.identity, .layerNorm(d: 6, eps: 1e-2)] {
            let b = 0.37, rho = [1.3, 0.8, 0.21]
            let j = ReducedObjectives.J(b: b, rho: rho, space: space, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.002)
            let h = 1e-6
            let fdb =
                (ReducedObjectives.J(b: b + h, rho: rho, space: space, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.002).value
                    - ReducedObjectives.J(b: b - h, rho: rho, space: space, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.002).value)
                / (2 * h)
            // Central differences with h = 1e-6 on values O(1): error ~ h² + 1e-16/h ≈ 1e-10; allow 1e-7 relative.
            #expect(abs(fdb - j.db) < 1e-7 * max(1, abs(j.db)))
            for i in 0..<3 {
                var p = rho, m = rho
                p[i] += h; m[i] -= h
                let fd =
                    (ReducedObjectives.J(b: b, rho: p, space: space, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.002).value
                        - ReducedObjectives.J(b: b, rho: m, space: space, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.002).value) / (2 * h)
                #expect(abs(fd - j.drho[i]) < 1e-7 * max(1, abs(j.drho[i])))
            }
        }
    }

    @Test func separableMinimiserIsStationary() throws {
        // The nested Brent solves of J and J_ε land where the analytic gradient vanishes.
        let space = FullLatentSpace(concepts: 3, length: 4)
        let mu = WordFrequency.zipf.probabilities(wordsPerConcept: 6)
        for map in [ReducedObjectives.NormMap.identity, .layerNorm(d: 5, eps: 1e-3)] {
            let s = try ReducedObjectives.separable(space: space, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.01)
            let j = ReducedObjectives.J(b: s.b, rho: s.wordNorms, space: space, mu: mu, map: map, lambdaW: 0.01, lambdaU: 0.01)
            #expect(abs(j.value - s.objective) < 1e-12)
            // b from Brent to ~1e-12 relative: gradient O(curvature·1e-12), allow 1e-6.
            #expect(abs(j.db) < 1e-6)
            for g in j.drho { #expect(abs(g) < 1e-6) }
            // Norms increase with frequency (P3 / P4 on J itself).
            for i in 1..<mu.count { #expect(s.featureNorms[i] < s.featureNorms[i - 1]) }
        }
    }
}
