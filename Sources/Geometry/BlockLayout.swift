/// Which concept each classifier block reads: block u_{k,ℓ} = U[k, ℓ·d ..< (ℓ+1)·d] is compared with
/// concept z_{k,ℓ} (SPEC §2, §5 NC3). The metrics need only this much of the latent variables, so the
/// geometry module does not depend on the task model; `Comparison` builds it from
/// `TaskModel.LatentVariables`.
public struct BlockLayout: Sendable, Equatable {
    /// Number of concepts n_c.
    public let concepts: Int
    /// Sentence length L.
    public let length: Int
    /// z_{k,ℓ} at k·L + ℓ, K·L entries.
    public let storage: [Int32]

    public init(concepts: Int, length: Int, storage: [Int32]) throws(GeometryError) {
        guard concepts >= 2 else { throw GeometryError(field: "n_c", rule: "must be at least 2 (got \(concepts))") }
        guard length >= 1, !storage.isEmpty, storage.count % length == 0 else {
            throw GeometryError(field: "latents", rule: "must hold K·L concept indices with L = \(length) ≥ 1 (got \(storage.count))")
        }
        guard storage.allSatisfy({ $0 >= 0 && Int($0) < concepts }) else {
            throw GeometryError(field: "latents", rule: "every concept index must lie in 0..<\(concepts)")
        }
        self.concepts = concepts
        self.length = length
        self.storage = storage
    }

    /// Number of classes K.
    public var count: Int { storage.count / length }

    /// z_{k,ℓ}.
    @inline(__always) public subscript(k: Int, l: Int) -> Int { Int(storage[k * length + l]) }
}
