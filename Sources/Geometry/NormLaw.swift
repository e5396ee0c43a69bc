import GSLBridge

/// The norm law of type II (and of LayerNorm with ε > 0): ‖w_{α,β}‖ against the predicted ρ_β.
public enum NormLaw {
    public struct Result: Sendable, Equatable, Codable {
        /// Mean over the n_c concepts of ‖w_{α,β}‖, for every rank β.
        public let measured: [Double]
        /// |measured_β − ρ_β| / ρ_β per rank, when a prediction was given.
        public let relativeErrors: [Double]?
        /// The largest of those relative errors.
        public let maxRelativeError: Double?

        enum CodingKeys: String, CodingKey {
            case measured
            case relativeErrors = "relative_errors"
            case maxRelativeError = "max_relative_error"
        }
    }

    /// ‖w_{α,β}‖ for every word, as an n_c x s_c matrix (row α).
    public static func norms(_ w: Matrix, layout: ConceptLayout) throws -> Matrix {
        try layout.validate(words: w)
        var out = Matrix(rows: layout.concepts, cols: layout.wordsPerConcept)
        for a in 0..<layout.concepts {
            for b in 0..<layout.wordsPerConcept { out[a, b] = Vectors.norm(w.row(layout.row(concept: a, rank: b))) }
        }
        return out
    }

    /// Mean norm per rank and, with a prediction of s_c positive values ρ_β, the relative errors.
    public static func compute(_ w: Matrix, layout: ConceptLayout, predicted rho: [Double]? = nil) throws -> Result {
        if let rho {
            guard rho.count == layout.wordsPerConcept else {
                throw GeometryError(field: "predicted.rho", rule: "must have s_c = \(layout.wordsPerConcept) values (got \(rho.count))")
            }
            guard rho.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw GeometryError(field: "predicted.rho", rule: "every ρ_β must be positive and finite")
            }
        }
        let n = try norms(w, layout: layout)
        let measured = (0..<layout.wordsPerConcept).map { b in
            (0..<layout.concepts).reduce(0.0) { $0 + n[$1, b] } / Double(layout.concepts)
        }
        guard let rho else { return Result(measured: measured, relativeErrors: nil, maxRelativeError: nil) }
        let errors = zip(measured, rho).map { abs($0 - $1) / $1 }
        return Result(measured: measured, relativeErrors: errors, maxRelativeError: errors.max())
    }
}
