/// The distribution μ of a word's rank β inside its concept, the same for every concept.
public enum WordFrequency: Sendable, Equatable, Hashable {
    /// μ_β = 1/s_c.
    case uniform
    /// μ_β ∝ 1/(β+1).
    case zipf
    /// μ_β ∝ weights[β]: s_c non-negative weights, not all zero.
    case weights([Double])

    /// The normalised probabilities μ_0..μ_{s_c−1}.
    public func probabilities(wordsPerConcept sc: Int) -> [Double] {
        precondition(sc >= 1)
        switch self {
        case .uniform:
            return [Double](repeating: 1 / Double(sc), count: sc)
        case .zipf:
            let w = (0..<sc).map { 1 / Double($0 + 1) }
            let s = w.reduce(0, +)
            return w.map { $0 / s }
        case .weights(let w):
            precondition(w.count == sc, "weights: \(w.count) values for s_c = \(sc)")
            let s = w.reduce(0, +)
            return w.map { $0 / s }
        }
    }

    /// True when every word of a concept has the same frequency.
    public func isUniform(wordsPerConcept sc: Int) -> Bool {
        switch self {
        case .uniform: return true
        case .zipf: return sc == 1
        // Source: round-off. Equal weights written alike parse to the same double, and weights computed in double differ by
        // a few ulps (~1e-16 relative); 1e-12 relative covers both, far below any frequency difference a task could mean.
        case .weights(let w): return w.allSatisfy { abs($0 - w[0]) <= 1e-12 * max(abs(w[0]), 1) }
        }
    }

    /// The name used in specs: "uniform", "zipf", or "custom".
    public var name: String {
        switch self {
        case .uniform: return "uniform"
        case .zipf: return "zipf"
        case .weights: return "custom"
        }
    }
}
