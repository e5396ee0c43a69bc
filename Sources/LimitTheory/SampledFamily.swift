import Foundation
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
public final class SampledFamily: @unchecked Sendable {
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

    /// True when the expectation is computed exactly by enumeration.
    public var isExact: Bool { shared }
    public var samplesPerClass: Int { perClass }

    /// Exact enumeration is used when s_c^L ≤ `exactLimit`; otherwise `samplesPerClass` draws per class.
    public init(latents: LatentVariables, mu: [Double], map: ReducedObjectives.NormMap, lambdaW: Double, lambdaU: Double,
                samplesPerClass: Int, seed: UInt64, exactLimit: Double = 4096) throws {
        self.latents = latents; self.mu = mu; self.map = map; self.lambdaW = lambdaW; self.lambdaU = lambdaU
        K = latents.count; L = latents.length; nc = latents.concepts; sc = mu.count
        let T = pow(Double(sc), Double(L))
        if T <= exactLimit {
            var tup: [Int32] = [], w: [Double] = []
            var beta = [Int](repeating: 0, count: L)
            for _ in 0..<Int(T) {
                var p = 1.0
                for l in 0..<L { p *= mu[beta[l]] }
                if p > 0 { tup += beta.map(Int32.init); w.append(p) }
                var l = L - 1
                while l >= 0 { beta[l] += 1; if beta[l] < sc { break }; beta[l] = 0; l -= 1 }
            }
            tuples = tup; weights = w; perClass = w.count; shared = true
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

    public func value(_ x: [Double]) -> Double { x.withUnsafeBufferPointer { evaluateParts($0, gradient: nil).value } }
    public func gradient(_ x: [Double]) -> [Double] {
        var g = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xb in g.withUnsafeMutableBufferPointer { _ = evaluateParts(xb, gradient: $0) } }
        return g
    }
    public func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        evaluateParts(x, gradient: gradient).value
    }

    /// Cross-entropy at x and its standard error over the β-sampling (0 when exact).
    public func crossEntropy(_ x: [Double]) -> (value: Double, standardError: Double) {
        let r = x.withUnsafeBufferPointer { evaluateParts($0, gradient: nil) }
        return (r.crossEntropy, r.standardError)
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
        // Per thread: loss, Σ_k variance terms, ∂b, ∂ρ (sc).
        let acc = (0..<T).map { _ in SharedBuffer(count: 3 + sc) }
        defer { withExtendedLifetime(acc) {} }
        let sharedTuples = shared
        tuples.withUnsafeBufferPointer { tb in
            weights.withUnsafeBufferPointer { wb in
                latents.storage.withUnsafeBufferPointer { zb in
                    let box = UncheckedBox((tb, wb, zb))
                    parallelFor(T) { t in
                        let (tb, wb, zb) = box.value
                        let out = acc[t].pointer
                        let eq = UnsafeMutablePointer<Double>.allocate(capacity: K * L)
                        let V = UnsafeMutablePointer<Double>.allocate(capacity: L * M)
                        let TM = UnsafeMutablePointer<Double>.allocate(capacity: K * M)
                        let GV = UnsafeMutablePointer<Double>.allocate(capacity: L * M)
                        var S = [Double](repeating: 0, count: M)
                        var lossM = [Double](repeating: 0, count: M)
                        defer { eq.deallocate(); V.deallocate(); TM.deallocate(); GV.deallocate() }
                        for k in (t * K / T)..<((t + 1) * K / T) {
                            for j in 0..<K {
                                for l in 0..<L { eq[j * L + l] = zb[j * L + l] == zb[k * L + l] ? 1 : 0 }
                            }
                            let base = sharedTuples ? 0 : k * M
                            for m in 0..<M {
                                var s = 0.0
                                for l in 0..<L { let v = sv[Int(tb[(base + m) * L + l])]; V[l * M + m] = v; s += v }
                                S[m] = s
                            }
                            // TM = eq (K x L) · V (L x M).
                            BLAS.dgemm(transA: false, transB: false, m: K, n: M, k: L, alpha: 1, a: eq, lda: L, b: V, ldb: M,
                                       beta: 0, c: TM, ldc: M)
                            var db = 0.0
                            // Logits cb(TM[j,m] − S_m), softmax over j per column m.
                            for m in 0..<M {
                                var mx = -Double.infinity
                                for j in 0..<K { mx = max(mx, c * b * (TM[j * M + m] - S[m])) }
                                var sum = 0.0
                                for j in 0..<K {
                                    let e = Foundation.exp(c * b * (TM[j * M + m] - S[m]) - mx)
                                    sum += e
                                    if wantGrad { TM[j * M + m] = e }
                                }
                                lossM[m] = mx + Foundation.log(sum)  // own logit is 0
                                if wantGrad {
                                    // TM becomes the weighted softmax P (K x M).
                                    let scale = wb[base + m] / (Double(K) * sum)
                                    for j in 0..<K { TM[j * M + m] *= scale }
                                }
                            }
                            var lk = 0.0, l2 = 0.0
                            for m in 0..<M { lk += wb[base + m] * lossM[m]; l2 += wb[base + m] * lossM[m] * lossM[m] }
                            out[0] += lk
                            // Within-class variance of the sampled losses (weights 1/M): s²/M.
                            if !sharedTuples { out[1] += max(0, l2 - lk * lk) / Double(M - 1) }
                            if wantGrad {
                                // GV = eqᵀ (L x K) · P (K x M).
                                BLAS.dgemm(transA: true, transB: false, m: L, n: M, k: K, alpha: 1, a: eq, lda: L, b: TM, ldb: M,
                                           beta: 0, c: GV, ldc: M)
                                // ∂/∂b = Σ_j P_jm·c·(T_jm − S_m) = c·(Σ_ℓ v_ℓm GV_ℓm − S_m·w_m/K).
                                for m in 0..<M {
                                    let w = wb[base + m] / Double(K)
                                    var tv = 0.0
                                    for l in 0..<L { tv += V[l * M + m] * GV[l * M + m] }
                                    db += c * (tv - S[m] * w)
                                    for l in 0..<L {
                                        let beta = Int(tb[(base + m) * L + l])
                                        out[3 + beta] += c * b * (GV[l * M + m] - w) * dsv[beta]
                                    }
                                }
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
        options.initialStep = 0.05
        let x0 = [b0] + rho0
        let r = try MultiMinimizer.minimise({ x, g in self.evaluate(x, gradient: g) }, from: x0, options: options)
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
