import ArgumentParser
import ArrayIO
import Comparison
import Experiments
import ExperimentSpec
import Foundation
import LimitTheory
import Training

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Set one trained network (a `fcollapse train --out DIR` folder) against the prediction for its spec.",
        discussion: "Writes comparison.json and the figures (PCA of words and classifier blocks, norm law) into the folder."
    )

    @Argument(
        help: "A run folder: spec.json, W.npy (n_w x d) and U.npy (K x L·d), float32 or float64; `fcollapse train --out DIR` writes one.")
    var checkpoint: String
    @Option(help: "Starts for the non-convex prediction.") var starts = defaultPredictStarts
    @Flag(help: "Print JSON instead of text.") var json = false
    @Flag(help: "Do not write figures.") var noFigures = false

    func run() throws {
        let runData = try RunFolder(checkpoint).loadNetwork()
        let spec = runData.spec
        printError("predicting the limit for \(spec.name ?? "the spec") (\(spec.regime.rawValue))")
        let prediction = try Compare.prediction(for: spec, starts: starts, progress: { printError("  " + $0) })
        let cmp = try Compare.compare(spec: spec, parameters: runData.parameters, prediction: prediction)
        try AtomicFile.writeJSON(cmp, to: checkpoint + "/comparison.json")
        var figures: [String] = []
        if !noFigures {
            figures = try Figures.writeNetworkFigures(
                spec: spec, parameters: runData.parameters, prediction: prediction,
                into: checkpoint, prefix: "", title: " — \(spec.name ?? "")")
        }
        if json {
            print(try JSONOutput.string(cmp), terminator: "")
            return
        }
        let m = cmp.metrics
        func f(_ x: Double?) -> String { x.map { String(format: "%.4g", $0) } ?? "-" }
        print(
            "\(spec.name ?? checkpoint): regime \(cmp.regime.rawValue), n_spl = \(cmp.nspl); prediction \(cmp.predictionMethod)\(cmp.predictionExact ? "" : " (approximation)")"
        )
        print("objective: empirical \(f(cmp.empiricalObjective)), predicted limit \(f(cmp.predictedObjective)), gap \(f(m.objectiveGap))")
        print("NC1 within-concept ratio \(f(m.nc1.scatterRatio)), Tr(Σ_W Σ_B^†)/n_c \(f(m.nc1.traceRatio))")
        print(
            "NC2 concept-mean norm spread \(f(m.nc2.normSpread)), max cosine deviation \(f(m.nc2.cosineMaxDeviation)), Gram distance \(f(m.nc2.gramDistance))"
        )
        print("NC3 self-duality mean cosine \(f(m.nc3.meanCosine)) (min \(f(m.nc3.minCosine)))")
        print("direction residual \(f(m.directionResidual)); norm law max relative error \(f(m.normLaw.maxRelativeError))")
        if let p = m.procrustes {
            print("Procrustes distance to the prediction: words \(f(p.words)), words+classifier \(f(p.jointCombined))")
        }
        let shown = min(5, cmp.predictedWordNorms.count)
        print(
            "word norms by rank β (measured / predicted): "
                + (0..<shown).map { "\(f(cmp.measuredWordNorms[$0]))/\(f(cmp.predictedWordNorms[$0]))" }.joined(separator: ", ")
                + (cmp.predictedWordNorms.count > shown ? ", ..." : ""))
        if !figures.isEmpty { print("figures: " + figures.joined(separator: ", ")) }
    }
}
