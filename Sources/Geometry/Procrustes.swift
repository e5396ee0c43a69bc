import GSLBridge

/// Distance between a configuration and a prediction after the best orthogonal alignment.
///
/// R is invariant under W → W·Q, u_{k,ℓ} → u_{k,ℓ}·Q for orthogonal Q (row vectors), so a trained
/// configuration X (rows) is compared with a predicted Y through min_Q ‖X·Q − Y‖_F / ‖Y‖_F. The
/// minimiser is Q = A·Bᵀ where XᵀY = A·S·Bᵀ (orthogonal Procrustes, via ``LinearAlgebra/svd(_:)``).
/// With LayerNorm only rotations fixing the all-ones vector 1 keep R unchanged: both configurations are
/// projected onto 1^⊥ and aligned inside it (`fixingOnes: true`); the distance is then relative to the
/// norm of the projected Y and the returned Q satisfies Q·1 = 1.
public enum Procrustes {
    public struct Alignment: Sendable, Equatable {
        /// ‖X·Q − Y‖_F / ‖Y‖_F (projected onto 1^⊥ first when fixing 1).
        public let distance: Double
        /// The d x d orthogonal matrix Q acting on rows.
        public let rotation: Matrix
    }

    public struct JointAlignment: Sendable, Equatable {
        /// Relative distance of the word vectors after the common Q.
        public let words: Double
        /// Relative distance of the classifier blocks after the common Q.
        public let blocks: Double
        /// sqrt((words² + blocks²)/2): the root mean square of the two, whose square (times 2) is what Q minimises.
        public let combined: Double
        public let rotation: Matrix
    }

    /// Best orthogonal Q (d x d) minimising ‖X·Q − Y‖_F, from M = XᵀY.
    static func rotation(cross m: Matrix) throws -> Matrix {
        let (a, _, b) = try LinearAlgebra.svd(m)
        return a * b.transposed
    }

    static func check(_ x: Matrix, _ y: Matrix, _ what: String) throws(GeometryError) {
        guard x.rows == y.rows, x.cols == y.cols else {
            throw GeometryError(
                field: what, rule: "configuration (\(x.rows) x \(x.cols)) and prediction (\(y.rows) x \(y.cols)) must have the same shape")
        }
        guard x.cols >= 1, x.rows >= 1 else { throw GeometryError(field: what, rule: "must not be empty") }
        guard x.data.allSatisfy(\.isFinite), y.data.allSatisfy(\.isFinite) else {
            throw GeometryError(field: what, rule: "must be finite (found NaN or infinity)")
        }
    }

    /// An orthonormal basis of 1^⊥ in R^d as the d x (d−1) columns 2..d of the Householder reflection
    /// that maps e_1 to 1/√d.
    public static func onesComplementBasis(dimension d: Int) -> Matrix {
        precondition(d >= 2, "1^⊥ needs d ≥ 2")
        var v = [Double](repeating: -1 / Double(d).squareRoot(), count: d)
        v[0] += 1
        let vv = v.reduce(0) { $0 + $1 * $1 }
        var basis = Matrix(rows: d, cols: d - 1)
        for i in 0..<d {
            for j in 1..<d {
                basis[i, j - 1] = (i == j ? 1 : 0) - 2 * v[i] * v[j] / vv
            }
        }
        return basis
    }

    /// The rows of X with their component along 1 removed.
    public static func projectOutOnes(_ x: Matrix) -> Matrix {
        var out = x
        for i in 0..<x.rows {
            let m = x.row(i).reduce(0, +) / Double(x.cols)
            for j in 0..<x.cols { out.data[i * x.cols + j] -= m }
        }
        return out
    }

    /// min over orthogonal Q (fixing 1 when asked) of ‖X·Q − Y‖_F / ‖Y‖_F, with the Q attaining it.
    public static func align(_ x: Matrix, to y: Matrix, fixingOnes: Bool = false) throws -> Alignment {
        try check(x, y, "configuration")
        let joint = try alignParts([(x, y)], fixingOnes: fixingOnes)
        return Alignment(distance: joint.distances[0], rotation: joint.rotation)
    }

    /// Aligns word vectors (n_w x d) and classifier blocks (K·L x d, see ``ClassifierBlocks/blocks(_:length:)``)
    /// with one common Q minimising the sum of the two squared relative distances
    /// ‖X_W·Q − Y_W‖²/‖Y_W‖² + ‖X_U·Q − Y_U‖²/‖Y_U‖² (each part weighted by its own scale, so that
    /// neither dominates: LayerNorm features are ~30x longer than the blocks).
    public static func alignJointly(
        words xw: Matrix, to yw: Matrix, blocks xu: Matrix, to yu: Matrix,
        fixingOnes: Bool = false
    ) throws -> JointAlignment {
        try check(xw, yw, "words")
        try check(xu, yu, "blocks")
        guard xw.cols == xu.cols else {
            throw GeometryError(field: "blocks", rule: "have dimension \(xu.cols), the words have \(xw.cols)")
        }
        let r = try alignParts([(xw, yw), (xu, yu)], fixingOnes: fixingOnes)
        let c = ((r.distances[0] * r.distances[0] + r.distances[1] * r.distances[1]) / 2).squareRoot()
        return JointAlignment(words: r.distances[0], blocks: r.distances[1], combined: c, rotation: r.rotation)
    }

    static func alignParts(_ parts: [(Matrix, Matrix)], fixingOnes: Bool) throws -> (distances: [Double], rotation: Matrix) {
        let d = parts[0].0.cols
        if fixingOnes && d < 2 { throw GeometryError(field: "configuration", rule: "aligning inside 1^⊥ needs d ≥ 2") }
        let basis = fixingOnes ? onesComplementBasis(dimension: d) : nil
        let reduced: [(Matrix, Matrix)] = parts.map { x, y in
            guard let basis else { return (x, y) }
            return (x * basis, y * basis)
        }
        let e = reduced[0].0.cols
        var m = Matrix(rows: e, cols: e)
        for (x, y) in reduced {
            let ny2 = y.data.reduce(0) { $0 + $1 * $1 }
            let w = ny2 > 0 ? 1 / ny2 : 1
            let c = x.transposed * y
            for i in 0..<m.data.count { m.data[i] += w * c.data[i] }
        }
        let q = try rotation(cross: m)
        let distances = reduced.map { x, y in
            let ny = y.frobeniusNorm
            return ny > 0 ? (x * q - y).frobeniusNorm / ny : .nan
        }
        guard let basis else { return (distances, q) }
        // Back to R^d: Q_full = B·Q·Bᵀ + 11ᵀ/d.
        var full = basis * q * basis.transposed
        for i in 0..<full.data.count { full.data[i] += 1 / Double(d) }
        return (distances, full)
    }
}
