import Geometry
import CRiskKernels
import ExperimentSpec
import Foundation
import GSLBridge
import TaskModel

/// The exact empirical risk of SPEC 2 over a whole training set, in double precision:
///
///   R̂(W, U) = (1/N) Σ_i ℓ(y(x_i), k_i) + (λ_W/2)‖W‖² + (λ_U/2)‖U‖²,
///
/// with its gradient, for full-batch minimisation (gsl_multimin BFGS2). Variables: W (n_w·d) then U
/// (K·L·d), row-major as in ``Parameters``.
///
/// How it is fast: y_j(x) = Σ_ℓ A_ℓ[x_ℓ, j] with A_ℓ = Ψ·U_ℓᵀ (n_w x K, one dgemm per position), so
/// a sentence's logits are a sum of L gathered rows. The classes are cut into blocks of 8 and the
/// tables A_ℓ are stored block by block, so that one block of all L tables stays in cache while all
/// sentences stream past it. A first pass takes the log-sum-exp of every sentence (online over the
/// blocks); a second recomputes the logits and adds the softmax residuals p − onehot, per position
/// and word, into G_ℓ (n_w x K). Then ∇U_ℓ = G_ℓᵀ·Ψ and ∇Ψ = Σ_ℓ G_ℓ·U_ℓ (dgemm), and the LayerNorm
/// backward gives ∇W. The blocks are shared among `threads` threads.
///
/// Two precisions for the two passes: ``Precision/double`` (this file: Swift SIMD, blocks of 8
/// classes) and ``Precision/single`` (EmpiricalRiskSingle.swift: float tables and logits, the C
/// kernels of `CRiskKernels` with AVX2 + FMA when the processor has them, blocks of 32 classes, and
/// sgemm). The single path shifts each sentence's logits by its label's logit instead of a running
/// maximum, falls back to the exact maximum for the rare sentences where that could overflow, and
/// by default saves pass 1's exponentials for pass 2 (``savesExponentials``). Single agrees with
/// double to within 1e-10 relative in the value and 1e-5 relative in the gradient's 2-norm (measured
/// at paper scale: 2e-11 to 8e-11 and 2e-6 to 6.4e-6; `fcollapse-bench fullbatch` prints both,
/// BENCHMARKS.md records them) and is the default for N·K ≥ 5e7 (paper scale).
public final class EmpiricalRisk: SmoothObjective, @unchecked Sendable {
    public let nw: Int, d: Int, K: Int, L: Int
    public let layerNorm: Bool
    public let eps: Double
    public let weightDecayW: Double, weightDecayU: Double
    /// Number of training sentences N.
    public let count: Int
    public let threads: Int

    /// Arithmetic of the two passes over the sentences.
    public enum Precision: String, Sendable, CaseIterable {
        case single, double
        /// Single for N·K ≥ 5e7 (where double costs seconds per evaluation), double below.
        public static func automatic(sentences: Int, classes: Int) -> Precision {
            sentences * classes >= 50_000_000 ? .single : .double
        }
    }
    public let precision: Precision

    static let kb = 8
    let nb: Int
    let words: [UInt16]
    let labels: [Int32]

    var psi: [Double], invStd: [Double], dpsi: [Double]
    var table: [Double]  // nb x L x nw x kb
    var gtable: [Double]  // same layout: summed residuals
    var square: [Double]  // nw x K scratch
    var lse: [Double], correctLogit: [Double]
    var partMax: [Double], partSum: [Double], partBest: [Double], partArg: [Int32]
    /// Storage of the single-precision path (empty in double precision).
    var single: SingleStorage?

    /// Mean cross-entropy and accuracy of the last evaluation (without the penalties).
    public internal(set) var lastCrossEntropy: Double = .nan
    /// (Ties, which only occur at degenerate points such as W = 0, go to the first class in double
    /// precision and count as errors in single precision.)
    public internal(set) var lastAccuracy: Double = .nan
    /// In single precision: the sentences of the last evaluation whose largest other logit exceeded
    /// their label's by more than the kernels' shift limit (80), and whose log-sum-exp and residuals
    /// were therefore computed by the exact fallback (see CRiskKernels). 0 in double precision.
    public internal(set) var lastFallbackSentences = 0

    public init(
        nw: Int, d: Int, K: Int, L: Int, layerNorm: Bool, eps: Double, weightDecayW: Double, weightDecayU: Double,
        sentences: SentenceSet, threads: Int? = nil, precision: Precision? = nil, saveExponentials: Bool? = nil
    ) {
        precondition(sentences.length == L && nw <= Int(UInt16.max) + 1)
        self.nw = nw; self.d = d; self.K = K; self.L = L; self.layerNorm = layerNorm; self.eps = eps
        self.weightDecayW = weightDecayW; self.weightDecayU = weightDecayU
        self.count = sentences.count
        // Small problems stay on one thread: waking workers costs more than it saves.
        self.threads = max(1, threads ?? (sentences.count * K >= 4_000_000 ? 2 : 1))
        nb = (K + Self.kb - 1) / Self.kb
        words = sentences.words.map { UInt16($0) }
        labels = sentences.labels
        let precision = precision ?? .automatic(sentences: sentences.count, classes: K)
        self.precision = precision
        let dbl = precision == .double, n = dbl ? count : 0, nT = n * self.threads
        psi = [Double](repeating: 0, count: nw * d)
        invStd = [Double](repeating: 1, count: nw)
        dpsi = [Double](repeating: 0, count: nw * d)
        table = [Double](repeating: 0, count: dbl ? nb * L * nw * Self.kb : 0)
        gtable = [Double](repeating: 0, count: dbl ? nb * L * nw * Self.kb : 0)
        square = [Double](repeating: 0, count: dbl ? nw * K : 0)
        lse = [Double](repeating: 0, count: n)
        correctLogit = [Double](repeating: 0, count: n)
        partMax = [Double](repeating: 0, count: nT)
        partSum = [Double](repeating: 0, count: nT)
        partBest = [Double](repeating: 0, count: nT)
        partArg = [Int32](repeating: 0, count: nT)
        let save = !dbl && (saveExponentials ?? Self.savesExponentials(sentences: count, classes: K))
        self.savesExponentials = save
        single = dbl ? nil : SingleStorage(nw: nw, d: d, K: K, L: L, count: count, threads: self.threads, saveExponentials: save)
    }

    /// `threads`: worker threads for the two passes (default: 2 for N·K ≥ 4e6, else 1); `precision`:
    /// see ``Precision`` (default: ``Precision/automatic(sentences:classes:)``); `saveExponentials`:
    /// see ``savesExponentials`` (default: ``savesExponentials(sentences:classes:)``).
    public convenience init(
        spec: Spec, sentences: SentenceSet, threads: Int? = nil, precision: Precision? = nil,
        saveExponentials: Bool? = nil
    ) {
        self.init(
            nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, layerNorm: spec.layerNorm, eps: spec.layerNormEps,
            weightDecayW: spec.weightDecayW, weightDecayU: spec.weightDecayU, sentences: sentences, threads: threads,
            precision: precision, saveExponentials: saveExponentials)
    }

    /// In single precision: whether pass 1 saves the N·K exponentials (4 bytes each, classes padded
    /// to a multiple of 32) for pass 2, which then neither gathers the logits again nor recomputes
    /// them. It halves the time of pass 2 for N·K·4 bytes of memory (2 GB at paper scale).
    public let savesExponentials: Bool

    /// Bytes held by the saved exponentials (0 when they are not saved).
    public var savedExponentialBytes: Double {
        savesExponentials ? Double(SingleStorage.savedExponentialBytes(sentences: count, classes: K)) : 0
    }

    /// The default of ``savesExponentials``: when they take at most `Spec.savedExponentialsLimit`
    /// (4 GiB) and a quarter of this machine's physical memory.
    public static func savesExponentials(sentences: Int, classes: Int) -> Bool {
        let bytes = Double(SingleStorage.savedExponentialBytes(sentences: sentences, classes: classes))
        return bytes <= min(Spec.savedExponentialsLimit, Double(ProcessInfo.processInfo.physicalMemory) / 4)
    }

    /// Number of variables, n_w·d + K·L·d.
    public var dimension: Int { nw * d + K * L * d }

    /// R̂ at `x`; when `gradient` is given, ∇R̂ is written into it.
    public func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        precondition(x.count == dimension && (gradient == nil || gradient!.count == dimension))
        if precision == .single { return evaluateSingle(x, gradient: gradient) }
        let W = x.baseAddress!, U = x.baseAddress! + nw * d
        let Ld = L * d, kb = Self.kb, N = count
        // Features.
        computeFeatures(W)
        // Tables A_ℓ = Ψ·U_ℓᵀ, repacked by blocks of classes.
        let blockStride = L * nw * kb
        table.withUnsafeMutableBufferPointer { tb in
            square.withUnsafeMutableBufferPointer { sq in
                for l in 0..<L {
                    BLAS.dgemm(
                        transA: false, transB: true, m: nw, n: K, k: d, alpha: 1, a: psi, lda: d,
                        b: U + l * d, ldb: Ld, beta: 0, c: sq.baseAddress!, ldc: K)
                    for b in 0..<nb {
                        let dst = tb.baseAddress! + b * blockStride + l * nw * kb
                        let j0 = b * kb, width = min(kb, K - j0)
                        for w in 0..<nw {
                            let row = dst + w * kb, src = sq.baseAddress! + w * K + j0
                            for c in 0..<width { row[c] = src[c] }
                            // Padding classes get a large negative score: exp underflows to (almost) 0.
                            for c in width..<kb { row[c] = -1e30 }
                        }
                    }
                }
            }
        }
        let T = threads, nbk = nb, Lc = L, nwc = nw
        // Pass 1: log-sum-exp, the label's logit and the arg max of every sentence.
        table.withUnsafeBufferPointer { tb in
            words.withUnsafeBufferPointer { wb in
                labels.withUnsafeBufferPointer { lb in
                    partMax.withUnsafeMutableBufferPointer { pm in
                        partSum.withUnsafeMutableBufferPointer { psum in
                            partBest.withUnsafeMutableBufferPointer { pbest in
                                partArg.withUnsafeMutableBufferPointer { parg in
                                    correctLogit.withUnsafeMutableBufferPointer { cl in
                                        let shared = (
                                            SharedPointer(tb.baseAddress!), SharedPointer(wb.baseAddress!), SharedPointer(lb.baseAddress!),
                                            SharedPointer(pm.baseAddress!), SharedPointer(psum.baseAddress!),
                                            SharedPointer(pbest.baseAddress!),
                                            SharedPointer(parg.baseAddress!), SharedPointer(cl.baseAddress!)
                                        )
                                        DispatchQueue.concurrentPerform(iterations: T) { t in
                                            let tbase = shared.0.p, wbase = shared.1.p, lbase = shared.2.p
                                            let pmb = shared.3.p, psb = shared.4.p, pbb = shared.5.p, pab = shared.6.p, clb = shared.7.p
                                            let m = pmb + t * N, s = psb + t * N, best = pbb + t * N, arg = pab + t * N
                                            for i in 0..<N { m[i] = -.infinity; s[i] = 0; best[i] = -.infinity; arg[i] = 0 }
                                            var b = t
                                            while b < nbk {
                                                let base = tbase + b * blockStride
                                                let j0 = b * kb
                                                for i in 0..<N {
                                                    let acc = Self.gather(base, wbase + i * Lc, L: Lc, nw: nwc)
                                                    let bm = acc.max()
                                                    if bm > best[i] {
                                                        best[i] = bm
                                                        for c in 0..<kb where acc[c] == bm { arg[i] = Int32(j0 + c); break }
                                                    }
                                                    if bm > m[i] {
                                                        s[i] = s[i] * Foundation.exp(m[i] - bm)
                                                        m[i] = bm
                                                    }
                                                    s[i] += FastExp.exp(acc - SIMD8(repeating: m[i])).sum()
                                                    let k = Int(lbase[i]) - j0
                                                    if k >= 0 && k < kb { clb[i] = acc[k] }
                                                }
                                                b += T
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Combine the threads' partial sums.
        let value = combine(
            maxima: partMax, sums: partSum, best: partBest, args: partArg, labelLogits: correctLogit,
            threads: T, into: &lse, W: W, U: U)
        guard let g = gradient else { return value }

        // Pass 2: summed residuals per (position, word, class).
        let invN = 1 / Double(N)
        table.withUnsafeBufferPointer { tb in
            gtable.withUnsafeMutableBufferPointer { gb in
                words.withUnsafeBufferPointer { wb in
                    labels.withUnsafeBufferPointer { lb in
                        lse.withUnsafeBufferPointer { lsb in
                            let shared = (
                                SharedPointer(tb.baseAddress!), SharedPointer(gb.baseAddress!), SharedPointer(wb.baseAddress!),
                                SharedPointer(lb.baseAddress!), SharedPointer(lsb.baseAddress!)
                            )
                            DispatchQueue.concurrentPerform(iterations: T) { t in
                                let tbase = shared.0.p, gbase = shared.1.p, wbase = shared.2.p, lbase = shared.3.p, lsbase = shared.4.p
                                var b = t
                                while b < nbk {
                                    let base = tbase + b * blockStride, gblock = gbase + b * blockStride
                                    gblock.update(repeating: 0, count: blockStride)
                                    let j0 = b * kb
                                    for i in 0..<N {
                                        let wi = wbase + i * Lc
                                        let acc = Self.gather(base, wi, L: Lc, nw: nwc)
                                        var r = FastExp.exp(acc - SIMD8(repeating: lsbase[i])) * invN
                                        let k = Int(lbase[i]) - j0
                                        if k >= 0 && k < kb { r[k] -= invN }
                                        for l in 0..<Lc {
                                            let p = UnsafeMutableRawPointer(gblock + (l * nwc + Int(wi[l])) * kb)
                                            let old = p.loadUnaligned(as: SIMD8<Double>.self)
                                            p.storeBytes(of: old + r, as: SIMD8<Double>.self)
                                        }
                                    }
                                    b += T
                                }
                            }
                        }
                    }
                }
            }
        }
        // Gradients of U and Ψ.
        let gW = g.baseAddress!, gU = g.baseAddress! + nw * d
        dpsi.withUnsafeMutableBufferPointer { dp in
            dp.baseAddress!.update(repeating: 0, count: nw * d)
            gtable.withUnsafeBufferPointer { gb in
                square.withUnsafeMutableBufferPointer { sq in
                    for l in 0..<L {
                        for b in 0..<nb {
                            let src = gb.baseAddress! + b * blockStride + l * nw * kb
                            let j0 = b * kb, width = min(kb, K - j0)
                            for w in 0..<nw {
                                let row = src + w * kb, dst = sq.baseAddress! + w * K + j0
                                for c in 0..<width { dst[c] = row[c] }
                            }
                        }
                        BLAS.dgemm(
                            transA: true, transB: false, m: K, n: d, k: nw, alpha: 1, a: sq.baseAddress!, lda: K,
                            b: psi, ldb: d, beta: 0, c: gU + l * d, ldc: Ld)
                        BLAS.dgemm(
                            transA: false, transB: false, m: nw, n: d, k: K, alpha: 1, a: sq.baseAddress!, lda: K,
                            b: U + l * d, ldb: Ld, beta: 1, c: dp.baseAddress!, ldc: d)
                    }
                }
            }
        }
        finishGradientW(gW, W: W)
        for i in 0..<(K * Ld) { gU[i] += weightDecayU * U[i] }
        return value
    }

    /// Ψ = ψ(W) (LayerNorm or the identity) into `psi`, and the rows' 1/σ into `invStd`.
    func computeFeatures(_ W: UnsafePointer<Double>) {
        psi.withUnsafeMutableBufferPointer { ps in
            if layerNorm {
                invStd.withUnsafeMutableBufferPointer {
                    LayerNorm.forward(W, rows: nw, d: d, eps: eps, into: ps.baseAddress!, invStd: $0.baseAddress!)
                }
            } else {
                ps.baseAddress!.update(from: W, count: nw * d)
            }
        }
    }

    /// Combines the threads' partial log-sum-exps (per thread t and sentence i, at t·N + i: running
    /// maximum, sum of exp(logit − maximum), best logit and its class) in double: writes every
    /// sentence's log-sum-exp into `lse`, sets `lastCrossEntropy` and `lastAccuracy`, and returns the
    /// objective (mean cross-entropy plus the penalties).
    func combine(
        maxima: [Double], sums: [Double], best: [Double], args: [Int32], labelLogits: [Double], threads T: Int,
        into lse: inout [Double], W: UnsafePointer<Double>, U: UnsafePointer<Double>
    ) -> Double {
        let N = count
        var ce = 0.0, correct = 0
        for i in 0..<N {
            var M = -Double.infinity, top = -Double.infinity, arg: Int32 = 0
            for t in 0..<T {
                M = max(M, maxima[t * N + i])
                if best[t * N + i] > top { top = best[t * N + i]; arg = args[t * N + i] }
            }
            var S = 0.0
            for t in 0..<T where sums[t * N + i] > 0 { S += sums[t * N + i] * Foundation.exp(maxima[t * N + i] - M) }
            lse[i] = M + Foundation.log(S)
            ce += lse[i] - labelLogits[i]
            if arg == labels[i] { correct += 1 }
        }
        return record(crossEntropy: ce / Double(N), accuracy: Double(correct) / Double(N), W: W, U: U)
    }

    /// Records the mean cross-entropy and accuracy in `lastCrossEntropy` and `lastAccuracy`, and
    /// returns the objective: the cross-entropy plus the penalties (λ_W/2)‖W‖² + (λ_U/2)‖U‖².
    func record(crossEntropy ce: Double, accuracy: Double, W: UnsafePointer<Double>, U: UnsafePointer<Double>) -> Double {
        lastCrossEntropy = ce
        lastAccuracy = accuracy
        var penW = 0.0, penU = 0.0
        for i in 0..<(nw * d) { penW += W[i] * W[i] }
        for i in 0..<(K * L * d) { penU += U[i] * U[i] }
        return ce + 0.5 * weightDecayW * penW + 0.5 * weightDecayU * penU
    }

    /// ∇W from ∇Ψ (in `dpsi`): the LayerNorm backward (or the identity), plus λ_W·W.
    func finishGradientW(_ gW: UnsafeMutablePointer<Double>, W: UnsafePointer<Double>) {
        dpsi.withUnsafeBufferPointer { dp in
            if layerNorm {
                psi.withUnsafeBufferPointer { ps in
                    for w in 0..<nw {
                        LayerNorm.backwardRow(
                            y: ps.baseAddress! + w * d, invStd: invStd[w], g: dp.baseAddress! + w * d, d: d, into: gW + w * d)
                    }
                }
            } else {
                gW.update(from: dp.baseAddress!, count: nw * d)
            }
        }
        for i in 0..<(nw * d) { gW[i] += weightDecayW * W[i] }
    }

    /// Σ_ℓ of the rows of the L tables of one block for the words of one sentence.
    @inline(__always)
    static func gather(_ base: UnsafePointer<Double>, _ w: UnsafePointer<UInt16>, L: Int, nw: Int) -> SIMD8<Double> {
        var acc = SIMD8<Double>(repeating: 0)
        for l in 0..<L {
            acc += UnsafeRawPointer(base + (l * nw + Int(w[l])) * kb).loadUnaligned(as: SIMD8<Double>.self)
        }
        return acc
    }

    /// Convenience: value and gradient at `x` (cross-entropy and accuracy in `lastCrossEntropy`, `lastAccuracy`).
    public func evaluate(_ x: [Double]) -> (value: Double, gradient: [Double]) { valueAndGradient(x) }
}

/// A pointer handed to the worker threads of one parallel loop, each of which touches its own part.
struct SharedPointer<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { self.p = p }
    init(_ p: UnsafePointer<T>) { self.p = UnsafeMutablePointer(mutating: p) }
}
