import Comparison
import ExperimentSpec
import Experiments
import Geometry
import Plots
import TestSupport
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import GSLBridge
import TaskModel
import Testing

/// Counts elements and collects text while checking that the document is well-formed XML.
final class SVGChecker: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var text = ""
    var root: String?
    func parser(
        _ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        if root == nil { root = name }
        counts[name, default: 0] += 1
    }
    // Character data may arrive in pieces (entities, non-ASCII): join pieces, separate elements.
    func parser(_ p: XMLParser, foundCharacters s: String) { text += s }
    func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { text += "\n" }

    static func parse(_ svg: String) -> (ok: Bool, checker: SVGChecker) {
        let c = SVGChecker()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = c
        return (p.parse(), c)
    }
}

@Suite struct SVGPlotTests {
    @Test func pcaScattersAreWellFormedWithOneMarkerPerPoint() throws {
        let layout = try ConceptLayout(concepts: 3, wordsPerConcept: 20)
        let f = Fixtures.simplex(concepts: 3, dimension: 6)
        let w = Fixtures.plus(
            Fixtures.words(f, rho: [Double](repeating: 1, count: 20)), Fixtures.gaussian(rows: 60, cols: 6, seed: 1, scale: 0.05))
        let svg = CollapsePlots.wordPCA(try PCA.compute(w), layout: layout, title: "Words <&> \"PCA\"").render()
        let (ok, c) = SVGChecker.parse(svg)
        #expect(ok)
        #expect(c.root == "svg")
        // 60 word markers plus one legend marker per concept.
        #expect(c.counts["circle"] == 60 + 3)
        #expect(c.text.contains("Words <&> \"PCA\"") && c.text.contains("concept 2"))

        let z = LatentVariables.random(concepts: 3, length: 4, count: 30, seed: 2)
        let u = Fixtures.classifier(f, latents: z, b: 0.5)
        let blocks = CollapsePlots.classifierPCA(try PCA.ofClassifierBlocks(u, length: 4), latents: try BlockLayout(z), maxPoints: 60)
            .render()
        let (ok2, c2) = SVGChecker.parse(blocks)
        #expect(ok2)
        // 120 blocks thinned to every 2nd: 60 markers, plus 3 legend markers.
        #expect(c2.counts["circle"] == 60 + 3)
    }

    @Test func normLawAndConvergencePlotsAreWellFormed() throws {
        let layout = try ConceptLayout(concepts: 3, wordsPerConcept: 30)
        let rho = (0..<30).map { 1 + 1 / Double($0 + 1) }
        let w = Fixtures.words(Fixtures.simplex(concepts: 3, dimension: 4), rho: rho)
        let svg = CollapsePlots.normLaw(norms: try NormLaw.norms(w, layout: layout), predicted: rho).render()
        let (ok, c) = SVGChecker.parse(svg)
        #expect(ok)
        #expect(c.counts["polyline"] == 1)  // the predicted curve
        #expect(c.text.contains("predicted ρ_β") && c.text.contains("rank β + 1"))
        // With the prediction's band: one filled polygon and its legend entry.
        let banded = CollapsePlots.normLaw(
            norms: try NormLaw.norms(w, layout: layout), predicted: rho, band: [Double](repeating: 0.05, count: 30)
        ).render()
        let (okBand, cBand) = SVGChecker.parse(banded)
        #expect(okBand)
        #expect(cBand.counts["polygon"] == 1 && cBand.counts["polyline"] == 1)
        #expect(cBand.text.contains("ρ_β ± 2σ_β"))

        let table = try ConvergenceTable.build(cells: ConvergenceTableTests.cells())
        let conv = Figures.convergence(table: table, metric: .nc1Ratio).render()
        let (ok2, c2) = SVGChecker.parse(conv)
        #expect(ok2)
        #expect(c2.counts["polyline"] == 3)  // one per regime
        #expect(c2.text.contains("zipf (slope -0.5)"))
        #expect(c2.counts["path", default: 0] == 3 * 7)  // error bars: three seeds per row
    }

    @Test func degenerateDataStillRenders() throws {
        let one = SVGPlot(
            title: "single", xLabel: "x", yLabel: "y", xScale: .log, yScale: .log,
            series: [.init(name: "s", points: [PlotPoint(x: 10, y: 0.5), PlotPoint(x: 10, y: -1)])])
        #expect(SVGChecker.parse(one.render()).ok)
        let empty = SVGPlot(title: "empty", xLabel: "x", yLabel: "y")
        #expect(SVGChecker.parse(empty.render()).ok)
    }
}

@Suite struct SVGFileTests {
    /// Writes the four kinds of figure atomically, into $FC_PLOT_DIR when set (to look at them), else into a
    /// temporary folder that is removed afterwards.
    @Test func plotsAreWrittenAtomically() throws {
        let keep = ProcessInfo.processInfo.environment["FC_PLOT_DIR"]
        let dir =
            keep
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("fc-plots-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            .path
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }

        let layout = try ConceptLayout(concepts: 3, wordsPerConcept: 100)
        let f = Fixtures.simplex(concepts: 3, dimension: 10)
        // Zipf-like type II with noise: norms fall with rank, directions slightly spread.
        let rho = (0..<100).map { 1.5 - 0.25 * log(Double($0 + 1)) }
        let w = Fixtures.plus(Fixtures.words(f, rho: rho), Fixtures.gaussian(rows: 300, cols: 10, seed: 1, scale: 0.03))
        let z = LatentVariables.random(concepts: 3, length: 5, count: 200, seed: 2)
        let u = Fixtures.plus(Fixtures.classifier(f, latents: z, b: 0.3), Fixtures.gaussian(rows: 200, cols: 50, seed: 3, scale: 0.02))
        // Noisy power laws over six decades, with visible error bars.
        let rng = RandomGenerator(seed: 4)
        let noisy = [(Regime.typeI, -2.0), (Regime.layerNorm, -1.0)].flatMap { (regime: Regime, p: Double) -> [ConvergenceCell] in
            ConvergenceTableTests.sizes.flatMap { n in
                (0..<5 as Range<UInt64>).map { seed -> ConvergenceCell in
                    ConvergenceCell(
                        regime: regime, nspl: n, seed: seed, metrics: [.nc1Trace: 30 * pow(Double(n), p) * exp(0.4 * rng.gaussian())])
                }
            }
        }
        let files = [
            ("words-pca.svg", CollapsePlots.wordPCA(try PCA.compute(w), layout: layout)),
            ("blocks-pca.svg", CollapsePlots.classifierPCA(try PCA.ofClassifierBlocks(u, length: 5), latents: try BlockLayout(z))),
            ("norm-law.svg", CollapsePlots.normLaw(norms: try NormLaw.norms(w, layout: layout), predicted: rho)),
            (
                "convergence.svg",
                Figures.convergence(table: try ConvergenceTable.build(cells: ConvergenceTableTests.cells()), metric: .nc1Ratio)
            ),
            ("convergence-noisy.svg", Figures.convergence(table: try ConvergenceTable.build(cells: noisy), metric: .nc1Trace))
        ]
        for (name, plot) in files {
            let path = URL(fileURLWithPath: dir).appendingPathComponent(name).path
            try plot.write(to: path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text == plot.render())
            #expect(SVGChecker.parse(text).ok)
        }
        let table = try ConvergenceTable.build(
            cells: noisy.map {
                var c = $0; c.seed += 100; return c
            } + ConvergenceTableTests.cells())
        try table.write(into: dir)
        for name in ["convergence.csv", "convergence.json", "convergence.md"] {
            #expect(FileManager.default.fileExists(atPath: URL(fileURLWithPath: dir).appendingPathComponent(name).path))
        }
        let written = try CollapsePlots.writeFigures(
            words: w, classifier: u, latents: try BlockLayout(z), layout: layout, predictedRho: rho,
            into: dir, prefix: "net-", titleSuffix: " (synthetic)")
        #expect(written.count == 3)
        for path in written { #expect(SVGChecker.parse(try String(contentsOfFile: path, encoding: .utf8)).ok) }
        // No temporary file left beside the plots.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasPrefix(".") })
    }
}
