import Foundation
import GSLBridge

/// Random orthogonal matrices for the tests, built here (not with the code under test): one home for
/// the rotations of every test target.
public enum Rotations {
    /// Q from modified Gram–Schmidt (applied twice) on the columns of a Gaussian matrix.
    public static func random(_ n: Int, _ rng: RandomGenerator) -> [Double] {
        var cols = (0..<n).map { _ in (0..<n).map { _ in rng.gaussian() } }
        orthonormalise(&cols)
        var q = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { q[i * n + j] = cols[j][i] } }
        check(q, n)
        return q
    }

    /// Q = 11ᵀ/n + B·R·Bᵀ, with B an orthonormal basis of the complement of 1 and R random orthogonal:
    /// Q·1 = 1 and 1ᵀ·Q = 1ᵀ.
    public static func fixingOnes(_ n: Int, _ rng: RandomGenerator) -> [Double] {
        let B = onesComplement(n)
        let m = n - 1
        let R = m > 0 ? random(m, rng) : []
        var q = [Double](repeating: 1 / Double(n), count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for a in 0..<m { for b in 0..<m { s += B[a][i] * R[a * m + b] * B[b][j] } }
                q[i * n + j] += s
            }
        }
        check(q, n)
        return q
    }

    /// A rotation that does not fix 1: one fixing 1, followed by a rotation by θ ∈ [0.6, 2.5] rad in the
    /// plane of 1/√n and a unit vector orthogonal to it (so 1·Q is far from 1).
    public static func notFixingOnes(_ n: Int, _ rng: RandomGenerator) -> [Double] {
        let base = fixingOnes(n, rng)
        let u1 = [Double](repeating: 1 / Double(n).squareRoot(), count: n)
        let u2 = onesComplement(n)[0]
        let theta = 0.6 + 1.9 * rng.uniform()
        var g = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let identity: Double = i == j ? 1 : 0
                let inPlane: Double = (cos(theta) - 1) * (u1[i] * u1[j] + u2[i] * u2[j])
                let turn: Double = sin(theta) * (u2[i] * u1[j] - u1[i] * u2[j])
                g[i * n + j] = identity + inPlane + turn
            }
        }
        let q = multiply(base, g, n)
        check(q, n)
        return q
    }

    /// An orthonormal basis (n − 1 vectors) of the complement of the all-ones vector.
    public static func onesComplement(_ n: Int) -> [[Double]] {
        var vs: [[Double]] = [[Double](repeating: 1, count: n)]
        for i in 0..<(n - 1) { var e = [Double](repeating: 0, count: n); e[i] = 1; vs.append(e) }
        orthonormalise(&vs)
        return Array(vs.dropFirst())
    }

    public static func orthonormalise(_ vs: inout [[Double]]) {
        for _ in 0..<2 {
            for j in vs.indices {
                for i in 0..<j {
                    let dot = zip(vs[i], vs[j]).reduce(0) { $0 + $1.0 * $1.1 }
                    for t in vs[j].indices { vs[j][t] -= dot * vs[i][t] }
                }
                let n = vs[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
                vs[j] = vs[j].map { $0 / n }
            }
        }
    }

    public static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for k in 0..<n { for j in 0..<n { c[i * n + j] += a[i * n + k] * b[k * n + j] } } }
        return c
    }

    /// Rows of a row-major matrix with n columns, each multiplied on the right by Q.
    public static func apply(_ q: [Double], n: Int, toRows x: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / n) {
            for j in 0..<n {
                var s = 0.0
                for i in 0..<n { s += x[r * n + i] * q[i * n + j] }
                out[r * n + j] = s
            }
        }
        return out
    }

    /// QᵀQ = I to 1e-12: the generator itself is checked.
    public static func check(_ q: [Double], _ n: Int) {
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for t in 0..<n { s += q[t * n + i] * q[t * n + j] }
                precondition(abs(s - (i == j ? 1 : 0)) < 1e-12, "test helper: Q is not orthogonal")
            }
        }
    }

    /// ‖1·Q − 1‖ / ‖1‖.
    public static func onesDeviation(_ q: [Double], _ n: Int) -> Double {
        let r = apply(q, n: n, toRows: [Double](repeating: 1, count: n))
        return (r.reduce(0) { $0 + ($1 - 1) * ($1 - 1) } / Double(n)).squareRoot()
    }
}
