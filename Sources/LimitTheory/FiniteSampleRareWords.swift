import Foundation

/// SPEC 6's word-norm spread for the type-II family at scale (Zipf μ, given latent variables), where θ* is not collapsed and
/// the n_w·d x n_w·d sandwich is out of reach: the **rare-word approximation**. A word w = w_{α,β} enters the objective only
/// through the sentences that contain it, and in the family only through its norm r (feature norm s(r)) at those positions.
/// Keeping the word's own radial coordinate and dropping its coupling with U and the other words (terms of relative order
/// μ_β: exact to leading order as μ_β → 0, i.e. for the rare ranks the norm law's error bars are needed for):
///
///     sd(s(‖w‖))·√N ≈ s'(ρ_β)·sqrt(μ_β/n_c · φ₂(s_β)) / (λ_W + μ_β/n_c · (s'(ρ_β)²·h(s_β) + s''(ρ_β)·φ(s_β))),
///
/// with, over classes k, positions ℓ and the other words of the sentence (the pooled estimator's q, SampledFamily):
/// φ(s) = (1/K) Σ E[∂ℓ/∂s_ℓ], φ₂(s) = (1/K) Σ E[(∂ℓ/∂s_ℓ)²] and h(s) = (1/K) Σ E[∂²ℓ/∂s_ℓ²] at s_ℓ = s, where
/// ∂ℓ/∂s = −c·b/(1 + t) and ∂²ℓ/∂s² = (c·b)²·t/(1 + t)² with t = q·e^{c·b·s}. The numerator is the variance of one sentence's
/// gradient in the word's radial coordinate (a sentence holds the word at a position of its concept with probability μ_β; the
/// squared mean, O(μ_β²), is dropped), the denominator the curvature of R along it. The 1/n_c share assumes the positions of
/// concept α are a 1/n_c share of all (random Z); the coefficient is per word, as the exact one averages it over concepts.
extension SampledFamily {
    /// The rare-word approximation of `word_norm_sd_coefficient` (per rank β: sd of a word's feature norm ≈ this/√N) at the
    /// family's point (b, ρ), from one pass over the family's samples.
    public func rareWordNormSdCoefficient(b: Double, rho: [Double]) -> [Double] {
        let st = conditionalPass(b: [b], rho: [rho], groups: 1)
        let K = self.K, L = self.L, M = perClass
        let c = ReducedObjectives.cFactor(nc), cb = c * b
        let s = rho.map(map.s)
        let e = s.map { Foundation.exp(cb * $0) }
        let n = rho.count
        let T = max(1, min(threads, K))
        // Per thread: Σ over (k, m, ℓ) of w·(1/(1+t)), w·(1/(1+t))², w·t/(1+t)² at every rank's norm.
        let acc = (0..<T).map { _ in SharedBuffer(count: 3 * n) }
        defer { withExtendedLifetime(acc) {} }
        let sharedTuples = shared
        st.q.withUnsafeBufferPointer { qb in
            weights.withUnsafeBufferPointer { wb in
                let box = UncheckedBox((qb, wb))
                parallelFor(T) { t in
                    let (qb, wb) = box.value
                    let out = acc[t].pointer
                    for k in (t * K / T)..<((t + 1) * K / T) {
                        let base = sharedTuples ? 0 : k * M
                        for m in 0..<M {
                            let w = wb[base + m]
                            for l in 0..<L {
                                let q = qb[(k * M + m) * L + l]
                                // q = +∞ (the position never mismatches): no gradient there.
                                if !q.isFinite { continue }
                                for i in 0..<n {
                                    let tt = q * e[i]
                                    let p = 1 / (1 + tt)
                                    out[3 * i] += w * p
                                    out[3 * i + 1] += w * p * p
                                    out[3 * i + 2] += w * tt * p * p
                                }
                            }
                        }
                    }
                }
            }
        }
        let scale = 1 / (st.groupWeight[0] * Double(K))
        return (0..<n).map { i in
            let sum = { (j: Int) in acc.reduce(0.0) { $0 + $1.pointer[3 * i + j] } * scale }
            let phi = -cb * sum(0), phi2 = cb * cb * sum(1), h = cb * cb * sum(2)
            let r = rho[i], ds = map.ds(r), share = mu[i] / Double(nc)
            let curvature = lambdaW + share * (ds * ds * h + map.dds(r) * phi)
            return ds * (share * phi2).squareRoot() / curvature
        }
    }
}

extension ReducedObjectives.NormMap {
    /// s''(r): 0 without LayerNorm; with it, d/dr of √d·dε/q^{3/2} (q = r² + dε) = −3√d·dε·r/q^{5/2}.
    @inline(__always) public func dds(_ r: Double) -> Double {
        guard layerNorm else { return 0 }
        let q = r * r + Double(d) * eps
        return -3 * Double(d).squareRoot() * Double(d) * eps * r / (q * q * q.squareRoot())
    }
}
