import GSLBridge

/// NC1: how far the word vectors of a concept are from collapsing onto their concept mean.
public enum WithinConceptVariability {
    /// The two NC1 numbers of SPEC §5, both unweighted over the words (not μ-weighted).
    public struct Result: Sendable, Equatable, Codable {
        /// Tr(Σ_W Σ_B^†)/n_c with Σ_W = (1/n_w) Σ (w − m_α)(w − m_α)ᵀ and
        /// Σ_B = (1/n_c) Σ_α (m_α − m)(m_α − m)ᵀ (Papyan, Han & Donoho 2020).
        public let traceRatio: Double
        /// Σ‖w − m_α‖² / Σ‖w − m‖² (within-concept share of the total scatter, in [0, 1]).
        public let scatterRatio: Double

        enum CodingKeys: String, CodingKey {
            case traceRatio = "trace_ratio"
            case scatterRatio = "scatter_ratio"
        }
    }

    /// Both NC1 numbers. The word vectors are centred on their global mean m first (neither number
    /// depends on it, nor on a rotation W → W·Q). Σ_B^† drops eigenvalues below
    /// `relativeTolerance` times the largest; when Σ_B vanishes (all concept means equal) the trace
    /// ratio is +∞ if the words still vary, NaN if every word vector is the same.
    public static func compute(_ w: Matrix, layout: ConceptLayout, relativeTolerance: Double = 1e-10) throws -> Result {
        try layout.validate(words: w)
        let d = w.cols, nw = layout.words, nc = layout.concepts
        let centred = Vectors.subtractingFromRows(w, Vectors.columnMeans(w))
        let means = try ConceptMeans.compute(centred, layout: layout, centring: .none)
        // Within-concept deviations.
        var dev = centred
        for r in 0..<nw {
            let a = r / layout.wordsPerConcept
            for j in 0..<d { dev.data[r * d + j] -= means.data[a * d + j] }
        }
        let within = dev.data.reduce(0) { $0 + $1 * $1 }
        let total = centred.data.reduce(0) { $0 + $1 * $1 }
        let scatter = total > 0 ? within / total : .nan

        var sigmaW = dev.transposed * dev
        for i in 0..<sigmaW.data.count { sigmaW.data[i] /= Double(nw) }
        var sigmaB = means.transposed * means
        for i in 0..<sigmaB.data.count { sigmaB.data[i] /= Double(nc) }
        let traceB = (0..<d).reduce(0.0) { $0 + sigmaB[$1, $1] }
        let trace: Double
        if traceB <= 0 {
            trace = within > 0 ? .infinity : .nan
        } else {
            let pinv = try LinearAlgebra.pseudoInverseSymmetric(sigmaB, relativeTolerance: relativeTolerance)
            var t = 0.0
            for i in 0..<d { for j in 0..<d { t += sigmaW[i, j] * pinv[j, i] } }
            trace = t / Double(nc)
        }
        return Result(traceRatio: trace, scatterRatio: scatter)
    }
}
