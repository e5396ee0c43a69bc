import Foundation
import GSLBridge
import Geometry

/// The figures of the comparison: PCA scatters (paper figures 3 and 4), the norm law and convergence curves.
public enum CollapsePlots {
    /// PCA of the word vectors, one colour per concept (rows α·s_c + β).
    public static func wordPCA(_ pca: PCA, layout: ConceptLayout, title: String = "Word vectors (PCA)") -> SVGPlot {
        var series: [SVGPlot.Series] = []
        for a in 0..<layout.concepts {
            let rows = (0..<layout.wordsPerConcept).map { layout.row(concept: a, rank: $0) }.filter { $0 < pca.x.count }
            series.append(
                .init(
                    name: "concept \(a)", points: rows.map { PlotPoint(x: pca.x[$0], y: pca.y[$0]) },
                    markerRadius: 2.5, opacity: 0.6))
        }
        return SVGPlot(title: title, xLabel: axisLabel(pca, 0), yLabel: axisLabel(pca, 1), series: series, equalAspect: true)
    }

    /// PCA of the K·L classifier blocks, coloured by the concept z_{k,ℓ} each block reads. At most
    /// `maxPoints` blocks are drawn (every m-th block, deterministically) to keep the file small.
    public static func classifierPCA(
        _ pca: PCA, latents: BlockLayout, maxPoints: Int = 6000,
        title: String = "Classifier blocks (PCA)"
    ) -> SVGPlot {
        let concept = latents.storage.map { Int($0) }
        let n = min(concept.count, pca.x.count)
        let step = max(1, (n + maxPoints - 1) / max(1, maxPoints))
        var byConcept = [[PlotPoint]](repeating: [], count: latents.concepts)
        for i in Swift.stride(from: 0, to: n, by: step) { byConcept[concept[i]].append(PlotPoint(x: pca.x[i], y: pca.y[i])) }
        let series = byConcept.enumerated().map { a, pts in
            SVGPlot.Series(name: "reads concept \(a)", points: pts, markerRadius: 2.5, opacity: 0.6)
        }
        let shown = step > 1 ? " (every \(step)th of \(n) blocks)" : ""
        return SVGPlot(title: title + shown, xLabel: axisLabel(pca, 0), yLabel: axisLabel(pca, 1), series: series, equalAspect: true)
    }

    /// Writes the three figures of one trained network into `folder`, atomically: `<prefix>words-pca.svg`,
    /// `<prefix>blocks-pca.svg` and `<prefix>norm-law.svg` (W after ψ, U, the latent variables, and the
    /// predicted ρ_β when known). Returns the paths written.
    @discardableResult
    public static func writeFigures(
        words w: Matrix, classifier u: Matrix, latents: BlockLayout, layout: ConceptLayout,
        predictedRho rho: [Double]? = nil, predictedBand band: [Double]? = nil, into folder: String, prefix: String = "",
        titleSuffix: String = ""
    ) throws -> [String] {
        try layout.validate(words: w)
        try ClassifierBlocks.validate(u, latents: latents, dimension: w.cols, concepts: layout.concepts)
        let plots: [(String, SVGPlot)] = [
            ("words-pca.svg", wordPCA(try PCA.compute(w), layout: layout, title: "Word vectors (PCA)" + titleSuffix)),
            (
                "blocks-pca.svg",
                classifierPCA(
                    try PCA.ofClassifierBlocks(u, length: latents.length), latents: latents,
                    title: "Classifier blocks (PCA)" + titleSuffix)
            ),
            (
                "norm-law.svg",
                normLaw(norms: try NormLaw.norms(w, layout: layout), predicted: rho, band: band, title: "Norm law" + titleSuffix)
            )
        ]
        return try plots.map { name, plot in
            let path = URL(fileURLWithPath: folder).appendingPathComponent(prefix + name).path
            try plot.write(to: path)
            return path
        }
    }

    static func axisLabel(_ pca: PCA, _ k: Int) -> String {
        k < pca.singularValues.count ? "PC \(k + 1) (σ = \(SVGPlot.short(pca.singularValues[k])))" : "PC \(k + 1)"
    }

    /// Norm law: ‖w_{α,β}‖ of every word (faint, one colour per concept), their mean per rank (black), and the
    /// predicted ρ_β (red curve), against the rank β + 1 (log axis by default, as for Zipf frequencies). `band`, when
    /// given (one half-width per rank), is drawn as a red band ρ_β ± band_β around the prediction (the report draws
    /// ±2σ_β for the mean over concepts: the prediction's Monte Carlo error and the finite-sample spread of P6).
    /// `norms` is n_c x s_c as returned by ``NormLaw/norms(_:layout:)``.
    public static func normLaw(
        norms: Matrix, predicted rho: [Double]?, band: [Double]? = nil, xScale: SVGPlot.Scale = .log,
        title: String = "Norm law", yLabel: String = "word-vector norm ‖w_αβ‖"
    ) -> SVGPlot {
        var series: [SVGPlot.Series] = []
        if let rho, let band, band.count == rho.count {
            series.append(
                .init(
                    name: "ρ_β ± 2σ_β (mean over concepts)",
                    points: rho.enumerated().map { PlotPoint(x: Double($0.offset + 1), y: $0.element, yError: band[$0.offset]) },
                    style: .band, colour: "#d62728"))
        }
        for a in 0..<norms.rows {
            series.append(
                .init(
                    name: "concept \(a)", points: (0..<norms.cols).map { PlotPoint(x: Double($0 + 1), y: norms[a, $0]) },
                    markerRadius: 2, opacity: 0.45))
        }
        let mean = (0..<norms.cols).map { b in (0..<norms.rows).reduce(0.0) { $0 + norms[$1, b] } / Double(norms.rows) }
        series.append(
            .init(
                name: "mean over concepts", points: mean.enumerated().map { PlotPoint(x: Double($0.offset + 1), y: $0.element) },
                colour: "black", markerRadius: 3))
        if let rho {
            series.append(
                .init(
                    name: "predicted ρ_β", points: rho.enumerated().map { PlotPoint(x: Double($0.offset + 1), y: $0.element) },
                    style: .line, colour: "#d62728"))
        }
        return SVGPlot(title: title, xLabel: "rank β + 1", yLabel: yLabel, xScale: xScale, series: series)
    }

    /// Convergence curves on log-log axes from explicit series (name → points with optional error bars).
    public static func convergence(
        series: [(name: String, points: [PlotPoint])], metric: String,
        title: String? = nil
    ) -> SVGPlot {
        SVGPlot(
            title: title ?? "Convergence of \(metric)", xLabel: "n_spl (training sentences per class)", yLabel: metric,
            xScale: .log, yScale: .log,
            series: series.map { .init(name: $0.name, points: $0.points, style: .lineAndMarkers, markerRadius: 4) })
    }
}
