import GSLBridge

/// The classifier U (K x L·d) seen as K·L blocks u_{k,ℓ} = U[k, ℓ·d ..< (ℓ+1)·d].
public enum ClassifierBlocks {
    /// Checks U against the latent variables and the word dimension d.
    public static func validate(_ u: Matrix, latents: BlockLayout, dimension d: Int, concepts nc: Int) throws(GeometryError) {
        guard latents.concepts == nc else {
            throw GeometryError(field: "latents", rule: "have \(latents.concepts) concepts, the words have n_c = \(nc)")
        }
        guard u.rows == latents.count else {
            throw GeometryError(field: "U", rule: "must have K = \(latents.count) rows, one per latent variable (got \(u.rows))")
        }
        guard u.cols == latents.length * d else {
            throw GeometryError(field: "U", rule: "must have L·d = \(latents.length)·\(d) = \(latents.length * d) columns (got \(u.cols))")
        }
        guard u.data.allSatisfy(\.isFinite) else { throw GeometryError(field: "U", rule: "must be finite (found NaN or infinity)") }
    }

    /// The K·L x d matrix of blocks, row k·L + ℓ holding u_{k,ℓ} (the same numbers as U, reshaped).
    public static func blocks(_ u: Matrix, length L: Int) -> Matrix {
        precondition(L >= 1 && u.cols % L == 0, "U has \(u.cols) columns, not a multiple of L = \(L)")
        return Matrix(rows: u.rows * L, cols: u.cols / L, data: u.data)
    }

    /// The inverse of ``blocks(_:length:)``.
    public static func classifier(fromBlocks b: Matrix, length L: Int) -> Matrix {
        precondition(L >= 1 && b.rows % L == 0, "\(b.rows) blocks, not a multiple of L = \(L)")
        return Matrix(rows: b.rows / L, cols: b.cols * L, data: b.data)
    }

    /// Concept attended to by every block row (z_{k,ℓ} for row k·L + ℓ).
    public static func conceptOfBlock(_ latents: BlockLayout) -> [Int] { latents.storage.map { Int($0) } }
}
