import Foundation
import TaskModel

/// What the type-I and idealised-LayerNorm reduced objectives need of the latent variables: the
/// Hamming histogram of every class (identical histograms grouped), or the closed form of the full
/// latent space, which is never materialised.
public struct LatentProfile: Sendable {
    public let concepts: Int
    public let length: Int
    /// K (n_c^L for the full latent space, as a Double).
    public let classes: Double
    /// nil for the closed form of the full latent space.
    let logCounts: [[Double]]?
    let weights: [Double]

    /// The full latent space in closed form: (1/K) Σ_k log Σ_j exp(−t·H) = L·log(1 + (n_c−1)·e^{−t}).
    public static func full(_ space: FullLatentSpace) -> LatentProfile {
        LatentProfile(concepts: space.concepts, length: space.length, classes: space.countAsDouble, logCounts: nil, weights: [])
    }

    /// The full latent space through its (shared) Hamming histogram C(L,h)·(n_c−1)^h, not the closed form.
    public static func histogramForm(of space: FullLatentSpace) -> LatentProfile {
        let row = space.hammingHistogram.map { $0 > 0 ? Foundation.log($0) : -Double.infinity }
        return LatentProfile(
            concepts: space.concepts, length: space.length, classes: space.countAsDouble,
            logCounts: [row], weights: [1])
    }

    /// Given latent variables, through `Hamming.histograms` (O(K²·L) once).
    public init(latents: LatentVariables) {
        var groups: [[Int]: Int] = [:]
        for row in Hamming.histograms(latents) { groups[row, default: 0] += 1 }
        let K = Double(latents.count)
        let keys = groups.keys.sorted { $0.lexicographicallyPrecedes($1) }
        self.init(
            concepts: latents.concepts, length: latents.length, classes: K,
            logCounts: keys.map { $0.map { $0 > 0 ? Foundation.log(Double($0)) : -Double.infinity } },
            weights: keys.map { Double(groups[$0]!) / K })
    }

    init(concepts: Int, length: Int, classes: Double, logCounts: [[Double]]?, weights: [Double]) {
        self.concepts = concepts; self.length = length; self.classes = classes
        self.logCounts = logCounts; self.weights = weights
    }

    public var isClosedForm: Bool { logCounts == nil }

    /// F(t) = (1/K) Σ_k log Σ_j exp(−t·H(z_j, z_k)) and F'(t), with a stable log-sum-exp.
    public func logPartition(_ t: Double) -> (value: Double, derivative: Double) {
        guard let rows = logCounts else {
            let m = Double(concepts - 1)
            let e = m * Foundation.exp(-t)
            return (Double(length) * Foundation.log1p(e), -Double(length) * e / (1 + e))
        }
        var value = 0.0, derivative = 0.0
        for (row, w) in zip(rows, weights) {
            var top = -Double.infinity
            for h in row.indices where row[h] > -Double.infinity { top = max(top, row[h] - t * Double(h)) }
            var s = 0.0, sh = 0.0
            for h in row.indices where row[h] > -Double.infinity {
                let e = Foundation.exp(row[h] - t * Double(h) - top)
                s += e; sh += e * Double(h)
            }
            value += w * (top + Foundation.log(s))
            derivative -= w * sh / s
        }
        return (value, derivative)
    }
}
