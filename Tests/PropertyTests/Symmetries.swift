import TestSupport
import Foundation
import GSLBridge
import Testing
import TaskModel

// The symmetries of the task and network (SPEC 4.3, 5), acting on everything the properties touch.
// Convention: a permutation p sends index i to p[i], and values move with their index: x'[p[i]] = x[i].
// Rotations act on row vectors, v ↦ v·Q, for word vectors and classifier blocks alike.

/// The five kinds of symmetry.
enum SymmetryKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// (a) words permuted inside each concept, together with μ.
    case words
    /// (b) concepts relabelled in the latent variables and in W.
    case concepts
    /// (c) classes permuted together with the rows of U.
    case classes
    /// (d) positions permuted in the latent variables and in the blocks of U.
    case positions
    /// (e) the embedding space rotated (W·Q, blocks of U·Q); with LayerNorm Q fixes the all-ones vector.
    case rotation

    var testDescription: String { rawValue }
}

/// One symmetry, with its permutation or rotation.
enum Symmetry: CustomStringConvertible {
    /// ranks[α][β]: the new rank of word (α, β).
    case words([[Int]])
    /// α ↦ perm[α].
    case concepts([Int])
    /// k ↦ perm[k].
    case classes([Int])
    /// ℓ ↦ perm[ℓ].
    case positions([Int])
    /// Q (n x n, row-major), orthogonal.
    case rotation([Double], n: Int)

    var description: String {
        switch self {
        case .words(let p): return "words \(p)"
        case .concepts(let p): return "concepts \(p)"
        case .classes(let p): return "classes \(p)"
        case .positions(let p): return "positions \(p)"
        case .rotation(let q, let n): return "rotation \(n)x\(n) \(q.map { Double(Int($0 * 1e4)) / 1e4 })"
        }
    }

    /// A random symmetry of a kind. Word permutations are the same in every concept unless
    /// `independentWordPermutations` (allowed only when μ is uniform, since μ is shared by all concepts).
    /// Rotations are n x n (`dimension`), fixing the all-ones vector when `fixingOnes`.
    static func random(
        _ kind: SymmetryKind, concepts nc: Int, wordsPerConcept sc: Int, classes K: Int, length L: Int,
        dimension n: Int, independentWordPermutations: Bool, fixingOnes: Bool,
        rng: RandomGenerator
    ) -> Symmetry {
        switch kind {
        case .words:
            let common = randomPermutation(sc, rng)
            return .words((0..<nc).map { _ in independentWordPermutations ? randomPermutation(sc, rng) : common })
        case .concepts: return .concepts(randomPermutation(nc, rng))
        case .classes: return .classes(randomPermutation(K, rng))
        case .positions: return .positions(randomPermutation(L, rng))
        case .rotation: return .rotation(fixingOnes ? Rotations.fixingOnes(n, rng) : Rotations.random(n, rng), n: n)
        }
    }

    /// Same as above for a built instance, in the embedding dimension d.
    static func random(_ kind: SymmetryKind, for b: Built, fixingOnes: Bool? = nil) -> Symmetry {
        random(
            kind, concepts: b.nc, wordsPerConcept: b.sc, classes: b.K, length: b.L, dimension: b.d,
            independentWordPermutations: b.muIsUniform, fixingOnes: fixingOnes ?? b.layerNorm, rng: b.rng)
    }

    // MARK: actions

    /// The latent variables.
    func latents(_ z: LatentVariables) -> LatentVariables {
        let K = z.count, L = z.length
        switch self {
        case .concepts(let p): return z.relabellingConcepts(p)
        case .classes(let p):
            var s = z.storage
            for k in 0..<K { for l in 0..<L { s[p[k] * L + l] = z.storage[k * L + l] } }
            return LatentVariables(concepts: z.concepts, length: L, storage: s)
        case .positions(let p):
            var s = z.storage
            for k in 0..<K { for l in 0..<L { s[k * L + p[l]] = z.storage[k * L + l] } }
            return LatentVariables(concepts: z.concepts, length: L, storage: s)
        case .words, .rotation: return z
        }
    }

    /// μ: permuted with the words (which then must be permuted alike in every concept, or μ be uniform).
    func mu(_ mu: [Double]) -> [Double] {
        guard case .words(let ranks) = self else { return mu }
        if ranks.allSatisfy({ $0 == ranks[0] }) { return permuted(mu, ranks[0]) }
        precondition(mu.allSatisfy { abs($0 - mu[0]) <= 1e-15 }, "independent word permutations need a uniform μ")
        return mu
    }

    /// Where word index w goes (n_w words, s_c per concept).
    func wordIndex(_ w: Int, wordsPerConcept sc: Int) -> Int {
        switch self {
        case .words(let ranks): return (w / sc) * sc + ranks[w / sc][w % sc]
        case .concepts(let p): return p[w / sc] * sc + w % sc
        default: return w
        }
    }

    /// Word vectors, n_w x d row-major (rows move with their word; rotations act on the right).
    func words(_ W: [Double], wordsPerConcept sc: Int, dimension d: Int) -> [Double] {
        let nw = W.count / d
        switch self {
        case .words, .concepts:
            var out = W
            for w in 0..<nw {
                let t = wordIndex(w, wordsPerConcept: sc)
                for e in 0..<d { out[t * d + e] = W[w * d + e] }
            }
            return out
        case .rotation(let q, let n):
            precondition(n == d)
            return Rotations.apply(q, n: n, toRows: W)
        case .classes, .positions: return W
        }
    }

    /// Classifier U, K x L·d row-major.
    func classifier(_ U: [Double], length L: Int, dimension d: Int) -> [Double] {
        let K = U.count / (L * d)
        switch self {
        case .classes(let p):
            var out = U
            for k in 0..<K { for i in 0..<(L * d) { out[p[k] * L * d + i] = U[k * L * d + i] } }
            return out
        case .positions(let p):
            var out = U
            for k in 0..<K { for l in 0..<L { for e in 0..<d { out[(k * L + p[l]) * d + e] = U[(k * L + l) * d + e] } } }
            return out
        case .rotation(let q, let n):
            precondition(n == d)
            return Rotations.apply(q, n: n, toRows: U)
        case .words, .concepts: return U
        }
    }

    /// A point (or a gradient) of ExactRisk / EmpiricalRisk: W (n_w x d) then U (K x L·d).
    func parameters(_ x: [Double], words nw: Int, wordsPerConcept sc: Int, length L: Int, dimension d: Int) -> [Double] {
        words(Array(x[0..<(nw * d)]), wordsPerConcept: sc, dimension: d)
            + classifier(Array(x[(nw * d)...]), length: L, dimension: d)
    }

    /// A point (or a gradient) of RestrictedProblem: g (n_c x dim) then U (K x L x dim). Word
    /// permutations do not act (R_c has one vector per concept).
    func restricted(_ x: [Double], concepts nc: Int, length L: Int, dimension de: Int) -> [Double] {
        let g = Array(x[0..<(nc * de)]), u = Array(x[(nc * de)...])
        let g2: [Double]
        switch self {
        case .concepts(let p):
            var out = g
            for a in 0..<nc { for e in 0..<de { out[p[a] * de + e] = g[a * de + e] } }
            g2 = out
        case .rotation(let q, let n):
            precondition(n == de)
            g2 = Rotations.apply(q, n: n, toRows: g)
        default: g2 = g
        }
        return g2 + classifier(u, length: L, dimension: de)
    }

    /// A set of sentences: words renamed, labels permuted, positions permuted.
    func sentences(_ s: SentenceSet, wordsPerConcept sc: Int) -> SentenceSet {
        let L = s.length, N = s.count
        var words = s.words, labels = s.labels
        switch self {
        case .words, .concepts:
            words = s.words.map { Int32(wordIndex(Int($0), wordsPerConcept: sc)) }
        case .classes(let p):
            labels = s.labels.map { Int32(p[Int($0)]) }
        case .positions(let p):
            for i in 0..<N { for l in 0..<L { words[i * L + p[l]] = s.words[i * L + l] } }
        case .rotation: break
        }
        return SentenceSet(length: L, words: words, labels: labels)
    }
}

/// A uniformly random permutation of 0..<n; never the identity when n ≥ 2 (so that every draw tests something).
func randomPermutation(_ n: Int, _ rng: RandomGenerator) -> [Int] {
    var p = rng.permutation(n).map { Int($0) }
    if n >= 2 && p == Array(0..<n) { p.swapAt(0, 1) }
    return p
}

/// x'[p[i]] = x[i].
func permuted<T>(_ x: [T], _ p: [Int]) -> [T] {
    var out = x
    for i in x.indices { out[p[i]] = x[i] }
    return out
}
