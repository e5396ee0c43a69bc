import ArrayIO
import Comparison
import ExperimentSpec
import Foundation
import GSLBridge
import Geometry
import LimitTheory

/// P5 judged over seeds: whether the mean of a metric over independent training sets (one per seed) falls with n_spl.
/// Fixed here before any run:
///
///     slope ± t·SE(slope),  the weighted least-squares slope of log(mean) against log n_spl,
///
/// with weights (mean/SE)² (the delta method: Var(log mean) ≈ (SE/mean)²), SE the standard error of the mean over the
/// seeds, and t the 97.5% quantile of Student's t with seeds − 1 degrees of freedom (each SE rests on that many; the
/// Welch–Satterthwaite degrees of freedom of the fit are at least the smallest of them, so the interval is not too
/// narrow). The metric falls with n_spl when the upper end of that 95% interval is below 0.
///
/// The sizes are treated as independent although they share seeds (a seed's latent variables are the same at every
/// n_spl): a level common to a seed's whole series moves the intercept, not the slope, so this overstates the slope's
/// variance. What the criterion establishes is a fall, a necessary condition of P5's ratio → 0, not the limit itself:
/// a grouping whose limit ratio is positive can still fall (the report shows one, `p5-criterion-merged-halves`).
public enum ConvergenceCriterion {
    public struct Point: Sendable, Equatable, Codable {
        public var nspl: Int
        public var mean: Double
        public var se: Double
        /// Training sets (seeds) behind the mean.
        public var count: Int
        public init(nspl: Int, mean: Double, se: Double, count: Int) {
            self.nspl = nspl; self.mean = mean; self.se = se; self.count = count
        }
    }

    public struct Slope: Sendable, Equatable, Codable {
        public var slope: Double
        public var se: Double
        public var low: Double
        public var high: Double
        /// The t quantile of the interval and its degrees of freedom.
        public var quantile: Double
        public var dof: Int
    }

    public struct Verdict: Sendable, Equatable, Codable {
        public var points: [Point]
        public var slope: Slope?
        public var holds: Bool
        /// Why no slope was fitted (nil when one was).
        public var unjudgeable: String?
    }

    /// Coverage of the interval: the conventional two-sided 95%, fixed before any run (the interval itself comes from the
    /// spread over seeds, ``toleranceSource``).
    public static let level = 0.95

    public static func judge(_ points: [Point]) -> Verdict {
        let p = points.sorted { $0.nspl < $1.nspl }
        func no(_ why: String) -> Verdict { Verdict(points: p, slope: nil, holds: false, unjudgeable: why) }
        guard Set(p.map(\.nspl)).count >= 2 else { return no("fewer than two sample sizes") }
        guard let fewest = p.map(\.count).min(), fewest >= 2 else { return no("one training set at some n_spl: no spread over seeds") }
        guard p.allSatisfy({ $0.mean > 0 && $0.mean.isFinite }) else { return no("a mean is not positive: no log-log slope") }
        guard p.allSatisfy({ $0.se > 0 && $0.se.isFinite }) else { return no("a standard error is zero or not finite: no interval") }
        let weights = p.map { pow($0.mean / $0.se, 2) }
        guard let fit = try? LinearFit.fit(x: p.map { log(Double($0.nspl)) }, y: p.map { log($0.mean) }, weights: weights) else {
            return no("the weighted fit failed")
        }
        let dof = fewest - 1
        let t = Distributions.studentTQuantile(0.5 + level / 2, dof: Double(dof))
        let se = fit.slopeStandardError
        let s = Slope(slope: fit.slope, se: se, low: fit.slope - t * se, high: fit.slope + t * se, quantile: t, dof: dof)
        return Verdict(points: p, slope: s, holds: s.high < 0, unjudgeable: nil)
    }

    /// The points of one (regime, metric) of a table: mean, standard error and seed count per n_spl.
    public static func points(_ table: ConvergenceTable, regime: Regime, metric: Metric) -> [Point] {
        table.rows.filter { $0.regime == regime }.compactMap { r in
            r.metrics[metric].map { Point(nspl: r.nspl, mean: $0.mean, se: $0.se, count: $0.count) }
        }
    }

    /// The points of per-seed values (n_spl, value).
    public static func points(_ values: [(nspl: Int, value: Double)]) -> [Point] {
        Dictionary(grouping: values.filter { $0.value.isFinite }, by: \.nspl).keys.sorted().compactMap { n in
            ConvergenceTable.summarise(values.filter { $0.nspl == n && $0.value.isFinite }.map(\.value)).map {
                Point(nspl: n, mean: $0.mean, se: $0.se, count: $0.count)
            }
        }
    }

    /// "n_spl: mean ± SE" for every size.
    public static func series(_ v: Verdict) -> String {
        v.points.map { String(format: "%d: %.3g ± %.2g", $0.nspl, $0.mean, $0.se) }.joined(separator: ", ")
    }

    /// The slope with its interval, or why there is none.
    public static func slopeText(_ v: Verdict) -> String {
        guard let s = v.slope else { return "no slope (\(v.unjudgeable ?? "?"))" }
        return String(format: "slope %.3g, 95%% interval [%.3g, %.3g] (t = %.3g, %d dof)", s.slope, s.low, s.high, s.quantile, s.dof)
    }

    /// The criterion in words, for the report's tolerance column.
    public static let criterion =
        "upper end of the 95% interval of the weighted least-squares slope of log(mean over seeds) against log n_spl < 0 (weights (mean/SE)²; interval slope ± t·SE(slope), t of Student with seeds − 1 dof)"

    /// Where the tolerance comes from.
    public static let toleranceSource =
        "spread over seeds: each mean's standard error is the sd over its training sets (one per seed) / √seeds, the seeds fixed in the report's plan before the run; t with seeds − 1 degrees of freedom because each SE rests on that many; the sizes share seeds and are treated as independent, which overstates the slope's variance (a seed's common level cancels in a slope)"
}

/// Which words the metrics read as one concept: the task's concepts, or a regrouping of the same networks' words into
/// n_c groups of s_c words that the statements do not cover (their words do not all play the same role in the task).
public enum WordGrouping: String, Sendable, Codable, CaseIterable {
    /// Group α = the words of concept α.
    case concepts
    /// Word r (row r = α·s_c + β) in group r mod n_c: every group holds words of every concept (about s_c/n_c of each),
    /// and in the limit every group's mean is near the others', so the ratio tends to a value near 1 and does not fall.
    case interleaved
    /// Concepts 0 and 1 exchange their second halves (group 0 = the first half of concept 0 and the second half of concept
    /// 1, group 1 the other way round; the other concepts unchanged): two groups each hold words of two concepts, so the
    /// limit ratio is positive (about 1/2 at a simplex), but the part of the ratio that comes from within the true concepts
    /// still falls with n_spl.
    case mergedHalves = "merged-halves"

    /// The rows of W in group order: group g is the rows `order[g·s_c ..< (g+1)·s_c]`.
    public func rowOrder(concepts nc: Int, wordsPerConcept sc: Int) -> [Int] {
        let nw = nc * sc
        switch self {
        case .concepts:
            return Array(0..<nw)
        case .interleaved:
            return (0..<nc).flatMap { g in (0..<nw).filter { $0 % nc == g } }
        case .mergedHalves:
            guard nc >= 2, sc >= 2 else { return Array(0..<nw) }
            let h = sc / 2
            let c0 = Array(0..<sc), c1 = Array(sc..<(2 * sc))
            let g0 = Array(c0[0..<h]) + Array(c1[h..<sc])
            let g1 = Array(c1[0..<h]) + Array(c0[h..<sc])
            return g0 + g1 + Array((2 * sc)..<nw)
        }
    }

    /// Within-concept ratio and direction residual of the features `w` (n_w x d, row α·s_c + β) read with this grouping.
    public func metrics(_ w: Matrix, concepts nc: Int, wordsPerConcept sc: Int) throws -> (ratio: Double, directionResidual: Double) {
        let layout = try ConceptLayout(concepts: nc, wordsPerConcept: sc)
        try layout.validate(words: w)
        let order = rowOrder(concepts: nc, wordsPerConcept: sc)
        var data: [Double] = []
        data.reserveCapacity(w.data.count)
        for r in order { data += w.row(r) }
        let regrouped = Matrix(rows: w.rows, cols: w.cols, data: data)
        return (
            try WithinConceptVariability.compute(regrouped, layout: layout).scatterRatio,
            try DirectionResidual.compute(regrouped, layout: layout)
        )
    }
}

/// The norm law of type II at one n_spl, set against the prediction rank by rank, over seeds and concepts: the record of
/// `p5-type-ii-norm-law` (`convergence/norm-law-type-ii.json`).
///
/// For a rank β, m̄_β is the mean of ‖w_{α,β}‖ over the n_c concepts and the S seeds, and ρ̄_β the mean over the seeds of
/// each seed's predicted ρ_β (each seed has its own latent variables and its own prediction). Two sources of spread have
/// a principled size:
/// - the prediction's Monte Carlo standard error (pooled estimator, `word_norms_se`): se_β = sqrt(Σ_s se_{s,β}²)/S;
/// - the finite-sample spread of a trained word's norm (P6, SPEC 6: sd ≈ c_β/√N, N = K·n_spl, c_β by the rare-word
///   approximation, `word_norm_sd_coefficient`): for a mean over n_c·S words, treated as independent (the rare-word
///   approximation drops their coupling), c̄_β/√(N·n_c·S) with c̄_β² the mean over the seeds of c_{s,β}².
///
/// σ_β = sqrt(se_β² + c̄_β²/(N·n_c·S)) and z_β = (m̄_β − ρ̄_β)/σ_β. If the type-II family were θ* and the O(1/N) shift of
/// the mean negligible, z would be about standard normal over the ranks and 3σ_β a tolerance; neither is known to hold
/// (the family is an approximation of θ* for given latent variables with no bound on its error), so the z-scores are
/// reported and nothing is judged.
public struct NormLawComparison: Codable, Sendable {
    public struct Rank: Codable, Sendable {
        public var rank: Int
        public var mu: Double
        public var measured: Double
        public var predicted: Double
        public var predictionSE: Double
        /// c̄_β (nil when no spread coefficient was computed).
        public var spreadCoefficient: Double?
        public var sigma: Double
        public var z: Double

        enum CodingKeys: String, CodingKey {
            case rank, mu, measured, predicted, sigma, z
            case predictionSE = "prediction_se"
            case spreadCoefficient = "spread_coefficient"
        }
    }

    public var nspl: Int
    /// N = K·n_spl.
    public var sentences: Int
    public var seeds: Int
    public var concepts: Int
    public var ranks: [Rank]
    public var notes: [String]

    public var zMean: Double { ranks.map(\.z).reduce(0, +) / Double(max(1, ranks.count)) }
    public var zSD: Double {
        let m = zMean
        return ranks.count > 1 ? (ranks.reduce(0) { $0 + ($1.z - m) * ($1.z - m) } / Double(ranks.count - 1)).squareRoot() : 0
    }
    public var largest: Rank? { ranks.max { abs($0.z) < abs($1.z) } }
    /// How many ranks have |z| ≤ 3: reported, not judged (3σ would be the tolerance only if the type-II family were θ*).
    public var withinThreeSigma: Int { ranks.filter { abs($0.z) <= 3 }.count }

    enum CodingKeys: String, CodingKey {
        case nspl, sentences, seeds, concepts, ranks, notes
    }

    /// The half-widths of ρ_β ± 2σ for one network (one seed, mean over its n_c concepts).
    public static func band(predictionSE se: [Double]?, spreadCoefficient c: [Double]?, sentences: Int, concepts: Int) -> [Double]? {
        guard se != nil || c != nil else { return nil }
        let n = se?.count ?? c!.count
        return (0..<n).map { b in
            let s = se?[b] ?? 0
            let f = c.map { $0[b] * $0[b] / Double(sentences * concepts) } ?? 0
            return 2 * (s * s + f).squareRoot()
        }
    }
}

extension Report {
    /// P5 from the sweep's table and networks: the statements judged over seeds by ``ConvergenceCriterion``, their negative
    /// controls (the same criterion on regroupings of the same networks' words), and what is reported without a verdict.
    /// Returns the checks and the norm-law comparison (for the figure's band).
    func convergenceChecks(_ table: ConvergenceTable, sweep: ConvergenceSweep) throws -> (
        checks: [Check], normLaw: NormLawComparison?
    ) {
        let base = plan.sweepBase
        let sizes = plan.nspl.map(String.init).joined(separator: ",")
        let nmax = plan.nspl.max()!
        let how =
            plan.optimizer == .fullBatch
            ? "full-batch BFGS from \(plan.start == .prediction ? "the prediction θ*" : "the reference initialisation")"
            : "reference SGD protocol"
        func instance(_ r: Regime, _ extra: String = "") -> String {
            "\(base.name ?? "") sweep, \(r.settingName), n_spl = \(sizes), \(plan.seeds) seeds (training sets) per n_spl, \(how)\(extra)"
        }
        func gradients(_ r: Regime) -> String {
            let g = table.cells.filter { $0.regime == r }.compactMap { $0.info["gradient_norm"].flatMap(Double.init) }
            guard let worst = g.max() else { return "" }
            return String(format: "; largest final ‖∇R̂_n‖ %.1e", worst)
        }
        let p6 = "P6's −1 where SPEC 6's expansion holds (E ratio ≈ c/N, N = K·n_spl)"
        var checks: [Check] = []

        // Uniform μ: θ* is exact and collapsed (P1), the statement's home ground.
        let uniform = ConvergenceCriterion.judge(ConvergenceCriterion.points(table, regime: .typeI, metric: .nc1Ratio))
        let gap = table.rows.first { $0.regime == .typeI && $0.nspl == nmax }?.metrics[.objectiveGap]
        checks.append(
            Check(
                id: "p5-convergence", statement: "P5 convergence, uniform μ: the mean within-concept ratio over seeds falls with n_spl",
                instance: instance(.typeI),
                predicted: "ratio → 0 (θ* collapsed, exact by P1); slope " + p6,
                measured: "mean ± SE " + ConvergenceCriterion.series(uniform) + "; " + ConvergenceCriterion.slopeText(uniform)
                    + (gap.map { String(format: "; objective gap at n_spl = %d: %.2g ± %.2g", nmax, $0.mean, $0.se) } ?? "")
                    + gradients(.typeI),
                tolerance: ConvergenceCriterion.criterion, toleranceSource: ConvergenceCriterion.toleranceSource, holds: uniform.holds))

        // Zipf μ with LayerNorm.
        let ln = ConvergenceCriterion.judge(ConvergenceCriterion.points(table, regime: .layerNorm, metric: .nc1Ratio))
        let lnMeasured =
            "mean ± SE " + ConvergenceCriterion.series(ln) + "; " + ConvergenceCriterion.slopeText(ln) + gradients(.layerNorm)
        if plan.judgesLayerNormConvergence {
            checks.append(
                Check(
                    id: "p5-convergence-zipf-ln",
                    statement: "P5 convergence, Zipf μ with LayerNorm: the mean within-concept ratio over seeds falls with n_spl",
                    instance: instance(.layerNorm),
                    predicted: "ratio → 0 (P4: directions collapse; ε = 1e-5 leaves the norms nearly equal)",
                    measured: lnMeasured, tolerance: ConvergenceCriterion.criterion,
                    toleranceSource: ConvergenceCriterion.toleranceSource, holds: ln.holds))
        } else {
            checks.append(
                .reported(
                    id: "p5-convergence-zipf-ln",
                    statement: "P5 convergence, Zipf μ with LayerNorm: mean within-concept ratio over seeds by n_spl",
                    instance: instance(.layerNorm), predicted: "ratio → 0 as n_spl → ∞ (P4, P5)", measured: lnMeasured,
                    reported: "the means ± SE per n_spl and the slope with its interval",
                    why: Self.layerNormSaddle))
        }

        // Zipf μ without LayerNorm (type II): the directions collapse; the norms follow ρ_β.
        let directions = ConvergenceCriterion.judge(ConvergenceCriterion.points(table, regime: .typeII, metric: .directionResidual))
        checks.append(
            Check(
                id: "p5-type-ii-directions",
                statement: "P5, Zipf μ without LayerNorm (type II): the mean direction residual over seeds falls with n_spl",
                instance: instance(.typeII), predicted: "direction residual → 0 (type II: a concept's words share one direction)",
                measured: "mean ± SE " + ConvergenceCriterion.series(directions) + "; " + ConvergenceCriterion.slopeText(directions)
                    + gradients(.typeII),
                tolerance: ConvergenceCriterion.criterion, toleranceSource: ConvergenceCriterion.toleranceSource,
                holds: directions.holds))
        let normLaw = try normLawCheck(sweep: sweep, nspl: nmax)
        checks.append(normLaw.check)

        // The same criterion on regroupings of the same networks' words.
        let controls: [(id: String, statement: String, regime: Regime, grouping: WordGrouping, kind: Check.Kind, metric: Metric)] = [
            (
                "control-p5-interleaved-concepts",
                "P5's criterion on the uniform networks with the words regrouped across concepts (word r in group r mod n_c: each group mixes words of every concept, outside P1/P5)",
                .typeI, .interleaved, .control, .nc1Ratio
            ),
            (
                "control-p5-type-ii-interleaved-concepts",
                "P5's type-II criterion (direction residual) on the Zipf networks with the words regrouped across concepts (word r in group r mod n_c)",
                .typeII, .interleaved, .control, .directionResidual
            ),
            (
                "p5-criterion-merged-halves",
                "P5's criterion where the limit ratio is positive: the uniform networks with concepts 0 and 1 exchanging their second halves (limit ratio ≈ 1/2, not 0)",
                .typeI, .mergedHalves, .reported, .nc1Ratio
            )
        ]
        for c in controls {
            let values = try regroupedValues(sweep: sweep, regime: c.regime, grouping: c.grouping, metric: c.metric)
            let v = ConvergenceCriterion.judge(ConvergenceCriterion.points(values))
            let inst = instance(c.regime, ", words regrouped: \(c.grouping.rawValue)")
            let measured =
                "\(c.metric.rawValue) mean ± SE " + ConvergenceCriterion.series(v) + "; " + ConvergenceCriterion.slopeText(v)
            if c.kind == .reported {
                checks.append(
                    .reported(
                        id: c.id, statement: c.statement, instance: inst,
                        predicted: "ratio → a positive limit (two groups hold words of two concepts)",
                        measured: measured + "; the criterion, applied, would say \(v.holds ? "\"falls\"" : "\"does not fall\"")",
                        reported: "the means ± SE and the slope with its interval",
                        why:
                            "not a control: the judged criterion establishes a fall with n_spl, a necessary condition of P5's ratio → 0, not the limit 0 itself, and here the ratio falls (the part from within the true concepts) towards a positive limit, so either verdict would be right by the criterion's own terms; shown so that what the criterion can and cannot tell is on the page. The limit is checked where it can be: exactly on small instances (P1–P4) and at its rate (P6)"
                    ))
            } else {
                checks.append(
                    Check(
                        id: c.id, statement: c.statement, kind: .control, instance: inst,
                        predicted: "no collapse of the groups: \(c.metric.rawValue) tends to a value near 1 and does not fall",
                        measured: measured, tolerance: ConvergenceCriterion.criterion,
                        toleranceSource: ConvergenceCriterion.toleranceSource, holds: v.holds))
            }
        }
        return (checks, normLaw.comparison)
    }

    /// Why the quick plan reports zipf-ln's convergence instead of judging it.
    static let layerNormSaddle =
        "SPEC 6 (\"Which minimiser\"): at λ = 1e-3 and these sizes θ* sits near a saddle of R̂_n (Ĥ_n(θ*) is not positive definite modulo the orbit below n_spl ≈ 700 on the quick task), so the hypothesis under P5's rate, a minimiser of R̂_n near θ*, cannot be checked here: a start at θ* ends near θ* on some training sets and at points far from it on others (here the seeds split that way: see the means' spread). A tolerance for it would be read off this run, so none is set; the paper plan judges zipf-ln like uniform μ"

    /// Per-seed values of a metric of the regime's networks read with a grouping, for every n_spl of the plan.
    func regroupedValues(sweep: ConvergenceSweep, regime: Regime, grouping: WordGrouping, metric: Metric) throws -> [(
        nspl: Int, value: Double
    )] {
        var out: [(nspl: Int, value: Double)] = []
        for key in sweep.plan.cells where key.regime == regime {
            let run = try sweep.networkFolder(key).loadNetwork()
            let w = try Compare.features(run.parameters, spec: run.spec)
            let m = try grouping.metrics(w, concepts: run.spec.nc, wordsPerConcept: run.spec.sc)
            out.append((key.nspl, metric == .directionResidual ? m.directionResidual : m.ratio))
        }
        return out
    }

    /// `p5-type-ii-norm-law`: the trained word norms of the Zipf networks at n_spl, rank by rank, against ρ_β
    /// (``NormLawComparison``). Reported, not judged.
    func normLawCheck(sweep: ConvergenceSweep, nspl: Int) throws -> (check: Check, comparison: NormLawComparison) {
        let base = plan.sweepBase
        let seeds = (0..<plan.seeds).map(UInt64.init)
        var norms: [[Double]] = []  // per seed: mean over concepts, by rank
        var rho: [[Double]] = [], se: [[Double]] = [], spread: [[Double]?] = []
        var notes: [String] = []
        var mu: [Double] = []
        var K = 0, nc = 0
        for s in seeds {
            let key = ConvergenceCell.Key(regime: .typeII, nspl: nspl, seed: s)
            let run = try sweep.networkFolder(key).loadNetwork()
            let w = try Compare.features(run.parameters, spec: run.spec)
            let layout = try ConceptLayout(concepts: run.spec.nc, wordsPerConcept: run.spec.sc)
            norms.append(try NormLaw.compute(w, layout: layout).measured)
            let p = try sweep.prediction(regime: .typeII, seed: s)
            rho.append(p.wordNorms)
            se.append(p.wordNormsStandardError ?? [Double](repeating: 0, count: p.wordNorms.count))
            if p.wordNormsStandardError == nil, notes.isEmpty {
                notes.append("the prediction has no Monte Carlo standard error (\(p.method)): se_β = 0")
            }
            let c = try sweep.wordNormSpread(regime: .typeII, seed: s)
            spread.append(c.wordNormSdCoefficient)
            if c.wordNormSdCoefficient == nil {
                notes.append("seed \(s): no word-norm spread coefficient (\(c.method)): \(c.notes.joined(separator: "; "))")
            }
            mu = run.spec.mu
            K = run.spec.K
            nc = run.spec.nc
        }
        let S = Double(seeds.count)
        let N = K * nspl
        let sc = rho[0].count
        var ranks: [NormLawComparison.Rank] = []
        for b in 0..<sc {
            let m = norms.map { $0[b] }.reduce(0, +) / S
            let r = rho.map { $0[b] }.reduce(0, +) / S
            let seB = (se.map { $0[b] * $0[b] }.reduce(0, +)).squareRoot() / S
            let cs = spread.compactMap { $0?[b] }
            let c2 = cs.count == seeds.count ? cs.map { $0 * $0 }.reduce(0, +) / S : nil
            let sigma = (seB * seB + (c2 ?? 0) / (Double(N * nc) * S)).squareRoot()
            ranks.append(
                .init(
                    rank: b, mu: b < mu.count ? mu[b] : .nan, measured: m, predicted: r, predictionSE: seB,
                    spreadCoefficient: c2.map { $0.squareRoot() }, sigma: sigma, z: sigma > 0 ? (m - r) / sigma : .nan))
        }
        let comparison = NormLawComparison(nspl: nspl, sentences: N, seeds: seeds.count, concepts: nc, ranks: ranks, notes: notes)
        let record = "convergence/norm-law-type-ii.json"
        try AtomicFile.writeJSON(comparison, to: "\(folder)/\(record)")
        let worstRelative = ranks.max { abs($0.measured / $0.predicted - 1) < abs($1.measured / $1.predicted - 1) }
        var measured = String(
            format:
                "n_spl = %d (N = %d), %d seeds × %d concepts; z over %d ranks: mean %.2f, sd %.2f; max |z| %.1f at rank %d (μ_β = %.3g); %d of %d ranks within ±3σ",
            nspl, N, seeds.count, nc, ranks.count, comparison.zMean, comparison.zSD, abs(comparison.largest?.z ?? .nan),
            comparison.largest?.rank ?? -1, comparison.largest?.mu ?? .nan, comparison.withinThreeSigma, ranks.count)
        if let w = worstRelative {
            measured += String(format: "; largest relative error %.2g%% (rank %d)", 100 * (w.measured / w.predicted - 1), w.rank)
        }
        let check = Check.reported(
            id: "p5-type-ii-norm-law",
            statement: "P5, Zipf μ without LayerNorm (type II): the word norms at the largest n_spl against ρ_β, rank by rank",
            instance: "\(base.name ?? "") sweep, zipf, n_spl = \(nspl), \(seeds.count) seeds",
            predicted:
                "ρ_β of the type-II family (pooled estimator, Monte Carlo SE per rank); sd of a word's norm c_β/√N (P6, rare-word approximation)",
            measured: measured,
            reported:
                "z_β = (m̄_β − ρ̄_β)/σ_β, σ_β = sqrt(se_β² + c̄_β²/(N·n_c·seeds)): m̄ the trained norm averaged over concepts and seeds, se_β the prediction's Monte Carlo SE of the seeds' mean, c̄_β the rms over the seeds of the finite-sample coefficient (3σ_β would be the tolerance if the type-II family were θ*)",
            why:
                "the type-II family is an approximation of θ* for given (random) latent variables (SPEC 4.2) with no bound on its error: on fig4a's exact empirical minimiser the most frequent rank still sits 0.3% below it, 7.5σ (−1.2% after 10 SGD epochs), while rare ranks agree within their error bars (results/p6-fig3); the O(1/N) shift of the mean (SPEC 6) is not included either. Only the statistical part of the difference has a principled size, so the z-scores are reported and nothing is judged",
            record: record)
        return (check, comparison)
    }
}
