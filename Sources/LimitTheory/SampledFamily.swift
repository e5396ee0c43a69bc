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
    public init(latents: LatentVariables, mu: [Double], map: ReducedObjectives.NormMap, lambdaW: Double, lambdaU: Double,
                samplesPerClass: Int, seed: UInt64, exactLimit: Double = 4096) throws {
        self.latents = latents; self.mu = mu; self.map = map; self.lambdaW = lambdaW; self.lambdaU = lambdaU
        K = latents.count; L = latents.length; nc = latents.concepts; sc = mu.count
        let T = pow(Double(sc), Double(L))
        let codeBytes = Double(K) * Double(K) * Double((L + SampledFamily.chunkBits - 1) / SampledFamily.chunkBits)
        if codeBytes > 2e9 {
            throw LimitTheoryError("the sampled type-II family stores the mismatch codes of all K² = \(K)² class pairs (\(MemoryError.format(codeBytes))): too large; reduce K")
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

    init(latents: LatentVariables, mu: [Double], map: ReducedObjectives.NormMap, lambdaW: Double, lambdaU: Double,
         tuples: [Int32], weights: [Double], perClass: Int) {
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
        let f = SampledFamily(latents: latents, mu: mu, map: map, lambdaW: lambdaW, lambdaU: lambdaU, tuples: t, weights: w, perClass: samplesPerClass)
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
                                for i in 0..<nChunks {
                                    let l0 = i * CB, width = min(L, l0 + CB) - l0
                                    let tab = table + i * tableSize, et = etab + i * tableSize
                                    tab[0] = 0
                                    for code in 1..<(1 << width) {
                                        let low = code & (-code)
                                        tab[code] = tab[code ^ low] + v[l0 + low.trailingZeroBitCount]
                                    }
                                    for code in 0..<(1 << width) { et[code] = Foundation.exp(-c * b * tab[code]) }
                                }
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
                                        for j in 0..<K { for i in 0..<nChunks { hist[i * tableSize + Int(codes[i * K + j])] += prod[j] } }
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
        return Solution(b: r.x[0], rho: Array(r.x[1...]), objective: objective, crossEntropy: ce.value,
                        standardError: ce.standardError, iterations: r.iterations, converged: r.converged)
    }
}
