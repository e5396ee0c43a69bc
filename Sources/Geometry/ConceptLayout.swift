import GSLBridge

/// How word vectors are laid out: n_c concepts of s_c words, word (α, β) in row α·s_c + β.
public struct ConceptLayout: Sendable, Equatable, Codable {
    public let concepts: Int
    public let wordsPerConcept: Int

    public init(concepts: Int, wordsPerConcept: Int) throws(GeometryError) {
        guard concepts >= 2 else { throw GeometryError(field: "n_c", rule: "must be at least 2 (got \(concepts))") }
        guard wordsPerConcept >= 1 else { throw GeometryError(field: "s_c", rule: "must be at least 1 (got \(wordsPerConcept))") }
        self.concepts = concepts
        self.wordsPerConcept = wordsPerConcept
    }

    /// n_w = n_c·s_c.
    public var words: Int { concepts * wordsPerConcept }

    /// Row of word (α, β).
    @inline(__always) public func row(concept: Int, rank: Int) -> Int { concept * wordsPerConcept + rank }

    /// Concept of every row.
    public var conceptOfRow: [Int] { (0..<words).map { $0 / wordsPerConcept } }

    /// Checks that a word matrix has n_w rows and at least one column.
    public func validate(words w: Matrix, name: String = "W") throws(GeometryError) {
        guard w.rows == words else {
            throw GeometryError(field: name, rule: "must have n_w = n_c·s_c = \(words) rows (got \(w.rows))")
        }
        guard w.cols >= 1 else { throw GeometryError(field: name, rule: "must have at least one column") }
        guard w.data.allSatisfy(\.isFinite) else { throw GeometryError(field: name, rule: "must be finite (found NaN or infinity)") }
    }
}

/// Whether concept means are taken relative to the global mean of all word vectors.
public enum MeanCentring: String, Sendable, Codable, CaseIterable {
    /// Subtract the unweighted mean of all n_w word vectors (the neural-collapse convention, SPEC §5).
    case globalMean = "global-mean"
    /// Use the raw concept means.
    case none
}

/// Row-level vector helpers shared by the metrics.
enum Vectors {
    @inline(__always) static func dot(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
        var s = 0.0
        var i = a.startIndex, j = b.startIndex
        while i < a.endIndex { s += a[i] * b[j]; i += 1; j += 1 }
        return s
    }

    @inline(__always) static func norm(_ a: ArraySlice<Double>) -> Double { dot(a, a).squareRoot() }

    /// Cosine of two vectors; 0 when either is zero (no direction to compare).
    @inline(__always) static func cosine(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
        let na = norm(a), nb = norm(b)
        guard na > 0, nb > 0 else { return 0 }
        return dot(a, b) / (na * nb)
    }

    /// Column means of a matrix.
    static func columnMeans(_ m: Matrix) -> [Double] {
        var mean = [Double](repeating: 0, count: m.cols)
        guard m.rows > 0 else { return mean }
        for i in 0..<m.rows { for j in 0..<m.cols { mean[j] += m.data[i * m.cols + j] } }
        return mean.map { $0 / Double(m.rows) }
    }

    /// The matrix with `v` subtracted from every row.
    static func subtractingFromRows(_ m: Matrix, _ v: [Double]) -> Matrix {
        var out = m
        for i in 0..<m.rows { for j in 0..<m.cols { out.data[i * m.cols + j] -= v[j] } }
        return out
    }

    /// mean and population standard deviation.
    static func meanAndStd(_ x: [Double]) -> (mean: Double, std: Double) {
        guard !x.isEmpty else { return (.nan, .nan) }
        let m = x.reduce(0, +) / Double(x.count)
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)
        return (m, v.squareRoot())
    }
}

/// Concept means of word vectors.
public enum ConceptMeans {
    /// The n_c x d matrix of concept means (unweighted over the s_c words), optionally minus the global
    /// mean of all word vectors (which, unweighted, is the mean of the concept means).
    ///
    /// A mean no longer than `zeroTolerance` times the largest word-vector norm is set to exactly 0.
    /// Such a mean vanishes up to rounding (two words of opposite sign, say); left at ~1e-16 its
    /// direction, and every cosine, trace ratio and norm spread built on it, would be decided by the
    /// rounding and change under a rotation or renumbering. At exactly 0 the metrics' conventions
    /// apply (cosine 0, trace ratio +∞) and are invariant.
    public static func compute(
        _ w: Matrix, layout: ConceptLayout, centring: MeanCentring = .globalMean,
        zeroTolerance: Double = 1e-10
    ) throws(GeometryError) -> Matrix {
        try layout.validate(words: w)
        let d = w.cols
        var means = Matrix(rows: layout.concepts, cols: d)
        for a in 0..<layout.concepts {
            for b in 0..<layout.wordsPerConcept {
                let r = layout.row(concept: a, rank: b)
                for j in 0..<d { means.data[a * d + j] += w.data[r * d + j] }
            }
        }
        let inv = 1 / Double(layout.wordsPerConcept)
        for i in 0..<means.data.count { means.data[i] *= inv }
        if centring == .globalMean {
            means = Vectors.subtractingFromRows(means, Vectors.columnMeans(means))
        }
        let scale = (0..<w.rows).reduce(0.0) { max($0, Vectors.norm(w.row($1))) }
        for a in 0..<layout.concepts where Vectors.norm(means.row(a)) <= zeroTolerance * scale {
            for j in 0..<d { means.data[a * d + j] = 0 }
        }
        return means
    }
}
