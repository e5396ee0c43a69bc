import ExperimentSpec
import Foundation
import Geometry
import GSLBridge
import LimitTheory
import Plots
import Training
import Comparison

/// The figures of the experiments: convergence curves of a table, and the pictures of one network.
public enum Figures {
    /// Convergence of one metric of a table: one series per regime, the mean over seeds with ±sd error
    /// bars (rows where the mean is not positive cannot be drawn on a log axis and are left out).
    public static func convergence(table: ConvergenceTable, metric: Metric, title: String? = nil) -> SVGPlot {
        let series = table.regimes.map { regime -> (name: String, points: [PlotPoint]) in
            let points = table.rows.filter { $0.regime == regime }.compactMap { r -> PlotPoint? in
                guard let s = r.metrics[metric], s.mean > 0 else { return nil }
                return PlotPoint(x: Double(r.nspl), y: s.mean, yError: s.count > 1 ? s.sd : nil)
            }
            let name = regime.settingName + (table.rate(regime: regime, metric: metric).map { " (slope " + SVGPlot.short($0.slope) + ")" } ?? "")
            return (name: name, points: points)
        }
        return CollapsePlots.convergence(series: series, metric: metric.rawValue, title: title)
    }

    /// Writes the figures of one network (PCA of words and classifier blocks, norm law) into a folder.
    @discardableResult
    public static func writeNetworkFigures(spec: Spec, parameters p: Parameters, prediction: Prediction?, into dir: String,
                                           prefix: String, title: String) throws -> [String] {
        let layout = try ConceptLayout(concepts: spec.nc, wordsPerConcept: spec.sc)
        let words = try Compare.features(p, spec: spec)
        let u = Matrix(rows: p.K, cols: p.L * p.d, data: p.U.map(Double.init))
        return try CollapsePlots.writeFigures(words: words, classifier: u, latents: BlockLayout(spec.latentVariables()), layout: layout,
                                              predictedRho: prediction?.wordNorms, into: dir, prefix: prefix, titleSuffix: title)
    }
}
