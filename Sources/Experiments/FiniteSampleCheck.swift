import ExperimentSpec
import Foundation
import GSLBridge
import LimitTheory

/// What the P6 check simulates, fixed before the run: the sizes, the training sets per size, and n₀, the first judged
/// size. The largest size below n₀ calibrates the size of the expansion's next term (see ``FiniteSampleStudy/judge()``).
public struct FiniteSamplePlan: Codable, Sendable, Equatable {
    public var nspl: [Int]
    /// Independent training sets per size.
    public var sets: Int
    /// n₀: sizes ≥ n₀ are judged; the largest size below n₀ is the calibration size.
    public var judgedFrom: Int
    public var seed: UInt64
    /// BFGS stops at ‖∇R̂_n‖ ≤ this (from θ*).
    public var gradientTolerance: Double

    enum CodingKeys: String, CodingKey {
        case nspl, sets, seed
        case judgedFrom = "judged_from"
        case gradientTolerance = "gradient_tolerance"
    }

    public init(nspl: [Int], sets: Int, judgedFrom: Int, seed: UInt64 = 0, gradientTolerance: Double = 1e-10) throws {
        guard !nspl.isEmpty, nspl.allSatisfy({ $0 >= 1 }) else {
            throw ExperimentError(field: "finite_sample.nspl", rule: "must list positive integers (got \(nspl))")
        }
        guard sets >= 3 else {
            throw ExperimentError(field: "finite_sample.sets", rule: "must be at least 3 for a standard error (got \(sets))")
        }
        let sizes = Array(Set(nspl)).sorted()
        guard sizes.contains(where: { $0 < judgedFrom }), sizes.contains(where: { $0 >= judgedFrom }) else {
            throw ExperimentError(
                field: "finite_sample.judged_from",
                rule:
                    "needs at least one size below it (the calibration of the next term) and one at or above it (got n₀ = \(judgedFrom), sizes \(sizes))"
            )
        }
        guard gradientTolerance > 0 else {
            throw ExperimentError(field: "finite_sample.gradient_tolerance", rule: "must be positive (got \(gradientTolerance))")
        }
        self.nspl = sizes
        self.sets = sets
        self.judgedFrom = judgedFrom
        self.seed = seed
        self.gradientTolerance = gradientTolerance
    }

    /// SPEC 6's table: n_spl = 10, 40, 160, 640 with 40 training sets each; n₀ = 40 (10 calibrates).
    public static let quick = try! FiniteSamplePlan(nspl: [10, 40, 160, 640], sets: 40, judgedFrom: 40)
    /// Twice as many sizes and 100 sets each.
    public static let paper = try! FiniteSamplePlan(nspl: [10, 20, 40, 80, 160, 320, 640, 1280], sets: 100, judgedFrom: 40)

    /// The calibration size: the largest below n₀.
    public var calibration: Int { nspl.filter { $0 < judgedFrom }.max()! }
}

/// A simulation of SPEC 6 on a small instance, summarised per size, with the predicted coefficients: the record of the
/// report's P6 check (`finite-sample/<id>.json`) and the output of `fcollapse verify --finite-sample`.
public struct FiniteSampleStudy: Codable, Sendable {
    public struct Summary: Codable, Sendable, Equatable {
        public var mean: Double
        public var se: Double
        public var predicted: Double?
        public init(mean: Double, se: Double, predicted: Double?) {
            self.mean = mean; self.se = se; self.predicted = predicted
        }
    }

    public struct Row: Codable, Sendable, Equatable {
        public var nspl: Int
        /// N = K·n_spl.
        public var sentences: Int
        public var withinConceptRatio: Summary
        public var objectiveGap: Summary
        /// The smallest over the sets of λ_min(Ĥ_n(θ*)) modulo the orbit, and how many sets have it positive.
        public var smallestEmpiricalNormalEigenvalue: Double
        public var positiveDefiniteSets: Int
        /// The largest ‖∇R̂_n‖ where a minimisation stopped.
        public var worstGradientNorm: Double
        public var sets: Int

        public init(
            nspl: Int, sentences: Int, withinConceptRatio: Summary, objectiveGap: Summary, smallestEmpiricalNormalEigenvalue: Double,
            positiveDefiniteSets: Int, worstGradientNorm: Double, sets: Int
        ) {
            self.nspl = nspl; self.sentences = sentences; self.withinConceptRatio = withinConceptRatio
            self.objectiveGap = objectiveGap; self.smallestEmpiricalNormalEigenvalue = smallestEmpiricalNormalEigenvalue
            self.positiveDefiniteSets = positiveDefiniteSets; self.worstGradientNorm = worstGradientNorm; self.sets = sets
        }

        enum CodingKeys: String, CodingKey {
            case nspl, sentences, sets
            case withinConceptRatio = "within_concept_ratio"
            case objectiveGap = "objective_gap"
            case smallestEmpiricalNormalEigenvalue = "smallest_empirical_normal_eigenvalue"
            case positiveDefiniteSets = "positive_definite_sets"
            case worstGradientNorm = "worst_gradient_norm"
        }
    }

    /// A fitted slope of log|mean| against log N with its 95% interval (weighted by the standard errors, delta method).
    public struct Slope: Codable, Sendable, Equatable {
        public var slope: Double
        public var se: Double
        public var low: Double
        public var high: Double
        public var sizes: [Int]
    }

    public var instance: String
    public var plan: FiniteSamplePlan
    /// How each θ_n was obtained ("from θ*, BFGS2 to ‖∇R̂_n‖ ≤ …" or "stopped early …").
    public var minimisation: String
    public var coefficients: FiniteSampleCoefficients
    public var rows: [Row]
    /// Over the judged sizes (n_spl ≥ n₀); nil when the means are not all of one sign there.
    public var ratioSlope: Slope?
    public var gapSlope: Slope?
    /// Every set's outcome, per size (rows' order).
    public var outcomes: [[EmpiricalMinimiserOutcome]]

    public init(
        instance: String, plan: FiniteSamplePlan, minimisation: String, coefficients: FiniteSampleCoefficients, rows: [Row],
        ratioSlope: Slope?, gapSlope: Slope?, outcomes: [[EmpiricalMinimiserOutcome]]
    ) {
        self.instance = instance; self.plan = plan; self.minimisation = minimisation; self.coefficients = coefficients
        self.rows = rows; self.ratioSlope = ratioSlope; self.gapSlope = gapSlope; self.outcomes = outcomes
    }

    enum CodingKeys: String, CodingKey {
        case instance, plan, minimisation, coefficients, rows, outcomes
        case ratioSlope = "ratio_slope"
        case gapSlope = "gap_slope"
    }

    /// Runs the simulation: θ* (as `verify` finds it, Newton-polished), the exact coefficients, then `plan.sets` training
    /// sets per size minimised as `how` says (default: from θ* to the plan's gradient tolerance).
    public static func run(
        spec: Spec, plan: FiniteSamplePlan, how: EmpiricalMinimisation? = nil, progress: (String) -> Void = { _ in }
    ) throws -> FiniteSampleStudy {
        let how = how ?? .fromLimit(gradientTolerance: plan.gradientTolerance)
        progress("P6: θ* and its coefficients on \(spec.name ?? "the instance")")
        let (risk, sol) = try exactMinimiser(spec: spec, starts: 5)
        let theta = try polishMinimiser(risk: risk, theta: sol.x)
        let analysis = try finiteSampleExact(risk: risk, theta: theta)
        let simulation = FiniteSampleSimulation(risk: risk, theta: theta, orbitBasis: analysis.orbitBasis)
        let c = analysis.coefficients
        var rows: [Row] = []
        var outcomes: [[EmpiricalMinimiserOutcome]] = []
        for n in plan.nspl {
            progress("P6: \(plan.sets) training sets of n_spl = \(n)")
            let o = try simulation.run(nspl: n, sets: plan.sets, seed: plan.seed, how: how)
            let N = Double(risk.latents.count * n)
            func summary(_ v: [Double], _ coefficient: Double?) -> Summary {
                let m = v.reduce(0, +) / Double(v.count)
                let s2 = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)
                return Summary(mean: m, se: (s2 / Double(v.count)).squareRoot(), predicted: coefficient.map { $0 / N })
            }
            let eig = o.map(\.smallestEmpiricalNormalEigenvalue)
            rows.append(
                Row(
                    nspl: n, sentences: risk.latents.count * n,
                    withinConceptRatio: summary(o.map(\.withinConceptRatio), c.withinConceptRatioCoefficient),
                    objectiveGap: summary(o.map(\.objectiveGap), c.objectiveGapCoefficient),
                    smallestEmpiricalNormalEigenvalue: eig.min() ?? .nan, positiveDefiniteSets: eig.filter { $0 > 0 }.count,
                    worstGradientNorm: o.map(\.gradientNorm).max() ?? .nan, sets: o.count))
            outcomes.append(o)
        }
        let minimisation: String
        switch how {
        case .fromLimit(let t): minimisation = String(format: "BFGS2 from θ* to ‖∇R̂_n‖ ≤ %.0e", t)
        case .stoppedEarly(let it): minimisation = "BFGS2 from a random start, stopped after \(it) iterations (not a minimiser)"
        }
        var study = FiniteSampleStudy(
            instance: spec.name ?? "", plan: plan, minimisation: minimisation, coefficients: c, rows: rows, ratioSlope: nil,
            gapSlope: nil, outcomes: outcomes)
        study.ratioSlope = c.withinConceptRatioCoefficient == nil ? nil : study.slope(\.withinConceptRatio)
        study.gapSlope = c.objectiveGapCoefficient == nil ? nil : study.slope(\.objectiveGap)
        return study
    }

    /// Rows at n_spl ≥ n₀.
    public var judgedRows: [Row] { rows.filter { $0.nspl >= plan.judgedFrom } }

    func slope(_ metric: KeyPath<Row, Summary>) -> Slope? {
        let r = judgedRows
        let means = r.map { $0[keyPath: metric].mean }
        guard r.count >= 2, means.allSatisfy({ $0 > 0 }) || means.allSatisfy({ $0 < 0 }) else { return nil }
        // log|mean| has standard error ≈ se/|mean| (delta method): weights (mean/se)².
        let weights = r.map { pow($0[keyPath: metric].mean / max($0[keyPath: metric].se, 1e-300), 2) }
        guard
            let fit = try? LinearFit.fit(
                x: r.map { log(Double($0.sentences)) }, y: means.map { log(abs($0)) }, weights: weights)
        else { return nil }
        let se = fit.slopeStandardError
        // 1.96: the normal 97.5% quantile, a 95% interval. The slopes are reported beside the predicted −1, not judged.
        return Slope(slope: fit.slope, se: se, low: fit.slope - 1.96 * se, high: fit.slope + 1.96 * se, sizes: r.map(\.nspl))
    }

    /// The largest ‖∇R̂_n(θ_n)‖ accepted at a judged size: at 1e-8 θ_n is within ‖∇‖/λ_min ≲ 1e-5 of the exact empirical
    /// minimiser (λ_min ≥ 1e-3 on the normal space), which moves a ratio or gap of order 1/N ≥ 1e-5 by less than 1e-9.
    public static let gradientBound = 1e-8

    /// The verdict, by a criterion fixed here before any run. For each metric with a coefficient c (ratio when θ* is
    /// collapsed; gap always) and each judged size N (n_spl ≥ n₀):
    ///
    ///     |mean − c/N| ≤ 3·SE + B(N),   B(N) = (|mean_cal − c/N_cal| + 2·SE_cal)·(N_cal/N)²,
    ///
    /// with SE the standard error over the sets, and B the size of the expansion's next term: O(1/N²), calibrated at the
    /// largest size below n₀ (its discrepancy, plus two standard errors) and scaled by (N_cal/N)². And SPEC 6's
    /// conditions at the judged sizes: Ĥ_n(θ*) positive definite modulo the orbit on every set, and every θ_n reached to
    /// ‖∇R̂_n‖ ≤ ``gradientBound``. The slopes are reported beside the predicted −1, not judged (the means at sizes 16x
    /// apart already pin c/N).
    public func judge() -> (holds: Bool, measured: String, predicted: String, failures: [String]) {
        var failures: [String] = []
        var parts: [String] = []
        let c = coefficients
        guard let cal = rows.first(where: { $0.nspl == plan.calibration }) else {
            return (false, "no calibration row", "", ["the calibration size n_spl = \(plan.calibration) was not run"])
        }
        let metrics: [(String, KeyPath<Row, Summary>, Double?)] = [
            ("ratio", \.withinConceptRatio, c.withinConceptRatioCoefficient), ("gap", \.objectiveGap, c.objectiveGapCoefficient)
        ]
        if c.objectiveGapCoefficient == nil { failures.append("no gap coefficient: \(c.notes.joined(separator: "; "))") }
        for (name, path, coefficient) in metrics {
            guard let coefficient else { continue }
            func point(_ r: Row) -> FiniteSampleCriterion.Point {
                let s = r[keyPath: path]
                return .init(nspl: r.nspl, sentences: r.sentences, mean: s.mean, se: s.se, predicted: coefficient / Double(r.sentences))
            }
            for j in FiniteSampleCriterion.judge(judgedRows.map(point), calibration: point(cal)) {
                parts.append(FiniteSampleCriterion.describe(name, j))
                if !j.holds { failures.append("\(name) at n_spl = \(j.point.nspl) outside its tolerance") }
            }
        }
        for r in judgedRows {
            if r.positiveDefiniteSets < r.sets {
                failures.append(
                    "Ĥ_n(θ*) not positive definite modulo the orbit on \(r.sets - r.positiveDefiniteSets) of \(r.sets) sets at n_spl = \(r.nspl)"
                )
            }
            if !(r.worstGradientNorm <= Self.gradientBound) {
                failures.append(String(format: "θ_n not stationary at n_spl = %d (‖∇R̂_n‖ up to %.2g)", r.nspl, r.worstGradientNorm))
            }
        }
        for (name, s) in [("ratio", ratioSlope), ("gap", gapSlope)] {
            if let s { parts.append(String(format: "%@ slope %.3f [%.3f, %.3f] (predicted −1)", name, s.slope, s.low, s.high)) }
        }
        let predicted = [
            c.withinConceptRatioCoefficient.map { String(format: "N·E[ratio] → %.5g", $0) },
            c.objectiveGapCoefficient.map { String(format: "N·E[gap] → %.5g", $0) }
        ].compactMap { $0 }.joined(separator: ", ")
        return (failures.isEmpty, parts.joined(separator: "; "), predicted, failures)
    }

    /// The criterion in words, for the report's tolerance column.
    public var criterion: String {
        "at every n_spl ≥ n₀ = \(plan.judgedFrom): |mean − c/N| ≤ 3 SE + B(N), B(N) = (|mean − c/N| + 2 SE at n_spl = \(plan.calibration))·(N_cal/N)²; Ĥ_n(θ*) positive definite modulo the orbit on every set and ‖∇R̂_n(θ_n)‖ ≤ 1e-8"
    }

    public static let toleranceSource =
        "standard error over the training sets (3 SE), plus the size of the expansion's next term (O(1/N²)), calibrated at the largest size below n₀ and scaled by (N_cal/N)²; n₀, the sizes and the number of sets are fixed in the report's plan before the run"
}

/// SPEC 6's criterion on a series of sizes, fixed before any run and shared by the report's simulation
/// (``FiniteSampleStudy/judge()``) and the convergence tables of `converge --finite-sample`. At every judged size N:
///
///     |mean − c/N| ≤ 3·SE + B(N),   B(N) = (|mean_cal − c/N_cal| + 2·SE_cal)·(N_cal/N)²,
///
/// SE the standard error of the mean over independent training sets (seeds), B the size of the expansion's next term,
/// O(1/N²), calibrated at a smaller size N_cal (its discrepancy plus two standard errors) and scaled by (N_cal/N)².
public enum FiniteSampleCriterion {
    public struct Point: Sendable, Equatable {
        public var nspl: Int
        /// N = K·n_spl.
        public var sentences: Int
        public var mean: Double
        public var se: Double
        public var predicted: Double
        public init(nspl: Int, sentences: Int, mean: Double, se: Double, predicted: Double) {
            self.nspl = nspl; self.sentences = sentences; self.mean = mean; self.se = se; self.predicted = predicted
        }
    }

    public struct Judged: Sendable, Equatable {
        public var point: Point
        public var tolerance: Double
        public var holds: Bool
    }

    public static func judge(_ points: [Point], calibration cal: Point) -> [Judged] {
        // Sources: 3 SE, the standard error over independent training sets (a 3σ band); B(N), the expansion's next term,
        // O(1/N²) by SPEC 6's expansion, sized at the calibration point (its discrepancy plus 2 SE, so that the size is not
        // set by the calibration's own noise) and scaled by (N_cal/N)². Nothing here is read off the judged sizes.
        let discrepancy = abs(cal.mean - cal.predicted) + 2 * cal.se
        return points.map { p in
            let next = discrepancy * pow(Double(cal.sentences) / Double(p.sentences), 2)
            let tolerance = 3 * p.se + next
            return Judged(point: p, tolerance: tolerance, holds: abs(p.mean - p.predicted) <= tolerance)
        }
    }

    /// One judged point in words.
    public static func describe(_ name: String, _ j: Judged) -> String {
        String(
            format: "%@ at n_spl %d: %.3g ± %.2g vs %.3g (|Δ| %.2g %@ %.2g)", name, j.point.nspl, j.point.mean, j.point.se,
            j.point.predicted, abs(j.point.mean - j.point.predicted), j.holds ? "≤" : ">", j.tolerance)
    }
}
