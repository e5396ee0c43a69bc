import ExperimentSpec
import GSLBridge
import LimitTheory
import PropertyBased
import Testing
import TaskModel

// `predict` is equivariant: relabelling the concepts of explicit latent variables, or permuting the
// classes, gives the same objective and cross-entropy, and the concept Gram matrix relabelled alike.
//
// Why this can hold to tight tolerances although R_c is non-convex: with one start, predict minimises
// from the simplex start u_{k,ℓ} = b·f_{z_kℓ}, g_α = a·f_α. Permuting classes permutes its coordinates;
// relabelling concepts permutes the vertices of the simplex, which an orthogonal map does; BFGS is
// equivariant under orthogonal changes of variables. Both runs therefore follow the same path up to
// rounding. The type-II family (non-uniform μ) and the histogram/closed forms depend on Z only through
// quantities these symmetries leave unchanged.
//
// Tolerances: the minimiser stops at a gradient norm of 1e-7 (RestrictedProblem's default). The
// objective is flat to second order there, so values agree to ~(1e-7)²/λ ≈ 1e-12 and 1e-8 relative is
// safe. The minimiser itself is known only to ~1e-7/λ ≈ 5e-6 in the directions of smallest curvature
// (λ = 0.02), and the cross-entropy and the Gram entries move to first order with it (the penalty
// trades against the cross-entropy along the valley): they are compared to 1e-4 relative.

private let objectiveTolerance = 1e-8
private let firstOrderTolerance = 1e-4

/// A spec with explicit latent variables for an instance (λ = 0.02 keeps the minimisation quick and
/// well conditioned).
private func spec(_ b: Built, latents z: LatentVariables) -> Spec {
    Spec(
        nc: b.nc, nw: b.nw, L: b.L, K: b.K, d: b.d,
        wordFreq: b.muIsUniform ? .uniform : .weights(b.mu), layerNorm: b.layerNorm, layerNormEps: b.eps,
        weightDecayW: 0.02, weightDecayU: 0.02, latent: .explicit(z.sequences), seed: b.instance.seed)
}

private func prediction(_ spec: Spec) throws -> Prediction {
    var options = PredictOptions()
    options.related = false
    return try predict(spec: spec, starts: 1, options: options)
}

/// Tiny instances, so that predict is fast; every regime (the type-II family with ε > 0 and with
/// non-uniform μ is enumerated exactly at these sizes).
private let predictSpace = InstanceSpace(nc: 2...3, sc: 1...2, L: 1...3, K: 2...5, maxD: 4)

@Suite("predict is equivariant")
struct PredictionEquivarianceTests {
    static func checkPrediction(_ p: Instance, _ kind: SymmetryKind) throws {
        let b = Built(p)
        let s = Symmetry.random(kind, for: b)
        let a = try prediction(spec(b, latents: b.latents))
        let c = try prediction(spec(b, latents: s.latents(b.latents)))
        #expect(a.method == c.method && a.regime == c.regime && a.trivial == c.trivial)
        #expect(
            close(a.objective, c.objective, rel: objectiveTolerance),
            "objective \(a.objective) became \(c.objective) under \(s) (method \(a.method))")
        #expect(
            close(a.crossEntropy, c.crossEntropy, rel: firstOrderTolerance),
            "cross-entropy \(a.crossEntropy) became \(c.crossEntropy) under \(s) (method \(a.method))")
        // Concept Gram: G'[σα][σβ] = G[α][β] for a relabelling, G' = G otherwise.
        let nc = b.nc
        var expected = a.conceptGram
        if case .concepts(let sigma) = s {
            for i in 0..<nc { for j in 0..<nc { expected[sigma[i]][sigma[j]] = a.conceptGram[i][j] } }
        }
        let diff = maxRelativeDifference(expected.flatMap { $0 }, c.conceptGram.flatMap { $0 })
        #expect(diff <= firstOrderTolerance, "concept Gram not relabelled under \(s): relative difference \(diff) (method \(a.method))")
    }

    /// Concepts relabelled and classes permuted, as asked; positions permuted as well (the start
    /// u_{k,ℓ} = b·f_{z_kℓ} permutes with them, and R_c groups positions differently afterwards).
    @Test(.shrinking, arguments: [SymmetryKind.concepts, .classes, .positions])
    func predictionIsEquivariant(_ kind: SymmetryKind) async {
        await forAllInstances("predict/\(kind.rawValue)", count: 150, in: predictSpace) { try Self.checkPrediction($0, kind) }
    }
}
