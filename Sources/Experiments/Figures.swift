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
    /// Convergence of one metric of a table on log-log axes: one series per regime, the mean over seeds
    /// with ±2 standard errors as error bars (rows whose mean is not positive cannot be drawn on a log axis
    /// and are left out; a negative metric such as the objective gap is drawn as −metric), and, where SPEC 6
    /// predicts the mean, the predicted line c/N.
    public static func convergence(table: ConvergenceTable, metric: Metric, title: String? = nil) -> SVGPlot {
        let rows = table.rows.filter { $0.metrics[metric] != nil }
        let negative = !rows.isEmpty && rows.allSatisfy { $0.metrics[metric]!.mean < 0 }
        let sign = negative ? -1.0 : 1.0
        var series: [(name: String, points: [PlotPoint])] = []
        for regime in table.regimes {
            let mine = table.rows.filter { $0.regime == regime }
            let points = mine.compactMap { r -> PlotPoint? in
                guard let s = r.metrics[metric], sign * s.mean > 0 else { return nil }
                return PlotPoint(x: Double(r.nspl), y: sign * s.mean, yError: s.count > 1 ? 2 * s.se : nil)
            }
            let name =
                regime.settingName + (table.rate(regime: regime, metric: metric).map { " (slope " + SVGPlot.short($0.slope) + ")" } ?? "")
            series.append((name: name, points: points))
            let predicted = mine.compactMap { r -> PlotPoint? in
                guard let p = r.predicted[metric], sign * p > 0 else { return nil }
                return PlotPoint(x: Double(r.nspl), y: sign * p)
            }
            if predicted.count >= 2 { series.append((name: regime.settingName + ", predicted (P6)", points: predicted)) }
        }
        let label = negative ? "−" + metric.rawValue : metric.rawValue
        return CollapsePlots.convergence(series: series, metric: label, title: title ?? "Convergence of \(label) (mean ± 2 SE)")
    }

    /// Writes the figures of one network (PCA of words and classifier blocks, norm law) into a folder; `normBand`, the
    /// half-widths per rank of the prediction's band in the norm-law figure.
    @discardableResult
    public static func writeNetworkFigures(
        spec: Spec, parameters p: Parameters, prediction: Prediction?, into dir: String,
        prefix: String, title: String, normBand: [Double]? = nil
    ) throws -> [String] {
        let layout = try ConceptLayout(concepts: spec.nc, wordsPerConcept: spec.sc)
        let words = try Compare.features(p, spec: spec)
        let u = Matrix(rows: p.K, cols: p.L * p.d, data: p.U.map(Double.init))
        return try CollapsePlots.writeFigures(
            words: words, classifier: u, latents: BlockLayout(spec.latentVariables()), layout: layout,
            predictedRho: prediction?.wordNorms, predictedBand: normBand, into: dir, prefix: prefix, titleSuffix: title)
    }
}
