import Foundation
import ExperimentSpec
import GSLBridge
import TaskModel

/// The type-II family for given latent variables: w_{α,β} = ρ_β·f_α with simplex directions f_α,
/// u_{k,ℓ} = b·f_{z_kℓ} (and, with LayerNorm ε > 0, features s(r_β)·f_α). Then
/// y_j − y_k = −c·b·Σ_ℓ s(ρ_{β_ℓ})·[z_jℓ ≠ z_kℓ], and the objective
///
///   Q(b, ρ) = (1/K) Σ_k E_β log Σ_j exp(−c·b·Σ_ℓ s(ρ_{β_ℓ})·[z_jℓ ≠ z_kℓ]) + (λ_W/2)·n_c·Σ_β ρ_β² + (λ_U/2)·K·L·b²
///
/// does not factorise over positions: the β-expectation is exact by enumeration when s_c^L is small,
/// and otherwise a sample average over `samplesPerClass` sentences per class (common random numbers,
/// so the minimisation is deterministic); the cross-entropy at the minimiser is then re-estimated on
/// a fresh sample, with its standard error.
public final class SampledFamily: SmoothObjective, @unchecked Sendable {
    public let latents: LatentVariables
    public let mu: [Double]
    public let map: ReducedObjectives.NormMap
    public let lambdaW: Double
    public let lambdaU: Double
    let K: Int, L: Int, nc: Int, sc: Int
    /// Sentences: per class, `perClass` tuples (class-major) with weights; `shared` when exact.
    let tuples: [Int32]
    let weights: [Double]
    let perClass: Int
    let shared: Bool
    public var threads: Int = workerThreads
    /// Mismatch codes of every pair, built once: codeTable[(k·nChunks + i)·K + j] (UInt8, 5 bits per chunk).
    lazy var codeTable: [UInt8] = {
        let CB = SampledFamily.chunkBits, nChunks = (L + CB - 1) / CB
        var t = [UInt8](repeating: 0, count: K * nChunks * K)
        latents.storage.withUnsafeBufferPointer { zb in
            for k in 0..<K {
                for i in 0..<nChunks {
                    let l0 = i * CB, l1 = min(L, l0 + CB)
                    let row = (k * nChunks + i) * K
                    for j in 0..<K {
                        var code: UInt8 = 0
                        for l in l0..<l1 where zb[j * L + l] != zb[k * L + l] { code |= UInt8(1 << (l - l0)) }
                        t[row + j] = code
                    }
                }
            }
        }
        return t
    }()

    /// True when the expectation is computed exactly by enumeration.
    public var isExact: Bool { shared }
    public var samplesPerClass: Int { perClass }

    /// Exact enumeration is used when s_c^L ≤ `exactLimit`; otherwise `samplesPerClass` draws per class.
    public init(
        latents: LatentVariables, mu: [Double], map: ReducedObjectives.NormMap, lambdaW: Double, lambdaU: Double,
        samplesPerClass: Int, seed: UInt64, exactLimit: Double = 4096
    ) throws {
        self.latents = latents; self.mu = mu; self.map = map; self.lambdaW = lambdaW; self.lambdaU = lambdaU
        K = latents.count; L = latents.length; nc = latents.concepts; sc = mu.count
        let T = pow(Double(sc), Double(L))
        let codeBytes = Double(K) * Double(K) * Double((L + SampledFamily.chunkBits - 1) / SampledFamily.chunkBits)
        if codeBytes > 2e9 {
            throw LimitTheoryError(
                "the sampled type-II family stores the mismatch codes of all K² = \(K)² class pairs (\(MemoryError.format(codeBytes))): too large; reduce K"
            )
        }
        if T <= exactLimit {
            (tuples, weights) = enumerateRankTuples(mu: mu, length: L)
            perClass = weights.count; shared = true
        } else {
            guard samplesPerClass >= 2 else { throw LimitTheoryError("samples per class must be at least 2 (got \(samplesPerClass))") }
            let (t, w) = try SampledFamily.draw(K: K, L: L, mu: mu, perClass: samplesPerClass, seed: seed)
            tuples = t; weights = w; perClass = samplesPerClass; shared = false
        }
    }

    init(
        latents: LatentVariables, mu: [Double], map: ReducedObjectives.NormMap, lambdaW: Double, lambdaU: Double,
        tuples: [Int32], weights: [Double], perClass: Int
    ) {
        self.latents = latents; self.mu = mu; self.map = map; self.lambdaW = lambdaW; self.lambdaU = lambdaU
        K = latents.count; L = latents.length; nc = latents.concepts; sc = mu.count
        self.tuples = tuples; self.weights = weights; self.perClass = perClass; shared = false
    }

    static func draw(K: Int, L: Int, mu: [Double], perClass: Int, seed: UInt64) throws -> ([Int32], [Double]) {
        let rng = RandomGenerator(seed: seed)
        let sampler = try DiscreteSampler(weights: mu)
        var t = [Int32](repeating: 0, count: K * perClass * L)
        for i in t.indices { t[i] = Int32(sampler.sample(rng)) }
        return (t, [Double](repeating: 1 / Double(perClass), count: K * perClass))
    }

    /// The same problem on a fresh independent sample (for an unbiased estimate at a given point).
    public func resampled(samplesPerClass: Int, seed: UInt64) throws -> SampledFamily {
        let (t, w) = try SampledFamily.draw(K: K, L: L, mu: mu, perClass: samplesPerClass, seed: seed)
        let f = SampledFamily(
            latents: latents, mu: mu, map: map, lambdaW: lambdaW, lambdaU: lambdaU, tuples: t, weights: w, perClass: samplesPerClass)
        f.threads = threads
        return f
    }

    public var parameterCount: Int { 1 + sc }

    public func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        evaluateParts(x, gradient: gradient).value
    }

    /// Cross-entropy at x and its standard error over the β-sampling (0 when exact).
    public func crossEntropy(_ x: [Double]) -> (value: Double, standardError: Double) {
        let r = x.withUnsafeBufferPointer { evaluateParts($0, gradient: nil) }
        return (r.crossEntropy, r.standardError)
    }

    /// Positions are cut into chunks of up to 5; the mismatch pattern of (j, k) on a chunk indexes a table
    /// of 32 subset sums of the chunk's feature norms, so the logit of j costs a few look-ups:
    /// exp(y_j − y_k) = Π_chunks E_i[code_i(j, k)] with E_i = exp(−c·b·(subset sum)). The own class has
    /// no mismatch (factor 1), so the sum over j is ≥ 1 and cannot underflow.
    static let chunkBits = 5

    /// For every chunk i of `chunkBits` positions and every subset `code` of its positions, the sum of
    /// `value(ℓ)` over the positions ℓ in the subset (`table[i·2^chunkBits + code]`, built one bit at a time)
    /// and exp(−scale·sum) (`exponentials`): the look-up tables from which exp(y_j − y_k) is a product, one
    /// factor per chunk, for every class j (its mismatch pattern with class k on the chunk is the code).
    @inline(__always)
    static func fillChunkTables(
        length L: Int, table: UnsafeMutablePointer<Double>, exponentials: UnsafeMutablePointer<Double>, scale: Double,
        value: (Int) -> Double
    ) {
        let CB = chunkBits, tableSize = 1 << CB
        for i in 0..<((L + CB - 1) / CB) {
            let l0 = i * CB, width = min(L, l0 + CB) - l0
            let tab = table + i * tableSize, et = exponentials + i * tableSize
            tab[0] = 0
            for code in 1..<(1 << width) {
                let low = code & (-code)
                tab[code] = tab[code ^ low] + value(l0 + low.trailingZeroBitCount)
            }
            for code in 0..<(1 << width) { et[code] = Foundation.exp(-scale * tab[code]) }
        }
    }

    func evaluateParts(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?)
        -> (value: Double, crossEntropy: Double, standardError: Double)
    {
        let K = self.K, L = self.L, M = perClass, sc = self.sc
        let b = x[0]
        let rho = Array(x[1...])
        let sv = rho.map(map.s), dsv = rho.map(map.ds)
        let c = ReducedObjectives.cFactor(nc)
        let T = max(1, min(threads, K))
        let wantGrad = gradient != nil
        let CB = SampledFamily.chunkBits
        let nChunks = (L + CB - 1) / CB
        let tableSize = 1 << CB
        // Per thread: loss, Σ_k variance terms, ∂b, ∂ρ (sc).
        let acc = (0..<T).map { _ in SharedBuffer(count: 3 + sc) }
        defer { withExtendedLifetime(acc) {} }
        let sharedTuples = shared
        let codeTable = self.codeTable
        codeTable.withUnsafeBufferPointer { ctb in
            let cbase = ctb.baseAddress!
            tuples.withUnsafeBufferPointer { tb in
                weights.withUnsafeBufferPointer { wb in
                    do {
                        let box = UncheckedBox((tb, wb, cbase))
                        parallelFor(T) { t in
                            let (tb, wb, cbase) = box.value
                            let out = acc[t].pointer
                            let table = UnsafeMutablePointer<Double>.allocate(capacity: nChunks * tableSize)
                            let etab = UnsafeMutablePointer<Double>.allocate(capacity: nChunks * tableSize)
                            let hist = UnsafeMutablePointer<Double>.allocate(capacity: nChunks * tableSize)
                            let prod = UnsafeMutablePointer<Double>.allocate(capacity: K)
                            var v = [Double](repeating: 0, count: L)
                            defer { table.deallocate(); etab.deallocate(); hist.deallocate(); prod.deallocate() }
                            for k in (t * K / T)..<((t + 1) * K / T) {
                                // codes[i * K + j]: mismatch pattern of (j, k) on chunk i.
                                let codes = cbase + k * nChunks * K
                                let base = sharedTuples ? 0 : k * M
                                var lk = 0.0, l2 = 0.0, db = 0.0
                                for m in 0..<M {
                                    for l in 0..<L { v[l] = sv[Int(tb[(base + m) * L + l])] }
                                    SampledFamily.fillChunkTables(
                                        length: L, table: table, exponentials: etab, scale: c * b, value: { v[$0] })
                                    var sum = 0.0
                                    // One pass: products, their sum, and (unnormalised) histograms per chunk code.
                                    if wantGrad { hist.update(repeating: 0, count: nChunks * tableSize) }
                                    if nChunks == 3 {
                                        let c0 = codes, c1 = codes + K, c2 = codes + 2 * K
                                        let e0 = etab, e1 = etab + tableSize, e2 = etab + 2 * tableSize
                                        let h0 = hist, h1 = hist + tableSize, h2 = hist + 2 * tableSize
                                        if wantGrad {
                                            for j in 0..<K {
                                                let a0 = Int(c0[j]), a1 = Int(c1[j]), a2 = Int(c2[j])
                                                let p = e0[a0] * e1[a1] * e2[a2]
                                                prod[j] = p; sum += p
                                                h0[a0] += p; h1[a1] += p; h2[a2] += p
                                            }
                                        } else {
                                            for j in 0..<K {
                                                let p = e0[Int(c0[j])] * e1[Int(c1[j])] * e2[Int(c2[j])]
                                                prod[j] = p; sum += p
                                            }
                                        }
                                    } else {
                                        for j in 0..<K {
                                            var p = 1.0
                                            for i in 0..<nChunks { p *= etab[i * tableSize + Int(codes[i * K + j])] }
                                            prod[j] = p
                                            sum += p
                                            if wantGrad { for i in 0..<nChunks { hist[i * tableSize + Int(codes[i * K + j])] += p } }
                                        }
                                    }
                                    var loss: Double
                                    if sum.isFinite {
                                        loss = Foundation.log(sum)
                                    } else {
                                        // Negative norms can make logits positive and large: stable direct path.
                                        var mx = -Double.infinity
                                        for j in 0..<K {
                                            var y = 0.0
                                            for i in 0..<nChunks { y -= c * b * table[i * tableSize + Int(codes[i * K + j])] }
                                            prod[j] = y; mx = max(mx, y)
                                        }
                                        sum = 0
                                        for j in 0..<K { prod[j] = Foundation.exp(prod[j] - mx); sum += prod[j] }
                                        loss = mx + Foundation.log(sum)
                                        if wantGrad {
                                            hist.update(repeating: 0, count: nChunks * tableSize)
                                            for j in 0..<K {
                                                for i in 0..<nChunks { hist[i * tableSize + Int(codes[i * K + j])] += prod[j] }
                                            }
                                        }
                                    }
                                    let w = wb[base + m]
                                    lk += w * loss; l2 += w * loss * loss
                                    if wantGrad {
                                        let scale = w / (Double(K) * sum)
                                        for i in 0..<(nChunks * tableSize) { hist[i] *= scale }
                                        for i in 0..<nChunks {
                                            let l0 = i * CB, width = min(L, l0 + CB) - l0
                                            let tab = table + i * tableSize, h = hist + i * tableSize
                                            for code in 1..<(1 << width) where h[code] != 0 {
                                                db -= c * h[code] * tab[code]
                                                var bits = code
                                                while bits != 0 {
                                                    let bit = bits.trailingZeroBitCount
                                                    bits &= bits - 1
                                                    let beta = Int(tb[(base + m) * L + l0 + bit])
                                                    out[3 + beta] -= c * b * h[code] * dsv[beta]
                                                }
                                            }
                                        }
                                    }
                                }
                                out[0] += lk
                                // Within-class variance of the sampled losses (weights 1/M): s²/M.
                                if !sharedTuples { out[1] += max(0, l2 - lk * lk) / Double(M - 1) }
                                out[2] += db
                            }
                        }
                    }
                }
            }
        }
        var ce = 0.0, varSum = 0.0, db = 0.0
        var drho = [Double](repeating: 0, count: sc)
        for a in acc {
            ce += a.pointer[0]; varSum += a.pointer[1]; db += a.pointer[2]
            for i in 0..<sc { drho[i] += a.pointer[3 + i] }
        }
        ce /= Double(K)
        let se = shared ? 0 : varSum.squareRoot() / Double(K)
        let KL = Double(K * L)
        var pen = 0.5 * lambdaU * KL * b * b
        for r in rho { pen += 0.5 * lambdaW * Double(nc) * r * r }
        if let g = gradient {
            g[0] = db + lambdaU * KL * b
            for i in 0..<sc { g[1 + i] = drho[i] + lambdaW * Double(nc) * rho[i] }
        }
        return (ce + pen, ce, se)
    }

    public struct Solution: Sendable {
        public var b: Double
        public var rho: [Double]
        public var objective: Double
        public var crossEntropy: Double
        public var standardError: Double
        public var iterations: Int
        public var converged: Bool
    }

    /// Minimises Q from (b0, ρ0) with gsl_multimin BFGS2; when sampled, re-estimates the objective and
    /// cross-entropy at the minimiser on an independent sample of `freshSamplesPerClass` per class.
    public func minimise(b0: Double, rho0: [Double], freshSamplesPerClass: Int, seed: UInt64) throws -> Solution {
        var options = MultiMinimizer.Options()
        options.gradientTolerance = 1e-7
        options.maxIterations = 2000
        options.initialStep = 0.1
        // Diagonal preconditioning: x_i = θ_i·s_i with s_i² an estimate of the curvature (penalty plus
        // the loss's c²b²/4 per expected occurrence), so rare and frequent ranks are on one scale.
        let c = ReducedObjectives.cFactor(nc), L = Double(self.L), KL = Double(K * self.L)
        let rhoBar2 = zip(mu, rho0).reduce(0) { $0 + $1.0 * map.s($1.1) * map.s($1.1) }
        // p(1 − p) of the softmax: at most 1/4, about the cross-entropy when classes are well separated.
        let q = min(0.25, crossEntropy([b0] + rho0).value)
        var scale = [(lambdaU * KL + L * c * c * rhoBar2 * q).squareRoot()]
        for m in mu {
            let ds = map.ds(rho0.first ?? 1)
            scale.append((lambdaW * Double(nc) + L * m * c * c * b0 * b0 * ds * ds * q).squareRoot())
        }
        let n = scale.count
        let x0 = ([b0] + rho0).enumerated().map { $0.element * scale[$0.offset] }
        let raw = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer { raw.deallocate() }
        let scaled: MultiMinimizer.Objective = { x, g in
            for i in 0..<n { raw[i] = x[i] / scale[i] }
            let v = self.evaluate(UnsafeBufferPointer(raw), gradient: g)
            if let g { for i in 0..<n { g[i] /= scale[i] } }
            return v
        }
        options.gradientTolerance = 1e-5
        var r = try MultiMinimizer.minimise(scaled, from: x0, options: options)
        r.x = r.x.enumerated().map { $0.element / scale[$0.offset] }
        var objective = r.value
        var ce = crossEntropy(r.x)
        if !shared {
            let fresh = try resampled(samplesPerClass: freshSamplesPerClass, seed: seed)
            ce = fresh.crossEntropy(r.x)
            objective = fresh.value(r.x)
        }
        return Solution(
            b: r.x[0], rho: Array(r.x[1...]), objective: objective, crossEntropy: ce.value,
            standardError: ce.standardError, iterations: r.iterations, converged: r.converged)
    }
}

// MARK: - The pooled (rank-conditioned) estimator

/// Every rank gets every sample. In the family a word enters class k's logits only through its feature
/// norm s at its position, and the other positions of a sentence are drawn independently of the rank that
/// sits at position ℓ. So
///
///   ∂Q/∂ρ_γ = μ_γ·s'(ρ_γ)·φ(s(ρ_γ)) + λ_W·n_c·ρ_γ,   φ(s) = (1/K) Σ_k Σ_ℓ E_{β_{−ℓ}} [∂ℓ_k/∂s_ℓ at s_ℓ = s],
///
/// with one function φ for all ranks. Splitting the competitors j of one sentence at position ℓ into those
/// that agree with z_k there (mass P0 of the softmax) and those that do not (mass P1), the norm at ℓ moves
/// only the second group: with q = (P0/P1)·e^{−c·b·s_ℓ} (computed at the sentence's own s_ℓ, and
/// independent of it), ∂ℓ_k/∂s_ℓ at any s is −c·b/(1 + q·e^{c·b·s}). The estimate φ̂ averages that over
/// every sampled (class, sentence, position): it is unbiased for φ(s) at every s and every (b, ρ), and
/// rank γ uses all K·M·L of them, not only the sentences that contain γ.
///
/// The pooled equations are not the gradient of one sample objective (their cross-derivatives in ρ_γ, ρ_δ
/// are symmetric in expectation only), so they are not handed to BFGS. They are solved as a fixed point: at
/// the current (b, ρ), one pass gives φ̂ (tabulated on Chebyshev nodes of s), ∂Q̂/∂b and ∂²Q̂/∂b²; then each
/// rank minimises its own convex one-dimensional objective μ_γ·Φ̂(s) + (λ_W/2)·n_c·r(s)² (Φ̂' = φ̂, the
/// same estimate for the value and the derivative) and b takes a Newton step on the sample objective's b
/// derivative (all samples inform b); Anderson acceleration on (b, ρ). The root θ̂ solves
/// G_n(θ) = 0 with G_n unbiased for ∇Q at every θ: a Z-estimator, consistent, with a bias of order 1/n
/// (n = K·M sentences) from the non-linearity, like the minimiser of the plain sample objective.
extension SampledFamily {
    /// One pass at per-group parameters (group of sentence m: m mod `groups`).
    struct ConditionalStatistics {
        /// Per group, summed over classes and the group's sentences (weights w): w·ℓ, w·∂ℓ/∂b, w·∂²ℓ/∂b².
        var loss: [Double], db: [Double], dbb: [Double]
        /// q of every (class, sentence, position), index (k·M + m)·L + ℓ (M = perClass).
        var q: [Double]
        /// Per group: the total weight of its sentences in one class (1 with one group).
        var groupWeight: [Double]
    }

    func groupWeights(_ B: Int) -> [Double] {
        var w = [Double](repeating: 0, count: B)
        for m in 0..<perClass { w[m % B] += weights[m] }  // class 0 (the weights are the same in every class)
        return w
    }

    func conditionalPass(b: [Double], rho: [[Double]], groups B: Int) -> ConditionalStatistics {
        let K = self.K, L = self.L, M = perClass
        let c = ReducedObjectives.cFactor(nc)
        let sv = rho.map { $0.map(map.s) }
        let T = max(1, min(threads, K))
        let CB = SampledFamily.chunkBits, nChunks = (L + CB - 1) / CB, tableSize = 1 << CB
        let acc = (0..<T).map { _ in SharedBuffer(count: 3 * B) }
        let qbuf = SharedBuffer(count: K * M * L)
        defer { withExtendedLifetime(acc) {} }
        let sharedTuples = shared
        let codeTable = self.codeTable
        codeTable.withUnsafeBufferPointer { ctb in
            tuples.withUnsafeBufferPointer { tb in
                weights.withUnsafeBufferPointer { wb in
                    let box = UncheckedBox((ctb.baseAddress!, tb, wb))
                    parallelFor(T) { t in
                        let (cbase, tb, wb) = box.value
                        let out = acc[t].pointer, qout = qbuf.pointer
                        let table = UnsafeMutablePointer<Double>.allocate(capacity: nChunks * tableSize)
                        let etab = UnsafeMutablePointer<Double>.allocate(capacity: nChunks * tableSize)
                        let hist = UnsafeMutablePointer<Double>.allocate(capacity: nChunks * tableSize)
                        defer { table.deallocate(); etab.deallocate(); hist.deallocate() }
                        for k in (t * K / T)..<((t + 1) * K / T) {
                            let codes = cbase + k * nChunks * K
                            let base = sharedTuples ? 0 : k * M
                            for m in 0..<M {
                                let g = m % B
                                let cb = c * b[g]
                                let s = sv[g]
                                let row = (base + m) * L
                                SampledFamily.fillChunkTables(
                                    length: L, table: table, exponentials: etab, scale: cb, value: { s[Int(tb[row + $0])] })
                                hist.update(repeating: 0, count: nChunks * tableSize)
                                // Σ_j p_j, Σ_j p_j·t_j² with t_j = Σ_ℓ s_ℓ·[mismatch] (y_j − y_k = −c·b·t_j).
                                var sum = 0.0, st2 = 0.0
                                if nChunks == 3 {
                                    let c0 = codes, c1 = codes + K, c2 = codes + 2 * K
                                    let e0 = etab, e1 = etab + tableSize, e2 = etab + 2 * tableSize
                                    let t0 = table, t1 = table + tableSize, t2 = table + 2 * tableSize
                                    let h0 = hist, h1 = hist + tableSize, h2 = hist + 2 * tableSize
                                    for j in 0..<K {
                                        let a0 = Int(c0[j]), a1 = Int(c1[j]), a2 = Int(c2[j])
                                        let p = e0[a0] * e1[a1] * e2[a2]
                                        let tt = t0[a0] + t1[a1] + t2[a2]
                                        sum += p; st2 += p * tt * tt
                                        h0[a0] += p; h1[a1] += p; h2[a2] += p
                                    }
                                } else {
                                    for j in 0..<K {
                                        var p = 1.0, tt = 0.0
                                        for i in 0..<nChunks {
                                            let a = i * tableSize + Int(codes[i * K + j])
                                            p *= etab[a]; tt += table[a]
                                        }
                                        sum += p; st2 += p * tt * tt
                                        for i in 0..<nChunks { hist[i * tableSize + Int(codes[i * K + j])] += p }
                                    }
                                }
                                var st = 0.0
                                for a in 0..<(nChunks * tableSize) { st += hist[a] * table[a] }
                                let mean = st / sum
                                let w = wb[base + m]
                                out[3 * g] += w * Foundation.log(sum)
                                out[3 * g + 1] -= w * c * mean
                                out[3 * g + 2] += w * c * c * max(0, st2 / sum - mean * mean)
                                for i in 0..<nChunks {
                                    let l0 = i * CB, width = min(L, l0 + CB) - l0
                                    let h = hist + i * tableSize
                                    for bit in 0..<width {
                                        var p0 = 0.0, p1 = 0.0
                                        for code in 0..<(1 << width) {
                                            if code & (1 << bit) != 0 { p1 += h[code] } else { p0 += h[code] }
                                        }
                                        let l = l0 + bit
                                        // p1 = 0 (underflow): q = +∞ and the position's mismatch probability is 0.
                                        qout[(k * M + m) * L + l] = p0 / p1 * Foundation.exp(-cb * s[Int(tb[row + l])])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var loss = [Double](repeating: 0, count: B), db = loss, dbb = loss
        for a in acc {
            for g in 0..<B { loss[g] += a.pointer[3 * g]; db[g] += a.pointer[3 * g + 1]; dbb[g] += a.pointer[3 * g + 2] }
        }
        let q = Array(UnsafeBufferPointer(start: qbuf.pointer, count: K * M * L))
        return ConditionalStatistics(loss: loss, db: db, dbb: dbb, q: q, groupWeight: groupWeights(B))
    }

    /// Σ over (k, m ∈ group, ℓ) of (w_m/W_g)/K · 1/(1 + q·e^{c·b_g·t}) at the given points t (per group), i.e. −φ̂_g(t)/(c·b_g).
    func mismatchSums(_ st: ConditionalStatistics, b: [Double], points: [[Double]], groups B: Int) -> [[Double]] {
        let K = self.K, L = self.L, M = perClass
        let c = ReducedObjectives.cFactor(nc)
        let n = points.map(\.count).max() ?? 0
        let T = max(1, min(threads, K))
        let acc = (0..<T).map { _ in SharedBuffer(count: B * n) }
        let ex = (0..<B).map { g in points[g].map { Foundation.exp(c * b[g] * $0) } }
        let scale = (0..<B).map { 1 / (st.groupWeight[$0] * Double(K)) }
        let sharedTuples = shared
        st.q.withUnsafeBufferPointer { qb in
            weights.withUnsafeBufferPointer { wb in
                let box = UncheckedBox((qb, wb))
                parallelFor(T) { t in
                    let (qb, wb) = box.value
                    let out = acc[t].pointer
                    var local = [Double](repeating: 0, count: n)
                    for k in (t * K / T)..<((t + 1) * K / T) {
                        let base = sharedTuples ? 0 : k * M
                        for m in 0..<M {
                            let g = m % B, e = ex[g], np = e.count
                            for i in 0..<np { local[i] = 0 }
                            for l in 0..<L {
                                let q = qb[(k * M + m) * L + l]
                                for i in 0..<np { local[i] += 1 / (1 + q * e[i]) }
                            }
                            let w = wb[base + m] * scale[g]
                            for i in 0..<np { out[g * n + i] += w * local[i] }
                        }
                    }
                }
            }
        }
        return (0..<B).map { g in (0..<points[g].count).map { i in acc.reduce(0) { $0 + $1.pointer[g * n + i] } } }
    }

    /// Chebyshev interpolant of a function on [0, S] from its values at the n Chebyshev points.
    struct Chebyshev {
        var upper: Double
        var coefficients: [Double]
        static func points(n: Int, upper: Double) -> [Double] {
            (0..<n).map { i in 0.5 * upper * (1 + Foundation.cos(Double.pi * (Double(i) + 0.5) / Double(n))) }
        }
        init(values f: [Double], upper: Double) {
            let n = f.count
            self.upper = upper
            coefficients = (0..<n).map { j in
                var s = 0.0
                for i in 0..<n { s += f[i] * Foundation.cos(Double.pi * Double(j) * (Double(i) + 0.5) / Double(n)) }
                return (j == 0 ? 1.0 : 2.0) * s / Double(n)
            }
        }
        func callAsFunction(_ t: Double) -> Double {
            let x = 2 * t / upper - 1
            var b1 = 0.0, b2 = 0.0
            for j in stride(from: coefficients.count - 1, through: 1, by: -1) {
                let b0 = 2 * x * b1 - b2 + coefficients[j]
                b2 = b1; b1 = b0
            }
            return x * b1 - b2 + coefficients[0]
        }
    }

    /// Number of Chebyshev points for φ̂ on [0, S]: φ̂ is a sum of logistic functions of c·b·s, analytic in a
    /// strip of half-width π/(c·b) about the real axis, so the error falls like ρ^{-n} with
    /// ρ = a + sqrt(1 + a²), a = 2π/(c·b·S); 64 points give below 1e-15 relative when c·b·S ≤ 10.
    static let chebyshevPoints = 64

    /// The fixed-point map for every group: a Newton step in b on the sample objective's b-derivative, and
    /// each rank's exact minimiser of μ_γ·Φ̂(s) + (λ_W/2)·n_c·r(s)² at the pass's b. Also returns the
    /// pooled gradient G_n at the input (its ∞-norm scaled by the curvature is the convergence measure).
    func pooledMap(_ xs: [[Double]], groups B: Int) throws -> [[Double]] {
        let c = ReducedObjectives.cFactor(nc)
        let b = xs.map { max($0[0], 0) }
        let rho = xs.map { Array($0[1...]).map { max($0, 0) } }
        let st = conditionalPass(b: b, rho: rho, groups: B)
        let KL = Double(K * L), lw = lambdaW * Double(nc)
        let sd = Double(map.d).squareRoot(), de = Double(map.d) * map.eps
        var upper: [Double] = (0..<B).map { g in
            map.layerNorm ? sd : max(1e-3, 2 * (rho[g].max() ?? 0))
        }
        var out = [[Double]](repeating: [], count: B)
        var pending = Array(0..<B)
        var rounds = 0
        while !pending.isEmpty {
            rounds += 1
            if rounds > 60 { throw LimitTheoryError("pooled type-II estimator: no bracket for the rank equations (norm bound \(upper))") }
            let n = SampledFamily.chebyshevPoints
            let pts = (0..<B).map { pending.contains($0) ? Chebyshev.points(n: n, upper: upper[$0]) : [] }
            let sums = mismatchSums(st, b: b, points: pts, groups: B)
            var next: [Int] = []
            for g in pending {
                // φ̂_g(s) = −c·b·(mismatch sum at s).
                let cheb = Chebyshev(values: sums[g].map { -c * b[g] * $0 }, upper: upper[g])
                let W = st.groupWeight[g] * Double(K)
                let G = st.db[g] / W + lambdaU * KL * b[g], H = st.dbb[g] / W + lambdaU * KL
                var bn = b[g] - G / H
                if !(bn > 0) { bn = 0.5 * b[g] }
                // Rank equation in s: μ·φ̂(s) + pen'(s) = 0, increasing in s (Φ̂ and the penalty are convex in s).
                let pen: (Double) -> Double =
                    map.layerNorm
                    ? { s in lw * de * s * Double(self.map.d) / ((Double(self.map.d) - s * s) * (Double(self.map.d) - s * s)) }
                    : { s in lw * s }
                let top = map.layerNorm ? upper[g] * (1 - 1e-12) : upper[g]
                var r = [Double](repeating: 0, count: sc)
                var escaped = false
                for (gamma, m) in mu.enumerated() where m > 0 && b[g] > 0 {
                    let f: (Double) -> Double = { s in m * cheb(s) + pen(s) }
                    if f(0) >= 0 { continue }
                    // With LayerNorm the penalty's slope is unbounded at √d, so f(top) > 0 unless φ̂ is not finite.
                    if f(top) <= 0 { escaped = true; break }
                    var lo = 0.0, hi = top
                    for _ in 0..<200 {
                        let mid = 0.5 * (lo + hi)
                        if mid <= lo || mid >= hi { break }
                        if f(mid) < 0 { lo = mid } else { hi = mid }
                    }
                    let s = 0.5 * (lo + hi)
                    r[gamma] = map.layerNorm ? s * (de / (Double(map.d) - s * s)).squareRoot() : s
                }
                if escaped {
                    if map.layerNorm {
                        throw LimitTheoryError("pooled type-II estimator: a rank equation has no root below √d (b = \(b[g]))")
                    }
                    upper[g] *= 2; next.append(g); continue
                }
                out[g] = [bn] + r
            }
            pending = next
        }
        return out
    }

    /// The pooled gradient estimate G_n(b, ρ) (b-derivative of the sample objective; per-rank pooled derivative
    /// μ_γ·s'(ρ_γ)·φ̂(s(ρ_γ)) + λ_W·n_c·ρ_γ), evaluated directly at every rank (no interpolation). With the
    /// exact enumeration it is the exact gradient of Q.
    public func pooledGradient(_ x: [Double]) -> [Double] {
        let b = x[0], rho = Array(x[1...])
        let st = conditionalPass(b: [b], rho: [rho], groups: 1)
        let c = ReducedObjectives.cFactor(nc)
        let sums = mismatchSums(st, b: [b], points: [rho.map(map.s)], groups: 1)[0]
        let W = st.groupWeight[0] * Double(K)
        var g = [st.db[0] / W + lambdaU * Double(K * L) * b]
        for (gamma, r) in rho.enumerated() {
            g.append(mu[gamma] * map.ds(r) * (-c * b * sums[gamma]) + lambdaW * Double(nc) * r)
        }
        return g
    }

    /// The Chebyshev interpolant of φ̂ on [0, upper] at (b, ρ), and φ̂ evaluated directly at the given points
    /// (for tests of the interpolation).
    public func pooledPhi(b: Double, rho: [Double], upper: Double, at points: [Double]) -> (interpolated: [Double], direct: [Double]) {
        let st = conditionalPass(b: [b], rho: [rho], groups: 1)
        let c = ReducedObjectives.cFactor(nc)
        let nodes = Chebyshev.points(n: SampledFamily.chebyshevPoints, upper: upper)
        let s = mismatchSums(st, b: [b], points: [nodes], groups: 1)[0]
        let cheb = Chebyshev(values: s.map { -c * b * $0 }, upper: upper)
        let direct = mismatchSums(st, b: [b], points: [points], groups: 1)[0].map { -c * b * $0 }
        return (points.map { cheb($0) }, direct)
    }

    /// Anderson-accelerated fixed point of `pooledMap` for every group at once (one pass per iteration).
    /// Converged when the map moves no coordinate by more than `tolerance` relative to max(|x|, 1e-3·max|x|).
    func solvePooledGroups(from x0: [[Double]], groups B: Int, tolerance: Double = 1e-9, maxIterations: Int = 300, memory: Int = 6)
        throws -> (x: [[Double]], iterations: Int, converged: Bool, change: Double)
    {
        var x = x0
        var hx = [[[Double]]](repeating: [], count: B)  // history of x
        var hf = [[[Double]]](repeating: [], count: B)  // history of residuals T(x) − x
        var ht = [[[Double]]](repeating: [], count: B)  // history of T(x)
        var done = [Bool](repeating: false, count: B)
        var change = [Double](repeating: .infinity, count: B)
        var it = 0
        while it < maxIterations && done.contains(false) {
            it += 1
            let tx = try pooledMap(x, groups: B)
            for g in 0..<B where !done[g] {
                let f = zip(tx[g], x[g]).map { $0 - $1 }
                let scale = max(1e-300, 1e-3 * (x[g].map(abs).max() ?? 0))
                change[g] = zip(f, x[g]).map { abs($0) / max(abs($1), scale) }.max() ?? 0
                if change[g] <= tolerance { x[g] = tx[g]; done[g] = true; continue }
                hx[g].append(x[g]); hf[g].append(f); ht[g].append(tx[g])
                if hf[g].count > memory + 1 { hx[g].removeFirst(); hf[g].removeFirst(); ht[g].removeFirst() }
                let mk = hf[g].count - 1
                var next = tx[g]
                if mk >= 1 {
                    // min ‖f_k − ΔF γ‖ over γ (ΔF_i = f_{i+1} − f_i), small ridge for stability.
                    let n = f.count
                    let dF = (0..<mk).map { i in (0..<n).map { hf[g][i + 1][$0] - hf[g][i][$0] } }
                    let dT = (0..<mk).map { i in (0..<n).map { ht[g][i + 1][$0] - ht[g][i][$0] } }
                    var A = [Double](repeating: 0, count: mk * mk), rhs = [Double](repeating: 0, count: mk)
                    for i in 0..<mk {
                        for j in 0...i {
                            var s = 0.0
                            for t in 0..<n { s += dF[i][t] * dF[j][t] }
                            A[i * mk + j] = s; A[j * mk + i] = s
                        }
                        var s = 0.0
                        for t in 0..<n { s += dF[i][t] * f[t] }
                        rhs[i] = s
                    }
                    let trace = (0..<mk).reduce(0) { $0 + A[$1 * mk + $1] }
                    for i in 0..<mk { A[i * mk + i] += 1e-10 * trace / Double(mk) + 1e-300 }
                    if let gamma = solveSmallSPD(A, rhs, mk) {
                        for i in 0..<mk { for t in 0..<n { next[t] -= gamma[i] * dT[i][t] } }
                    }
                }
                // Stay in the domain: b > 0, ρ ≥ 0.
                if !(next[0] > 0) { next[0] = tx[g][0] }
                for t in 1..<next.count where !(next[t] >= 0) { next[t] = tx[g][t] }
                x[g] = next
            }
        }
        return (x, it, !done.contains(false), change.max() ?? 0)
    }

    public struct PooledSolution: Sendable {
        public var b: Double
        public var rho: [Double]
        /// Feature norms s(ρ_β) (= ρ without LayerNorm).
        public var featureNorms: [Double]
        /// Monte Carlo standard errors from `replicates` independent replicates (nil without replicates).
        public var rhoStandardError: [Double]?
        public var featureNormStandardError: [Double]?
        public var bStandardError: Double?
        public var replicates: Int
        public var iterations: Int
        public var replicateIterations: Int
        public var converged: Bool
        /// Largest relative change of the last fixed-point step.
        public var change: Double
    }

    /// The pooled estimator θ̂ from (b0, ρ0) and, with `replicates` = B ≥ 2, its standard error by independent
    /// replicates: the sentences of every class are dealt into B groups (sentence m to group m mod B), θ̂_g solves
    /// the same equations on group g alone, and SE(θ̂) = sd_g(θ̂_g)/√B. Each replicate uses n/B sentences, so its
    /// variance is B times that of θ̂ to first order (the delta method's Cov ≈ J⁻¹ΣJ⁻ᵀ/n for both).
    public func solvePooled(b0: Double, rho0: [Double], replicates B: Int = 10, tolerance: Double = 1e-9) throws -> PooledSolution {
        let x0 = [max(b0, 1e-6)] + rho0.map { max($0, 0) }
        let main = try solvePooledGroups(from: [x0], groups: 1, tolerance: tolerance)
        let x = main.x[0]
        let rho = Array(x[1...])
        var sol = PooledSolution(
            b: x[0], rho: rho, featureNorms: rho.map(map.s), rhoStandardError: nil,
            featureNormStandardError: nil, bStandardError: nil, replicates: 0,
            iterations: main.iterations, replicateIterations: 0, converged: main.converged, change: main.change)
        guard !shared && B >= 2 else { return sol }
        guard perClass >= 2 * B else {
            throw LimitTheoryError(
                "pooled type-II estimator: \(perClass) sentences per class cannot be dealt into \(B) replicates of at least 2")
        }
        let reps = try solvePooledGroups(from: [[Double]](repeating: x, count: B), groups: B, tolerance: tolerance)
        func se(_ v: [Double]) -> Double {
            let m = v.reduce(0, +) / Double(v.count)
            return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1) / Double(v.count)).squareRoot()
        }
        sol.replicates = B
        sol.replicateIterations = reps.iterations
        sol.converged = sol.converged && reps.converged
        sol.bStandardError = se(reps.x.map { $0[0] })
        sol.rhoStandardError = (0..<sc).map { i in se(reps.x.map { $0[1 + i] }) }
        sol.featureNormStandardError = (0..<sc).map { i in se(reps.x.map { map.s($0[1 + i]) }) }
        return sol
    }
}

/// Solves A·x = b for a small symmetric positive definite A (Cholesky); nil when A is not positive definite.
func solveSmallSPD(_ A: [Double], _ b: [Double], _ n: Int) -> [Double]? {
    var Lm = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0...i {
            var s = A[i * n + j]
            for k in 0..<j { s -= Lm[i * n + k] * Lm[j * n + k] }
            if i == j {
                guard s > 0 else { return nil }
                Lm[i * n + i] = s.squareRoot()
            } else {
                Lm[i * n + j] = s / Lm[j * n + j]
            }
        }
    }
    var y = b
    for i in 0..<n {
        for k in 0..<i { y[i] -= Lm[i * n + k] * y[k] }
        y[i] /= Lm[i * n + i]
    }
    for i in stride(from: n - 1, through: 0, by: -1) {
        for k in (i + 1)..<n { y[i] -= Lm[k * n + i] * y[k] }
        y[i] /= Lm[i * n + i]
    }
    return y
}
