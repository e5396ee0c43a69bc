import ArgumentParser
import Foundation
import GSLBridge

/// sgemm throughput through the bridge for the training shape (100 x 1500) · (1500 x 1000).
struct SgemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sgemm",
        abstract: "sgemm GFLOP/s through the GSL/CBLAS bridge for the training shape (100 x 1500)·(1500 x 1000)."
    )
    @Option(help: "Rows of A (the minibatch).") var m = 100
    @Option(help: "Inner dimension (L·d).") var k = 1500
    @Option(help: "Columns of B (K classes).") var n = 1000
    @Option(help: "Timed repetitions per trial.") var reps = 50
    @Option(help: "Trials (the median is reported).") var trials = 7

    func run() {
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        let rng = RandomGenerator(seed: 1)
        for i in a.indices { a[i] = Float(rng.gaussian()) }
        for i in b.indices { b[i] = Float(rng.gaussian()) }
        let flop = 2.0 * Double(m) * Double(n) * Double(k)
        func trial() -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<reps {
                BLAS.sgemm(
                    transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                    beta: 0, c: &c, ldc: n)
            }
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(reps)
        }
        _ = trial()  // warm-up
        let times = (0..<trials).map { _ in trial() }
        let med = median(times)
        print("BLAS: \(BLAS.implementation), threads = \(BLAS.threads)")
        print(
            String(
                format: "sgemm (%d x %d)·(%d x %d): median %.3f ms per product over %d trials of %d, %.1f GFLOP/s",
                m, k, k, n, med * 1e3, trials, reps, flop / med / 1e9))
    }
}
