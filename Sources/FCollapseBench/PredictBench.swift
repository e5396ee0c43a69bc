import ArgumentParser
import ExperimentSpec
import Foundation
import LimitTheory

/// Time of one limit-theory prediction at paper scale.
struct PredictBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Median wall and CPU time of one `predict` at paper scale (presets fig3, fig4c by default).",
        discussion: """
            For the sampled type-II family (fig4a, fig4b, fig4c) it also prints, per estimator, the largest Monte Carlo \
            standard error of a predicted feature norm relative to the norm (pooled estimator only), and the \
            jaggedness of the norm law at the rare ranks (β ≥ s_c/4): the largest |s_{β−1} − 2 s_β + s_{β+1}|/s_β and \
            the number of ranks whose norm exceeds that of a more frequent rank (the law is non-increasing, P3).
            """
    )
    @Option(help: "Comma-separated presets.") var presets = "fig3,fig4c"
    @Option(help: "Timed runs per preset (the median is reported).") var runs = 3
    @Option(help: "Starts per prediction.") var starts = defaultPredictStarts
    @Option(help: "Comma-separated estimators of the sampled family (pooled, plain).") var estimators = "pooled"
    @Option(help: "β-samples per class of the sampled family (default: the estimator's default).") var samples: Int?

    func run() throws {
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount)")
        let ests = try estimators.split(separator: ",").map { name -> SampledEstimator in
            guard let e = SampledEstimator(rawValue: String(name)) else { throw ValidationError("unknown estimator '\(name)'") }
            return e
        }
        for name in presets.split(separator: ",").map(String.init) {
            guard let spec = Spec.preset(name) else { throw ValidationError("unknown preset '\(name)'") }
            for est in ests {
                var options = PredictOptions()
                options.sampledEstimator = est
                options.samplesPerClass = samples
                var wall: [Double] = [], cpu: [Double] = []
                var last: Prediction?
                let load0 = loadAverage()
                for _ in 0..<runs {
                    let c0 = clock(), t0 = Date()
                    last = try predict(spec: spec, starts: starts, options: options)
                    wall.append(Date().timeIntervalSince(t0))
                    cpu.append(Double(clock() - c0) / Double(CLOCKS_PER_SEC))
                }
                let p = last!
                print(
                    String(
                        format:
                            "%@: median %.2f s wall, %.2f s CPU (all threads) over %d runs (load average %@ before, %@ after); method %@, objective %.6f, CE %.5f, b %.4f, RMS feature norm %.4f, starts %@",
                        name, median(wall), median(cpu), runs, load0, loadAverage(), p.method, p.objective, p.crossEntropy,
                        p.classifierNorm,
                        p.rmsWordNorm, p.starts.map { String(format: "%.6f", $0) }.joined(separator: " ")))
                if p.method == "sampled" {
                    let s = p.wordNorms, n = s.count
                    var jag = 0.0, jagAt = 0
                    for b in max(1, n / 4)..<max(1, n - 1) where s[b] > 0 {
                        let v = abs(s[b - 1] - 2 * s[b] + s[b + 1]) / s[b]
                        if v > jag { jag = v; jagAt = b }
                    }
                    var runMin = Double.infinity, rises = 0
                    for v in s { if v > runMin * (1 + 1e-12) { rises += 1 }; runMin = min(runMin, v) }
                    var line = String(
                        format:
                            "  %@ estimator, %d samples per class: rare-rank jaggedness max |Δ²s|/s = %.3g (rank %d), %d ranks above a more frequent one",
                        est.rawValue, p.samplesPerClass ?? 0, jag, jagAt, rises)
                    if let se = p.wordNormsStandardError {
                        let rel = zip(se, s).map { $1 > 0 ? $0 / $1 : 0 }
                        let worst = rel.indices.max { rel[$0] < rel[$1] } ?? 0
                        line += String(
                            format: "; largest SE/s = %.3g%% (rank %d), SE/s at rank %d = %.3g%%", 100 * rel[worst], worst, n - 1,
                            100 * (rel.last ?? 0))
                    }
                    if let rho = p.rho { line += String(format: "; Σ‖w‖² = %.2f", Double(spec.nc) * rho.reduce(0) { $0 + $1 * $1 }) }
                    print(line)
                }
            }
        }
        print(
            "command: swift run -c release fcollapse-bench predict --presets \(presets) --runs \(runs) --starts \(starts) --estimators \(estimators)"
                + (samples.map { " --samples \($0)" } ?? ""))
    }
}

/// The 1-, 5- and 15-minute load averages (Linux), for quoting next to timings.
func loadAverage() -> String {
    guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
    return s.split(separator: " ").prefix(3).joined(separator: " ")
}
