import Comparison
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
    func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
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
        let w = Fixtures.plus(Fixtures.words(f, rho: [Double](repeating: 1, count: 20)), Fixtures.gaussian(rows: 60, cols: 6, seed: 1, scale: 0.05))
        let svg = CollapsePlots.wordPCA(try PCA.compute(w), layout: layout, title: "Words <&> \"PCA\"").render()
        let (ok, c) = SVGChecker.parse(svg)
        #expect(ok)
        #expect(c.root == "svg")
        // 60 word markers plus one legend marker per concept.
        #expect(c.counts["circle"] == 60 + 3)
        #expect(c.text.contains("Words <&> \"PCA\"") && c.text.contains("concept 2"))

        let z = LatentVariables.random(concepts: 3, length: 4, count: 30, seed: 2)
        let u = Fixtures.classifier(f, latents: z, b: 0.5)
        let blocks = CollapsePlots.classifierPCA(try PCA.ofClassifierBlocks(u, length: 4), latents: z, maxPoints: 60).render()
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

        let table = try ConvergenceTable.build(cells: ConvergenceTableTests.cells())
        let conv = CollapsePlots.convergence(table: table, metric: "nc1_ratio").render()
        let (ok2, c2) = SVGChecker.parse(conv)
        #expect(ok2)
        #expect(c2.counts["polyline"] == 3)  // one per regime
        #expect(c2.text.contains("type-II (slope -0.5)"))
        #expect(c2.counts["path", default: 0] == 3 * 7)  // error bars: three seeds per row
    }

    @Test func degenerateDataStillRenders() throws {
        let one = SVGPlot(title: "single", xLabel: "x", yLabel: "y", xScale: .log, yScale: .log,
                          series: [.init(name: "s", points: [PlotPoint(x: 10, y: 0.5), PlotPoint(x: 10, y: -1)])])
        #expect(SVGChecker.parse(one.render()).ok)
        let empty = SVGPlot(title: "empty", xLabel: "x", yLabel: "y")
        #expect(SVGChecker.parse(empty.render()).ok)
    }
}
