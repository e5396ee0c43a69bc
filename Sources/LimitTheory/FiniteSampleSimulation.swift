import Foundation
import GSLBridge
import Geometry

/// Where the empirical minimisation of a simulated training set starts and stops.
public enum EmpiricalMinimisation: Sendable, Equatable {
    /// BFGS2 from θ* to ‖∇R̂_n‖ ≤ `gradientTolerance` (SPEC 6's θ_n: the minimiser of R̂_n near θ*).
    case fromLimit(gradientTolerance: Double)
    /// BFGS2 from a random start (``ExactRisk/randomStart(_:sigmaW:sigmaU:)``) stopped after `iterations` iterations:
    /// a point that is not a minimiser, outside P6's hypotheses (a negative control).
    case stoppedEarly(iterations: Int)
}

/// One simulated training set of SPEC 6 and its empirical minimiser θ_n.
public struct EmpiricalMinimiserOutcome: Codable, Sendable, Equatable {
    /// Within-concept ratio of θ_n's features (SPEC 5, Geometry's one definition).
    public var withinConceptRatio: Double
    /// The paired gap R̂_n(θ_n) − R̂_n(θ*): the same mean as R̂_n(θ_n) − R(θ*) (E R̂_n(θ*) = R(θ*)), and equal to it for
    /// uniform μ at a collapsed θ*, where R̂_n(θ*) = R(θ*) exactly (SPEC 6).
    public var objectiveGap: Double
    /// ‖∇R̂_n(θ_n)‖ where the minimisation stopped, and its iterations.
    public var gradientNorm: Double
    public var iterations: Int
    /// Smallest eigenvalue of Ĥ_n(θ*) = ∇²R̂_n(θ*) on the normal space of θ*'s orbit (SPEC 6's third condition: > 0).
    public var smallestEmpiricalNormalEigenvalue: Double

    enum CodingKeys: String, CodingKey {
        case iterations
        case withinConceptRatio = "within_concept_ratio"
        case objectiveGap = "objective_gap"
        case gradientNorm = "gradient_norm"
        case smallestEmpiricalNormalEigenvalue = "smallest_empirical_normal_eigenvalue"
    }
}

/// SPEC 6 against simulation on a small instance: training sets drawn as counts of word tuples per class (n_spl sentences
/// of each class, tuples drawn from μ^{⊗L} with GSL's discrete sampler), each minimised exactly through
/// ``ExactRisk/empiricalRisk(_:counts:)``; for each set, also the smallest eigenvalue of Ĥ_n(θ*) modulo the orbit.
/// The measured means are set against coefficient/N by the report's P6 check.
public struct FiniteSampleSimulation: Sendable {
    public let risk: ExactRisk
    /// θ*, a polished minimiser of R, and an orthonormal basis of its orbit's tangent space (columns).
    public let theta: [Double]
    public let orbitBasis: Matrix

    public init(risk: ExactRisk, theta: [Double], orbitBasis: Matrix) {
        self.risk = risk
        self.theta = theta
        self.orbitBasis = orbitBasis
    }

    /// Tuple counts of one training set: `counts[k·T + s]` sentences x(z_k, β_s), n_spl per class.
    public func sampleCounts(nspl: Int, rng: RandomGenerator) throws -> [Double] {
        let T = risk.tupleCount, K = risk.K
        let sampler = try DiscreteSampler(weights: risk.tupleWeights)
        var counts = [Double](repeating: 0, count: K * T)
        for k in 0..<K { for _ in 0..<nspl { counts[k * T + sampler.sample(rng)] += 1 } }
        return counts
    }

    /// The smallest eigenvalue of ∇²R̂_n(θ*) on the orbit's normal space. The Hessian comes from central differences
    /// of the analytic gradient with step 1e-4 (truncation ~h²·|∂⁴R̂_n|/6 ≈ 2e-9, rounding ~1e-16/h ≈ 1e-12), far below
    /// the eigenvalues it decides the sign of (of order λ_W = 1e-3..1e-2 when positive).
    public func smallestEmpiricalNormalEigenvalue(counts: [Double]) throws -> Double {
        try empiricalNormalSpectrum(counts: counts).smallest
    }

    func empiricalNormalSpectrum(counts: [Double]) throws -> (values: [Double], vectors: Matrix, normal: [Int], smallest: Double) {
        let H = hessianByDifferences(at: theta, step: { _ in 1e-4 }, order: 2) { self.risk.empiricalRisk($0, counts: counts).gradient }
        return try normalSpectrum(H.hessian, orbit: orbitBasis)
    }

    /// Minimises R̂_n of one training set as `how` says and measures the outcome.
    public func minimise(counts: [Double], how: EmpiricalMinimisation, rng: RandomGenerator) throws -> EmpiricalMinimiserOutcome {
        let risk = self.risk
        var options = MultiMinimizer.Options()
        let start: [Double]
        switch how {
        case .fromLimit(let tolerance):
            options.gradientTolerance = tolerance
            options.maxIterations = 5000
            options.initialStep = 1e-3
            start = theta
        case .stoppedEarly(let iterations):
            options.gradientTolerance = 0
            options.maxIterations = iterations
            options.initialStep = 0.1
            start = risk.randomStart(rng)
        }
        let objective: MultiMinimizer.Objective = { x, g in
            let (v, grad) = risk.empiricalRisk(Array(x), counts: counts)
            if let g { for i in grad.indices { g[i] = grad[i] } }
            return v
        }
        var r = try MultiMinimizer.minimise(objective, from: start, options: options)
        let spectrum = try empiricalNormalSpectrum(counts: counts)
        if case .fromLimit(let tolerance) = how, !r.converged, spectrum.smallest > 0 {
            // BFGS2's line search stops ("no progress") near 1e-8, where the value's rounding hides the decrease it looks
            // for. Finish with Newton-like steps x ← x − Ĥ⁺∇R̂_n(x), Ĥ⁺ the inverse of Ĥ_n(θ*) on the orbit's normal space
            // (positive definite there): θ_n is within O(N^(-1/2)) of θ*, so the iteration contracts like
            // ‖Ĥ_n(x) − Ĥ_n(θ*)‖/λ_min per step. A step is kept only if it lowers ‖∇R̂_n‖.
            let n = r.x.count, keep = spectrum.normal
            var V = Matrix(rows: n, cols: keep.count), VD = Matrix(rows: n, cols: keep.count)
            for (c, k) in keep.enumerated() {
                for i in 0..<n { V[i, c] = spectrum.vectors[i, k]; VD[i, c] = spectrum.vectors[i, k] / spectrum.values[k] }
            }
            var x = r.x, (value, g) = risk.empiricalRisk(x, counts: counts)
            var gn = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for _ in 0..<20 where gn > tolerance {
                let step = VD * (V.transposed * Matrix(rows: n, cols: 1, data: g))
                let y = (0..<n).map { x[$0] - step.data[$0] }
                let (vy, gy) = risk.empiricalRisk(y, counts: counts)
                let gyn = gy.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if !(gyn < gn) { break }
                x = y; g = gy; gn = gyn; value = vy
                r.iterations += 1
            }
            r.x = x; r.value = value; r.gradientNorm = gn; r.converged = gn <= tolerance
        }
        let feats = risk.features(r.x)
        let ratio = try WithinConceptVariability.compute(
            Matrix(rows: feats.count, cols: risk.d, data: feats.flatMap { $0 }),
            layout: ConceptLayout(concepts: risk.nc, wordsPerConcept: risk.wordsPerConcept)
        ).scatterRatio
        return EmpiricalMinimiserOutcome(
            withinConceptRatio: ratio, objectiveGap: r.value - risk.empiricalRisk(theta, counts: counts).value,
            gradientNorm: r.gradientNorm, iterations: r.iterations,
            smallestEmpiricalNormalEigenvalue: spectrum.smallest)
    }

    /// `sets` independent training sets of n_spl sentences per class, minimised as `how` says, in parallel on the cores.
    /// Set i draws from the stream derived from (seed, n_spl, i), so the sets of a size do not depend on the other sizes
    /// or on how many sets are asked for.
    public func run(nspl: Int, sets: Int, seed: UInt64, how: EmpiricalMinimisation) throws -> [EmpiricalMinimiserOutcome] {
        guard nspl >= 1, sets >= 1 else { throw LimitTheoryError("n_spl and sets must be at least 1 (got \(nspl), \(sets))") }
        let box = ResultsBox<EmpiricalMinimiserOutcome>(count: sets)
        let workers = min(sets, workerThreads)
        parallelFor(workers) { w in
            var i = w
            while i < sets {
                let rng = RandomGenerator(seed: RandomGenerator.derive(seed, stream: UInt64(nspl) &* 1_000_003 &+ UInt64(i)))
                box.set(i, Result { try self.minimise(counts: try self.sampleCounts(nspl: nspl, rng: rng), how: how, rng: rng) })
                i += workers
            }
        }
        return try box.values.map { try $0!.get() }
    }
}

/// H by central differences of an analytic gradient, one column per coordinate in parallel, symmetrised; also max |H − Hᵀ|
/// before symmetrising. `order` 4: (−g(x+2h) + 8g(x+h) − 8g(x−h) + g(x−2h))/(12h); `order` 2: (g(x+h) − g(x−h))/(2h).
func hessianByDifferences(
    at x: [Double], step: (Int) -> Double, order: Int, gradient: ([Double]) -> [Double]
) -> (hessian: Matrix, asymmetry: Double) {
    let n = x.count
    let cols = SharedBuffer(count: n * n)
    defer { withExtendedLifetime(cols) {} }
    let workers = min(workerThreads, n)
    let stencil: [(Double, Double)] = order == 4 ? [(2, -1), (1, 8), (-1, -8), (-2, 1)] : [(1, 1), (-1, -1)]
    let denominator: Double = order == 4 ? 12 : 2
    parallelFor(workers) { t in
        var xs = x
        var i = t
        while i < n {
            let h = step(i)
            var acc = [Double](repeating: 0, count: n)
            for (off, c) in stencil {
                xs[i] = x[i] + off * h
                let g = gradient(xs)
                for j in 0..<n { acc[j] += c * g[j] }
            }
            xs[i] = x[i]
            for j in 0..<n { cols.pointer[i * n + j] = acc[j] / (denominator * h) }
            i += workers
        }
    }
    var H = Matrix(rows: n, cols: n)
    var asym = 0.0
    for i in 0..<n {
        for j in 0..<n {
            let a = cols.pointer[i * n + j], b = cols.pointer[j * n + i]
            asym = max(asym, abs(a - b))
            H[i, j] = 0.5 * (a + b)
        }
    }
    return (H, asym)
}

/// The spectrum of H restricted to the normal space of an orbit with orthonormal tangent basis Q (columns): the
/// eigen-decomposition of PHP, P = I − QQᵀ, whose eigenvectors split into the orbit (‖Qᵀv‖² ≈ 1, eigenvalue ≈ 0) and the
/// normal space (‖Qᵀv‖² ≈ 0), since PHP maps the orbit to 0 and the normal space into itself.
func normalSpectrum(_ H: Matrix, orbit Q: Matrix) throws -> (values: [Double], vectors: Matrix, normal: [Int], smallest: Double) {
    let n = H.rows, m = Q.cols
    let QtH = Q.transposed * H
    let HQ = QtH.transposed
    let QtHQ = QtH * Q
    // PHP = H − Q(QᵀH) − (HQ)Qᵀ + Q(QᵀHQ)Qᵀ.
    var PHP = H - Q * QtH - HQ * Q.transposed
    let back = Q * QtHQ * Q.transposed
    for i in 0..<(n * n) { PHP.data[i] += back.data[i] }
    for i in 0..<n { for j in 0..<i { let v = 0.5 * (PHP[i, j] + PHP[j, i]); PHP[i, j] = v; PHP[j, i] = v } }
    let pe = try LinearAlgebra.symmetricEigen(PHP)
    let overlap = Q.transposed * pe.vectors  // m x n: column k is Qᵀv_k
    let normal = (0..<n).filter { k in (0..<m).reduce(0.0) { $0 + overlap[$1, k] * overlap[$1, k] } < 0.5 }
    return (pe.values, pe.vectors, normal, normal.map { pe.values[$0] }.min() ?? .nan)
}
