import Foundation
import GSLBridge
import TaskModel

/// The minimiser of one of the reduced objectives of SPEC 4.1 (a collapsed family with simplex
/// directions: w_{α,β} = ρ_β·f_α, u_{k,ℓ} = b·f_{z_kℓ}).
public struct FamilySolution: Sendable, Equatable {
    /// Minimum of the limit objective, penalties included.
    public var objective: Double
    /// Its cross-entropy part.
    public var crossEntropy: Double
    /// Norm b of every classifier block u_{k,ℓ}.
    public var b: Double
    /// Norm of the feature (after LayerNorm when on) of each word rank β.
    public var featureNorms: [Double]
    /// Norm ‖w_{α,β}‖ of each word rank β before LayerNorm (ρ_β, or r_β with LayerNorm; ε = 0: undefined, 0).
    public var wordNorms: [Double]
    /// p = a·b (type I only).
    public var p: Double?
    /// True when the minimiser is W = 0, U = 0 (nothing is learned).
    public var trivial: Bool
    /// The trivial solution is optimal (or the origin is a local minimum) when statistic ≥ limit.
    public var thresholdStatistic: Double?
    public var thresholdLimit: Double?
}

/// The reduced objectives of SPEC 4.1 and their minimisers (GSL Brent, nested for type II / J_ε).
public enum ReducedObjectives {
    /// c = n_c / (n_c − 1).
    @inline(__always) static func cFactor(_ nc: Int) -> Double { Double(nc) / Double(nc - 1) }

    // MARK: type I

    /// g(p) = (1/K) Σ_k log Σ_j exp(−c·p·H(z_j, z_k)) + p·sqrt(λ_W λ_U n_w K L), and g'(p).
    public static func g(_ p: Double, profile: LatentProfile, wordsPerConcept sc: Int, lambdaW: Double, lambdaU: Double)
        -> (value: Double, derivative: Double)
    {
        let c = cFactor(profile.concepts)
        let kappa = typeIKappa(profile: profile, sc: sc, lambdaW: lambdaW, lambdaU: lambdaU)
        let f = profile.logPartition(c * p)
        return (f.value + kappa * p, c * f.derivative + kappa)
    }

    static func typeIKappa(profile: LatentProfile, sc: Int, lambdaW: Double, lambdaU: Double) -> Double {
        let nw = Double(profile.concepts * sc)
        return (lambdaW * lambdaU * nw * profile.classes * Double(profile.length)).squareRoot()
    }

    /// Minimises g over p ≥ 0 (convex). a and b follow from the balanced split λ_W n_w a² = λ_U K L b².
    public static func typeI(profile: LatentProfile, wordsPerConcept sc: Int, lambdaW: Double, lambdaU: Double) throws
        -> FamilySolution
    {
        guard lambdaW > 0 && lambdaU > 0 else {
            throw LimitTheoryError(
                "type I: weight_decay_W and weight_decay_U must both be positive for the limit objective to have a minimiser (got \(lambdaW), \(lambdaU))"
            )
        }
        let kappa = typeIKappa(profile: profile, sc: sc, lambdaW: lambdaW, lambdaU: lambdaU)
        let f: (Double) -> (Double, Double) = { p in
            let r = g(p, profile: profile, wordsPerConcept: sc, lambdaW: lambdaW, lambdaU: lambdaU)
            return (r.value, r.derivative)
        }
        let c = cFactor(profile.concepts)
        let limit = -c * profile.logPartition(0).derivative  // L for the full latent space
        let upper = 1.01 * Foundation.log(profile.classes) / kappa + 1e-12
        let p = try minimiseConvex(f, lower: 0, upper: upper)
        let ce = profile.logPartition(c * p).value
        let K = profile.classes, L = Double(profile.length), nw = Double(profile.concepts * sc)
        let a = (p * (lambdaU * K * L / (lambdaW * nw)).squareRoot()).squareRoot()
        let b = a > 0 ? p / a : 0
        return FamilySolution(
            objective: ce + kappa * p, crossEntropy: ce, b: b,
            featureNorms: [Double](repeating: a, count: sc), wordNorms: [Double](repeating: a, count: sc),
            p: p, trivial: p == 0, thresholdStatistic: kappa, thresholdLimit: limit)
    }

    // MARK: idealised LayerNorm

    /// h(b) = (1/K) Σ_k log Σ_j exp(−c·√d·b·H(z_j, z_k)) + (λ_U/2)·K·L·b², and h'(b).
    public static func h(_ b: Double, profile: LatentProfile, d: Int, lambdaU: Double) -> (value: Double, derivative: Double) {
        let c = cFactor(profile.concepts), sd = Double(d).squareRoot()
        let KL = profile.classes * Double(profile.length)
        let f = profile.logPartition(c * sd * b)
        return (f.value + 0.5 * lambdaU * KL * b * b, c * sd * f.derivative + lambdaU * KL * b)
    }

    /// Minimises h over b ≥ 0 (convex; never trivial, since h'(0) < 0).
    public static func layerNormIdealised(profile: LatentProfile, wordsPerConcept sc: Int, d: Int, lambdaU: Double) throws
        -> FamilySolution
    {
        guard lambdaU > 0 else {
            throw LimitTheoryError(
                "LayerNorm: weight_decay_U must be positive for the limit objective to have a minimiser (got \(lambdaU))")
        }
        let KL = profile.classes * Double(profile.length)
        let upper = 1.01 * (2 * Foundation.log(profile.classes) / (lambdaU * KL)).squareRoot() + 1e-12
        let b = try minimiseConvex(
            {
                let r = h($0, profile: profile, d: d, lambdaU: lambdaU); return (r.value, r.derivative)
            },
            lower: 0, upper: upper)
        let c = cFactor(profile.concepts), sd = Double(d).squareRoot()
        let ce = profile.logPartition(c * sd * b).value
        return FamilySolution(
            objective: ce + 0.5 * lambdaU * KL * b * b, crossEntropy: ce, b: b,
            featureNorms: [Double](repeating: sd, count: sc), wordNorms: [Double](repeating: 0, count: sc),
            p: nil, trivial: b == 0, thresholdStatistic: nil, thresholdLimit: nil)
    }

    // MARK: type II and LayerNorm with ε > 0 (full latent space)

    /// The feature norm as a function of the word norm: identity without LayerNorm,
    /// s(r) = √d·r / sqrt(r² + d·ε) with it.
    public struct NormMap: Sendable, Equatable {
        public let layerNorm: Bool
        public let d: Int
        public let eps: Double
        public static let identity = NormMap(layerNorm: false, d: 1, eps: 0)
        public static func layerNorm(d: Int, eps: Double) -> NormMap { NormMap(layerNorm: true, d: d, eps: eps) }
        @inline(__always) public func s(_ r: Double) -> Double {
            layerNorm ? Double(d).squareRoot() * r / (r * r + Double(d) * eps).squareRoot() : r
        }
        @inline(__always) public func ds(_ r: Double) -> Double {
            guard layerNorm else { return 1 }
            let q = r * r + Double(d) * eps
            return Double(d).squareRoot() * Double(d) * eps / (q * q.squareRoot())
        }
    }

    /// J(b, ρ) (type II) or J_ε(b, r) (LayerNorm, ε > 0) on the full latent space, with its gradient
    /// (∂/∂b, ∂/∂ρ_β):  L·Σ_β μ_β·log(1 + (n_c−1)·e^{−c·b·s(ρ_β)}) + (λ_W/2)·n_c·Σ_β ρ_β² + (λ_U/2)·K·L·b².
    public static func J(
        b: Double, rho: [Double], space: FullLatentSpace, mu: [Double], map: NormMap,
        lambdaW: Double, lambdaU: Double
    ) -> (value: Double, db: Double, drho: [Double]) {
        let nc = space.concepts, L = Double(space.length), K = space.countAsDouble, c = cFactor(nc)
        var v = 0.5 * lambdaU * K * L * b * b, db = lambdaU * K * L * b
        var drho = [Double](repeating: 0, count: rho.count)
        for (beta, r) in rho.enumerated() {
            let s = map.s(r)
            let e = Double(nc - 1) * Foundation.exp(-c * b * s)
            let sigma = e / (1 + e)
            v += L * mu[beta] * Foundation.log1p(e) + 0.5 * lambdaW * Double(nc) * r * r
            db -= L * mu[beta] * c * s * sigma
            drho[beta] = -L * mu[beta] * c * b * sigma * map.ds(r) + lambdaW * Double(nc) * r
        }
        return (v, db, drho)
    }

    /// The J-part of word rank β for fixed b, minimised over its norm (convex: Brent). Returns (ρ, value).
    static func innerMinimum(b: Double, mu: Double, nc: Int, L: Double, map: NormMap, lambdaW: Double) throws -> (Double, Double) {
        let c = cFactor(nc), m = Double(nc - 1)
        if b == 0 || mu == 0 { return (0, L * mu * Foundation.log(Double(nc))) }
        if map.layerNorm {
            // In the feature norm s ∈ [0, √d): r = s·sqrt(dε)/sqrt(d − s²), so the penalty is
            // (λ_W/2)·n_c·dε·s²/(d − s²), convex in s like the loss term.
            let d = Double(map.d), de = d * map.eps
            let f: (Double) -> (Double, Double) = { s in
                let e = m * Foundation.exp(-c * b * s)
                let q = d - s * s
                return (
                    L * mu * Foundation.log1p(e) + 0.5 * lambdaW * Double(nc) * de * s * s / q,
                    -L * mu * c * b * e / (1 + e) + lambdaW * Double(nc) * de * s * d / (q * q)
                )
            }
            let s = try minimiseConvex(f, lower: 0, upper: d.squareRoot() * (1 - 1e-12))
            return (s * (de / (d - s * s)).squareRoot(), f(s).0)
        }
        let f: (Double) -> (Double, Double) = { r in
            let e = m * Foundation.exp(-c * b * r)
            return (
                L * mu * Foundation.log1p(e) + 0.5 * lambdaW * Double(nc) * r * r,
                -L * mu * c * b * e / (1 + e) + lambdaW * Double(nc) * r
            )
        }
        let upper = L * mu * c * b / (lambdaW * Double(nc)) * 1.01 + 1e-12
        let r = try minimiseConvex(f, lower: 0, upper: upper)
        return (r, f(r).0)
    }

    /// Minimises J (type II, `map = .identity`) or J_ε (`map = .layerNorm(d:eps:)`, ε > 0) on the full
    /// latent space: for fixed b the problem separates over β (one convex Brent solve per rank), and the
    /// profile in b is minimised by a grid scan and Brent.
    public static func separable(space: FullLatentSpace, mu: [Double], map: NormMap, lambdaW: Double, lambdaU: Double) throws
        -> FamilySolution
    {
        guard lambdaW > 0 && lambdaU > 0 else {
            throw LimitTheoryError(
                "weight_decay_W and weight_decay_U must both be positive for the limit objective to have a minimiser (got \(lambdaW), \(lambdaU))"
            )
        }
        if map.layerNorm && !(map.eps > 0) {
            throw LimitTheoryError("J_ε needs layer_norm_eps > 0; use the idealised LayerNorm objective h for ε = 0")
        }
        let nc = space.concepts, L = Double(space.length), K = space.countAsDouble
        var failure: Error?
        let profile: (Double) -> Double = { b in
            var v = 0.5 * lambdaU * K * L * b * b
            for m in mu {
                do { v += try innerMinimum(b: b, mu: m, nc: nc, L: L, map: map, lambdaW: lambdaW).1 } catch { failure = error }
            }
            return v
        }
        let upper = (2 * Foundation.log(Double(nc)) / (lambdaU * K)).squareRoot() * 1.01
        var best = try Minimize1D.minimise(profile, lower: 0, upper: upper, grid: 128, xTolerance: 1e-13)
        if best.x == 0 {
            // The origin may still be a saddle with the minimum inside the first grid cell: look closer.
            let fine = try Minimize1D.minimise(profile, lower: 0, upper: upper / 128, grid: 128, xTolerance: 1e-14)
            if fine.value < best.value { best = fine }
        }
        if let failure { throw failure }
        let b = best.x
        var rho = [Double](repeating: 0, count: mu.count)
        for (beta, m) in mu.enumerated() { rho[beta] = try innerMinimum(b: b, mu: m, nc: nc, L: L, map: map, lambdaW: lambdaW).0 }
        let c = cFactor(nc)
        var ce = 0.0
        for (beta, m) in mu.enumerated() { ce += L * m * Foundation.log1p(Double(nc - 1) * Foundation.exp(-c * b * map.s(rho[beta]))) }
        let j = J(b: b, rho: rho, space: space, mu: mu, map: map, lambdaW: lambdaW, lambdaU: lambdaU)
        // Origin analysis (no LayerNorm): J ≈ L log n_c − L·b·Σ μ_β ρ_β + quadratic penalties, so the
        // origin is a saddle exactly when L·Σ μ_β² > λ_W λ_U n_c K.
        let stat: Double? = map.layerNorm ? nil : lambdaW * lambdaU * Double(nc) * K
        let lim: Double? = map.layerNorm ? nil : L * mu.reduce(0) { $0 + $1 * $1 }
        return FamilySolution(
            objective: j.value, crossEntropy: ce, b: b, featureNorms: rho.map(map.s), wordNorms: rho,
            p: nil, trivial: b == 0 || rho.allSatisfy { $0 == 0 }, thresholdStatistic: stat, thresholdLimit: lim)
    }

    // MARK: 1-D helper

    /// Minimiser of a convex differentiable function on [lower, upper]: the end point when the slope
    /// there says so; otherwise bisection on the derivative down to a small bracket, then GSL's Brent.
    static func minimiseConvex(_ f: @escaping (Double) -> (Double, Double), lower: Double, upper: Double) throws -> Double {
        if f(lower).1 >= 0 { return lower }
        if f(upper).1 <= 0 { return upper }
        var lo = lower, hi = upper
        let width = (upper - lower) * 1e-4
        while hi - lo > width {
            let mid = 0.5 * (lo + hi)
            if f(mid).1 < 0 { lo = mid } else { hi = mid }
        }
        let guess = 0.5 * (lo + hi)
        let fg = f(guess).0
        guard fg < f(lo).0 && fg < f(hi).0 else {
            // Flat to rounding: finish by bisection on the derivative.
            while hi - lo > 1e-15 * max(1, abs(hi)) {
                let mid = 0.5 * (lo + hi)
                if mid == lo || mid == hi { break }
                if f(mid).1 < 0 { lo = mid } else { hi = mid }
            }
            return 0.5 * (lo + hi)
        }
        return try Minimize1D.brent({ f($0).0 }, lower: lo, upper: hi, guess: guess, xTolerance: 1e-15).x
    }
}
