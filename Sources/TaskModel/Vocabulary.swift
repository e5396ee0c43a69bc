/// A word (α, β): concept α ∈ 0..<n_c and rank β ∈ 0..<s_c inside the concept.
public struct Word: Hashable, Sendable, CustomStringConvertible {
    public let concept: Int
    public let rank: Int
    public init(concept: Int, rank: Int) { self.concept = concept; self.rank = rank }
    public var description: String { "(\(concept),\(rank))" }
}

/// The vocabulary: n_c concepts of s_c words each, word (α, β) at index α·s_c + β.
public struct Vocabulary: Sendable, Equatable, Hashable {
    public let concepts: Int
    public let wordsPerConcept: Int

    public init(concepts: Int, wordsPerConcept: Int) {
        precondition(concepts >= 1 && wordsPerConcept >= 1)
        self.concepts = concepts
        self.wordsPerConcept = wordsPerConcept
    }

    /// n_w = n_c · s_c.
    public var size: Int { concepts * wordsPerConcept }

    @inline(__always) public func index(of w: Word) -> Int { w.concept * wordsPerConcept + w.rank }
    @inline(__always) public func index(concept: Int, rank: Int) -> Int { concept * wordsPerConcept + rank }
    @inline(__always) public func word(at index: Int) -> Word {
        Word(concept: index / wordsPerConcept, rank: index % wordsPerConcept)
    }
    @inline(__always) public func concept(ofIndex index: Int) -> Int { index / wordsPerConcept }
}
