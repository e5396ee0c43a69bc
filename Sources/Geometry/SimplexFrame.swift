/// Simplex frames and the Helmert basis of the centred subspace (SPEC §4.1: the concept directions
/// f_α of the collapsed families, with ⟨f_α, f_α'⟩ = −1/(n_c − 1)).

/// Simplex equiangular tight frame: n_c unit vectors in R^dim (dim ≥ n_c − 1) with pairwise cosines
/// −1/(n_c − 1), built from the centred basis vectors expressed in a Helmert basis of 1^⊥ ⊂ R^{n_c}.
public func simplexFrame(concepts nc: Int, dimension dim: Int) -> [[Double]] {
    precondition(dim >= nc - 1)
    var out = [[Double]](repeating: [Double](repeating: 0, count: dim), count: nc)
    let norm = ((Double(nc) - 1) / Double(nc)).squareRoot()
    for a in 0..<nc {
        // e_a − 1/n_c in R^{n_c}, coordinates on the Helmert vectors q_i (i = 1..n_c−1).
        for i in 1..<nc {
            let q = helmert(i, length: nc)
            var dot = 0.0
            for t in 0..<nc { dot += ((t == a ? 1 : 0) - 1 / Double(nc)) * q[t] }
            out[a][i - 1] = dot / norm
        }
    }
    return out
}

/// The i-th Helmert vector of R^n (1 ≤ i ≤ n−1): (1, .., 1, −i, 0, ..)/sqrt(i(i+1)), unit and orthogonal to 1.
public func helmert(_ i: Int, length n: Int) -> [Double] {
    var v = [Double](repeating: 0, count: n)
    let s = (Double(i) * Double(i + 1)).squareRoot()
    for t in 0..<i { v[t] = 1 / s }
    v[i] = -Double(i) / s
    return v
}
