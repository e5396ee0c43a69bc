import Geometry
import Foundation
import ExperimentSpec
import GSLBridge
import TaskModel

/// The network of SPEC 2 in single precision, written against CBLAS: embedding, optional LayerNorm
/// without affine parameters, linear classifier without bias, cross-entropy. It owns scratch
/// buffers for one minibatch, so one instance serves one training loop (not thread-safe).
public final class Network {
    public let nw: Int, d: Int, K: Int, L: Int
    public let layerNorm: Bool
    public let eps: Float
    /// Largest minibatch the scratch buffers hold; larger batches are processed in chunks.
    public let maxBatch: Int

    var psi: [Float]  // n_w x d features ψ(W)
    var invStd: [Float]  // n_w
    var x: [Float]  // maxBatch x L·d gathered features
    var y: [Float]  // maxBatch x K logits, then softmax residuals
    var dx: [Float]  // maxBatch x L·d
    var dpsi: [Float]  // n_w x d
    var touched: [Bool]  // n_w

    public init(nw: Int, d: Int, K: Int, L: Int, layerNorm: Bool, eps: Double, maxBatch: Int = 100) {
        precondition(nw > 0 && d > 0 && K > 0 && L > 0 && maxBatch > 0)
        self.nw = nw; self.d = d; self.K = K; self.L = L; self.layerNorm = layerNorm; self.eps = Float(eps)
        self.maxBatch = maxBatch
        psi = [Float](repeating: 0, count: nw * d)
        invStd = [Float](repeating: 1, count: nw)
        x = [Float](repeating: 0, count: maxBatch * L * d)
        y = [Float](repeating: 0, count: maxBatch * K)
        dx = [Float](repeating: 0, count: maxBatch * L * d)
        dpsi = [Float](repeating: 0, count: nw * d)
        touched = [Bool](repeating: false, count: nw)
    }

    public convenience init(spec: Spec, maxBatch: Int? = nil) {
        self.init(
            nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, layerNorm: spec.layerNorm, eps: spec.layerNormEps,
            maxBatch: maxBatch ?? max(spec.bsz, 1))
    }

    func checkShape(_ p: Parameters) {
        precondition(p.nw == nw && p.d == d && p.K == K && p.L == L, "Network: parameters of another shape")
    }

    /// ψ(W): the word vectors the classifier sees (W itself without LayerNorm), n_w x d row-major.
    public func features(_ p: Parameters) -> [Float] {
        checkShape(p)
        computeFeatures(p)
        return psi
    }

    func computeFeatures(_ p: Parameters) {
        if layerNorm {
            p.W.withUnsafeBufferPointer { w in
                psi.withUnsafeMutableBufferPointer { o in
                    invStd.withUnsafeMutableBufferPointer { s in
                        LayerNorm.forward(w.baseAddress!, rows: nw, d: d, eps: eps, into: o.baseAddress!, invStd: s.baseAddress!)
                    }
                }
            }
        } else {
            psi = p.W
        }
    }

    /// Gathers the features of `n` sentences (word indices `words`, n·L) into `x`, then logits = x·Uᵀ into `y`.
    func forward(_ p: Parameters, words: UnsafePointer<Int32>, n: Int) {
        let Ld = L * d
        psi.withUnsafeBufferPointer { ps in
            x.withUnsafeMutableBufferPointer { xb in
                for i in 0..<n {
                    for l in 0..<L {
                        let w = Int(words[i * L + l])
                        (xb.baseAddress! + i * Ld + l * d).update(from: ps.baseAddress! + w * d, count: d)
                    }
                }
            }
        }
        p.U.withUnsafeBufferPointer { u in
            BLAS.sgemm(
                transA: false, transB: true, m: n, n: K, k: Ld, alpha: 1, a: x, lda: Ld,
                b: u.baseAddress!, ldb: Ld, beta: 0, c: &y, ldc: K)
        }
    }

    /// Turns the logits in `y` into softmax residuals p − onehot(label) in place. Returns the summed
    /// cross-entropy (stable log-sum-exp) and the number of rows whose arg max is the label.
    func residuals(labels: UnsafePointer<Int32>, n: Int) -> (loss: Double, correct: Int) {
        var loss = 0.0, correct = 0
        let K = self.K
        y.withUnsafeMutableBufferPointer { yb in
            for i in 0..<n {
                let row = yb.baseAddress! + i * K
                var m = row[0], am = 0
                for j in 1..<K where row[j] > m { m = row[j]; am = j }
                let k = Int(labels[i])
                if am == k { correct += 1 }
                let yk = row[k]
                var s: Float = 0
                for j in 0..<K { let e = expf(row[j] - m); row[j] = e; s += e }
                loss += Double(logf(s)) + Double(m - yk)
                let inv = 1 / s
                for j in 0..<K { row[j] *= inv }
                row[k] -= 1
            }
        }
        return (loss, correct)
    }

    /// One step of plain SGD with coupled weight decay on a minibatch (mean cross-entropy):
    /// θ ← θ − lr·(∇ + λ·θ) for W and U. The update of U is one sgemm with beta = 1 − lr·λ_U; W is
    /// scaled by 1 − lr·λ_W and receives the sparse gradient of the words in the batch.
    /// Returns the minibatch's mean loss and its accuracy. Batches larger than `maxBatch` are
    /// refused (the reference takes one gradient per minibatch).
    @discardableResult
    public func sgdStep(
        _ p: inout Parameters, words: UnsafePointer<Int32>, labels: UnsafePointer<Int32>, count n: Int,
        lr: Float, weightDecayW: Float, weightDecayU: Float
    ) -> (loss: Double, accuracy: Double) {
        checkShape(p)
        precondition(n > 0 && n <= maxBatch, "sgdStep: batch of \(n) (max \(maxBatch))")
        let Ld = L * d
        computeFeatures(p)
        forward(p, words: words, n: n)
        let (loss, correct) = residuals(labels: labels, n: n)
        let scale = 1 / Float(n)
        // dX = R·U / n, with U before its update.
        p.U.withUnsafeBufferPointer { u in
            BLAS.sgemm(
                transA: false, transB: false, m: n, n: Ld, k: K, alpha: scale, a: y, lda: K,
                b: u.baseAddress!, ldb: Ld, beta: 0, c: &dx, ldc: Ld)
        }
        // U ← (1 − lr·λ_U)·U − lr·Rᵀ·X / n.
        p.U.withUnsafeMutableBufferPointer { u in
            BLAS.sgemm(
                transA: true, transB: false, m: K, n: Ld, k: n, alpha: -lr * scale, a: y, lda: K,
                b: x, ldb: Ld, beta: 1 - lr * weightDecayU, c: u.baseAddress!, ldc: Ld)
        }
        scatterFeatureGradient(words: words, n: n)
        // W ← (1 − lr·λ_W)·W − lr·∇_W.
        let decay = 1 - lr * weightDecayW
        p.W.withUnsafeMutableBufferPointer { w in
            if decay != 1 { BLAS.sscal(n: nw * d, alpha: decay, x: w.baseAddress!) }
            applyWordGradient(into: w.baseAddress!, alpha: -lr)
        }
        return (loss / Double(n), Double(correct) / Double(n))
    }

    /// dψ of the words of the batch: the rows of dX added to their words.
    func scatterFeatureGradient(words: UnsafePointer<Int32>, n: Int) {
        let Ld = L * d
        dpsi.withUnsafeMutableBufferPointer { g in
            dx.withUnsafeBufferPointer { dxb in
                touched.withUnsafeMutableBufferPointer { t in
                    for i in 0..<n {
                        for l in 0..<L {
                            let w = Int(words[i * L + l])
                            let dst = g.baseAddress! + w * d
                            if !t[w] { t[w] = true; dst.update(repeating: 0, count: d) }
                            let src = dxb.baseAddress! + i * Ld + l * d
                            for c in 0..<d { dst[c] += src[c] }
                        }
                    }
                }
            }
        }
    }

    /// target[w] += alpha·∇_W[w] for the touched words (through the LayerNorm backward when it is
    /// on), and clears the touched marks.
    func applyWordGradient(into target: UnsafeMutablePointer<Float>, alpha: Float) {
        var tmp = [Float](repeating: 0, count: d)
        dpsi.withUnsafeBufferPointer { g in
            psi.withUnsafeBufferPointer { ps in
                tmp.withUnsafeMutableBufferPointer { tb in
                    for w in 0..<nw where touched[w] {
                        touched[w] = false
                        let gw = g.baseAddress! + w * d
                        let dst = target + w * d
                        if layerNorm {
                            LayerNorm.backwardRow(y: ps.baseAddress! + w * d, invStd: invStd[w], g: gw, d: d, into: tb.baseAddress!)
                            for c in 0..<d { dst[c] += alpha * tb[c] }
                        } else {
                            for c in 0..<d { dst[c] += alpha * gw[c] }
                        }
                    }
                }
            }
        }
    }

    /// Mean cross-entropy of a batch of sentences and its gradient (without weight decay), for checks.
    public func lossAndGradient(_ p: Parameters, words: [Int32], labels: [Int32]) -> (loss: Double, gradW: [Float], gradU: [Float]) {
        checkShape(p)
        let n = labels.count
        precondition(n > 0 && n <= maxBatch && words.count == n * L)
        let Ld = L * d
        computeFeatures(p)
        var gradW = [Float](repeating: 0, count: nw * d)
        var gradU = [Float](repeating: 0, count: K * Ld)
        var loss = 0.0
        words.withUnsafeBufferPointer { wb in
            labels.withUnsafeBufferPointer { lb in
                forward(p, words: wb.baseAddress!, n: n)
                loss = residuals(labels: lb.baseAddress!, n: n).loss / Double(n)
                let scale = 1 / Float(n)
                p.U.withUnsafeBufferPointer { u in
                    BLAS.sgemm(
                        transA: false, transB: false, m: n, n: Ld, k: K, alpha: scale, a: y, lda: K,
                        b: u.baseAddress!, ldb: Ld, beta: 0, c: &dx, ldc: Ld)
                }
                BLAS.sgemm(
                    transA: true, transB: false, m: K, n: Ld, k: n, alpha: scale, a: y, lda: K,
                    b: x, ldb: Ld, beta: 0, c: &gradU, ldc: Ld)
                scatterFeatureGradient(words: wb.baseAddress!, n: n)
                gradW.withUnsafeMutableBufferPointer { applyWordGradient(into: $0.baseAddress!, alpha: 1) }
            }
        }
        return (loss, gradW, gradU)
    }

    /// Mean loss and accuracy over a set of sentences (no weight decay), in chunks of `maxBatch`.
    public func evaluate(_ p: Parameters, on set: SentenceSet) -> (loss: Double, accuracy: Double) {
        checkShape(p)
        precondition(set.length == L)
        computeFeatures(p)
        var loss = 0.0, correct = 0
        let N = set.count
        set.words.withUnsafeBufferPointer { wb in
            set.labels.withUnsafeBufferPointer { lb in
                var start = 0
                while start < N {
                    let n = min(maxBatch, N - start)
                    forward(p, words: wb.baseAddress! + start * L, n: n)
                    let r = residuals(labels: lb.baseAddress! + start, n: n)
                    loss += r.loss; correct += r.correct
                    start += n
                }
            }
        }
        return (N > 0 ? loss / Double(N) : .nan, N > 0 ? Double(correct) / Double(N) : .nan)
    }

    /// Logits of a batch of sentences (n x K row-major).
    public func logits(_ p: Parameters, words: [Int32]) -> [Float] {
        checkShape(p)
        precondition(words.count % L == 0)
        computeFeatures(p)
        let N = words.count / L
        var out = [Float](repeating: 0, count: N * K)
        words.withUnsafeBufferPointer { wb in
            var start = 0
            while start < N {
                let n = min(maxBatch, N - start)
                forward(p, words: wb.baseAddress! + start * L, n: n)
                for i in 0..<(n * K) { out[start * K + i] = y[i] }
                start += n
            }
        }
        return out
    }
}
