import Geometry
import Foundation
import ExperimentSpec
import GSLBridge
import TaskModel

/// What the large-sample limit predicts for a spec (JSON keys in snake_case).
public struct Prediction: Codable, Sendable, Equatable {
    /// "type-I", "type-II" or "layernorm".
    public var regime: String
    /// "closed-form" (full latent space), "restricted" (R_c of SPEC 4.2), "sampled" (type-II family with a
    /// sampled or enumerated β-expectation: an approximation for given latent variables), or
    /// "histogram" (the simplex family for given latent variables through Hamming histograms: an upper bound).
    public var method: String
    /// True when this prediction is exact for the limit problem (closed forms, R_c for uniform μ / idealised
    /// LayerNorm, up to the non-convexity noted in `starts`); false for approximations.
    public var exact: Bool
    /// LayerNorm's ε used (0 = idealised; nil without LayerNorm).
    public var layerNormEps: Double?
    /// Minimum of the limit objective, penalties included.
    public var objective: Double
    /// Its cross-entropy part.
    public var crossEntropy: Double
    /// Standard error of `cross_entropy` over the β-sampling (sampled method only).
    public var crossEntropyStandardError: Double?
    /// W = 0, U = 0 is the minimiser.
    public var trivial: Bool
    /// Trivial iff threshold_statistic ≥ threshold_limit (type I: sqrt(λ_W λ_U n_w K L) against −c·F'(0), which is
    /// L for the full latent space; type II full latent: λ_W λ_U n_c K against L·Σμ², the origin's stability).
    public var thresholdStatistic: Double?
    public var thresholdLimit: Double?
    /// Predicted norm of the feature (after LayerNorm when on) of each word rank β (length s_c).
    public var wordNorms: [Double]
    /// Predicted ‖w_{α,β}‖ before LayerNorm per rank (ρ_β; r_β with LayerNorm ε > 0); nil when not defined.
    public var rho: [Double]?
    /// RMS of ‖u_{k,ℓ}‖.
    public var classifierNorm: Double
    /// Type I: p = a·b and a (common word norm); b = classifier block norm (families).
    public var p: Double?
    public var a: Double?
    public var b: Double?
    /// Gram matrix (n_c x n_c) of the concept vectors (mean feature of each concept's words).
    public var conceptGram: [[Double]]
    /// Concept vectors (n_c x d) when the method produces a configuration (restricted; families: simplex).
    public var concepts: [[Double]]?
    /// Classifier U (K x L·d) of the restricted minimiser, when requested.
    public var classifier: [[Double]]?
    /// Value of the objective reached from each start (non-convex problems), best first is not implied.
    public var starts: [Double]
    /// Number of classes K (n_c^L for the full latent space) and duplicated latent variables.
    public var classes: Double
    public var duplicateClasses: Int
    /// β-samples per class (sampled method; enumerated tuples when exact).
    public var samplesPerClass: Int?
    /// Other predictions computed on the way (e.g. the idealised LayerNorm next to ε > 0, or the simplex
    /// family next to R_c), for comparison.
    public var related: [Prediction]
    public var notes: [String]
    /// Monte Carlo standard error of each entry of `word_norms` (sampled method with the pooled estimator;
    /// nil for exact methods and for enumerated expectations), from independent replicates.
    public var wordNormsStandardError: [Double]? = nil
    /// The same for `rho` and for `b`.
    public var rhoStandardError: [Double]? = nil
    public var bStandardError: Double? = nil

    enum CodingKeys: String, CodingKey {
        case regime, method, exact, objective, trivial, rho, p, a, b, concepts, classifier, starts, classes, related, notes
        case layerNormEps = "layer_norm_eps"
        case crossEntropy = "cross_entropy"
        case crossEntropyStandardError = "cross_entropy_standard_error"
        case thresholdStatistic = "threshold_statistic"
        case thresholdLimit = "threshold_limit"
        case wordNorms = "word_norms"
        case classifierNorm = "classifier_norm"
        case conceptGram = "concept_gram"
        case duplicateClasses = "duplicate_classes"
        case samplesPerClass = "samples_per_class"
        case wordNormsStandardError = "word_norms_se"
        case rhoStandardError = "rho_se"
        case bStandardError = "b_se"
    }

    /// RMS of the predicted feature norms over the ranks (unweighted).
    public var rmsWordNorm: Double { (wordNorms.reduce(0) { $0 + $1 * $1 } / Double(max(1, wordNorms.count))).squareRoot() }
}

/// Options of ``predict(spec:starts:options:)``.
public struct PredictOptions: Sendable {
    /// β-samples per class for the sampled method (default: plain estimator about 8000 sentences in all, at least 8
    /// per class; pooled estimator `defaultPooledSamplesPerClass`, and a plain start with the former).
    public var samplesPerClass: Int?
    /// Include U (K x L·d) of the restricted minimiser in the prediction.
    public var includeClassifier: Bool = false
    /// Also compute related predictions (the simplex family, the idealised LayerNorm).
    public var related: Bool = true
    /// Progress messages (for the CLI's stderr).
    public var progress: (@Sendable (String) -> Void)?
    /// How the sampled type-II family estimates the β-expectation (not used when it is enumerated).
    public var sampledEstimator: SampledEstimator = .pooled
    /// Independent replicates for the per-rank standard errors of the pooled estimator (at least 2).
    public var replicates: Int = 10
    public init() {}
}

/// Estimators of the sampled type-II family's minimiser (SampledFamily).
public enum SampledEstimator: String, Sendable, CaseIterable {
    /// BFGS on the plain sample objective: rank β's gradient sees only the sentences that contain β.
    case plain
    /// The pooled (rank-conditioned) estimating equations: every rank uses every sampled position; with
    /// per-rank standard errors from independent replicates.
    case pooled
}

/// Default sentences per class of the pooled estimator: about 64,000 sentences in all, at least 20 per class
/// (2 per replicate). At paper scale (fig4a) that is 64 per class and a largest relative SE near 0.1%.
public func defaultPooledSamplesPerClass(classes K: Int) -> Int { max(20, Int((64_000 / Double(K)).rounded(.up))) }

/// Default number of starts for the non-convex problems.
public let defaultPredictStarts = 3

/// The large-sample-limit prediction for a spec:
/// - full latent space: the closed form of the regime (g; J; h for ε = 0, J_ε for ε > 0);
/// - given latent variables, uniform μ or idealised LayerNorm (ε = 0): R_c minimised from `starts` starts;
/// - given latent variables, non-uniform μ without LayerNorm, or LayerNorm with ε > 0: the type-II family
///   with the β-expectation sampled (exact by enumeration when s_c^L is small), an approximation; with
///   LayerNorm the idealised R_c prediction is attached in `related`.
public func predict(spec: Spec, starts: Int = defaultPredictStarts, options: PredictOptions = PredictOptions()) throws -> Prediction {
    try spec.validate()
    guard starts >= 1 else { throw LimitTheoryError("starts must be at least 1 (got \(starts))") }
    guard spec.weightDecayU > 0 else {
        throw LimitTheoryError(
            "spec field 'weight_decay_U' must be positive for the limit objective to have a minimiser (got \(spec.weightDecayU))")
    }
    if !(spec.layerNorm && spec.layerNormEps == 0) && !(spec.weightDecayW > 0) {
        throw LimitTheoryError(
            "spec field 'weight_decay_W' must be positive for the limit objective to have a minimiser (got \(spec.weightDecayW))")
    }
    GSL.initialise()
    let sc = spec.sc, nc = spec.nc, d = spec.d
    let regime = spec.regime
    let lw = spec.weightDecayW, lu = spec.weightDecayU
    if case .full = spec.latent {
        let space = spec.fullLatentSpace
        let profile = LatentProfile.full(space)
        switch regime {
        case .typeI:
            let s = try ReducedObjectives.typeI(profile: profile, wordsPerConcept: sc, lambdaW: lw, lambdaU: lu)
            return familyPrediction(
                s, regime: regime, method: "closed-form", exact: true, eps: nil, nc: nc, d: d, classes: profile.classes, duplicates: 0)
        case .typeII:
            let s = try ReducedObjectives.separable(space: space, mu: spec.mu, map: .identity, lambdaW: lw, lambdaU: lu)
            return familyPrediction(
                s, regime: regime, method: "closed-form", exact: true, eps: nil, nc: nc, d: d, classes: profile.classes, duplicates: 0)
        case .layerNorm:
            let ideal = familyPrediction(
                try ReducedObjectives.layerNormIdealised(profile: profile, wordsPerConcept: sc, d: d, lambdaU: lu),
                regime: regime, method: "closed-form", exact: true, eps: 0, nc: nc, d: d, classes: profile.classes, duplicates: 0)
            if spec.layerNormEps == 0 { return ideal }
            let s = try ReducedObjectives.separable(
                space: space, mu: spec.mu, map: .layerNorm(d: d, eps: spec.layerNormEps), lambdaW: lw, lambdaU: lu)
            var p = familyPrediction(
                s, regime: regime, method: "closed-form", exact: true, eps: spec.layerNormEps, nc: nc, d: d, classes: profile.classes,
                duplicates: 0)
            if options.related { p.related = [ideal] }
            return p
        }
    }
    try spec.checkMemory(for: .predict)
    let z = spec.latentVariables()
    let dup = z.duplicateGroups().reduce(0) { $0 + $1.count - 1 }
    let K = Double(z.count)
    options.progress?("Hamming histograms of K = \(z.count) latent variables")
    let profile = LatentProfile(latents: z)
    let seed = spec.seed(for: .predict)
    var notes: [String] = []
    if dup > 0 { notes.append("\(dup) classes repeat another class's latent variable: they cannot be told apart") }

    func restricted(idealisedLN: Bool, family: FamilySolution) throws -> Prediction {
        let problem = RestrictedProblem(latents: z, wordsPerConcept: sc, d: d, lambdaW: lw, lambdaU: lu, idealisedLayerNorm: idealisedLN)
        let a = idealisedLN ? 1 : family.featureNorms[0]
        let rng = RandomGenerator(seed: seed)
        var xs = [problem.start(a: a, b: family.b, rng: nil)]
        for _ in 1..<starts { xs.append(problem.start(a: a, b: family.b, rng: rng)) }
        options.progress?("minimising R_c (\(problem.parameterCount) variables) from \(starts) start(s)")
        let sols = try problem.minimise(starts: xs)
        options.progress?(
            "R_c starts: " + sols.map { String(format: "%.9f (%d iterations)", $0.value, $0.iterations) }.joined(separator: ", "))
        let best = sols.min { $0.value < $1.value }!
        let (phi, U) = problem.embed(best.x)
        let gram = phi.map { u in phi.map { v in zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } } }
        let norms = phi.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let rmsA = (norms.reduce(0) { $0 + $1 * $1 } / Double(nc)).squareRoot()
        var uu = 0.0
        for row in U { for v in row { uu += v * v } }
        let rmsB = (uu / (K * Double(spec.L))).squareRoot()
        var n = notes
        if sols.contains(where: { !$0.converged }) {
            n.append("some starts stopped before the gradient test (line search without progress); values: \(sols.map { $0.value })")
        }
        if !idealisedLN && sc > 0 && !spec.wordFreq.isUniform(wordsPerConcept: sc) {
            n.append("R_c is not exact for non-uniform μ without LayerNorm (SPEC 4.2)")
        }
        return Prediction(
            regime: regime.rawValue, method: "restricted", exact: true, layerNormEps: idealisedLN ? 0 : nil,
            objective: best.value, crossEntropy: best.crossEntropy, crossEntropyStandardError: nil,
            trivial: uu == 0, thresholdStatistic: nil, thresholdLimit: nil,
            wordNorms: idealisedLN ? [Double](repeating: Double(d).squareRoot(), count: sc) : [Double](repeating: rmsA, count: sc),
            rho: nil, classifierNorm: rmsB, p: idealisedLN ? nil : rmsA * rmsB, a: idealisedLN ? nil : rmsA, b: rmsB,
            conceptGram: gram, concepts: phi, classifier: options.includeClassifier ? U : nil,
            starts: sols.map(\.value), classes: K, duplicateClasses: dup, samplesPerClass: nil, related: [], notes: n)
    }

    func sampled(map: ReducedObjectives.NormMap, b0: Double, rho0: Double) throws -> Prediction {
        let plainM = max(8, Int((8000 / K).rounded(.up)))
        let pooled = options.sampledEstimator == .pooled
        let m = options.samplesPerClass ?? (pooled ? defaultPooledSamplesPerClass(classes: z.count) : plainM)
        let fam = try SampledFamily(latents: z, mu: spec.mu, map: map, lambdaW: lw, lambdaU: lu, samplesPerClass: m, seed: seed)
        options.progress?(
            fam.isExact
                ? "type-II family, β-expectation enumerated (\(fam.samplesPerClass) tuples)"
                : "type-II family, β-expectation sampled (\(m) sentences per class, \(pooled && !fam.isExact ? "pooled" : "plain") estimator)"
        )
        var pooledSolution: SampledFamily.PooledSolution?
        var s: SampledFamily.Solution
        if pooled && !fam.isExact {
            // Start: BFGS on the plain sample objective with a small independent sample; then the pooled equations.
            let start = try SampledFamily(
                latents: z, mu: spec.mu, map: map, lambdaW: lw, lambdaU: lu, samplesPerClass: plainM,
                seed: RandomGenerator.derive(seed, stream: 98))
            let s0 = try start.minimise(b0: b0, rho0: [Double](repeating: rho0, count: sc), freshSamplesPerClass: 2, seed: seed)
            options.progress?(
                "type-II family: start from the plain estimator (\(plainM) sentences per class, \(s0.iterations) BFGS iterations)")
            let ps = try fam.solvePooled(b0: s0.b, rho0: s0.rho, replicates: options.replicates)
            options.progress?(
                "type-II family, pooled: \(ps.iterations) fixed-point iterations, \(ps.replicates) replicates in \(ps.replicateIterations)")
            let fresh = try fam.resampled(samplesPerClass: 8 * plainM, seed: RandomGenerator.derive(seed, stream: 99))
            let x = [ps.b] + ps.rho
            let ce = fresh.crossEntropy(x)
            s = SampledFamily.Solution(
                b: ps.b, rho: ps.rho, objective: fresh.value(x), crossEntropy: ce.value, standardError: ce.standardError,
                iterations: ps.iterations, converged: ps.converged)
            pooledSolution = ps
        } else {
            s = try fam.minimise(
                b0: b0, rho0: [Double](repeating: rho0, count: sc), freshSamplesPerClass: 8 * m,
                seed: RandomGenerator.derive(seed, stream: 99))
        }
        options.progress?("type-II family: \(s.iterations) iterations, objective \(s.objective)")
        let fs = s.rho.map(map.s)
        let mean = fs.reduce(0, +) / Double(sc)
        let frame = simplexFrame(concepts: nc, dimension: map.layerNorm ? d : max(d, nc))
        let concepts =
            map.layerNorm ? layerNormFrame(nc: nc, d: d).map { $0.map { $0 * mean } } : frame.map { Array($0.prefix(d)).map { $0 * mean } }
        var n = notes
        if fam.isExact {
            n.append(
                "type-II family (simplex directions, one b, norms per rank) with the exact β-expectation: an approximation of the limit for given latent variables (SPEC 4.2)"
            )
        } else if pooledSolution != nil {
            n.append(
                "type-II family (simplex directions, one b, norms per rank) with a sampled β-expectation: an approximation (SPEC 4.2). Pooled estimator: every rank's equation uses all \(m) sentences per class at every position (rank-conditioned), solved as a fixed point; objective and cross-entropy re-estimated on \(8 * plainM) fresh sentences per class"
            )
        } else {
            n.append(
                "type-II family (simplex directions, one b, norms per rank) with a sampled β-expectation (\(m) sentences per class to minimise, \(8 * m) fresh ones to estimate): an approximation (SPEC 4.2)"
            )
        }
        if map.layerNorm {
            n.append(
                "LayerNorm with ε > 0 for given latent variables: the family has feature norms s(r_β); the idealised R_c prediction (ε = 0) is in related"
            )
        }
        if let ps = pooledSolution {
            if let se = ps.featureNormStandardError {
                let rel = zip(se, fs).map { $1 > 0 ? $0 / $1 : 0 }.max() ?? 0
                n.append(
                    String(
                        format:
                            "word_norms_se: Monte Carlo standard error per rank from %d independent replicates (the sentences of each class dealt into %d groups, the equations solved on each, SE = sd/√%d); largest relative SE %.3g%%",
                        ps.replicates, ps.replicates, ps.replicates, 100 * rel))
            }
            if !ps.converged {
                n.append(String(format: "the pooled fixed point stopped before its tolerance (last relative change %.3g)", ps.change))
            }
        }
        var pred = Prediction(
            regime: regime.rawValue, method: "sampled", exact: false, layerNormEps: map.layerNorm ? map.eps : nil,
            objective: s.objective, crossEntropy: s.crossEntropy, crossEntropyStandardError: fam.isExact ? nil : s.standardError,
            trivial: s.b == 0, thresholdStatistic: nil, thresholdLimit: nil, wordNorms: fs, rho: s.rho,
            classifierNorm: abs(s.b), p: nil, a: nil, b: s.b, conceptGram: simplexGram(nc: nc, scale: mean),
            concepts: concepts, classifier: nil, starts: [s.objective], classes: K, duplicateClasses: dup,
            samplesPerClass: fam.samplesPerClass, related: [], notes: n)
        pred.wordNormsStandardError = pooledSolution?.featureNormStandardError
        pred.rhoStandardError = pooledSolution?.rhoStandardError
        pred.bStandardError = pooledSolution?.bStandardError
        return pred
    }

    switch regime {
    case .typeI:
        let family = try ReducedObjectives.typeI(profile: profile, wordsPerConcept: sc, lambdaW: lw, lambdaU: lu)
        let fp = familyPrediction(
            family, regime: regime, method: "histogram", exact: false, eps: nil, nc: nc, d: d, classes: K, duplicates: dup)
        if family.trivial {
            var p = fp
            p.method = "histogram"; p.exact = true
            p.notes.append("the trivial solution W = 0, U = 0 is optimal for the simplex family (g'(0) ≥ 0); R_c not minimised")
            return p
        }
        var p = try restricted(idealisedLN: false, family: family)
        if options.related { p.related = [fp] }
        return p
    case .layerNorm:
        let family = try ReducedObjectives.layerNormIdealised(profile: profile, wordsPerConcept: sc, d: d, lambdaU: lu)
        let fp = familyPrediction(
            family, regime: regime, method: "histogram", exact: false, eps: 0, nc: nc, d: d, classes: K, duplicates: dup)
        let ideal = try restricted(idealisedLN: true, family: family)
        if spec.layerNormEps == 0 {
            var p = ideal
            if options.related { p.related = [fp] }
            return p
        }
        var p = try sampled(
            map: .layerNorm(d: d, eps: spec.layerNormEps), b0: family.b, rho0: 3 * (Double(d) * spec.layerNormEps).squareRoot())
        p.related = [ideal, fp]
        return p
    case .typeII:
        let family = try ReducedObjectives.typeI(profile: profile, wordsPerConcept: sc, lambdaW: lw, lambdaU: lu)
        let rho0 = family.trivial ? 0.1 : family.featureNorms[0]
        let b0 = family.trivial ? 0.1 : family.b
        var p = try sampled(map: .identity, b0: b0, rho0: rho0)
        if options.related && !family.trivial && z.count * spec.L <= 5000 {
            // R_c restricted to collapsed words is also an upper bound of the exact minimum here (computed for
            // small instances only: at paper scale with Zipf μ it is far above the family).
            var rc = try restricted(idealisedLN: false, family: family)
            rc.exact = false
            p.related = [rc]
            if rc.objective < p.objective {
                p.notes.append(
                    "the collapsed problem R_c (in related) reaches a lower objective than the type-II family for these latent variables; both are upper bounds of the exact minimum"
                )
            }
        }
        return p
    }
}

/// Simplex Gram matrix scaled by scale²: 1 on the diagonal, −1/(n_c−1) off it.
func simplexGram(nc: Int, scale: Double) -> [[Double]] {
    (0..<nc).map { i in (0..<nc).map { j in scale * scale * (i == j ? 1 : -1 / Double(nc - 1)) } }
}

/// Simplex of centred unit vectors in R^d (d ≥ n_c): Helmert coordinates of the centred subspace.
func layerNormFrame(nc: Int, d: Int) -> [[Double]] {
    let f = simplexFrame(concepts: nc, dimension: nc - 1)
    let basis = (1..<nc).map { helmert($0, length: d) }
    return f.map { v in
        var out = [Double](repeating: 0, count: d)
        for (i, c) in v.enumerated() { for t in 0..<d { out[t] += c * basis[i][t] } }
        return out
    }
}

func familyPrediction(
    _ s: FamilySolution, regime: Regime, method: String, exact: Bool, eps: Double?, nc: Int, d: Int,
    classes: Double, duplicates: Int
) -> Prediction {
    let mean = s.featureNorms.reduce(0, +) / Double(max(1, s.featureNorms.count))
    let ln = regime == .layerNorm
    let frame = ln ? layerNormFrame(nc: nc, d: d) : simplexFrame(concepts: nc, dimension: max(d, nc)).map { Array($0.prefix(d)) }
    let rho: [Double]? = (ln && (eps ?? 0) == 0) ? nil : s.wordNorms
    return Prediction(
        regime: regime.rawValue, method: method, exact: exact, layerNormEps: eps, objective: s.objective,
        crossEntropy: s.crossEntropy, crossEntropyStandardError: nil, trivial: s.trivial,
        thresholdStatistic: s.thresholdStatistic, thresholdLimit: s.thresholdLimit, wordNorms: s.featureNorms, rho: rho,
        classifierNorm: s.b, p: s.p, a: s.p != nil ? s.featureNorms.first : nil, b: s.b,
        conceptGram: simplexGram(nc: nc, scale: mean), concepts: frame.map { $0.map { $0 * mean } }, classifier: nil,
        starts: [s.objective], classes: classes, duplicateClasses: duplicates, samplesPerClass: nil, related: [], notes: [])
}
