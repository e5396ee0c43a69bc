import Foundation
/// The full latent space {0..n_c−1}^L, every sequence once (K = n_c^L), represented without
/// materialising it: sequence k is the base-n_c expansion of k, most significant position first.
public struct FullLatentSpace: Sendable, Equatable, Hashable {
    public let concepts: Int
    public let length: Int

    public init(concepts: Int, length: Int) {
        precondition(concepts >= 1 && length >= 1)
        self.concepts = concepts
        self.length = length
    }

    /// n_c^L, or nil when it does not fit in an Int.
    public var count: Int? {
        var k = 1
        for _ in 0..<length {
            let (p, o) = k.multipliedReportingOverflow(by: concepts)
            if o { return nil }
            k = p
        }
        return k
    }

    /// n_c^L as a Double (exact up to 2^53, approximate beyond).
    public var countAsDouble: Double { pow(Double(concepts), Double(length)) }

    /// The sequence at a given index.
    public func sequence(at index: Int) -> [Int] {
        precondition(index >= 0 && (count.map { index < $0 } ?? true), "index out of the latent space")
        var z = [Int](repeating: 0, count: length)
        var r = index
        for l in stride(from: length - 1, through: 0, by: -1) {
            z[l] = r % concepts
            r /= concepts
        }
        return z
    }

    /// The index of a sequence.
    public func index(of z: [Int]) -> Int {
        precondition(z.count == length && z.allSatisfy { $0 >= 0 && $0 < concepts })
        return z.reduce(0) { $0 * concepts + $1 }
    }

    /// Number of sequences at Hamming distance h from any given one: C(L, h)·(n_c−1)^h,
    /// the same for every class. Entry h for h = 0...L, as doubles (it can exceed Int).
    public var hammingHistogram: [Double] {
        (0...length).map { h in binomial(length, h) * pow(Double(concepts - 1), Double(h)) }
    }
}

/// C(n, k) as a double.
public func binomial(_ n: Int, _ k: Int) -> Double {
    if k < 0 || k > n { return 0 }
    var r = 1.0
    for i in 0..<min(k, n - k) { r = r * Double(n - i) / Double(i + 1) }
    return r.rounded()
}
