import ArrayIO
import Geometry
import TestSupport
import Foundation
import GSLBridge
import TaskModel
import Testing

@Suite struct MetricsTests {
    static let nc = 3, sc = 5, d = 6, L = 4, K = 12

    static var latents: LatentVariables { LatentVariables.random(concepts: nc, length: L, count: K, seed: 11) }

    @Test func exactSimplexIsCollapsed() throws {
        for nc in [2, 3, 5] {
            let f = Fixtures.simplex(concepts: nc, dimension: 7)
            let layout = try ConceptLayout(concepts: nc, wordsPerConcept: 4)
            let w = Fixtures.words(f, rho: [1.7, 1.7, 1.7, 1.7])
            let nc1 = try WithinConceptVariability.compute(w, layout: layout)
            // The within-concept deviations are exact zeros up to rounding of 1.7·f (≈1e-16 per entry).
            #expect(abs(nc1.traceRatio) < 1e-20)
            #expect(abs(nc1.scatterRatio) < 1e-20)
            let nc2 = try ConceptGeometry.compute(w, layout: layout, predictedCosines: ConceptGeometry.simplexCosines(concepts: nc))
            let expected = -1 / Double(nc - 1)
            for i in 0..<nc {
                for j in 0..<nc where i != j {
                    // Cosines of O(1) vectors computed in double precision: 1e-12 leaves room for rounding.
                    #expect(abs(nc2.cosines[i][j] - expected) < 1e-12)
                }
                // Norm of a centred simplex vertex times 1.7 (the vertices sum to zero, centring changes nothing).
                #expect(abs(nc2.norms[i] - 1.7) < 1e-12)
            }
            #expect(nc2.normSpread < 1e-12)
            #expect(try #require(nc2.cosineMaxDeviation) < 1e-12)
        }
    }

    @Test func simplexPCAHasTheExpectedSingularValues() throws {
        // Centred simplex of n_c unit vectors, s_c words per vertex at norm a: Σ f fᵀ = n_c/(n_c−1)·P, so the
        // n_c−1 non-zero singular values all equal a·sqrt(s_c·n_c/(n_c−1)) (√600·a at paper scale).
        let nc = 3, sc = 40, a = 1.4
        let w = Fixtures.words(Fixtures.simplex(concepts: nc, dimension: 5), rho: [Double](repeating: a, count: sc))
        let pca = try PCA.compute(w)
        let sigma = a * (Double(sc * nc) / Double(nc - 1)).squareRoot()
        // SVD of a 120x5 matrix of O(1) entries: relative accuracy ~1e-14, tolerance 1e-10.
        #expect(abs(pca.singularValues[0] - sigma) < 1e-10 * sigma)
        #expect(abs(pca.singularValues[1] - sigma) < 1e-10 * sigma)
        #expect(pca.singularValues[2] < 1e-10 * sigma)
        #expect(pca.x.count == nc * sc)
        // Words of a concept share one point of the 2-D projection, at distance a from the origin.
        let r = (pca.x[0] * pca.x[0] + pca.y[0] * pca.y[0]).squareRoot()
        #expect(abs(r - a) < 1e-10)
    }

    @Test func nc1IsInvariantUnderRotation() throws {
        let layout = try ConceptLayout(concepts: Self.nc, wordsPerConcept: Self.sc)
        // Concept centres plus noise: not collapsed, Σ_B of full rank n_c − 1.
        let centres = Fixtures.words(Fixtures.simplex(concepts: Self.nc, dimension: Self.d), rho: [Double](repeating: 2, count: Self.sc))
        let w = Fixtures.plus(centres, Fixtures.gaussian(rows: layout.words, cols: Self.d, seed: 5, scale: 0.3))
        let q = try Fixtures.rotation(dimension: Self.d, seed: 9)
        let a = try WithinConceptVariability.compute(w, layout: layout)
        let b = try WithinConceptVariability.compute(w * q, layout: layout)
        #expect(a.traceRatio > 1e-3 && a.scatterRatio > 1e-3)
        // Rotation changes only rounding (~1e-15 relative); a pseudo-inverse of a well-conditioned Σ_B keeps it there.
        #expect(abs(a.traceRatio - b.traceRatio) < 1e-9 * a.traceRatio)
        #expect(abs(a.scatterRatio - b.scatterRatio) < 1e-12)
        // Translation invariance too (both are computed after centring).
        var shifted = w
        for i in 0..<w.rows { for j in 0..<w.cols { shifted[i, j] += Double(j) - 2.5 } }
        let c = try WithinConceptVariability.compute(shifted, layout: layout)
        #expect(abs(a.traceRatio - c.traceRatio) < 1e-9 * a.traceRatio)
        #expect(abs(a.scatterRatio - c.scatterRatio) < 1e-12)
    }

    @Test func nc1TraceMatchesAHandComputationInTwoDimensions() throws {
        // Two concepts in R^1, words −1 ± e and 1 ± e: m_0 = −1, m_1 = 1, m = 0, Σ_B = (1 + 1)/2 = 1,
        // Σ_W = 4e²/4 = e², so Tr(Σ_W Σ_B^†)/n_c = e²/2; the scatter ratio is 4e²/(4 + 4e²).
        let e = 0.1
        let w = Matrix(rows: 4, cols: 1, data: [-1 - e, -1 + e, 1 - e, 1 + e])
        let r = try WithinConceptVariability.compute(w, layout: try ConceptLayout(concepts: 2, wordsPerConcept: 2))
        // Closed forms evaluated in double precision: 1e-14.
        #expect(abs(r.traceRatio - e * e / 2) < 1e-14)
        #expect(abs(r.scatterRatio - e * e / (1 + e * e)) < 1e-14)
    }

    @Test func selfDualityAndDirectionResidualOfTypeII() throws {
        let f = Fixtures.simplex(concepts: Self.nc, dimension: Self.d)
        let rho = [3.0, 2.0, 1.5, 1.2, 1.0]
        let w = Fixtures.words(f, rho: rho)
        let u = Fixtures.classifier(f, latents: Self.latents, b: 0.4)
        let layout = try ConceptLayout(concepts: Self.nc, wordsPerConcept: Self.sc)
        let nc3 = try SelfDuality.compute(words: w, classifier: u, latents: Fixtures.blocks(Self.latents), layout: layout)
        // Aligned unit vectors: cosine 1 up to rounding.
        #expect(abs(nc3.meanCosine - 1) < 1e-12 && abs(nc3.minCosine - 1) < 1e-12)
        #expect(try DirectionResidual.compute(w, layout: layout) < 1e-12)
        // Type II is not NC1-collapsed: the norms differ inside a concept.
        #expect(try WithinConceptVariability.compute(w, layout: layout).scatterRatio > 0.01)

        // Blocks that read the wrong concept (shifted by one) have cosine −1/(n_c − 1).
        let wrong = Fixtures.classifier(f, latents: Self.latents.relabellingConcepts([1, 2, 0]), b: 0.4)
        let bad = try SelfDuality.compute(words: w, classifier: wrong, latents: Fixtures.blocks(Self.latents), layout: layout)
        #expect(abs(bad.meanCosine + 0.5) < 1e-12)

        // Bending one word away from its concept gives a positive residual.
        var bent = w
        bent[1, 3] += 1
        #expect(try DirectionResidual.compute(bent, layout: layout) > 1e-3)
    }

    @Test func normLawOnSyntheticRho() throws {
        let f = Fixtures.simplex(concepts: Self.nc, dimension: Self.d)
        let rho = (0..<Self.sc).map { 2 / Double($0 + 1).squareRoot() }
        let layout = try ConceptLayout(concepts: Self.nc, wordsPerConcept: Self.sc)
        let law = try NormLaw.compute(Fixtures.words(f, rho: rho), layout: layout, predicted: rho)
        for (m, r) in zip(law.measured, rho) { #expect(abs(m - r) < 1e-12) }  // norms of ρ·(unit vector)
        #expect(try #require(law.maxRelativeError) < 1e-12)
        // A prediction 10% too high at rank 2: relative error |1/1.1 − 1| there, 0 elsewhere.
        var off = rho
        off[2] *= 1.1
        let wrong = try NormLaw.compute(Fixtures.words(f, rho: rho), layout: layout, predicted: off)
        #expect(abs(try #require(wrong.maxRelativeError) - (1 - 1 / 1.1)) < 1e-12)
        #expect(try #require(wrong.relativeErrors)[0] < 1e-12)
        #expect(throws: GeometryError.self) { try NormLaw.compute(Fixtures.words(f, rho: rho), layout: layout, predicted: [1, 2]) }
    }

    @Test func gramDistanceIsScaleAwareAndShapeDistanceIsNot() throws {
        let layout = try ConceptLayout(concepts: Self.nc, wordsPerConcept: Self.sc)
        let f = Fixtures.simplex(concepts: Self.nc, dimension: Self.d)
        let predictedWords = Fixtures.words(f, rho: [Double](repeating: 1, count: Self.sc))
        let g = try ConceptGeometry.gram(ofWords: predictedWords, layout: layout)
        let t = 1.2
        let scaled = Fixtures.words(f, rho: [Double](repeating: t, count: Self.sc))
        let r = try ConceptGeometry.compute(scaled * (try Fixtures.rotation(dimension: Self.d, seed: 2)), layout: layout, predictedGram: g)
        // Norms scaled by t: G scales by t², relative distance |t² − 1|; the shape distance stays 0.
        #expect(abs(try #require(r.gramDistance) - (t * t - 1)) < 1e-12)
        #expect(try #require(r.gramShapeDistance) < 1e-12)
    }

    @Test func badShapesAreRejectedWithTheFieldNamed() throws {
        let layout = try ConceptLayout(concepts: 3, wordsPerConcept: 2)
        do {
            _ = try WithinConceptVariability.compute(Matrix(rows: 5, cols: 2), layout: layout)
            Issue.record("a 5-row W was accepted for n_w = 6")
        } catch let e as GeometryError {
            #expect(e.field == "W" && e.rule.contains("6"))
        }
        #expect(throws: GeometryError.self) { try ConceptLayout(concepts: 1, wordsPerConcept: 2) }
        let w = Fixtures.gaussian(rows: 6, cols: 2, seed: 1)
        let z = LatentVariables.random(concepts: 3, length: 2, count: 4, seed: 1)
        #expect(throws: GeometryError.self) {
            try SelfDuality.compute(words: w, classifier: Matrix(rows: 4, cols: 5), latents: Fixtures.blocks(z), layout: layout)
        }
    }

    @Test func collapseMetricsOfAnExactPredictionAndJSONRoundTrip() throws {
        let f = Fixtures.simplex(concepts: Self.nc, dimension: Self.d)
        let rho = [2.0, 1.5, 1.2, 1.1, 1.0]
        let wStar = Fixtures.words(f, rho: rho), uStar = Fixtures.classifier(f, latents: Self.latents, b: 0.3)
        let layout = try ConceptLayout(concepts: Self.nc, wordsPerConcept: Self.sc)
        let pred = try PredictedConfiguration.configuration(
            words: wStar, classifier: uStar, latents: Fixtures.blocks(Self.latents), layout: layout,
            rho: rho, objective: 0.5)
        let q = try Fixtures.rotation(dimension: Self.d, seed: 4)
        let m = try CollapseMetrics.compute(
            words: wStar * q,
            classifier: ClassifierBlocks.classifier(
                fromBlocks: ClassifierBlocks.blocks(uStar, length: Self.L) * q, length: Self.L),
            latents: Fixtures.blocks(Self.latents), concepts: Self.nc, wordsPerConcept: Self.sc, layerNorm: false, objective: 0.52,
            predicted: pred)
        // Everything is the prediction rotated: every deviation vanishes up to rounding (1e-10 is generous).
        let s = m.scalars
        for key: Metric in [
            .nc2CosineDeviation, .nc2GramDistance, .nc2GramShape, .nc3Gap, .directionResidual, .normLawMaxError,
            .procrustesWords, .procrustesJoint
        ] {
            #expect(try #require(s[key]) < 1e-10, "\(key) = \(s[key] ?? .nan)")
        }
        #expect(abs(try #require(s[.objectiveGap]) - 0.02) < 1e-12)
        #expect(m.singularValuesWords.count == Self.d && m.singularValuesBlocks.count == Self.d)

        let data = try JSONOutput.encode(m)
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        #expect(try dec.decode(CollapseMetrics.self, from: data) == m)
    }
}

@Suite struct TallSVDTests {
    @Test func qrRouteMatchesTheFullSVD() throws {
        let a = Fixtures.gaussian(rows: 300, cols: 10, seed: 12)
        let full = try LinearAlgebra.svd(a)
        let fast = try LinearAlgebra.singularValuesAndRightVectors(a)
        for (x, y) in zip(full.s, fast.s) { #expect(abs(x - y) < 1e-12 * full.s[0]) }  // both backward stable
        // Right singular vectors agree up to sign (distinct singular values of a Gaussian matrix).
        for k in 0..<10 {
            let dot = (0..<10).reduce(0.0) { $0 + full.v[$1, k] * fast.v[$1, k] }
            #expect(abs(abs(dot) - 1) < 1e-9)
        }
    }
}

@Suite struct WordFeaturesTests {
    @Test func layerNormCentresAndFollowsTheNormFormula() throws {
        let w = Fixtures.gaussian(rows: 8, cols: 5, seed: 21, scale: 0.3)
        let eps = 1e-2
        let f = try LayerNorm.apply(w, epsilon: eps)
        for i in 0..<w.rows {
            let row = Array(w.row(i)), mean = row.reduce(0, +) / 5
            let r = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }.squareRoot()
            let expected = 5.0.squareRoot() * r / (r * r + 5 * eps).squareRoot()  // SPEC §2: s(r)
            let got = Array(f.row(i))
            // Plain double arithmetic on O(1) numbers: 1e-12.
            #expect(abs(got.reduce(0, +)) < 1e-12)
            #expect(abs(got.reduce(0) { $0 + $1 * $1 }.squareRoot() - expected) < 1e-12)
        }
        #expect(try LayerNorm.features(w, layerNorm: false, epsilon: eps) == w)
        #expect(throws: GeometryError.self) { try LayerNorm.apply(w, epsilon: -1) }
    }
}
