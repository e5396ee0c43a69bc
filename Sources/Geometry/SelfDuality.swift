import GSLBridge

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

        enum CodingKeys: String, CodingKey {
            case meanCosine = "mean_cosine"
            case minCosine = "min_cosine"
            case maxCosine = "max_cosine"
            case zeroBlocks = "zero_blocks"
        }
    }

    /// Cosines between every block u_{k,ℓ} and the mean m_{z_kℓ} of its concept (row k·L + ℓ); the
    /// concept means are centred as asked (the global mean by default, as for NC1 and NC2).
    public static func cosines(
        words w: Matrix, classifier u: Matrix, latents: BlockLayout, layout: ConceptLayout,
        centring: MeanCentring = .globalMean
    ) throws -> [Double] {
        try layout.validate(words: w)
        try ClassifierBlocks.validate(u, latents: latents, dimension: w.cols, concepts: layout.concepts)
        let means = try ConceptMeans.compute(w, layout: layout, centring: centring)
        let b = ClassifierBlocks.blocks(u, length: latents.length)
        return (0..<b.rows).map { Vectors.cosine(b.row($0), means.row(Int(latents.storage[$0]))) }
    }

    public static func compute(
        words w: Matrix, classifier u: Matrix, latents: BlockLayout, layout: ConceptLayout,
        centring: MeanCentring = .globalMean
    ) throws -> Result {
        let c = try cosines(words: w, classifier: u, latents: latents, layout: layout, centring: centring)
        let b = ClassifierBlocks.blocks(u, length: latents.length)
        let zeros = (0..<b.rows).filter { Vectors.norm(b.row($0)) == 0 }.count
        return Result(
            meanCosine: c.reduce(0, +) / Double(c.count), minCosine: c.min() ?? .nan,
            maxCosine: c.max() ?? .nan, zeroBlocks: zeros)
    }
}
