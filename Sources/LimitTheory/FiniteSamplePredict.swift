import ExperimentSpec
import Foundation
import GSLBridge
import TaskModel

/// Largest parameter count n = n_w·d + K·L·d for which the exact analysis forms dense n x n matrices (H, Σ̄, two GSL
/// eigen-decompositions: O(n³); measured 0.03 s at n = 108 and 26 s at n = 1296 on a loaded 2-core machine, so a few
/// minutes at n = 3000).
public let finiteSampleExactMaxParameters = 3000

/// SPEC 6's coefficients for a spec, as `fcollapse predict --finite-sample` reports them:
/// - small instances (the exact R can be enumerated and n ≤ ``finiteSampleExactMaxParameters``): θ* is the exact minimiser
///   of R found as `verify` finds it (same starts), Newton-polished, then ``finiteSampleExact(risk:theta:options:)``;
/// - otherwise, uniform μ without LayerNorm for given latent variables: the decoupled blocks at the R_c minimiser of
///   `prediction` (which must carry its classifier: ``PredictOptions/includeClassifier``), ``decoupledWithinConcept``;
/// - otherwise no coefficient (method "unavailable") with a note saying why.
///
/// `exactAnalysis: false` skips the exact analysis of small instances (minutes on a mid-sized one: the exact R minimised
/// from `starts` starts, then H by finite differences), so that only the cheap paths run: for the type-II family, the
/// rare-word word-norm spread (seconds), where a caller needs nothing else.
public func finiteSampleCoefficients(
    spec: Spec, prediction: Prediction, starts: Int = 5, exactAnalysis: Bool = true,
    progress: (@Sendable (String) -> Void)? = nil
) throws -> FiniteSampleCoefficients {
    let tolerance = FiniteSampleOptions().collapseTolerance
    func unavailable(_ why: String) -> FiniteSampleCoefficients {
        FiniteSampleCoefficients(
            withinConceptRatioCoefficient: nil, objectiveGapCoefficient: nil, withinConceptRatioCoefficientSE: nil,
            objectiveGapCoefficientSE: nil, wordNormSdCoefficient: nil, nullSpaceDimension: nil,
            expectedNullSpaceDimension: nil, smallestNormalEigenvalue: nil, method: "unavailable",
            withinConceptRatioAtOptimum: nil, collapseTolerance: tolerance, nullTolerance: nil, gradientNorm: nil,
            hessianAsymmetry: nil, notes: [why])
    }
    if spec.layerNorm && spec.layerNormEps == 0 {
        return unavailable(
            "LayerNorm with ε = 0 is not covered by P6 (SPEC 6: no W penalty, flat directions in each word's scale and all-ones shift)")
    }
    // Small instance?
    var small = false
    var classes: Int?
    if case .full = spec.latent {
        classes = spec.fullLatentSpace.count.flatMap { $0 <= 100_000 ? $0 : nil }
    } else {
        classes = spec.latentVariables().count
    }
    if let count = classes {
        let n = spec.nw * spec.d + count * spec.L * spec.d
        let tuples = pow(Double(spec.sc), Double(spec.L))
        small =
            n <= finiteSampleExactMaxParameters && Double(count) * Double(count) * Double(spec.L) * tuples <= ExactRisk.maxWork
            && tuples <= 2e6
    }
    if small && exactAnalysis {
        progress?("P6: minimising the exact R (as verify does) from \(starts) start(s)")
        let (risk, sol) = try exactMinimiser(spec: spec, starts: starts)
        let x = try polishMinimiser(risk: risk, theta: sol.x)
        progress?("P6: H, Σ̄ and the orbit at θ* (\(risk.parameterCount) parameters)")
        let t0 = Date()
        var c = try finiteSampleExact(risk: risk, theta: x).coefficients
        c.notes.insert(
            String(
                format:
                    "θ* = the exact minimiser of R (best of %d starts, R = %.10g, BFGS ‖∇R‖ = %.2g, Newton-polished to %.2g); H, Σ̄ and C exact (finite-difference H, error ~1e-11); %.2f s",
                starts, risk.value(x), sol.gradientNorm, c.gradientNorm ?? .nan, Date().timeIntervalSince(t0)), at: 0)
        return c
    }
    if spec.regime != .typeI, let b = prediction.b, let rho = prediction.rho, !prediction.trivial {
        // The type-II family (Zipf μ; with LayerNorm ε > 0 its feature norms s(r_β)): not collapsed, so no ratio coefficient;
        // the word-norm spread by the rare-word approximation, on a fresh sample of the family's β-expectation.
        progress?("P6: rare-word approximation of the word-norm spread in the type-II family (K = \(spec.K), L = \(spec.L))")
        let t0 = Date()
        let map: ReducedObjectives.NormMap = spec.layerNorm ? .layerNorm(d: spec.d, eps: spec.layerNormEps) : .identity
        let z = spec.latentVariables()
        let fam = try SampledFamily(
            latents: z, mu: spec.mu, map: map, lambdaW: spec.weightDecayW, lambdaU: spec.weightDecayU,
            samplesPerClass: defaultPooledSamplesPerClass(classes: z.count),
            seed: RandomGenerator.derive(spec.seed(for: .predict), stream: 61))
        let sd = fam.rareWordNormSdCoefficient(b: b, rho: rho)
        return FiniteSampleCoefficients(
            withinConceptRatioCoefficient: nil, objectiveGapCoefficient: nil, withinConceptRatioCoefficientSE: nil,
            objectiveGapCoefficientSE: nil, wordNormSdCoefficient: sd, nullSpaceDimension: nil, expectedNullSpaceDimension: nil,
            smallestNormalEigenvalue: nil, method: "rare-word-approximation", withinConceptRatioAtOptimum: nil,
            collapseTolerance: tolerance, nullTolerance: nil, gradientNorm: nil, hessianAsymmetry: nil,
            notes: [
                String(
                    format:
                        "θ* = the type-II family's point of the prediction (\(prediction.method), an approximation of the minimiser for given latent variables, SPEC 4.2); word_norm_sd_coefficient by the rare-word approximation (a word's own radial coordinate, its coupling with U and the other words dropped: relative error O(μ_β), measured against the exact sandwich on small instances: 2.7%% at μ_β = 0.02, 10%% at 0.1, up to 28%% at 0.6); %.2f s",
                    Date().timeIntervalSince(t0)),
                spec.wordFreq.isUniform(wordsPerConcept: spec.sc)
                    ? "uniform μ with LayerNorm ε > 0: the family's point is collapsed, but the family (simplex directions) only approximates θ* for given latent variables, and the exact collapsed θ* (R_c minimised through LayerNorm) is not computed at this scale: no within-concept ratio coefficient (the decoupled blocks support LayerNorm once that θ* exists); the gap coefficient needs the full H⁺ and Σ̄, not formed at this scale"
                    : "θ* is not collapsed (Zipf μ): no within-concept ratio coefficient; the gap coefficient needs the full H⁺ and Σ̄, not formed at this scale",
                "the spread is that of one word's norm; a norm averaged over the n_c concepts has sd ≈ this/√(n_c·N)"
            ])
    }
    guard spec.regime == .typeI else {
        return unavailable(
            "too large for the exact analysis (n = n_w·d + K·L·d > \(finiteSampleExactMaxParameters) or the word tuples cannot be enumerated), and the decoupled form of SPEC 6 needs a collapsed θ* with uniform μ and no LayerNorm (for LayerNorm with ε > 0 and given latent variables no exact θ* is computed at this scale)"
        )
    }
    guard prediction.method == "restricted", !prediction.trivial, let concepts = prediction.concepts,
        let classifier = prediction.classifier
    else {
        return unavailable(
            "the limit minimiser is trivial or was not computed as an R_c configuration (method \(prediction.method)): no collapsed θ* to expand around (the within-concept ratio is undefined at W = 0)"
        )
    }
    progress?("P6: decoupled within-concept blocks at the R_c minimiser (K = \(spec.K), L = \(spec.L), d = \(spec.d))")
    let t0 = Date()
    let dec = try decoupledWithinConcept(
        concepts: concepts, classifier: classifier, latents: spec.latentVariables(),
        wordsPerConcept: spec.sc, lambdaW: spec.weightDecayW, layerNormEps: nil)
    let notes = [
        String(
            format: "θ* = the R_c minimiser of the prediction (uniform μ: collapsed and exact by P1), embedded in R^d; %.2f s",
            Date().timeIntervalSince(t0)),
        "at a collapsed θ* with uniform μ, Σ̄ lives on the within-concept blocks V_α ⊗ R^d (U and the concept means get the same gradient from every sentence of a class), so the decoupled −Σ_α ((s_c−1)/(2s_c)) tr(A_α⁻¹B_α) is all of −tr(H⁺Σ̄)/2, and every word's block of C is ((s_c−1)/s_c²) A_α⁻¹B_αA_α⁻¹ (equal to the full sandwich to ~1e-12 on small instances)",
        "null_space_dimension and smallest_normal_eigenvalue need H on U and the concept means (K·L·d + n_c·d parameters), not formed at this scale: null. The within-concept blocks' smallest eigenvalue (an upper bound of smallest_normal_eigenvalue) is \(dec.smallestBlockEigenvalue); expected_null_space_dimension is the orbit dimension from the rank \(dec.spanRank) of the span of features and classifier blocks",
        "θ* is known to R_c's gradient tolerance (1e-7, 3e-6 above 10⁴ variables), not polished: the coefficients are those of that point"
    ]
    return FiniteSampleCoefficients(
        withinConceptRatioCoefficient: dec.coefficient, objectiveGapCoefficient: dec.gapCoefficient,
        withinConceptRatioCoefficientSE: 0, objectiveGapCoefficientSE: 0,
        wordNormSdCoefficient: [Double](repeating: dec.wordNormSdCoefficient, count: spec.sc),
        nullSpaceDimension: nil, expectedNullSpaceDimension: dec.orbitDimension, smallestNormalEigenvalue: nil,
        method: "decoupled-collapsed", withinConceptRatioAtOptimum: 0, collapseTolerance: tolerance, nullTolerance: nil,
        gradientNorm: nil, hessianAsymmetry: nil, notes: notes)
}

/// The text lines of `fcollapse predict --finite-sample` (SPEC 6): the coefficients in words.
public func finiteSampleSummary(_ c: FiniteSampleCoefficients, spec: Spec, classes: Double) -> [String] {
    func f(_ v: Double) -> String { String(format: "%.6g", v) }
    var lines = ["finite sample (P6, SPEC 6), method \(c.method); N = K·n_spl training sentences (K = \(f(classes)))"]
    let N = classes * Double(spec.nspl)
    if let r = c.withinConceptRatioCoefficient {
        lines.append("  predicted E[within-concept ratio] ≈ \(f(r))/N with N = K·n_spl (\(f(r / N)) at the spec's n_spl = \(spec.nspl))")
    } else {
        lines.append("  within-concept ratio coefficient: none (see notes)")
    }
    if let g = c.objectiveGapCoefficient {
        lines.append(
            "  predicted E[R̂_n(θ_n) − R(θ*)] ≈ \(f(g))/N (\(f(g / N)) at n_spl = \(spec.nspl)); on held-out data R(θ_n) − R(θ*) ≈ \(f(-g))/N"
        )
    } else {
        lines.append("  objective gap coefficient: none (see notes)")
    }
    if let s = c.wordNormSdCoefficient, let first = s.first, let last = s.last {
        lines.append("  predicted sd of a word's feature norm ≈ c_β/√N, c_β from \(f(first)) (rank 0) to \(f(last)) (rank \(s.count - 1))")
    }
    lines.append(
        "  null space of H: \(c.nullSpaceDimension.map(String.init) ?? "not formed"), orbit dimension \(c.expectedNullSpaceDimension.map(String.init) ?? "unknown")"
            + (c.smallestNormalEigenvalue.map { ", smallest eigenvalue on the normal space \(f($0))" } ?? ""))
    for n in c.notes { lines.append("  note: \(n)") }
    return lines
}
