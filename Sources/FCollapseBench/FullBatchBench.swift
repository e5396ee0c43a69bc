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
    @Option(
        help:
            "Precisions of the two passes, comma-separated: single, double (both are timed side by side, and the single-precision value and gradient are compared with the double ones)."
    )
    var precision = "single,double"
    @Option(help: "LayerNorm settings to time, comma-separated: off, on.") var layerNorm = "off,on"
    @Option(
        help:
            "In single precision, whether pass 1 saves the exponentials for pass 2 or pass 2 recomputes them, comma-separated: saved, recomputed (both are timed side by side)."
    )
    var exponentials = "saved,recomputed"

    func validate() throws {
        for p in precision.split(separator: ",") where EmpiricalRisk.Precision(rawValue: String(p)) == nil {
            throw ValidationError("--precision: '\(p)' is not single or double")
        }
        for l in layerNorm.split(separator: ",") where l != "off" && l != "on" {
            throw ValidationError("--layer-norm: '\(l)' is not off or on")
        }
        for e in exponentials.split(separator: ",") where e != "saved" && e != "recomputed" {
            throw ValidationError("--exponentials: '\(e)' is not saved or recomputed")
        }
        if nspl < 1 { throw ValidationError("--nspl must be at least 1") }
        if reps < 1 { throw ValidationError("--reps must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// User + system CPU seconds of this process (all threads): on a shared machine the wall time
    /// depends on the other tenants, the CPU time much less.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    func run() throws {
        BLAS.setThreads(threads)
        let precisions = precision.split(separator: ",").compactMap { EmpiricalRisk.Precision(rawValue: String($0)) }
        print("single-precision kernels: \(EmpiricalRisk.singlePrecisionUsesAVX2 ? "AVX2 + FMA" : "baseline (no AVX2)")")
        for ln in layerNorm.split(separator: ",").map({ $0 == "on" }) {
            var spec = Spec.preset("fig4a")!
            spec.nspl = nspl; spec.layerNorm = ln
            let set = spec.task().sample(perClass: nspl, seed: spec.seed(for: .train))
            // A point with order-one logits (the reference initialisation gives logits near 0).
            let rng = RandomGenerator(seed: 3)
            let dimension = spec.nw * spec.d + spec.K * spec.L * spec.d
            let x = (0..<dimension).map { _ in rng.gaussian(sigma: 0.3) }
            var results: [(EmpiricalRisk.Precision, Double, [Double], Double)] = []
            let variants: [(EmpiricalRisk.Precision, Bool)] = precisions.flatMap { prec in
                prec == .double ? [(prec, false)] : exponentials.split(separator: ",").map { (prec, $0 == "saved") }
            }
            for (prec, save) in variants {
                let risk = EmpiricalRisk(spec: spec, sentences: set, threads: threads, precision: prec, saveExponentials: save)
                let name = prec == .double ? "double" : save ? "single (exponentials saved)" : "single (exponentials recomputed)"
                var g = [Double](repeating: 0, count: risk.dimension)
                var times: [Double] = [], cpu: [Double] = [], value = 0.0
                for _ in 0..<(reps + 1) {
                    let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Self.cpuSeconds()
                    value = x.withUnsafeBufferPointer { xb in g.withUnsafeMutableBufferPointer { risk.evaluate(xb, gradient: $0) } }
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                    cpu.append(Self.cpuSeconds() - c0)
                }
                let med = median(Array(times.dropFirst())), medCPU = median(Array(cpu.dropFirst()))
                print(
                    String(
                        format:
                            "full batch, %@, layer norm %@: N = %d, %d variables: median %.3f s wall (%.3f s CPU over all threads) per risk + gradient over %d (%@), threads = %d, value %.8f",
                        name, ln ? "on " : "off", set.count, risk.dimension, med, medCPU, reps,
                        times.dropFirst().map { String(format: "%.3f", $0) }.joined(separator: ", "), risk.threads, value))
                fflush(nil)
                results.append((prec, value, g, med))
            }
            if let s = results.first(where: { $0.0 == .single }), let d = results.first(where: { $0.0 == .double }) {
                var diff = 0.0, norm = 0.0
                for i in 0..<d.2.count { diff += (s.2[i] - d.2[i]) * (s.2[i] - d.2[i]); norm += d.2[i] * d.2[i] }
                print(
                    String(
                        format:
                            "  single against double: value %.2e relative, gradient %.2e relative (2-norm); wall time ratio double/single %.1fx",
                        abs(s.1 - d.1) / abs(d.1), (diff / norm).squareRoot(), d.3 / s.3))
            }
        }
    }
}
