import GSLBridge
import Testing

@Suite struct BridgeTests {
    @Test func errorHandlerIsOff() {
        #expect(GSL.errorHandlerIsOff)
    }

    @Test func badBracketThrowsInsteadOfAborting() {
        // A guess outside the bracket is GSL_EINVAL; with the default handler GSL would abort.
        #expect(throws: GSLError.self) {
            _ = try Minimize1D.brent({ ($0 - 1) * ($0 - 1) }, lower: 0, upper: 2, guess: 5)
        }
    }

    @Test func brentFindsParabolaMinimum() throws {
        let r = try Minimize1D.minimise({ ($0 - 0.7) * ($0 - 0.7) + 3 }, lower: -2, upper: 5)
        // Brent's x tolerance is 1e-12 relative; the value is quadratic in x error.
        #expect(abs(r.x - 0.7) < 1e-7)
        #expect(abs(r.value - 3) < 1e-12)
    }

    @Test func bfgsMinimisesRosenbrock() throws {
        let r = try MultiMinimizer.minimise(
            { x, g in
                let a = 1 - x[0], b = x[1] - x[0] * x[0]
                if let g { g[0] = -2 * a - 400 * x[0] * b; g[1] = 200 * b }
                return a * a + 100 * b * b
            }, from: [-1.2, 1])
        #expect(abs(r.x[0] - 1) < 1e-5 && abs(r.x[1] - 1) < 1e-5)
    }

    @Test func svdReconstructs() throws {
        let a = Matrix(rows: 4, cols: 3, data: [1, 2, 3, 4, 5, 6, 7, 8, 10, -1, 0, 2])
        let (u, s, v) = try LinearAlgebra.svd(a)
        var us = u
        for i in 0..<us.rows { for j in 0..<us.cols { us[i, j] *= s[j] } }
        let back = us * v.transposed
        #expect((back - a).frobeniusNorm < 1e-12 * a.frobeniusNorm * 10)
        #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test func sgemmMatchesNaiveProduct() {
        let m = 5, k = 7, n = 3
        let rng = RandomGenerator(seed: 3)
        let a = (0..<(m * k)).map { _ in Float(rng.gaussian()) }, b = (0..<(k * n)).map { _ in Float(rng.gaussian()) }
        var c = [Float](repeating: 0, count: m * n)
        BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n, beta: 0, c: &c, ldc: n)
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for t in 0..<k { s += a[i * k + t] * b[t * n + j] }
                // Single precision, 7 terms of size ~1: rounding differences below 1e-5.
                #expect(abs(s - c[i * n + j]) < 1e-4)
            }
        }
        #expect(BLAS.implementation.contains("OpenBLAS"))
    }

    @Test func discreteSamplerRejectsBadWeights() {
        #expect(throws: GSLError.self) { _ = try DiscreteSampler(weights: []) }
    }
}
