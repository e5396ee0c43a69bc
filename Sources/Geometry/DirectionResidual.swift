import GSLBridge

/// The direction residual of SPEC §5 ("direction collapse (type II): mean of 1 − cos(w_{α,β}, mean
/// direction of concept α)"): the toolkit's one definition, used by `verify` (P3, P4), `compare`, the
/// sweep and the report. Under type II, words of a concept share a direction f_α and have norms ρ_β
/// set by their rank β; this measures how far they are from sharing it.
public enum DirectionResidual {
    /// Mean over all words of 1 − cos(w_{α,β}, f_α), with f_α the normalised mean of the unit vectors
    /// ŵ_{α,β} of concept α (so that frequent, long vectors do not dominate the direction). The raw
    /// vectors are used, not centred: under type II, w_{α,β} = ρ_β·f_α exactly gives 0. Zero vectors
    /// count as cosine 0.
    public static func compute(_ w: Matrix, layout: ConceptLayout) throws -> Double {
        try layout.validate(words: w)
        let d = w.cols
        var total = 0.0
        for a in 0..<layout.concepts {
            var dir = [Double](repeating: 0, count: d)
            for b in 0..<layout.wordsPerConcept {
                let r = w.row(layout.row(concept: a, rank: b))
                let n = Vectors.norm(r)
                guard n > 0 else { continue }
                for (j, x) in r.enumerated() { dir[j] += x / n }
            }
            for b in 0..<layout.wordsPerConcept {
                total += 1 - Vectors.cosine(w.row(layout.row(concept: a, rank: b)), dir[...])
            }
        }
        // 1 − cos ≥ 0; rounding can leave −1e-17 at an exactly collapsed configuration.
        return max(0, total / Double(layout.words))
    }
}
