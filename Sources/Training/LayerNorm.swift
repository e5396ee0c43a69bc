/// LayerNorm without affine parameters, applied to each word vector (SPEC 2):
/// ψ(v) = (v − mean(v)) / sqrt(var(v) + ε) with the biased variance over the d coordinates.
public enum LayerNorm {
    /// Writes ψ of each of the `rows` rows of `x` (row length d) into `y` and the factor
    /// 1/sqrt(var + ε) of each row into `invStd`.
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
            for i in 0..<d { let c = xr[i] - mean; yr[i] = c; v += c * c }
            let inv = 1 / (v / dd + eps).squareRoot()
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
        var mg: T = 0, mgy: T = 0
        for i in 0..<d { mg += g[i]; mgy += g[i] * y[i] }
        let dd = T(d)
        mg /= dd; mgy /= dd
        for i in 0..<d { dx[i] = invStd * (g[i] - mg - y[i] * mgy) }
    }
}
