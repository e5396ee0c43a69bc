import GSLBridge
import TaskModel

/// The classifier U (K x L·d) seen as K·L blocks u_{k,ℓ} = U[k, ℓ·d ..< (ℓ+1)·d].
public enum ClassifierBlocks {
    /// Checks U against the latent variables and the word dimension d.
    public static func validate(_ u: Matrix, latents: LatentVariables, dimension d: Int, concepts nc: Int) throws(ComparisonError) {
        guard latents.concepts == nc else {
            throw ComparisonError(field: "latents", rule: "have \(latents.concepts) concepts, the words have n_c = \(nc)")
        }
        guard u.rows == latents.count else {
            throw ComparisonError(field: "U", rule: "must have K = \(latents.count) rows, one per latent variable (got \(u.rows))")
        }
        guard u.cols == latents.length * d else {
            throw ComparisonError(field: "U", rule: "must have L·d = \(latents.length)·\(d) = \(latents.length * d) columns (got \(u.cols))")
        }
        guard u.data.allSatisfy(\.isFinite) else { throw ComparisonError(field: "U", rule: "must be finite (found NaN or infinity)") }
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
    public static func conceptOfBlock(_ latents: LatentVariables) -> [Int] { latents.storage.map { Int($0) } }
}

/// NC3: self-duality, the alignment of every classifier block with the mean of the concept it reads.
public enum SelfDuality {
    public struct Result: Sendable, Equatable, Codable {
        /// Mean over the K·L blocks of cos(u_{k,ℓ}, m_{z_kℓ}).
        public let meanCosine: Double
        /// The smallest of those cosines.
        public let minCosine: Double
        /// The largest of those cosines.
        public let maxCosine: Double
        /// Blocks that are exactly zero (their cosine counts as 0).
        public let zeroBlocks: Int
    }

    /// Cosines between every block u_{k,ℓ} and the mean m_{z_kℓ} of its concept (row k·L + ℓ); the
    /// concept means are centred as asked (the global mean by default, as for NC1 and NC2).
    public static func cosines(words w: Matrix, classifier u: Matrix, latents: LatentVariables, layout: ConceptLayout,
                               centring: MeanCentring = .globalMean) throws -> [Double] {
        try layout.validate(words: w)
        try ClassifierBlocks.validate(u, latents: latents, dimension: w.cols, concepts: layout.concepts)
        let means = try ConceptMeans.compute(w, layout: layout, centring: centring)
        let b = ClassifierBlocks.blocks(u, length: latents.length)
        return (0..<b.rows).map { Vectors.cosine(b.row($0), means.row(Int(latents.storage[$0]))) }
    }

    public static func compute(words w: Matrix, classifier u: Matrix, latents: LatentVariables, layout: ConceptLayout,
                               centring: MeanCentring = .globalMean) throws -> Result {
        let c = try cosines(words: w, classifier: u, latents: latents, layout: layout, centring: centring)
        let b = ClassifierBlocks.blocks(u, length: latents.length)
        let zeros = (0..<b.rows).filter { Vectors.norm(b.row($0)) == 0 }.count
        return Result(meanCosine: c.reduce(0, +) / Double(c.count), minCosine: c.min() ?? .nan,
                      maxCosine: c.max() ?? .nan, zeroBlocks: zeros)
    }
}
