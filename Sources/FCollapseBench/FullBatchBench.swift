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

    /// User + system CPU seconds of this process (all threads): on a shared machine the wall time
    /// depends on the other tenants, the CPU time much less.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

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
            var times: [Double] = [], cpu: [Double] = [], value = 0.0
            for _ in 0..<(reps + 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Self.cpuSeconds()
                value = x.withUnsafeBufferPointer { xb in g.withUnsafeMutableBufferPointer { risk.evaluate(xb, gradient: $0) } }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                cpu.append(Self.cpuSeconds() - c0)
            }
            let med = median(Array(times.dropFirst())), medCPU = median(Array(cpu.dropFirst()))
            print(String(format: "full batch, layer norm %@: N = %d, %d variables: median %.3f s wall (%.3f s CPU over all threads) per risk + gradient over %d (%@), threads = %d, value %.6f",
                         ln ? "on " : "off", set.count, risk.dimension, med, medCPU, reps,
                         times.dropFirst().map { String(format: "%.3f", $0) }.joined(separator: ", "), risk.threads, value))
            fflush(nil)
        }
    }
}
