import ArgumentParser
import ExperimentSpec
import Foundation
import GSLBridge
import Training

/// One evaluation of the exact empirical risk and its gradient at paper scale (n_spl = 500:
/// N = 500,000 sentences, K = 1000, L = 15, d = 100, n_w = 1200), without and with LayerNorm.
struct FullBatchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fullbatch",
        abstract: "Seconds per full-batch risk + gradient evaluation at paper scale (n_spl = 500)."
    )
    @Option(help: "Sentences per class.") var nspl = 500
    @Option(help: "Timed evaluations (the median is reported).") var reps = 3
    @Option(help: "Threads.") var threads = 2

    func run() throws {
        BLAS.setThreads(threads)
        for ln in [false, true] {
            var spec = Spec.preset("fig4a")!
            spec.nspl = nspl; spec.layerNorm = ln
            let set = spec.task().sample(perClass: nspl, seed: spec.seed(for: .train))
            let risk = EmpiricalRisk(spec: spec, sentences: set, threads: threads)
            // A point with order-one logits (the reference initialisation gives logits near 0).
            let rng = RandomGenerator(seed: 3)
            let x = (0..<risk.dimension).map { _ in rng.gaussian(sigma: 0.3) }
            var g = [Double](repeating: 0, count: risk.dimension)
            var times: [Double] = [], value = 0.0
            for _ in 0..<(reps + 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                value = x.withUnsafeBufferPointer { xb in g.withUnsafeMutableBufferPointer { risk.evaluate(xb, gradient: $0) } }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            let med = median(Array(times.dropFirst()))
            print(String(format: "full batch, layer norm %@: N = %d, %d variables: median %.3f s per risk + gradient over %d (%@), threads = %d, value %.6f",
                         ln ? "on " : "off", set.count, risk.dimension, med, reps,
                         times.dropFirst().map { String(format: "%.3f", $0) }.joined(separator: ", "), threads, value))
        }
    }
}
