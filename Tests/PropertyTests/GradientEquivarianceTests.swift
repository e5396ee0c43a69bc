import TestSupport
import GSLBridge
import LimitTheory
import PropertyBased
import Testing
import TaskModel
import Training

// Gradients and SGD commute with the symmetries: ∇f'(T·x) = T·∇f(x) for the transformed problem f',
// and one SGD step of the transformed network on the transformed minibatch is the transformed step.
// (Every symmetry T here is orthogonal, so gradients transform exactly as the parameters do.)
//
// Tolerances: double-precision gradients, relative 1e-10 (as for the values: reordered sums of
// O(1) terms; the largest gradient entry sets the scale). Float32 SGD, relative 1e-5: each updated
// parameter is θ − lr·(∇ + λθ) with ∇ a sum of at most L·d + K ≤ 21 float products, so the two orders
// of summation differ by ~21·6e-8 ≈ 1e-6 of the scale; 1e-5 leaves a margin of ten. Rotations with
// LayerNorm: times `layerNormConditioning` (see ObjectiveInvarianceTests), the amplification of the
// rounding of W·Q by LayerNorm's centring; it matters for the gradient, whose LayerNorm factor is
// 1/‖w_c‖ (a draw with ‖w‖/‖w_c‖ = 4.7e3 moved ∇R by 1.06e-10 relative).

private let gradientTolerance = 1e-10
private let sgdTolerance = 1e-5

@Suite("Gradients and SGD steps are equivariant")
struct GradientEquivarianceTests {
    /// The analytic gradient of the exact limit risk R.
    static func checkExactRiskGradient(_ p: Instance, _ kind: SymmetryKind) throws {
        let b = Built(p)
        let s = Symmetry.random(kind, for: b)
        let r = try ExactRisk(
            latents: b.latents, mu: b.mu, d: b.d, lambdaW: lambdaW, lambdaU: lambdaU,
            layerNorm: b.layerNorm, eps: b.eps)
        let r2 = try ExactRisk(
            latents: s.latents(b.latents), mu: s.mu(b.mu), d: b.d, lambdaW: lambdaW, lambdaU: lambdaU,
            layerNorm: b.layerNorm, eps: b.eps)
        let g = r.gradient(b.x)
        let g2 = r2.gradient(s.parameters(b.x, words: b.nw, wordsPerConcept: b.sc, length: b.L, dimension: b.d))
        let expected = s.parameters(g, words: b.nw, wordsPerConcept: b.sc, length: b.L, dimension: b.d)
        let diff = maxRelativeDifference(g2, expected)
        #expect(diff <= gradientTolerance * b.amplification(s), "∇R not equivariant under \(s): relative difference \(diff)")
    }

    /// The full-batch gradient of the empirical risk R̂.
    static func checkEmpiricalRiskGradient(_ p: Instance, _ kind: SymmetryKind) {
        let b = Built(p)
        let s = Symmetry.random(kind, for: b)
        let set = trainingSentences(b)
        func risk(_ sentences: SentenceSet) -> EmpiricalRisk {
            EmpiricalRisk(
                nw: b.nw, d: b.d, K: b.K, L: b.L, layerNorm: b.layerNorm, eps: b.eps,
                weightDecayW: lambdaW, weightDecayU: lambdaU, sentences: sentences, threads: 1)
        }
        let g = risk(set).evaluate(b.x).gradient
        let g2 = risk(s.sentences(set, wordsPerConcept: b.sc))
            .evaluate(s.parameters(b.x, words: b.nw, wordsPerConcept: b.sc, length: b.L, dimension: b.d)).gradient
        let expected = s.parameters(g, words: b.nw, wordsPerConcept: b.sc, length: b.L, dimension: b.d)
        let diff = maxRelativeDifference(g2, expected)
        #expect(diff <= gradientTolerance * b.amplification(s), "∇R̂ not equivariant under \(s): relative difference \(diff)")
    }

    /// The gradient of the collapse-restricted objective R_c.
    static func checkRestrictedGradient(_ p: Instance, _ kind: SymmetryKind) {
        let b = Built(p)
        let problem = restrictedProblem(b)
        let x = restrictedPoint(b, problem)
        let s = restrictedSymmetry(kind, b, problem)
        let moved = restrictedProblem(b, latents: s.latents(b.latents))
        let de = problem.dimension
        let g2 = moved.gradient(s.restricted(x, concepts: b.nc, length: b.L, dimension: de))
        let expected = s.restricted(problem.gradient(x), concepts: b.nc, length: b.L, dimension: de)
        let diff = maxRelativeDifference(g2, expected)
        #expect(diff <= gradientTolerance, "∇R_c not equivariant under \(s): relative difference \(diff)")
    }

    /// One step of Training's float32 SGD (Network.sgdStep, lr 0.1, coupled weight decay) on a
    /// minibatch of up to 8 training sentences followed by the symmetry equals the symmetry followed by
    /// the step on the moved minibatch.
    static func checkSGDStep(_ p: Instance, _ kind: SymmetryKind) {
        let b = Built(p)
        let s = Symmetry.random(kind, for: b)
        let set = trainingSentences(b)
        // A minibatch: up to 8 sentences in a random order.
        let order = b.rng.permutation(set.count).map(Int.init)
        let n = min(8, set.count)
        let batch = SentenceSet(
            length: b.L, words: order.prefix(n).flatMap { Array(set.sentence($0)) },
            labels: order.prefix(n).map { set.labels[$0] })
        func transform(_ q: Parameters) -> Parameters {
            Parameters(
                nw: b.nw, d: b.d, K: b.K, L: b.L,
                flattened: s.parameters(q.flattened, words: b.nw, wordsPerConcept: b.sc, length: b.L, dimension: b.d))
        }
        func step(_ q: Parameters, _ batch: SentenceSet) -> Parameters {
            let net = Network(nw: b.nw, d: b.d, K: b.K, L: b.L, layerNorm: b.layerNorm, eps: b.eps, maxBatch: n)
            var q = q
            batch.words.withUnsafeBufferPointer { w in
                batch.labels.withUnsafeBufferPointer { l in
                    _ = net.sgdStep(
                        &q, words: w.baseAddress!, labels: l.baseAddress!, count: n, lr: 0.1,
                        weightDecayW: Float(lambdaW), weightDecayU: Float(lambdaU))
                }
            }
            return q
        }
        let p0 = Parameters(nw: b.nw, d: b.d, K: b.K, L: b.L, flattened: b.x)
        let stepped = step(p0, batch)
        let stepThenMove = transform(stepped)
        let moveThenStep = step(transform(p0), s.sentences(batch, wordsPerConcept: b.sc))
        let diff = maxRelativeDifference(stepThenMove.flattened, moveThenStep.flattened)
        #expect(diff <= sgdTolerance * b.amplification(s), "an SGD step does not commute with \(s): relative difference \(diff)")
        // The step did something (otherwise commuting would be vacuous).
        #expect(maxRelativeDifference(stepped.flattened, p0.flattened) > 1e-4)
    }

    @Test(.shrinking, arguments: SymmetryKind.allCases)
    func exactRiskGradient(_ kind: SymmetryKind) async {
        await forAllInstances("exact-risk-gradient/\(kind.rawValue)", count: 400) { try Self.checkExactRiskGradient($0, kind) }
    }

    @Test(.shrinking, arguments: SymmetryKind.allCases)
    func empiricalRiskGradient(_ kind: SymmetryKind) async {
        await forAllInstances("empirical-risk-gradient/\(kind.rawValue)", count: 400) { Self.checkEmpiricalRiskGradient($0, kind) }
    }

    @Test(.shrinking, arguments: [SymmetryKind.concepts, .classes, .positions, .rotation])
    func restrictedGradient(_ kind: SymmetryKind) async {
        await forAllInstances("restricted-gradient/\(kind.rawValue)", count: 400) { Self.checkRestrictedGradient($0, kind) }
    }

    @Test(.shrinking, arguments: SymmetryKind.allCases)
    func sgdStepCommutes(_ kind: SymmetryKind) async {
        await forAllInstances("sgd-step/\(kind.rawValue)", count: 400) { Self.checkSGDStep($0, kind) }
    }
}
