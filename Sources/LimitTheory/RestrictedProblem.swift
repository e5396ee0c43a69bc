import Geometry
import Foundation
import GSLBridge
import TaskModel

/// The collapse-restricted limit problem R_c(g, U) of SPEC 4.2 for given latent variables:
///
///   R_c = (1/K) Σ_k log Σ_j exp(Σ_ℓ ⟨u_{j,ℓ} − u_{k,ℓ}, φ_{z_kℓ}⟩) + (λ_W/2)·s_c·Σ_α ‖g_α‖² + (λ_U/2)‖U‖²,
///
/// with features φ_α = g_α (no LayerNorm) or φ_α = √d·ĝ_α of unit directions and no W penalty
/// (idealised LayerNorm). Every stationary point lives in an n_c-dimensional subspace (∂R/∂U = 0 puts
/// the rows of U in the span of the φ_α, and ∂R/∂g = 0 puts g in the span of the rows of U), so the
/// problem is solved in `dimension` = min(d, n_c) coordinates (min(d − 1, n_c) inside the centred
/// subspace with LayerNorm) without changing its minimum; ``embed(_:)`` maps back to R^d.
///
/// One evaluation costs O(K²·L): the logits of class k's sentence for all j are a sum of L gathered
/// columns of A_ℓ = U_ℓ·φᵀ (K x n_c), and the gradient scatters the residuals back into B_ℓ.
public final class RestrictedProblem: SmoothObjective, @unchecked Sendable {
    public let latents: LatentVariables
    public let wordsPerConcept: Int
    public let d: Int
    public let lambdaW: Double
    public let lambdaU: Double
    public let idealisedLayerNorm: Bool
    /// Working dimension of the concept vectors and classifier blocks.
    public let dimension: Int
    /// n_c·dimension + K·L·dimension.
    public var parameterCount: Int { nc * dimension + K * L * dimension }

    let K: Int, L: Int, nc: Int
    let z: [Int32]
    /// Positions are gathered in groups of up to G consecutive positions (n_c^G ≤ 27): the logits then
    /// need one gathered column per group instead of one per position.
    let groups: [(start: Int, size: Int, combos: Int)]
    /// Group code Σ_i z_{k,start+i}·n_c^i of class k for group q, at k·Q + q.
    let codes: [Int32]
    /// Offset of group q's block of combos (in units of K).
    let groupOffset: [Int]
    /// Threads used inside one evaluation.
    public var threads: Int

    let pool = WorkspacePool()

    public init(
        latents: LatentVariables, wordsPerConcept sc: Int, d: Int, lambdaW: Double, lambdaU: Double,
        idealisedLayerNorm: Bool, threads: Int = 1
    ) {
        self.latents = latents; wordsPerConcept = sc; self.d = d
        self.lambdaW = lambdaW; self.lambdaU = lambdaU; self.idealisedLayerNorm = idealisedLayerNorm
        K = latents.count; L = latents.length; nc = latents.concepts; z = latents.storage
        dimension = idealisedLayerNorm ? min(d - 1, nc) : min(d, nc)
        self.threads = threads
        var G = 1
        while G < L && Int(pow(Double(nc), Double(G + 1))) <= 27 { G += 1 }
        var gs: [(start: Int, size: Int, combos: Int)] = []
        var offsets: [Int] = []
        var start = 0, offset = 0
        while start < L {
            let size = min(G, L - start)
            let combos = Int(pow(Double(nc), Double(size)))
            gs.append((start, size, combos)); offsets.append(offset)
            offset += combos; start += size
        }
        groups = gs; groupOffset = offsets
        var cs = [Int32](repeating: 0, count: K * gs.count)
        for k in 0..<K {
            for (q, grp) in gs.enumerated() {
                var code = 0, mult = 1
                for i in 0..<grp.size { code += latents[k, grp.start + i] * mult; mult *= nc }
                cs[k * gs.count + q] = Int32(code)
            }
        }
        codes = cs
    }

    /// Value (and gradient into `gradient` when non-nil) at x = [g (n_c x dim) | U (K x L x dim)].
    public func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        evaluateParts(x, gradient: gradient).value
    }

    /// The cross-entropy part of R_c at x.
    public func crossEntropy(_ x: [Double]) -> Double {
        x.withUnsafeBufferPointer { evaluateParts($0, gradient: nil).crossEntropy }
    }

    /// The features φ_α (n_c x dim) at x.
    public func features(_ x: [Double]) -> [[Double]] {
        let de = dimension, sd = Double(d).squareRoot()
        return (0..<nc).map { a in
            let g = Array(x[(a * de)..<((a + 1) * de)])
            if !idealisedLayerNorm { return g }
            let n = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return g.map { sd * $0 / n }
        }
    }

    func evaluateParts(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?)
        -> (value: Double, crossEntropy: Double)
    {
        let K = self.K, L = self.L, nc = self.nc, de = dimension
        let g = x.baseAddress!, U = g + nc * de
        let sd = Double(d).squareRoot()
        // Features.
        var phi = [Double](repeating: 0, count: nc * de)
        var gnorm = [Double](repeating: 1, count: nc)
        for a in 0..<nc {
            var n2 = 0.0
            for e in 0..<de { n2 += g[a * de + e] * g[a * de + e] }
            gnorm[a] = n2.squareRoot()
            for e in 0..<de { phi[a * de + e] = idealisedLayerNorm ? sd * g[a * de + e] / gnorm[a] : g[a * de + e] }
        }
        // At[ℓ][α][j] = ⟨u_{j,ℓ}, φ_α⟩.
        let Q = groups.count
        let totalCombos = groupOffset[Q - 1] + groups[Q - 1].combos
        let T = max(1, min(threads, K / 64))
        // Buffers come from a pool so that repeated evaluations do not map and unmap fresh memory.
        let ws = pool.acquire(threads: T) { Workspace(K: K, L: L, nc: nc, combos: totalCombos, threads: T) }
        defer { pool.release(ws) }
        let At = ws.At.pointer
        for j in 0..<K {
            for l in 0..<L {
                let u = U + (j * L + l) * de
                for a in 0..<nc {
                    var s = 0.0
                    for e in 0..<de { s += u[e] * phi[a * de + e] }
                    At[(l * nc + a) * K + j] = s
                }
            }
        }
        // Grouped columns A3[q][code][j] = Σ_i At[start+i][digit_i(code)][j].
        let A3 = ws.A3.pointer
        for (q, grp) in groups.enumerated() {
            for code in 0..<grp.combos {
                let dst = A3 + (groupOffset[q] + code) * K
                dst.update(repeating: 0, count: K)
                var c = code
                for i in 0..<grp.size {
                    let src = At + ((grp.start + i) * nc + c % nc) * K
                    c /= nc
                    for j in 0..<K { dst[j] += src[j] }
                }
            }
        }
        // exp(row) is a product of exp(A3) columns, so only n_c^G·(L/G)·K exponentials are needed,
        // each group shifted by its largest entry; rows that would underflow are redone directly.
        let E3 = ws.E3.pointer
        var shift = 0.0
        for (q, grp) in groups.enumerated() {
            let base = A3 + groupOffset[q] * K
            var m = -Double.infinity
            for i in 0..<(grp.combos * K) { m = max(m, base[i]) }
            shift += m
            let eb = E3 + groupOffset[q] * K
            for i in 0..<(grp.combos * K) { eb[i] = Foundation.exp(base[i] - m) }
        }
        let wantGrad = gradient != nil
        let Bs = ws.Bs
        if wantGrad { for b in Bs { b.zero() } }
        let losses = ws.losses
        // The buffers are used through raw pointers below: keep them alive to the end.
        defer { withExtendedLifetime(Bs) {}; withExtendedLifetime(losses) {} }
        let A3Box = UncheckedBox(A3), E3Box = UncheckedBox(E3)
        let offsets = groupOffset
        codes.withUnsafeBufferPointer { cb in
            let cbBox = UncheckedBox(cb)
            parallelFor(T) { t in
                let A3 = A3Box.value, E3 = E3Box.value, cb = cbBox.value
                let B = Bs[t].pointer
                let row = UnsafeMutablePointer<Double>.allocate(capacity: K)
                defer { row.deallocate() }
                var loss = 0.0
                let k0 = t * K / T, k1 = (t + 1) * K / T
                for k in k0..<k1 {
                    var own = 0.0
                    for q in 0..<Q { own += A3[(offsets[q] + Int(cb[k * Q + q])) * K + k] }
                    // Fast path: products of the exponentiated group columns.
                    row.update(from: E3 + (offsets[0] + Int(cb[k * Q])) * K, count: K)
                    for q in 1..<max(Q, 1) where q < Q {
                        let col = E3 + (offsets[q] + Int(cb[k * Q + q])) * K
                        for j in 0..<K { row[j] *= col[j] }
                    }
                    var s = 0.0
                    for j in 0..<K { s += row[j] }
                    if s.isFinite && s > 1e-250 {
                        loss += shift + Foundation.log(s) - own
                    } else {
                        // Direct, stable log-sum-exp.
                        row.update(repeating: 0, count: K)
                        for q in 0..<Q {
                            let col = A3 + (offsets[q] + Int(cb[k * Q + q])) * K
                            for j in 0..<K { row[j] += col[j] }
                        }
                        var m = -Double.infinity
                        for j in 0..<K { m = max(m, row[j]) }
                        s = 0
                        for j in 0..<K { let e = Foundation.exp(row[j] - m); row[j] = e; s += e }
                        loss += m + Foundation.log(s) - own
                    }
                    if wantGrad {
                        let scale = 1 / (s * Double(K))
                        for j in 0..<K { row[j] *= scale }
                        row[k] -= 1 / Double(K)
                        for q in 0..<Q {
                            let col = B + (offsets[q] + Int(cb[k * Q + q])) * K
                            for j in 0..<K { col[j] += row[j] }
                        }
                    }
                }
                losses.pointer[t] = loss
            }
        }
        var ce = 0.0
        for t in 0..<T { ce += losses.pointer[t] }
        ce /= Double(K)
        var pen = 0.0
        var uu = 0.0
        for i in 0..<(K * L * de) { uu += U[i] * U[i] }
        pen += 0.5 * lambdaU * uu
        if !idealisedLayerNorm {
            var gg = 0.0
            for i in 0..<(nc * de) { gg += g[i] * g[i] }
            pen += 0.5 * lambdaW * Double(wordsPerConcept) * gg
        }
        if let grad = gradient {
            let B3 = Bs[0].pointer
            for t in 1..<max(T, 1) where t < T {
                let o = Bs[t].pointer
                for i in 0..<(totalCombos * K) { B3[i] += o[i] }
            }
            // B[ℓ][α][j] = Σ over the codes of ℓ's group whose digit at ℓ is α.
            let B = ws.B.pointer
            B.update(repeating: 0, count: L * nc * K)
            for (q, grp) in groups.enumerated() {
                for code in 0..<grp.combos {
                    let src = B3 + (groupOffset[q] + code) * K
                    var c = code
                    for i in 0..<grp.size {
                        let dst = B + ((grp.start + i) * nc + c % nc) * K
                        c /= nc
                        for j in 0..<K { dst[j] += src[j] }
                    }
                }
            }
            let dg = grad.baseAddress!, dU = dg + nc * de
            var dphi = [Double](repeating: 0, count: nc * de)
            for j in 0..<K {
                for l in 0..<L {
                    let u = U + (j * L + l) * de, du = dU + (j * L + l) * de
                    for e in 0..<de { du[e] = lambdaU * u[e] }
                    for a in 0..<nc {
                        let bja = B[(l * nc + a) * K + j]
                        for e in 0..<de {
                            du[e] += bja * phi[a * de + e]
                            dphi[a * de + e] += bja * u[e]
                        }
                    }
                }
            }
            for a in 0..<nc {
                if idealisedLayerNorm {
                    var dot = 0.0
                    for e in 0..<de { dot += g[a * de + e] * dphi[a * de + e] }
                    let n = gnorm[a]
                    for e in 0..<de { dg[a * de + e] = sd * (dphi[a * de + e] / n - g[a * de + e] * dot / (n * n * n)) }
                } else {
                    for e in 0..<de { dg[a * de + e] = dphi[a * de + e] + lambdaW * Double(wordsPerConcept) * g[a * de + e] }
                }
            }
        }
        return (ce + pen, ce)
    }

    /// One start's outcome.
    public typealias Solution = LocalMinimum

    /// A start built from a simplex family solution: g_α = a·f_α (f a simplex frame; unit with
    /// LayerNorm) and u_{j,ℓ} = b·f_{z_jℓ}; with `rng`, the frame is perturbed at random (40% of its
    /// norm) and U follows it, with 30% noise.
    public func start(a: Double, b: Double, rng: RandomGenerator?) -> [Double] {
        let de = dimension
        var f = simplexFrame(concepts: nc, dimension: de)
        let scaleG = idealisedLayerNorm ? 1.0 : a
        if let rng {
            // The simplex, each vector moved by a Gaussian of 40% of its norm.
            for i in 0..<nc { for e in 0..<de { f[i][e] += 0.4 * rng.gaussian() / Double(de).squareRoot() } }
            for i in 0..<nc {
                let n = f[i].reduce(0) { $0 + $1 * $1 }.squareRoot()
                f[i] = f[i].map { $0 / n }
            }
        }
        var x = [Double](repeating: 0, count: parameterCount)
        for i in 0..<nc { for e in 0..<de { x[i * de + e] = scaleG * f[i][e] } }
        for j in 0..<K {
            for l in 0..<L {
                let a = latents[j, l]
                for e in 0..<de {
                    var noise = 0.0
                    if let rng { noise = 0.3 * b * rng.gaussian() / Double(de).squareRoot() }
                    x[nc * de + (j * L + l) * de + e] = b * f[a][e] + noise
                }
            }
        }
        return x
    }

    /// Minimises R_c with gsl_multimin BFGS2 from the given starts (run in parallel on the available cores).
    /// The default gradient tolerance (1e-7, or 3e-6 above 10⁴ variables) leaves the value within ~1e-8
    /// (the curvature in U is at least λ_U).
    public func minimise(starts: [[Double]], gradientTolerance: Double? = nil, maxIterations: Int = 5000) throws -> [Solution] {
        let gradientTolerance = gradientTolerance ?? (parameterCount > 10_000 ? 3e-6 : 1e-7)
        let results = ResultsBox<LocalMinimum>(count: starts.count)
        // Starts run one after the other, each evaluation split over the cores.
        let saved = threads
        threads = workerThreads
        defer { threads = saved }
        for i in starts.indices {
            var options = MultiMinimizer.Options()
            options.gradientTolerance = gradientTolerance
            options.maxIterations = maxIterations
            // Diagonal preconditioning: the curvature along g (λ_W·s_c plus the loss's ~L·b²/4) is
            // hundreds of times that along U (λ_U plus ~a²/(4K)); BFGS runs on x_i·s_i with s_i² those estimates.
            let (sg, su) = preconditioner(starts[i])
            let ng = nc * dimension, n = parameterCount
            let x0 = starts[i].enumerated().map { $0.element * ($0.offset < ng ? sg : su) }
            let norm = x0.reduce(0) { $0 + $1 * $1 }.squareRoot()
            options.initialStep = max(1e-3, 0.01 * norm)
            options.gradientTolerance = gradientTolerance * min(sg, su)
            let raw = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
            defer { raw.deallocate() }
            let scaled: MultiMinimizer.Objective = { x, gr in
                for j in 0..<n { raw[j] = x[j] / (j < ng ? sg : su) }
                let v = self.evaluate(UnsafeBufferPointer(raw), gradient: gr)
                if let gr { for j in 0..<n { gr[j] /= (j < ng ? sg : su) } }
                return v
            }
            do {
                var r = try MultiMinimizer.minimise(scaled, from: x0, options: options)
                r.x = r.x.enumerated().map { $0.element / ($0.offset < ng ? sg : su) }
                let ce = self.crossEntropy(r.x)
                results.set(
                    i,
                    .success(
                        Solution(
                            x: r.x, value: r.value, crossEntropy: ce, iterations: r.iterations,
                            converged: r.converged, gradientNorm: r.gradientNorm)))
            } catch {
                results.set(i, .failure(error))
            }
        }
        return try results.values.map { try $0!.get() }
    }

    /// Scales (s_g, s_U) of the diagonal preconditioner at a start.
    func preconditioner(_ x: [Double]) -> (Double, Double) {
        let ng = nc * dimension
        var gg = 0.0, uu = 0.0
        for i in 0..<ng { gg += x[i] * x[i] }
        for i in ng..<x.count { uu += x[i] * x[i] }
        let b2 = uu / Double(K * L)
        let a2 = idealisedLayerNorm ? Double(d) : gg / Double(nc)
        // p(1 − p) of the softmax, at most 1/4, is about the cross-entropy when the classes are well separated.
        let q = min(0.25, crossEntropy(x))
        if idealisedLayerNorm { return (1, 1) }  // measured: no gain for the scale-invariant directions
        let curvG = lambdaW * Double(wordsPerConcept) + Double(L) * b2 * q
        let curvU = lambdaU + a2 * q / Double(K)
        let sg = curvG.squareRoot(), su = curvU.squareRoot()
        return (sg.isFinite && sg > 0 ? sg : 1, su.isFinite && su > 0 ? su : 1)
    }

    /// Embeds a working-dimension solution in R^d: concept features φ (n_c x d) and U (K x L·d).
    /// Without LayerNorm the first `dimension` coordinates are used; with it, the Helmert basis of the
    /// centred subspace (so features are centred, of norm √d).
    public func embed(_ x: [Double]) -> (features: [[Double]], U: [[Double]]) {
        let de = dimension
        let basis: [[Double]] = (0..<de).map { i in
            if idealisedLayerNorm { return helmert(i + 1, length: d) }
            var v = [Double](repeating: 0, count: d); v[i] = 1; return v
        }
        func lift(_ v: ArraySlice<Double>) -> [Double] {
            var out = [Double](repeating: 0, count: d)
            for (i, c) in v.enumerated() { for t in 0..<d { out[t] += c * basis[i][t] } }
            return out
        }
        let phi = features(x).map { lift($0[...]) }
        var U: [[Double]] = []
        U.reserveCapacity(K)
        for j in 0..<K {
            var row: [Double] = []
            row.reserveCapacity(L * d)
            for l in 0..<L {
                let start: Int = nc * de + (j * L + l) * de
                row += lift(x[start..<(start + de)])
            }
            U.append(row)
        }
        return (phi, U)
    }
}

/// Scratch memory of one evaluation of R_c.
final class Workspace: @unchecked Sendable {
    let At: SharedBuffer, A3: SharedBuffer, E3: SharedBuffer, B: SharedBuffer, losses: SharedBuffer
    let Bs: [SharedBuffer]
    let threads: Int
    init(K: Int, L: Int, nc: Int, combos: Int, threads: Int) {
        At = SharedBuffer(count: L * nc * K); A3 = SharedBuffer(count: combos * K); E3 = SharedBuffer(count: combos * K)
        B = SharedBuffer(count: L * nc * K); losses = SharedBuffer(count: threads)
        Bs = (0..<threads).map { _ in SharedBuffer(count: combos * K) }
        self.threads = threads
    }
}

/// A lock-protected pool of workspaces (evaluations may run concurrently from several starts).
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [Workspace] = []
    func acquire(threads: Int, _ make: () -> Workspace) -> Workspace {
        lock.lock()
        defer { lock.unlock() }
        if let i = free.lastIndex(where: { $0.threads == threads }) { return free.remove(at: i) }
        return make()
    }
    func release(_ w: Workspace) { lock.lock(); free.append(w); lock.unlock() }
}
