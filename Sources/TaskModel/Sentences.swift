import GSLBridge

/// A set of sentences: sentence i has L words (vocabulary indices) and a class label.
public struct SentenceSet: Sendable, Equatable {
    public let length: Int
    /// N·L vocabulary indices, sentence-major.
    public let words: [Int32]
    /// N class labels.
    public let labels: [Int32]

    public init(length: Int, words: [Int32], labels: [Int32]) {
        precondition(words.count == labels.count * length)
        self.length = length; self.words = words; self.labels = labels
    }

    /// N.
    public var count: Int { labels.count }

    public func sentence(_ i: Int) -> ArraySlice<Int32> { words[(i * length)..<((i + 1) * length)] }
}

/// The task of SPEC section 1: a vocabulary, a word distribution μ and K latent variables.
public struct ConceptTask: Sendable, Equatable {
    public let vocabulary: Vocabulary
    public let mu: [Double]
    public let latents: LatentVariables

    public init(vocabulary: Vocabulary, mu: [Double], latents: LatentVariables) {
        precondition(mu.count == vocabulary.wordsPerConcept)
        precondition(latents.concepts == vocabulary.concepts)
        self.vocabulary = vocabulary; self.mu = mu; self.latents = latents
    }

    public var classes: Int { latents.count }
    public var length: Int { latents.length }

    /// `perClass` sentences for each class, class-major (all of class 0, then class 1, ...):
    /// x = ((z_k1, β_1), .., (z_kL, β_L)) with β_ℓ i.i.d. from μ (Walker alias sampling on mt19937).
    public func sample(perClass: Int, seed: UInt64) -> SentenceSet {
        let rng = RandomGenerator(seed: seed)
        // μ was validated (non-negative, positive sum) when the task was built.
        let sampler = try! DiscreteSampler(weights: mu)
        let K = classes, L = length, sc = vocabulary.wordsPerConcept
        var words = [Int32](repeating: 0, count: K * perClass * L)
        var labels = [Int32](repeating: 0, count: K * perClass)
        var i = 0
        for k in 0..<K {
            for _ in 0..<perClass {
                labels[i] = Int32(k)
                for l in 0..<L {
                    words[i * L + l] = Int32(latents[k, l] * sc + sampler.sample(rng))
                }
                i += 1
            }
        }
        return SentenceSet(length: L, words: words, labels: labels)
    }

    /// True when every word of sentence i belongs to the concept that its class's latent
    /// variable puts at that position.
    public func follows(_ set: SentenceSet, _ i: Int) -> Bool {
        let k = Int(set.labels[i])
        for l in 0..<length where vocabulary.concept(ofIndex: Int(set.words[i * length + l])) != latents[k, l] { return false }
        return true
    }
}
