import ArgumentParser
import ExperimentSpec
import Foundation
import LimitTheory

/// Time of one limit-theory prediction at paper scale.
struct PredictBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Median wall and CPU time of one `predict` at paper scale (presets fig3, fig4c by default)."
    )
    @Option(help: "Comma-separated presets.") var presets = "fig3,fig4c"
    @Option(help: "Timed runs per preset (the median is reported).") var runs = 3
    @Option(help: "Starts per prediction.") var starts = defaultPredictStarts

    func run() throws {
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount)")
        for name in presets.split(separator: ",").map(String.init) {
            guard let spec = Spec.preset(name) else { throw ValidationError("unknown preset '\(name)'") }
            var wall: [Double] = [], cpu: [Double] = []
            var last: Prediction?
            for _ in 0..<runs {
                let c0 = clock(), t0 = Date()
                last = try predict(spec: spec, starts: starts)
                wall.append(Date().timeIntervalSince(t0))
                cpu.append(Double(clock() - c0) / Double(CLOCKS_PER_SEC))
            }
            let p = last!
            print(String(format: "%@: median %.2f s wall, %.2f s CPU (all threads) over %d runs; method %@, objective %.6f, CE %.5f, b %.4f, RMS feature norm %.4f, starts %@",
                         name, median(wall), median(cpu), runs, p.method, p.objective, p.crossEntropy, p.classifierNorm, p.rmsWordNorm,
                         p.starts.map { String(format: "%.6f", $0) }.joined(separator: " ")))
        }
        print("command: swift run -c release fcollapse-bench predict --presets \(presets) --runs \(runs) --starts \(starts)")
    }
}
