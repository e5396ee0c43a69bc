import Foundation
import GSLBridge
import Geometry
import TaskModel

/// The exact large-sample limit risk R(W, U) of SPEC section 4 for small instances, enumerating every
/// word tuple of every class (weight μ^{⊗L}):
///
///   R = (1/K) Σ_k Σ_β μ(β)·ℓ(y(x(z_k, β)), k) + (λ_W/2)‖W‖² + (λ_U/2)‖U‖²,
///
/// with or without LayerNorm. ε > 0: ψ(v) = √d·v_c/sqrt(‖v_c‖² + dε), penalties on both W and U.
/// ε = 0 (idealised): features √d·v_c/‖v_c‖ and no penalty on W. Analytic gradient.
public final class ExactRisk: SmoothObjective, @unchecked Sendable {
    public let latents: LatentVariables
    public let mu: [Double]
    public let wordsPerConcept: Int
    public let d: Int
    public let lambdaW: Double
    public let lambdaU: Double
    public let layerNorm: Bool
    public let eps: Double
    let K: Int, L: Int, nc: Int, nw: Int
    /// Word tuples β (T x L) with positive weight, and their weights.
    let tuples: [Int32]
    let weights: [Double]
    public var threads: Int = 1

    /// Largest K²·L·s_c^L (the work of one evaluation) accepted.
    public static let maxWork = 4e8

    public var parameterCount: Int { nw * d + K * L * d }
    public var tupleCount: Int { weights.count }

    public init(
        latents: LatentVariables, mu: [Double], d: Int, lambdaW: Double, lambdaU: Double,
        layerNorm: Bool, eps: Double
    ) throws {
        self.latents = latents; self.mu = mu; wordsPerConcept = mu.count; self.d = d
        self.lambdaW = lambdaW; self.lambdaU = lambdaU; self.layerNorm = layerNorm; self.eps = eps
        K = latents.count; L = latents.length; nc = latents.concepts; nw = nc * mu.count
        let T = pow(Double(mu.count), Double(L))
        let work = Double(K) * Double(K) * Double(L) * T
        if work > ExactRisk.maxWork || T > 2e6 {
            throw LimitTheoryError(
                "the exact limit risk enumerates s_c^L = \(mu.count)^\(L) ≈ \(String(format: "%.3g", T)) word tuples for each of K = \(K) classes (work K²·L·s_c^L ≈ \(String(format: "%.3g", work)) per evaluation, limit \(String(format: "%.0g", ExactRisk.maxWork))): this instance is too large to enumerate; reduce s_c (nw/nc), L or K"
            )
        }
        (tuples, weights) = enumerateRankTuples(mu: mu, length: L)
    }

    /// Features ψ(w) (n_w x d, row-major; `Geometry.LayerNorm`, the toolkit's one ψ) and, per word, the
    /// factor 1/sqrt(var + ε) that its backward pass needs (1 without LayerNorm).
    func features(_ W: UnsafePointer<Double>) -> (phi: [Double], invStd: [Double]) {
        var phi = [Double](repeating: 0, count: nw * d), invStd = [Double](repeating: 1, count: nw)
        if !layerNorm {
            for i in 0..<(nw * d) { phi[i] = W[i] }
            return (phi, invStd)
        }
        phi.withUnsafeMutableBufferPointer { y in
            invStd.withUnsafeMutableBufferPointer { s in
                LayerNorm.forward(W, rows: nw, d: d, eps: eps, into: y.baseAddress!, invStd: s.baseAddress!)
            }
        }
        return (phi, invStd)
    }

    /// The word features after ψ at x, one row per word.
    public func features(_ x: [Double]) -> [[Double]] {
        let phi = x.withUnsafeBufferPointer { features($0.baseAddress!).phi }
        return (0..<nw).map { Array(phi[($0 * d)..<(($0 + 1) * d)]) }
    }

    public func crossEntropy(_ x: [Double]) -> Double { x.withUnsafeBufferPointer { evaluateParts($0, gradient: nil).crossEntropy } }
    public func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        evaluateParts(x, gradient: gradient).value
    }

    func evaluateParts(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?)
        -> (value: Double, crossEntropy: Double)
    {
        let K = self.K, L = self.L, nw = self.nw, d = self.d, sc = wordsPerConcept
        let W = x.baseAddress!, U = W + nw * d
        let (phi, invStd) = features(W)
        // At[ℓ][w][j] = ⟨u_{j,ℓ}, ψ(w)⟩.
        let At = SharedBuffer(count: L * nw * K)
        defer { withExtendedLifetime(At) {} }
        for j in 0..<K {
            for l in 0..<L {
                let u = U + (j * L + l) * d
                for w in 0..<nw {
                    var s = 0.0
                    for e in 0..<d { s += u[e] * phi[w * d + e] }
                    At.pointer[(l * nw + w) * K + j] = s
                }
            }
        }
        let T = max(1, min(threads, K))
        let wantGrad = gradient != nil
        let Gs = (0..<T).map { _ in SharedBuffer(count: wantGrad ? L * nw * K : 0) }
        let losses = SharedBuffer(count: T)
        defer { withExtendedLifetime(Gs) {}; withExtendedLifetime(losses) {} }
        let nT = weights.count
        tuples.withUnsafeBufferPointer { tb in
            weights.withUnsafeBufferPointer { wb in
                latents.storage.withUnsafeBufferPointer { zb in
                    let box = UncheckedBox((tb, wb, zb))
                    parallelFor(T) { t in
                        let (tb, wb, zb) = box.value
                        let A = At.pointer, G = Gs[t].pointer
                        let row = UnsafeMutablePointer<Double>.allocate(capacity: K)
                        defer { row.deallocate() }
                        var loss = 0.0
                        for k in (t * K / T)..<((t + 1) * K / T) {
                            for s in 0..<nT {
                                row.update(repeating: 0, count: K)
                                for l in 0..<L {
                                    let w = Int(zb[k * L + l]) * sc + Int(tb[s * L + l])
                                    let col = A + (l * nw + w) * K
                                    for j in 0..<K { row[j] += col[j] }
                                }
                                var m = -Double.infinity
                                for j in 0..<K { m = max(m, row[j]) }
                                let own = row[k]
                                var sum = 0.0
                                for j in 0..<K { let e = Foundation.exp(row[j] - m); row[j] = e; sum += e }
                                loss += wb[s] * (m + Foundation.log(sum) - own)
                                if wantGrad {
                                    let scale = wb[s] / (sum * Double(K))
                                    for j in 0..<K { row[j] *= scale }
                                    row[k] -= wb[s] / Double(K)
                                    for l in 0..<L {
                                        let w = Int(zb[k * L + l]) * sc + Int(tb[s * L + l])
                                        let col = G + (l * nw + w) * K
                                        for j in 0..<K { col[j] += row[j] }
                                    }
                                }
                            }
                        }
                        losses.pointer[t] = loss
                    }
                }
            }
        }
        var ce = 0.0
        for t in 0..<T { ce += losses.pointer[t] }
        ce /= Double(K)
        let penalizeW = !(layerNorm && eps == 0)
        var ww = 0.0, uu = 0.0
        for i in 0..<(nw * d) { ww += W[i] * W[i] }
        for i in 0..<(K * L * d) { uu += U[i] * U[i] }
        let value = ce + 0.5 * lambdaU * uu + (penalizeW ? 0.5 * lambdaW * ww : 0)
        if let grad = gradient {
            let G = Gs[0].pointer
            for t in 1..<max(T, 1) where t < T {
                let o = Gs[t].pointer
                for i in 0..<(L * nw * K) { G[i] += o[i] }
            }
            let dW = grad.baseAddress!, dU = dW + nw * d
            var dphi = [Double](repeating: 0, count: nw * d)
            for j in 0..<K {
                for l in 0..<L {
                    let u = U + (j * L + l) * d, du = dU + (j * L + l) * d
                    for e in 0..<d { du[e] = lambdaU * u[e] }
                    for w in 0..<nw {
                        let gjw = G[(l * nw + w) * K + j]
                        if gjw == 0 { continue }
                        for e in 0..<d {
                            du[e] += gjw * phi[w * d + e]
                            dphi[w * d + e] += gjw * u[e]
                        }
                    }
                }
            }
            for w in 0..<nw {
                let v = W + w * d, dv = dW + w * d
                if !layerNorm {
                    for e in 0..<d { dv[e] = dphi[w * d + e] + lambdaW * v[e] }
                    continue
                }
                phi.withUnsafeBufferPointer { y in
                    dphi.withUnsafeBufferPointer { g in
                        LayerNorm.backwardRow(y: y.baseAddress! + w * d, invStd: invStd[w], g: g.baseAddress! + w * d, d: d, into: dv)
                    }
                }
                if penalizeW { for e in 0..<d { dv[e] += lambdaW * v[e] } }
            }
        }
        return (value, ce)
    }

    public typealias Solution = LocalMinimum

    /// A random start: W ~ N(0, σ_W²), U ~ N(0, σ_U²).
    public func randomStart(_ rng: RandomGenerator, sigmaW: Double = 0.5, sigmaU: Double = 0.2) -> [Double] {
        (0..<parameterCount).map { $0 < nw * d ? rng.gaussian(sigma: sigmaW) : rng.gaussian(sigma: sigmaU) }
    }

    /// Minimises R with gsl_multimin BFGS2 from each start (in parallel on the available cores).
    /// `progress` receives (start index, value) when a start finishes.
    public func minimise(
        starts: [[Double]], gradientTolerance: Double = 1e-9, maxIterations: Int = 20_000,
        progress: (@Sendable (Int, Double) -> Void)? = nil
    ) throws -> [Solution] {
        let box = ResultsBox<LocalMinimum>(count: starts.count)
        let workers = min(starts.count, workerThreads)
        parallelFor(workers) { w in
            var i = w
            while i < starts.count {
                var options = MultiMinimizer.Options()
                options.gradientTolerance = gradientTolerance
                options.maxIterations = maxIterations
                options.initialStep = 0.1
                do {
                    var r = try MultiMinimizer.minimise({ x, g in self.evaluate(x, gradient: g) }, from: starts[i], options: options)
                    // BFGS2 may stop on "no progress" early: restart it once from where it stopped.
                    if !r.converged {
                        options.initialStep = 0.01
                        let r2 = try MultiMinimizer.minimise({ x, g in self.evaluate(x, gradient: g) }, from: r.x, options: options)
                        if r2.value <= r.value {
                            let before = r.iterations
                            r = r2
                            r.iterations += before
                        }
                    }
                    box.set(
                        i,
                        .success(
                            Solution(
                                x: r.x, value: r.value, crossEntropy: self.crossEntropy(r.x),
                                iterations: r.iterations, converged: r.converged, gradientNorm: r.gradientNorm)))
                    progress?(i, r.value)
                } catch {
                    box.set(i, .failure(error))
                }
                i += workers
            }
        }
        return try box.values.map { try $0!.get() }
    }

    /// The classifier blocks u_{k,ℓ} at x (K·L rows of d).
    public func classifierBlocks(_ x: [Double]) -> [[Double]] {
        let off = nw * d
        return (0..<(K * L)).map { Array(x[(off + $0 * d)..<(off + ($0 + 1) * d)]) }
    }
}
