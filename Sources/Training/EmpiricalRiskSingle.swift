import CRiskKernels
import Foundation
import GSLBridge

/// Buffers of the single-precision path of ``EmpiricalRisk``: the per-position tables in blocks of
/// `FC_RISK_BLOCK` (32) classes, 64-byte aligned for the C kernels, float copies of the variables
/// for sgemm, and (when they fit) the exponentials that pass 1 saves for pass 2.
final class SingleStorage: @unchecked Sendable {
    static let kb = Int(FC_RISK_BLOCK)
    let nb: Int
    let tableCount: Int
    let table: UnsafeMutablePointer<Float>, gtable: UnsafeMutablePointer<Float>
    /// nb·N·32 floats, or nil: pass 2 then gathers the logits again and recomputes the exponentials.
    let exps: UnsafeMutablePointer<Float>?
    var square: [Float]  // nw x K: one position's table before repacking (and its gradient after)
    var psi: [Float], u: [Float]  // Ψ (nw x d) and U (K x L·d) rounded to float
    var gradU: [Float], gradPsi: [Float]
    var partSum: [Float], partOther: [Float]
    var labelLogit: [Float], lse: [Float], scale: [Float]

    /// Bytes of the saved exponentials for N sentences and K classes.
    static func savedExponentialBytes(sentences: Int, classes: Int) -> Int {
        (classes + kb - 1) / kb * kb * sentences * MemoryLayout<Float>.stride
    }

    init(nw: Int, d: Int, K: Int, L: Int, count: Int, threads: Int, saveExponentials: Bool) {
        let kb = Self.kb
        nb = (K + kb - 1) / kb
        tableCount = nb * L * nw * kb
        let bytes = tableCount * MemoryLayout<Float>.stride
        table = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: tableCount)
        gtable = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: tableCount)
        table.initialize(repeating: 0, count: tableCount)
        gtable.initialize(repeating: 0, count: tableCount)
        if saveExponentials {
            let n = nb * kb * count
            exps = UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 64)
                .bindMemory(to: Float.self, capacity: n)
        } else {
            exps = nil
        }
        // Padding classes of the last block score -1e30: their exponentials are exactly 0. The
        // sgemm repacking below never writes these columns.
        let width = K - (nb - 1) * kb
        if width < kb {
            for l in 0..<L {
                for w in 0..<nw {
                    let row = table + (((nb - 1) * L + l) * nw + w) * kb
                    for c in width..<kb { row[c] = -1e30 }
                }
            }
        }
        square = [Float](repeating: 0, count: nw * K)
        psi = [Float](repeating: 0, count: nw * d)
        u = [Float](repeating: 0, count: K * L * d)
        gradU = [Float](repeating: 0, count: K * L * d)
        gradPsi = [Float](repeating: 0, count: nw * d)
        partSum = [Float](repeating: 0, count: count * threads)
        partOther = [Float](repeating: 0, count: count * threads)
        labelLogit = [Float](repeating: 0, count: count)
        lse = [Float](repeating: 0, count: count)
        scale = [Float](repeating: 0, count: count)
    }

    deinit {
        table.deallocate()
        gtable.deallocate()
        exps?.deallocate()
    }
}

extension EmpiricalRisk {
    /// True when the single-precision kernels run with AVX2 + FMA on this processor.
    public static var singlePrecisionUsesAVX2: Bool { fc_risk_uses_avx2() != 0 }

    /// Makes the single-precision kernels use their baseline build even where AVX2 is available
    /// (for tests of that build; process-wide).
    public static func forceBaselineKernels(_ on: Bool) { fc_risk_force_baseline(on ? 1 : 0) }

    /// The training set and the tables as the C kernels see them, for the duration of `body`.
    private func withKernelProblem(_ st: SingleStorage, _ body: (UnsafePointer<fc_risk_problem>) -> Void) {
        words.withUnsafeBufferPointer { wb in
            labels.withUnsafeBufferPointer { lb in
                var problem = fc_risk_problem(
                    table: UnsafePointer(st.table), gtable: st.gtable, words: wb.baseAddress!,
                    labels: lb.baseAddress!, exps: st.exps, count: Int64(count), length: Int32(L),
                    words_count: Int32(nw), blocks: Int32(st.nb))
                withUnsafePointer(to: &problem) { body($0) }
            }
        }
    }

    /// ``evaluate(_:gradient:)`` in single precision: float tables built by sgemm, the two passes
    /// in the C kernels, and the sums over sentences (cross-entropy, accuracy), the penalties and
    /// the 1/N scaling in double.
    func evaluateSingle(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        let st = single!
        let W = x.baseAddress!, U = x.baseAddress! + nw * d
        let Ld = L * d, kb = SingleStorage.kb, nb = st.nb, N = count, T = threads
        let blockStride = L * nw * kb
        // Features (double, then float), U in float.
        computeFeatures(W)
        for i in 0..<(nw * d) { st.psi[i] = Float(psi[i]) }
        for i in 0..<(K * Ld) { st.u[i] = Float(U[i]) }
        // Tables A_ℓ = Ψ·U_ℓᵀ (sgemm), repacked into blocks of kb classes.
        st.square.withUnsafeMutableBufferPointer { sq in
            st.u.withUnsafeBufferPointer { ub in
                for l in 0..<L {
                    BLAS.sgemm(
                        transA: false, transB: true, m: nw, n: K, k: d, alpha: 1, a: st.psi, lda: d,
                        b: ub.baseAddress! + l * d, ldb: Ld, beta: 0, c: sq.baseAddress!, ldc: K)
                    for b in 0..<nb {
                        let j0 = b * kb, width = min(kb, K - j0)
                        let dst = st.table + b * blockStride + l * nw * kb
                        for w in 0..<nw { (dst + w * kb).update(from: sq.baseAddress! + w * K + j0, count: width) }
                    }
                }
            }
        }
        // The label logits (each thread on a range of sentences), then pass 1 (each thread on every
        // T-th block): per thread, Σ exp(logit − label logit) and the largest other logit.
        withKernelProblem(st) { pp in
            st.labelLogit.withUnsafeMutableBufferPointer { pl in
                st.partSum.withUnsafeMutableBufferPointer { ps in
                    st.partOther.withUnsafeMutableBufferPointer { po in
                        let shared = (
                            SharedPointer(pp), SharedPointer(pl.baseAddress!), SharedPointer(ps.baseAddress!),
                            SharedPointer(po.baseAddress!)
                        )
                        DispatchQueue.concurrentPerform(iterations: T) { t in
                            fc_risk_label_logits(shared.0.p, Int64(N * t / T), Int64(N * (t + 1) / T), shared.1.p)
                        }
                        DispatchQueue.concurrentPerform(iterations: T) { t in
                            fc_risk_lse_pass(shared.0.p, Int32(t), Int32(T), shared.1.p, shared.2.p + t * N, shared.3.p + t * N)
                        }
                    }
                }
            }
        }
        // Combine the threads' sums, in double. A sentence whose largest other logit exceeds its
        // label's by more than the kernels' limit is recomputed exactly (its pass-1 sum may have
        // overflowed) and its residuals are then recomputed too (scale 0).
        let limit = Float(FC_RISK_SHIFT_LIMIT)
        // Per thread, over its range of sentences: cross-entropy, correct sentences, fallbacks.
        var parts = [(ce: Double, correct: Int, fallbacks: Int)](repeating: (0, 0, 0), count: T)
        withKernelProblem(st) { pp in
            st.labelLogit.withUnsafeMutableBufferPointer { pl in
                st.partSum.withUnsafeMutableBufferPointer { ps in
                    st.partOther.withUnsafeMutableBufferPointer { po in
                        st.lse.withUnsafeMutableBufferPointer { plse in
                            st.scale.withUnsafeMutableBufferPointer { psc in
                                parts.withUnsafeMutableBufferPointer { pparts in
                                    let shared = (
                                        SharedPointer(pp), SharedPointer(pl.baseAddress!), SharedPointer(ps.baseAddress!),
                                        SharedPointer(po.baseAddress!), SharedPointer(plse.baseAddress!),
                                        SharedPointer(psc.baseAddress!), SharedPointer(pparts.baseAddress!)
                                    )
                                    DispatchQueue.concurrentPerform(iterations: T) { t in
                                        let label = shared.1.p, sums = shared.2.p, others = shared.3.p
                                        let lseOut = shared.4.p, scaleOut = shared.5.p
                                        var ce = 0.0, correct = 0, fallbacks = 0
                                        for i in (N * t / T)..<(N * (t + 1) / T) {
                                            let c = label[i]
                                            var S = 0.0, other = -Float.infinity
                                            for u in 0..<T {
                                                S += Double(sums[u * N + i])
                                                other = max(other, others[u * N + i])
                                            }
                                            let lse: Double
                                            if other - c > limit {
                                                var l: Float = 0, o: Float = 0
                                                fc_risk_sentence_lse(shared.0.p, Int64(i), &l, &o)
                                                lse = Double(l)
                                                scaleOut[i] = 0
                                                fallbacks += 1
                                            } else {
                                                lse = Double(c) + Foundation.log(S)
                                                scaleOut[i] = Float(1 / S)
                                            }
                                            lseOut[i] = Float(lse)
                                            ce += lse - Double(c)
                                            // Correct when the label's logit is strictly the largest
                                            // (a tie counts as an error).
                                            if c > other { correct += 1 }
                                        }
                                        shared.6.p[t] = (ce, correct, fallbacks)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let ce = parts.reduce(0) { $0 + $1.ce }, correct = parts.reduce(0) { $0 + $1.correct }
        let fallbacks = parts.reduce(0) { $0 + $1.fallbacks }
        lastFallbackSentences = fallbacks
        let value = record(crossEntropy: ce / Double(N), accuracy: Double(correct) / Double(N), W: W, U: U)
        guard let g = gradient else { return value }

        // Pass 2 (C kernel): unscaled residuals summed per (block, position, word).
        withKernelProblem(st) { pp in
            st.lse.withUnsafeBufferPointer { fl in
                st.scale.withUnsafeBufferPointer { fs in
                    let shared = (SharedPointer(pp), SharedPointer(fl.baseAddress!), SharedPointer(fs.baseAddress!))
                    DispatchQueue.concurrentPerform(iterations: T) { t in
                        fc_risk_residual_pass(shared.0.p, Int32(t), Int32(T), shared.1.p, shared.2.p)
                    }
                }
            }
        }
        // ∇U_ℓ = G_ℓᵀ·Ψ and ∇Ψ = Σ_ℓ G_ℓ·U_ℓ (sgemm on the repacked G_ℓ), then 1/N and the rest in double.
        st.square.withUnsafeMutableBufferPointer { sq in
            st.gradU.withUnsafeMutableBufferPointer { gu in
                st.gradPsi.withUnsafeMutableBufferPointer { gp in
                    st.u.withUnsafeBufferPointer { ub in
                        for l in 0..<L {
                            for b in 0..<nb {
                                let j0 = b * kb, width = min(kb, K - j0)
                                let src = st.gtable + b * blockStride + l * nw * kb
                                for w in 0..<nw { (sq.baseAddress! + w * K + j0).update(from: src + w * kb, count: width) }
                            }
                            BLAS.sgemm(
                                transA: true, transB: false, m: K, n: d, k: nw, alpha: 1, a: sq.baseAddress!, lda: K,
                                b: st.psi, ldb: d, beta: 0, c: gu.baseAddress! + l * d, ldc: Ld)
                            BLAS.sgemm(
                                transA: false, transB: false, m: nw, n: d, k: K, alpha: 1, a: sq.baseAddress!, lda: K,
                                b: ub.baseAddress! + l * d, ldb: Ld, beta: l == 0 ? 0 : 1,
                                c: gp.baseAddress!, ldc: d)
                        }
                    }
                }
            }
        }
        let invN = 1 / Double(N)
        let gW = g.baseAddress!, gU = g.baseAddress! + nw * d
        for i in 0..<(K * Ld) { gU[i] = Double(st.gradU[i]) * invN + weightDecayU * U[i] }
        for i in 0..<(nw * d) { dpsi[i] = Double(st.gradPsi[i]) * invN }
        finishGradientW(gW, W: W)
        return value
    }
}
