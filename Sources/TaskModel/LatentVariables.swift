/// K latent variables z_k ∈ {0..n_c−1}^L stored row by row: class k is latent variable z_k.
public struct LatentVariables: Sendable, Equatable, Hashable {
    public let concepts: Int
    public let length: Int
    /// K·L concepts, class-major.
    public let storage: [Int32]

    public init(concepts: Int, length: Int, storage: [Int32]) {
        precondition(length >= 1 && storage.count % length == 0)
        precondition(storage.allSatisfy { $0 >= 0 && Int($0) < concepts }, "concept out of range")
        self.concepts = concepts
        self.length = length
        self.storage = storage
    }

    public init(concepts: Int, sequences: [[Int]]) {
        precondition(!sequences.isEmpty)
        let L = sequences[0].count
        precondition(sequences.allSatisfy { $0.count == L })
        self.init(concepts: concepts, length: L, storage: sequences.flatMap { $0.map(Int32.init) })
    }

    /// K.
    public var count: Int { storage.count / length }

    /// Concept z_{k,ℓ}.
    @inline(__always) public subscript(k: Int, l: Int) -> Int { Int(storage[k * length + l]) }

    /// z_k as an array.
    public func sequence(_ k: Int) -> [Int] { (0..<length).map { self[k, $0] } }

    public var sequences: [[Int]] { (0..<count).map(sequence) }

    /// K latent variables drawn uniformly with replacement (as the reference code does),
    /// each concept with gsl_rng_uniform_int.
    public static func random(concepts: Int, length: Int, count: Int, seed: UInt64) -> LatentVariables {
        let rng = RandomGeneratorBox(seed: seed)
        var s = [Int32](repeating: 0, count: count * length)
        for i in 0..<s.count { s[i] = Int32(rng.rng.uniformInt(concepts)) }
        return LatentVariables(concepts: concepts, length: length, storage: s)
    }

    /// Every sequence of the full latent space once, in ``FullLatentSpace`` order.
    public static func full(_ space: FullLatentSpace) -> LatentVariables {
        guard let K = space.count else { preconditionFailure("the full latent space is too large to materialise") }
        var s = [Int32](repeating: 0, count: K * space.length)
        for k in 0..<K {
            let z = space.sequence(at: k)
            for l in 0..<space.length { s[k * space.length + l] = Int32(z[l]) }
        }
        return LatentVariables(concepts: space.concepts, length: space.length, storage: s)
    }

    /// Groups of classes that share one latent variable (each group listed once, sorted),
    /// which no classifier can tell apart.
    public func duplicateGroups() -> [[Int]] {
        var byKey: [ArraySlice<Int32>: [Int]] = [:]
        for k in 0..<count { byKey[storage[(k * length)..<((k + 1) * length)], default: []].append(k) }
        return byKey.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    /// The latent variables with concepts relabelled: concept α becomes permutation[α].
    public func relabellingConcepts(_ permutation: [Int]) -> LatentVariables {
        LatentVariables(concepts: concepts, length: length, storage: storage.map { Int32(permutation[Int($0)]) })
    }
}

import GSLBridge

/// Independent random streams derived from one master seed (the SplitMix64 finaliser of
/// `GSLBridge.RandomGenerator.derive`), so that layers above the task model (the spec) name streams
/// without reaching into GSL.
public enum SeedStreams {
    public static func derive(_ seed: UInt64, stream: UInt64) -> UInt64 { RandomGenerator.derive(seed, stream: stream) }
}

/// Keeps GSLBridge's generator out of TaskModel's public surface where not needed.
struct RandomGeneratorBox {
    let rng: RandomGenerator
    init(seed: UInt64) { rng = RandomGenerator(seed: seed) }
}
