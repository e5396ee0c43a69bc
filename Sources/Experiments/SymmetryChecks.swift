import ArrayIO
import ExperimentSpec
import Foundation
import GSLBridge
import Geometry

/// P4's symmetry, checked directly on the network: with LayerNorm (no affine parameters),
///
///     y_k(x) = Σ_ℓ ⟨u_{k,ℓ}, ψ(w_{x_ℓ})⟩,   ψ(w) = (w − mean(w)·1)/sqrt(var(w) + ε),
///
/// is unchanged when every word vector w and every classifier block u_{k,ℓ} is mapped by a rotation Q of R^d with Q·1 = 1:
/// then mean(Qw) = mean(w), Q(w − mean(w)·1) = Qw − mean(Qw)·1 has the same norm, so ψ(Qw) = Qψ(w) and
/// ⟨Qu, Qψ⟩ = ⟨u, ψ⟩. A rotation that moves 1 changes the centring and so the output: the negative control.
///
/// Q is a product of two Householder reflections H(v) = I − 2vvᵀ/(vᵀv) (a rotation: determinant +1), applied to vectors
/// without forming Q; with v ⊥ 1, H(v)·1 = 1. Everything is in double precision, and the tolerance is a first-order
/// bound on the round-off (u = 2⁻⁵³, γ_n = n·u, the standard model of Higham, "Accuracy and Stability of Numerical
/// Algorithms", 2nd ed., §2–3), per logit, computed from the inputs (W, U and the reflections' vectors) before the outputs
/// it judges:
///
///     B_k(x) = u·Σ_ℓ ‖u_{k,ℓ}‖·[(2Ld + 9d + 24)·√d + (12d + 20)·κ(w_{x_ℓ})] + 2δ₁/√d·Σ_ℓ ‖u_{k,ℓ}‖·κ(w_{x_ℓ}),
///
/// κ(w) = ‖w‖/sqrt(var(w) + ε) (LayerNorm's amplification of an input error: ‖Dψ(w)‖ ≤ 1/sqrt(var(w) + ε)), and
/// δ₁ = Σ_i 2γ_{d+2}‖v_i^raw‖₁/‖v_i‖ the bound on how far the computed reflections move 1 (v_i = v_i^raw − mean(v_i^raw)·1
/// is ⊥ 1 only to round-off). The terms: one reflection moves a vector x by at most (4d + 7)·u·‖x‖, two by (8d + 16)·u·‖x‖
/// (the rotated u_{k,ℓ}, times ‖ψ‖ ≤ √d, and the rotated w, times κ); ψ's own rounding is at most
/// u·(2(d + 1)·κ + (d/2 + 4)·√d) in each of the two evaluations; each logit is a sum of L·d products (γ_{Ld}·Σ‖u‖‖ψ‖,
/// twice); and a Q that moves 1 by δ₁ moves ψ(Qw) away from Qψ(w) by at most 2δ₁κ/√d. Second-order terms (u²) are below
/// 1e-28 here and left out.
public enum RotationInvariance {
    public struct Result: Codable, Sendable {
        /// Whether the rotation fixes the all-ones vector (the statement) or not (the control).
        public var fixesOnes: Bool
        /// ‖Q·1 − 1‖ of the rotation used.
        public var onesDisplacement: Double
        public var logits: Int
        /// max over sentences and classes of |y'_k(x) − y_k(x)|.
        public var maxDifference: Double
        /// max of |y'_k(x) − y_k(x)| / B_k(x): the criterion holds when ≤ 1.
        public var largestRatio: Double
        /// Smallest and largest B_k(x).
        public var boundMin: Double
        public var boundMax: Double
        public var largestLogit: Double

        enum CodingKeys: String, CodingKey {
            case logits
            case fixesOnes = "fixes_ones"
            case onesDisplacement = "ones_displacement"
            case maxDifference = "max_difference"
            case largestRatio = "largest_ratio"
            case boundMin = "bound_min"
            case boundMax = "bound_max"
            case largestLogit = "largest_logit"
        }
    }

    /// H(v)·x = x − β(vᵀx)·v with β = 2/(vᵀv), in place.
    static func reflect(_ x: inout [Double], _ v: [Double], beta: Double) {
        var s = 0.0
        for i in 0..<v.count { s += v[i] * x[i] }
        let t = s * beta
        for i in 0..<v.count { x[i] -= t * v[i] }
    }

    /// The words of sentence number x (base-n_w digits, position 0 first), x in 0..<n_w^L.
    static func words(ofSentence x: Int, length L: Int, vocabulary nw: Int) -> [Int] {
        var words: [Int] = []
        var r = x
        for _ in 0..<L { words.append(r % nw); r /= nw }
        return words
    }

    /// The logits of every sentence (every word tuple of length L over n_w words) for every class, n_w^L x K row-major.
    static func logits(W: Matrix, U: Matrix, L: Int, eps: Double) throws -> [Double] {
        let psi = try LayerNorm.apply(W, epsilon: eps)
        let d = W.cols, nw = W.rows, K = U.rows
        let count = Int(pow(Double(nw), Double(L)).rounded())
        var out = [Double](repeating: 0, count: count * K)
        for x in 0..<count {
            let words = words(ofSentence: x, length: L, vocabulary: nw)
            for k in 0..<K {
                var y = 0.0
                for (l, w) in words.enumerated() {
                    for j in 0..<d { y += U[k, l * d + j] * psi[w, j] }
                }
                out[x * K + k] = y
            }
        }
        return out
    }

    /// The check on random parameters of `spec`'s shape (LayerNorm with its ε): W and U with standard normal entries, two
    /// reflections ⊥ 1 (statement) or the second one along the first coordinate axis, which is not ⊥ 1 (control). The
    /// tolerance is computed from the statement's reflections in both cases (the same criterion).
    public static func run(spec: Spec, fixesOnes: Bool, seed: UInt64 = 11) throws -> Result {
        let d = spec.d, nw = spec.nw, L = spec.L
        let K = spec.latentVariables().count
        let eps = spec.layerNormEps
        let rng = RandomGenerator(seed: seed)
        let W = Matrix(rows: nw, cols: d, data: (0..<(nw * d)).map { _ in rng.gaussian() })
        let U = Matrix(rows: K, cols: L * d, data: (0..<(K * L * d)).map { _ in rng.gaussian() })
        let raw = (0..<2).map { _ in (0..<d).map { _ in rng.gaussian() } }
        func projected(_ v: [Double]) -> [Double] {
            let m = v.reduce(0, +) / Double(d)
            return v.map { $0 - m }
        }
        let statementVectors = raw.map(projected)
        var vectors = statementVectors
        if !fixesOnes { vectors[1] = (0..<d).map { $0 == 0 ? 1 : 0 } }
        let betas = vectors.map { 2 / $0.reduce(0) { $0 + $1 * $1 } }
        func rotate(_ x: [Double]) -> [Double] {
            var y = x
            reflect(&y, vectors[1], beta: betas[1])
            reflect(&y, vectors[0], beta: betas[0])
            return y
        }
        var Wr = W, Ur = U
        for i in 0..<nw { Wr.data.replaceSubrange((i * d)..<((i + 1) * d), with: rotate(Array(W.row(i)))) }
        for k in 0..<K {
            for l in 0..<L {
                let lo = k * L * d + l * d
                Ur.data.replaceSubrange(lo..<(lo + d), with: rotate(Array(U.data[lo..<(lo + d)])))
            }
        }
        let ones = rotate([Double](repeating: 1, count: d))
        let displacement = ones.reduce(0) { $0 + ($1 - 1) * ($1 - 1) }.squareRoot()

        // The bound, from the inputs and the statement's reflections.
        let u = Double.ulpOfOne / 2
        let dd = Double(d), LL = Double(L)
        let gamma = (dd + 2) * u
        let delta1 = zip(raw, statementVectors).reduce(0.0) { acc, p in
            acc + 2 * gamma * p.0.reduce(0) { $0 + abs($1) } / p.1.reduce(0) { $0 + $1 * $1 }.squareRoot()
        }
        let kappa = (0..<nw).map { i -> Double in
            let r = Array(W.row(i))
            let m = r.reduce(0, +) / dd
            let variance = r.reduce(0) { $0 + ($1 - m) * ($1 - m) } / dd
            return r.reduce(0) { $0 + $1 * $1 }.squareRoot() / (variance + eps).squareRoot()
        }
        let uNorm = (0..<K).map { k in
            (0..<L).map { l in (0..<d).reduce(0.0) { $0 + U[k, l * d + $1] * U[k, l * d + $1] }.squareRoot() }
        }
        let before = try logits(W: W, U: U, L: L, eps: eps)
        let after = try logits(W: Wr, U: Ur, L: L, eps: eps)
        var maxDiff = 0.0, largestRatio = 0.0, bmin = Double.infinity, bmax = 0.0
        for x in 0..<(before.count / K) {
            let words = words(ofSentence: x, length: L, vocabulary: nw)
            for k in 0..<K {
                var bound = 0.0
                for (l, w) in words.enumerated() {
                    bound += uNorm[k][l] * (u * ((2 * LL * dd + 9 * dd + 24) * dd.squareRoot() + (12 * dd + 20) * kappa[w]))
                    bound += 2 * delta1 / dd.squareRoot() * uNorm[k][l] * kappa[w]
                }
                let diff = abs(after[x * K + k] - before[x * K + k])
                maxDiff = max(maxDiff, diff)
                largestRatio = max(largestRatio, diff / bound)
                bmin = min(bmin, bound)
                bmax = max(bmax, bound)
            }
        }
        return Result(
            fixesOnes: fixesOnes, onesDisplacement: displacement, logits: before.count, maxDifference: maxDiff,
            largestRatio: largestRatio, boundMin: bmin, boundMax: bmax, largestLogit: before.map(abs).max() ?? 0)
    }
}

extension Report {
    /// The LayerNorm network's instance for the rotation checks: SPEC 4.4's small instance with LayerNorm, ε = 1e-5.
    public static var rotationInstance: Spec { small(skewed, layerNorm: true, eps: 1e-5, name: "small instance, LayerNorm ε = 1e-5") }

    static let rotationToleranceSource =
        "numerical: a first-order round-off bound in double precision (u = 2⁻⁵³; Higham, Accuracy and Stability of Numerical Algorithms, §2–3), B_k(x) = u·Σ_ℓ ‖u_kℓ‖·[(2Ld + 9d + 24)√d + (12d + 20)κ(w_xℓ)] + 2δ₁/√d·Σ_ℓ ‖u_kℓ‖κ(w_xℓ), κ(w) = ‖w‖/sqrt(var(w) + ε), δ₁ the round-off bound of the reflections' vectors ⊥ 1; computed from W, U and the statement's reflections before the outputs (derivation in Sources/Experiments/SymmetryChecks.swift)"

    /// `p4-layernorm-rotation-invariance` and its control `control-p4-rotation-moving-ones`, each with its record in `verify/`.
    func rotationChecks() throws -> (statement: Check, control: Check) {
        let spec = Self.rotationInstance
        func check(_ fixes: Bool) throws -> Check {
            let r = try RotationInvariance.run(spec: spec, fixesOnes: fixes)
            let id = fixes ? "p4-layernorm-rotation-invariance" : "control-p4-rotation-moving-ones"
            let record = "verify/\(id).json"
            try AtomicFile.writeJSON(r, to: "\(folder)/\(record)")
            return Check(
                id: id,
                statement: fixes
                    ? "P4's symmetry: the LayerNorm network's output is invariant under rotations of the feature space that fix the all-ones vector (applied to W and U)"
                    : "P4's invariance criterion under a rotation that moves the all-ones vector (outside P4's symmetry: the centring of LayerNorm changes)",
                kind: fixes ? .statement : .control,
                instance:
                    "\(spec.name ?? ""), random W and U (standard normal), all \(r.logits) logits (every word tuple, every class); Q = two Householder reflections",
                predicted: fixes ? "y_k(x) unchanged (ψ(Qw) = Qψ(w))" : "y_k(x) changed",
                measured: String(
                    format: "‖Q·1 − 1‖ = %.2g; max |Δy| = %.2g (largest |y| %.3g); max |Δy|/B = %.3g; B from %.2g to %.2g",
                    r.onesDisplacement,
                    r.maxDifference, r.largestLogit, r.largestRatio, r.boundMin, r.boundMax),
                tolerance: "|y'_k(x) − y_k(x)| ≤ B_k(x) for every sentence x and class k",
                toleranceSource: Self.rotationToleranceSource, holds: r.largestRatio <= 1, record: record)
        }
        return (try check(true), try check(false))
    }
}
