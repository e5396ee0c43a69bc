/// Hamming distances between latent variables.
public enum Hamming {
    /// H(z, z'): the number of positions where the sequences differ.
    @inline(__always)
    public static func distance(_ a: ArraySlice<Int32>, _ b: ArraySlice<Int32>) -> Int {
        precondition(a.count == b.count)
        var h = 0
        var i = a.startIndex, j = b.startIndex
        while i < a.endIndex { if a[i] != b[j] { h += 1 }; i += 1; j += 1 }
        return h
    }

    public static func distance(_ a: [Int], _ b: [Int]) -> Int {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
    }

    /// H(z_j, z_k).
    @inline(__always)
    public static func distance(_ z: LatentVariables, _ j: Int, _ k: Int) -> Int {
        let L = z.length
        return z.storage.withUnsafeBufferPointer { s in
            var h = 0
            for l in 0..<L where s[j * L + l] != s[k * L + l] { h += 1 }
            return h
        }
    }

    /// For each class k, counts[k][h] = #{ j : H(z_j, z_k) = h }, h = 0...L (j = k included).
    /// These histograms are all the type-I and LayerNorm reduced objectives need of Z. O(K²·L).
    public static func histograms(_ z: LatentVariables) -> [[Int]] {
        let K = z.count, L = z.length
        var out = [[Int]](repeating: [Int](repeating: 0, count: L + 1), count: K)
        for k in 0..<K {
            for j in k..<K {
                let h = distance(z, j, k)
                out[k][h] += 1
                if j != k { out[j][h] += 1 }
            }
        }
        return out
    }

    /// The histogram of H(z_j, z_k) over all ordered pairs j ≠ k.
    public static func pairHistogram(_ z: LatentVariables) -> [Int] {
        var total = [Int](repeating: 0, count: z.length + 1)
        for row in histograms(z) { for h in 0...z.length { total[h] += row[h] } }
        total[0] -= z.count
        return total
    }
}
