import GSLBridge

/// NC2: the geometry of the concept means (their norms, cosines and Gram matrix).
public enum ConceptGeometry {
    public struct Result: Sendable, Equatable, Codable {
        /// ‖m_α‖ for every concept (after the chosen centring).
        public let norms: [Double]
        /// Population standard deviation of the norms over their mean (0 for equal norms).
        public let normSpread: Double
        /// n_c x n_c cosines between concept means, row by row (1 on the diagonal).
        public let cosines: [[Double]]
        /// max over α ≠ α' of |cos(m_α, m_α') − predicted cosine|, when a prediction was given.
        public let cosineMaxDeviation: Double?
        /// ‖G − G*‖_F / ‖G*‖_F: relative distance of the Gram matrix G = M·Mᵀ of the concept means to the
        /// predicted one. Scale matters: equal shapes with norms off by a factor t give |t² − 1|.
        public let gramDistance: Double?
        /// ‖G/‖G‖_F − G*/‖G*‖_F‖_F: the same after scaling both to unit Frobenius norm (scale-free, in [0, 2]).
        public let gramShapeDistance: Double?

        enum CodingKeys: String, CodingKey {
            case norms, cosines
            case normSpread = "norm_spread"
            case cosineMaxDeviation = "cosine_max_deviation"
            case gramDistance = "gram_distance"
            case gramShapeDistance = "gram_shape_distance"
        }
    }

    /// Gram matrix M·Mᵀ of the rows of M.
    public static func gram(_ m: Matrix) -> Matrix { m * m.transposed }

    /// Gram matrix of the concept means of a word matrix, with the given centring: feed it a predicted
    /// word configuration to get the predicted Gram with the same conventions as ``compute``.
    public static func gram(ofWords w: Matrix, layout: ConceptLayout, centring: MeanCentring = .globalMean) throws -> Matrix {
        gram(try ConceptMeans.compute(w, layout: layout, centring: centring))
    }

    /// Cosines between the rows of M (0 for a zero row).
    public static func cosines(_ m: Matrix) -> Matrix {
        var c = Matrix(rows: m.rows, cols: m.rows)
        for i in 0..<m.rows { for j in 0..<m.rows { c[i, j] = Vectors.cosine(m.row(i), m.row(j)) } }
        return c
    }

    /// The simplex cosines predicted for the full latent space: 1 on the diagonal, −1/(n_c − 1) elsewhere.
    public static func simplexCosines(concepts nc: Int) -> Matrix {
        var c = Matrix(rows: nc, cols: nc, repeating: -1 / Double(nc - 1))
        for i in 0..<nc { c[i, i] = 1 }
        return c
    }

    /// NC2 of the word vectors `w` (rows α·s_c + β), with the concept means centred as asked.
    /// `predictedCosines` and `predictedGram` are n_c x n_c; compute them from a predicted word
    /// configuration with ``gram(ofWords:layout:centring:)`` and ``cosines(_:)`` and the same centring.
    public static func compute(
        _ w: Matrix, layout: ConceptLayout, centring: MeanCentring = .globalMean,
        predictedCosines: Matrix? = nil, predictedGram: Matrix? = nil
    ) throws -> Result {
        let nc = layout.concepts
        for (name, m) in [("predicted.cosines", predictedCosines), ("predicted.gram", predictedGram)] {
            if let m, m.rows != nc || m.cols != nc {
                throw GeometryError(field: name, rule: "must be n_c x n_c = \(nc) x \(nc) (got \(m.rows) x \(m.cols))")
            }
        }
        let means = try ConceptMeans.compute(w, layout: layout, centring: centring)
        let norms = (0..<nc).map { Vectors.norm(means.row($0)) }
        let (mean, std) = Vectors.meanAndStd(norms)
        let cos = cosines(means)
        var deviation: Double? = nil
        if let p = predictedCosines {
            var worst = 0.0
            for i in 0..<nc { for j in 0..<nc where i != j { worst = max(worst, abs(cos[i, j] - p[i, j])) } }
            deviation = worst
        }
        var gd: Double? = nil, gs: Double? = nil
        if let p = predictedGram {
            let g = gram(means)
            let np = p.frobeniusNorm, ng = g.frobeniusNorm
            gd = np > 0 ? (g - p).frobeniusNorm / np : .nan
            if np > 0 && ng > 0 {
                var s = 0.0
                for i in 0..<g.data.count { let e = g.data[i] / ng - p.data[i] / np; s += e * e }
                gs = s.squareRoot()
            } else {
                gs = .nan
            }
        }
        return Result(
            norms: norms, normSpread: mean > 0 ? std / mean : .nan,
            cosines: (0..<nc).map { Array(cos.row($0)) },
            cosineMaxDeviation: deviation, gramDistance: gd, gramShapeDistance: gs)
    }
}
