import GSLBridge

/// LayerNorm without affine parameters, applied to each word vector (SPEC §2): the toolkit's one ψ,
/// used by training (`Training.Network`, `Training.EmpiricalRisk`), the limit theory
/// (`LimitTheory.ExactRisk`) and the metrics (features after ψ).
///
///   ψ(v) = (v − mean(v)) / sqrt(var(v) + ε),
///
/// with the biased variance over the d coordinates. Writing v_c = v − mean(v) and r = ‖v_c‖,
/// ψ(v) = √d·v_c / sqrt(r² + d·ε), a vector of norm √d·r / sqrt(r² + d·ε) < √d; ε = 0 is the idealised
/// LayerNorm of SPEC §4 (features of norm exactly √d). A constant row (r = 0) with ε = 0 has no
/// direction: its ψ is set to 0 and so is its gradient, instead of 0/0.
public enum LayerNorm {
    /// Writes ψ of each of the `rows` rows of `x` (row length d) into `y` and the factor
    /// 1/sqrt(var + ε) of each row into `invStd` (0 for a constant row with ε = 0).
    @inlinable
    public static func forward<T: BinaryFloatingPoint>(
        _ x: UnsafePointer<T>, rows: Int, d: Int, eps: T,
        into y: UnsafeMutablePointer<T>, invStd: UnsafeMutablePointer<T>
    ) {
        let dd = T(d)
        for r in 0..<rows {
            let xr = x + r * d, yr = y + r * d
            var mean: T = 0
            for i in 0..<d { mean += xr[i] }
            mean /= dd
            var v: T = 0
            for i in 0..<d {
                let c = xr[i] - mean
                yr[i] = c
                v += c * c
            }
            let denominator = (v / dd + eps).squareRoot()
            let inv = denominator > 0 ? 1 / denominator : 0
            invStd[r] = inv
            for i in 0..<d { yr[i] *= inv }
        }
    }

    /// The gradient with respect to the input of one row, given ψ (`y`), its 1/sqrt(var + ε) and
    /// the gradient `g` with respect to ψ: inv·(g − mean(g) − ψ·mean(g ⊙ ψ)). Written into `dx`.
    @inlinable
    public static func backwardRow<T: BinaryFloatingPoint>(
        y: UnsafePointer<T>, invStd: T, g: UnsafePointer<T>, d: Int, into dx: UnsafeMutablePointer<T>
    ) {
        var mg: T = 0
        var mgy: T = 0
        for i in 0..<d {
            mg += g[i]
            mgy += g[i] * y[i]
        }
        let dd = T(d)
        mg /= dd
        mgy /= dd
        for i in 0..<d { dx[i] = invStd * (g[i] - mg - y[i] * mgy) }
    }

    /// ψ of every row of a matrix.
    public static func apply(_ w: Matrix, epsilon: Double) throws(GeometryError) -> Matrix {
        guard epsilon >= 0, epsilon.isFinite else {
            throw GeometryError(field: "layer_norm_eps", rule: "must be finite and ≥ 0 (got \(epsilon))")
        }
        var out = w
        var inv = [Double](repeating: 0, count: max(w.rows, 1))
        w.data.withUnsafeBufferPointer { x in
            out.data.withUnsafeMutableBufferPointer { y in
                inv.withUnsafeMutableBufferPointer { s in
                    guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
                    forward(xb, rows: w.rows, d: w.cols, eps: epsilon, into: yb, invStd: s.baseAddress!)
                }
            }
        }
        return out
    }

    /// The word features the metrics take: ψ(W) when LayerNorm is on, W itself otherwise.
    public static func features(_ w: Matrix, layerNorm: Bool, epsilon: Double) throws(GeometryError) -> Matrix {
        layerNorm ? try apply(w, epsilon: epsilon) : w
    }
}
