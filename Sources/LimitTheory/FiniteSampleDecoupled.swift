import Foundation
import GSLBridge
import TaskModel

/// SPEC 6's decoupled within-concept blocks at a collapsed θ* (uniform μ), and the expected within-concept ratio.
public struct DecoupledWithinConcept: Sendable {
    /// N·E[within-concept ratio] ≈ scatterCoefficient / totalScatter (E[ratio] ≈ this / N, N = K·n_spl).
    public let coefficient: Double
    /// N·E[within-concept feature scatter] = Σ_α ((s_c − 1)/s_c)·tr(J_α A_α⁻¹ J_α B_α J_α A_α⁻¹ J_α) (J_α = I without LayerNorm).
    public let scatterCoefficient: Double
    /// Total feature scatter at θ*: s_c·Σ_α ‖φ_α − φ̄‖².
    public let totalScatter: Double
    /// The d x d blocks A_α (of H) and B_α (of s_c·Σ̄, before J_α on both sides with LayerNorm), one per concept.
    public let A: [Matrix]
    public let B: [Matrix]
    /// Smallest eigenvalue of the A_α: H's smallest eigenvalue on the within-concept blocks (> 0 required).
    public let smallestBlockEigenvalue: Double
    /// −Σ_α ((s_c − 1)/(2 s_c))·tr(A_α⁻¹ J_α B_α J_α): the within-concept blocks' share of the gap coefficient
    /// −tr(H⁺Σ̄)/2 (all of it at a collapsed θ* with uniform μ, where Σ̄ lives on those blocks).
    public let gapCoefficient: Double
    /// Mean over concepts of sqrt(φ̂_αᵀ J_α C_α J_α φ̂_α), C_α = ((s_c − 1)/s_c²)·A_α⁻¹ J_α B_α J_α A_α⁻¹ a word's block of C
    /// (all of it at a collapsed θ* with uniform μ): the sd of every word's feature norm ≈ this / √N, the same for each rank.
    public let wordNormSdCoefficient: Double
    /// Rank of the span of the features and classifier blocks (inside 1^⊥ with LayerNorm), and the orbit dimension
    /// it implies: d'(d'−1)/2 − (d'−r)(d'−r−1)/2 with d' = d (d − 1 with LayerNorm).
    public let spanRank: Int
    public let orbitDimension: Int
}

/// SPEC 6's decoupled form at a collapsed θ* with uniform μ: with p_k the softmax of class k's logits at θ* and
/// r_{kℓ} = Σ_j p_kj u_{jℓ} − u_{kℓ},
///
///   A_α = λ_W I + J_α Â_α J_α + (1/(K s_c)) Σ_{k,ℓ: z_kℓ = α} Σ_i (r_{kℓ})_i ∇²ψ_i(w*_α),
///   Â_α = (1/(K s_c)) Σ_{k,ℓ: z_kℓ = α} Cov_{j~p_k}(u_{jℓ}),   B_α = (1/K) Σ_{k,ℓ: z_kℓ = α} r_{kℓ} r_{kℓ}ᵀ,
///
/// (J_α = Dψ(w*_α); J = I and no ∇²ψ term without LayerNorm), and the within-concept ratio coefficient
/// Σ_α ((s_c − 1)/s_c)·tr(J A⁻¹ J B J A⁻¹ J) / (total feature scatter at θ*). No n_w·d x n_w·d matrix is formed:
/// O(K²·L·d + K·L·d²·n_c) work, the products through BLAS dgemm.
///
/// - concepts: the pre-LayerNorm concept vectors w*_α (n_c x d; the features themselves without LayerNorm).
/// - classifier: U of θ* (K rows of L·d, blocks u_{k,ℓ} laid end to end).
/// - layerNormEps: nil without LayerNorm; ε > 0 with it (ε = 0 is not covered by P6).
public func decoupledWithinConcept(
    concepts: [[Double]], classifier: [[Double]], latents z: LatentVariables, wordsPerConcept sc: Int,
    lambdaW: Double, layerNormEps: Double?
) throws -> DecoupledWithinConcept {
    let nc = z.concepts, K = z.count, L = z.length
    guard concepts.count == nc, let d = concepts.first?.count, d > 0, concepts.allSatisfy({ $0.count == d }) else {
        throw LimitTheoryError("concepts must be n_c = \(nc) vectors of one length d > 0 (got \(concepts.count))")
    }
    guard classifier.count == K, classifier.allSatisfy({ $0.count == L * d }) else {
        throw LimitTheoryError("classifier must have K = \(K) rows of L·d = \(L * d) values (got \(classifier.count) rows)")
    }
    guard sc >= 2 else { throw LimitTheoryError("words per concept s_c must be at least 2 for a within-concept scatter (got \(sc))") }
    guard lambdaW > 0 else { throw LimitTheoryError("weight_decay_W must be positive for P6 (got \(lambdaW))") }
    if let e = layerNormEps, !(e > 0) {
        throw LimitTheoryError("layer_norm_eps = \(e) is not covered by P6 (SPEC 6: ε = 0 leaves flat directions): use ε > 0")
    }
    let ln = layerNormEps != nil, eps = layerNormEps ?? 0
    let sd = Double(d).squareRoot()
    // Features φ_α, centred vectors c_α and q_α = sqrt(‖c_α‖² + dε) (LayerNorm).
    var phi = [Double](repeating: 0, count: nc * d), cen = [[Double]](), qs = [Double]()
    for a in 0..<nc {
        let v = concepts[a]
        if !ln { for e in 0..<d { phi[a * d + e] = v[e] }; cen.append(v); qs.append(1); continue }
        let m = v.reduce(0, +) / Double(d)
        let c = v.map { $0 - m }
        let q = (c.reduce(0) { $0 + $1 * $1 } + Double(d) * eps).squareRoot()
        for e in 0..<d { phi[a * d + e] = sd * c[e] / q }
        cen.append(c); qs.append(q)
    }
    let Uflat = classifier.flatMap { $0 }
    let LD = L * d
    // M_ℓ[j][α] = ⟨u_{jℓ}, φ_α⟩ (K x n_c per ℓ).
    var M = [Double](repeating: 0, count: L * K * nc)
    Uflat.withUnsafeBufferPointer { ub in
        M.withUnsafeMutableBufferPointer { mb in
            for l in 0..<L {
                BLAS.dgemm(
                    transA: false, transB: true, m: K, n: nc, k: d, alpha: 1, a: ub.baseAddress! + l * d, lda: LD,
                    b: phi, ldb: d, beta: 0, c: mb.baseAddress! + l * K * nc, ldc: nc)
            }
        }
    }
    // P[k][j] = softmax_j(y_kj), y_kj = Σ_ℓ M_ℓ[j][z_kℓ].
    var P = [Double](repeating: 0, count: K * K)
    for k in 0..<K {
        let row = k * K
        for l in 0..<L {
            let a = z[k, l], base = l * K * nc
            for j in 0..<K { P[row + j] += M[base + j * nc + a] }
        }
        var m = -Double.infinity
        for j in 0..<K { m = max(m, P[row + j]) }
        var s = 0.0
        for j in 0..<K { let e = Foundation.exp(P[row + j] - m); P[row + j] = e; s += e }
        for j in 0..<K { P[row + j] /= s }
    }
    // Ū = P·U (ū_{kℓ} = Σ_j p_kj u_{jℓ}); r = Ū − U.
    var Ubar = [Double](repeating: 0, count: K * LD)
    BLAS.dgemm(transA: false, transB: false, m: K, n: LD, k: K, alpha: 1, a: P, lda: K, b: Uflat, ldb: LD, beta: 0, c: &Ubar, ldc: LD)
    // Per concept: the rows r_{kℓ} and ū_{kℓ} with z_kℓ = α, and q_{ℓα}[j] = Σ_{k: z_kℓ = α} p_kj.
    var A = [Matrix](), B = [Matrix]()
    var scatter = 0.0, gap = 0.0, smallest = Double.infinity, sdSum = 0.0
    var qla = [Double](repeating: 0, count: L * nc * K)
    for k in 0..<K {
        for l in 0..<L {
            let base = (l * nc + z[k, l]) * K
            for j in 0..<K { qla[base + j] += P[k * K + j] }
        }
    }
    for a in 0..<nc {
        var rows: [Double] = [], bars: [Double] = []
        var rsum = [Double](repeating: 0, count: d)
        for k in 0..<K {
            for l in 0..<L where z[k, l] == a {
                for e in 0..<d {
                    let ub = Ubar[k * LD + l * d + e], r = ub - Uflat[k * LD + l * d + e]
                    rows.append(r); bars.append(ub); rsum[e] += r
                }
            }
        }
        let na = rows.count / d
        var Bm = Matrix(rows: d, cols: d), Ahat = Matrix(rows: d, cols: d)
        if na > 0 {
            BLAS.dgemm(
                transA: true, transB: false, m: d, n: d, k: na, alpha: 1 / Double(K), a: rows, lda: d, b: rows, ldb: d,
                beta: 0, c: &Bm.data, ldc: d)
            BLAS.dgemm(
                transA: true, transB: false, m: d, n: d, k: na, alpha: -1 / Double(K * sc), a: bars, lda: d, b: bars, ldb: d,
                beta: 0, c: &Ahat.data, ldc: d)
        }
        // + (1/(K s_c)) Σ_ℓ U_ℓᵀ diag(q_ℓα) U_ℓ.
        var X = [Double](repeating: 0, count: K * d)
        for l in 0..<L {
            let base = (l * nc + a) * K
            var any = false
            for j in 0..<K {
                let w = qla[base + j].squareRoot()
                if w > 0 { any = true }
                for e in 0..<d { X[j * d + e] = w * Uflat[j * LD + l * d + e] }
            }
            if !any { continue }
            BLAS.dgemm(
                transA: true, transB: false, m: d, n: d, k: K, alpha: 1 / Double(K * sc), a: X, lda: d, b: X, ldb: d,
                beta: 1, c: &Ahat.data, ldc: d)
        }
        // A_α and the Jacobian J_α.
        var J = Matrix(rows: d, cols: d)
        var Am = Matrix(rows: d, cols: d)
        if ln {
            let c = cen[a], q = qs[a]
            for i in 0..<d { for j in 0..<d { J[i, j] = sd * (((i == j ? 1 : 0) - 1 / Double(d)) / q - c[i] * c[j] / (q * q * q)) } }
            Am = J * Ahat * J
            // (1/(K s_c))·Σ_i (Σ r)_i ∇²ψ_i(w*_α) = √d/(K s_c)·(−[(Pr)cᵀ + c(Pr)ᵀ + (rᵀc)P]/q³ + 3(rᵀc) c cᵀ/q⁵).
            let rm = rsum.reduce(0, +) / Double(d)
            let pr = rsum.map { $0 - rm }
            let rc = zip(rsum, c).reduce(0) { $0 + $1.0 * $1.1 }
            let s = sd / Double(K * sc), q3 = q * q * q, q5 = q3 * q * q
            for i in 0..<d {
                for j in 0..<d {
                    let Pij = (i == j ? 1 : 0) - 1 / Double(d)
                    Am[i, j] += s * (-(pr[i] * c[j] + c[i] * pr[j] + rc * Pij) / q3 + 3 * rc * c[i] * c[j] / q5)
                }
            }
        } else {
            for i in 0..<d { J[i, i] = 1 }
            Am = Ahat
        }
        for i in 0..<d { Am[i, i] += lambdaW }
        // Symmetrise against rounding, then A⁻¹ through its eigen-decomposition.
        for i in 0..<d { for j in 0..<i { let m = 0.5 * (Am[i, j] + Am[j, i]); Am[i, j] = m; Am[j, i] = m } }
        let eig = try LinearAlgebra.symmetricEigen(Am)
        guard let low = eig.values.first, low > 0 else {
            throw LimitTheoryError(
                "A_α of concept \(a) is not positive definite (smallest eigenvalue \(eig.values.first ?? .nan)): θ* is not a non-degenerate minimiser (SPEC 6)"
            )
        }
        smallest = min(smallest, low)
        var Ainv = Matrix(rows: d, cols: d)
        for k in 0..<d {
            let inv = 1 / eig.values[k]
            for i in 0..<d { for j in 0..<d { Ainv[i, j] += inv * eig.vectors[i, k] * eig.vectors[j, k] } }
        }
        let JAJ = J * Ainv * J
        let S = JAJ * Bm * JAJ
        let G = Ainv * (J * Bm * J)
        var tr = 0.0, tg = 0.0
        for i in 0..<d { tr += S[i, i]; tg += G[i, i] }
        scatter += (Double(sc) - 1) / Double(sc) * tr
        // φ̂ᵀ (J C_ww J) φ̂ with J C_ww J = ((s_c − 1)/s_c²)·S.
        let f = (0..<d).map { phi[a * d + $0] }
        let fn2 = f.reduce(0) { $0 + $1 * $1 }
        var v = 0.0
        for i in 0..<d { for j in 0..<d { v += f[i] * S[i, j] * f[j] } }
        sdSum += fn2 > 0 ? (max(0, v * (Double(sc) - 1) / Double(sc * sc)) / fn2).squareRoot() : .nan
        gap -= (Double(sc) - 1) / (2 * Double(sc)) * tg
        A.append(Am); B.append(Bm)
    }
    var mean = [Double](repeating: 0, count: d)
    for a in 0..<nc { for e in 0..<d { mean[e] += phi[a * d + e] / Double(nc) } }
    var total = 0.0
    for a in 0..<nc { for e in 0..<d { total += Double(sc) * (phi[a * d + e] - mean[e]) * (phi[a * d + e] - mean[e]) } }
    guard total > 0 else {
        throw LimitTheoryError(
            "the concept features of θ* coincide (total scatter 0, e.g. the trivial minimiser): the within-concept ratio is undefined")
    }
    // Orbit dimension from the rank of the span of features and blocks (inside 1^⊥ with LayerNorm).
    var gram = Matrix(rows: d, cols: d)
    BLAS.dgemm(transA: true, transB: false, m: d, n: d, k: nc, alpha: 1, a: phi, lda: d, b: phi, ldb: d, beta: 0, c: &gram.data, ldc: d)
    BLAS.dgemm(
        transA: true, transB: false, m: d, n: d, k: K * L, alpha: 1, a: Uflat, lda: d, b: Uflat, ldb: d, beta: 1, c: &gram.data, ldc: d)
    let ge = try LinearAlgebra.symmetricEigen(gram)
    let gtop = ge.values.last ?? 0
    let rank = ge.values.filter { gtop > 0 && $0 > 1e-10 * gtop }.count
    let dp = ln ? d - 1 : d
    let r = min(rank, dp)
    let orbit = dp * (dp - 1) / 2 - (dp - r) * (dp - r - 1) / 2
    return DecoupledWithinConcept(
        coefficient: scatter / total, scatterCoefficient: scatter, totalScatter: total, A: A, B: B,
        smallestBlockEigenvalue: smallest, gapCoefficient: gap,
        wordNormSdCoefficient: sdSum / Double(nc), spanRank: r, orbitDimension: orbit)
}
