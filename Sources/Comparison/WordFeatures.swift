import GSLBridge

/// The word features the metrics expect: ψ(w) for every row of W (SPEC §2).
public enum WordFeatures {
    /// LayerNorm without affine parameters, per row: ψ(v) = (v − mean(v)) / sqrt(var(v) + ε) with the
    /// biased variance over the d coordinates; a row of centred norm r gets norm √d·r / sqrt(r² + d·ε).
    public static func layerNorm(_ w: Matrix, epsilon: Double) throws(ComparisonError) -> Matrix {
        guard epsilon >= 0, epsilon.isFinite else { throw ComparisonError(field: "layer_norm_eps", rule: "must be finite and ≥ 0 (got \(epsilon))") }
        var out = Procrustes.projectOutOnes(w)  // v − mean(v), row by row
        let d = Double(w.cols)
        for i in 0..<w.rows {
            let r2 = out.row(i).reduce(0) { $0 + $1 * $1 }
            let denominator = (r2 / d + epsilon).squareRoot()
            guard denominator > 0 else { continue }  // a constant row with ε = 0 stays 0
            for j in 0..<w.cols { out.data[i * w.cols + j] /= denominator }
        }
        return out
    }

    /// ψ for a spec: LayerNorm when on, the identity otherwise.
    public static func features(_ w: Matrix, layerNorm: Bool, epsilon: Double) throws(ComparisonError) -> Matrix {
        layerNorm ? try self.layerNorm(w, epsilon: epsilon) : w
    }
}
