import ExperimentSpec
import Experiments
import Foundation
import GSLBridge
import Geometry
import TestSupport
import Testing

/// P5's criterion over seeds, its negative control (words regrouped across concepts), the rotation symmetry of P4 with its
/// control, and the reported kind of check: each criterion fails where it should.
@Suite struct ConvergenceChecksTests {
    static let sizes = [5, 20, 50, 100]

    /// Per-seed values C·n^p·exp(noise) at the four sizes, `seeds` seeds each.
    static func values(power p: Double, level: Double = 0.3, noise: Double = 0.3, seeds: Int = 3, seed: UInt64 = 1) -> [(
        nspl: Int, value: Double
    )] {
        let rng = RandomGenerator(seed: seed)
        return sizes.flatMap { n in (0..<seeds).map { _ in (n, level * pow(Double(n), p) * exp(noise * rng.gaussian())) } }
    }

    @Test func criterionHoldsOnAFallingRatioAndNotOnAFlatOne() {
        // A ratio ∝ 1/n_spl with 30% noise per seed: falls.
        let falling = ConvergenceCriterion.judge(ConvergenceCriterion.points(Self.values(power: -1)))
        #expect(falling.holds, "\(ConvergenceCriterion.slopeText(falling))")
        #expect(falling.slope.map { $0.low < -1 && $0.high > -1 } == true, "the interval covers the true slope −1")
        #expect(falling.slope?.dof == 2 && abs((falling.slope?.quantile ?? 0) - 4.303) < 1e-3)
        // A ratio that does not fall (flat at 0.5, the seeds' spread alone): does not hold.
        let flat = ConvergenceCriterion.judge(ConvergenceCriterion.points(Self.values(power: 0, level: 0.5, noise: 0.05)))
        #expect(!flat.holds, "\(ConvergenceCriterion.slopeText(flat))")
        // Rising: does not hold.
        #expect(!ConvergenceCriterion.judge(ConvergenceCriterion.points(Self.values(power: 0.5))).holds)
        // One seed per size: no spread over seeds, no verdict "holds" even for an exact 1/n_spl.
        let single = ConvergenceCriterion.judge(ConvergenceCriterion.points(Self.values(power: -1, noise: 0, seeds: 1)))
        #expect(!single.holds && single.slope == nil && single.unjudgeable != nil)
    }

    @Test func criterionOnATableMatchesItsRows() throws {
        // ConvergenceTableTests' cells: three seeds per row, uniform ratio ∝ n_spl^-1 exactly plus seed offsets.
        let table = try ConvergenceTable.build(cells: ConvergenceTableTests.cells())
        let points = ConvergenceCriterion.points(table, regime: .typeI, metric: .nc1Ratio)
        #expect(points.count == ConvergenceTableTests.sizes.count && points.allSatisfy { $0.count == 3 })
        let v = ConvergenceCriterion.judge(points)
        #expect(v.holds, "\(ConvergenceCriterion.slopeText(v))")
    }

    /// Features of n_c·s_c words near a collapsed configuration (each concept on one simplex vertex), perturbed by noise of
    /// size 1/√n: the empirical minimiser's picture under P5, cheaply, for several seeds per size.
    static func features(nspl n: Int, seed: UInt64) -> Matrix {
        let f = Fixtures.simplex(concepts: 3, dimension: 6)
        let w = Fixtures.words(f, rho: [Double](repeating: 2, count: 20))
        return Fixtures.plus(w, Fixtures.gaussian(rows: 60, cols: 6, seed: seed, scale: 1 / Double(n).squareRoot()))
    }

    @Test func interleavedGroupingIsANegativeControl() throws {
        func values(_ g: WordGrouping, direction: Bool = false) throws -> [(nspl: Int, value: Double)] {
            try Self.sizes.flatMap { n in
                try (0..<3 as Range<UInt64>).map { s in
                    let m = try g.metrics(Self.features(nspl: n, seed: 100 * UInt64(n) + s), concepts: 3, wordsPerConcept: 20)
                    return (n, direction ? m.directionResidual : m.ratio)
                }
            }
        }
        // The words of each concept are interchangeable: the ratio and the direction residual fall.
        #expect(ConvergenceCriterion.judge(ConvergenceCriterion.points(try values(.concepts))).holds)
        #expect(ConvergenceCriterion.judge(ConvergenceCriterion.points(try values(.concepts, direction: true))).holds)
        // Each group mixes words of every concept (they do not play the same role): the same criterion says no.
        let ratio = ConvergenceCriterion.judge(ConvergenceCriterion.points(try values(.interleaved)))
        #expect(!ratio.holds, "\(ConvergenceCriterion.slopeText(ratio))")
        #expect(ratio.points.allSatisfy { $0.mean > 0.9 })
        #expect(!ConvergenceCriterion.judge(ConvergenceCriterion.points(try values(.interleaved, direction: true))).holds)
        // Merged halves: the ratio tends to a positive limit (1/2 at a simplex), not to 0; the noise adds to it at small n.
        let merged = ConvergenceCriterion.points(try values(.mergedHalves))
        #expect(merged.allSatisfy { $0.mean > 0.45 }, "\(merged)")
        #expect(abs((merged.last?.mean ?? 0) - 0.5) < 0.03, "\(merged)")
    }

    @Test func groupingsArePermutationsAndTheConceptsGroupingIsTheMetric() throws {
        for g in WordGrouping.allCases {
            for (nc, sc) in [(3, 20), (3, 7), (4, 5)] {
                let order = g.rowOrder(concepts: nc, wordsPerConcept: sc)
                #expect(order.sorted() == Array(0..<(nc * sc)), "\(g) \(nc)x\(sc)")
            }
        }
        let w = Self.features(nspl: 20, seed: 7)
        let layout = try ConceptLayout(concepts: 3, wordsPerConcept: 20)
        let m = try WordGrouping.concepts.metrics(w, concepts: 3, wordsPerConcept: 20)
        #expect(m.ratio == (try WithinConceptVariability.compute(w, layout: layout).scatterRatio))
        #expect(m.directionResidual == (try DirectionResidual.compute(w, layout: layout)))
        // Interleaved: word r in group r mod 3.
        let order = WordGrouping.interleaved.rowOrder(concepts: 3, wordsPerConcept: 20)
        #expect(Array(order.prefix(3)) == [0, 3, 6] && order[20] == 1)
    }

    @Test func rotationFixingOnesKeepsTheOutputAndOneMovingOnesDoesNot() throws {
        let spec = Report.rotationInstance
        let fixing = try RotationInvariance.run(spec: spec, fixesOnes: true)
        #expect(fixing.largestRatio <= 1, "max |Δy| \(fixing.maxDifference), bound from \(fixing.boundMin)")
        #expect(fixing.onesDisplacement < 1e-14 && fixing.maxDifference < 1e-13)
        let moving = try RotationInvariance.run(spec: spec, fixesOnes: false)
        #expect(moving.largestRatio > 1e6 && moving.onesDisplacement > 0.1)
        // Same inputs, same tolerance: the bound does not depend on which rotation is judged.
        #expect(moving.boundMin == fixing.boundMin && moving.boundMax == fixing.boundMax)
        // Other draws of W, U and Q.
        for seed in [1, 2, 3] as [UInt64] {
            #expect(try RotationInvariance.run(spec: spec, fixesOnes: true, seed: seed).largestRatio <= 1)
            #expect(try RotationInvariance.run(spec: spec, fixesOnes: false, seed: seed).largestRatio > 1)
        }
    }

    @Test func reportedChecksJudgeNothingAndChecksJSONStaysReadable() throws {
        let r = Check.reported(
            id: "r", statement: "s", instance: "i", predicted: "p", measured: "m", reported: "numbers", why: "no bound")
        #expect(r.kind == .reported && r.holds == nil && r.asExpected == nil)
        #expect(r.tolerance.hasPrefix("reported, not judged") && r.toleranceSource == "no bound")
        // A reported check cannot carry a verdict.
        #expect(
            Check(
                id: "r", statement: "s", kind: .reported, instance: "i", predicted: "p", measured: "m", tolerance: "t",
                toleranceSource: "w", holds: true
            ).holds == nil)
        let statement = Check(
            id: "a", statement: "s", instance: "i", predicted: "p", measured: "m", tolerance: "t", toleranceSource: "w", holds: true)
        let control = Check(
            id: "b", statement: "s", kind: .control, instance: "i", predicted: "p", measured: "m", tolerance: "t",
            toleranceSource: "w", holds: true)
        #expect(statement.asExpected == true && control.asExpected == false)

        let data = try JSONEncoder().encode([statement, r])
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(json[0]["holds"] as? Bool == true)
        #expect(json[1]["holds"] is NSNull, "a reported check writes holds: null")
        #expect(json[1]["kind"] as? String == "reported")
        #expect(try JSONDecoder().decode([Check].self, from: data) == [statement, r])
        // checks.json written before reported checks existed.
        let old =
            #"[{"id":"x","statement":"s","kind":"control","instance":"i","predicted":"p","measured":"m","tolerance":"t","tolerance_source":"w","holds":false}]"#
        let decoded = try JSONDecoder().decode([Check].self, from: Data(old.utf8))
        #expect(decoded.first?.holds == false && decoded.first?.asExpected == true)
        // A statement or control without a verdict is refused.
        let bad =
            #"[{"id":"x","statement":"s","kind":"statement","instance":"i","predicted":"p","measured":"m","tolerance":"t","tolerance_source":"w","holds":null}]"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Check].self, from: Data(bad.utf8)) }

        // The outcome passes with reported checks whatever they say, and fails on a control that holds.
        var outcome = Report.Outcome()
        outcome.checks = [statement, r]
        #expect(outcome.passed)
        outcome.checks.append(control)
        #expect(!outcome.passed)
    }

    @Test func normLawBandCombinesThePredictionsErrorAndTheFiniteSampleSpread() throws {
        let band = try #require(
            NormLawComparison.band(predictionSE: [0.03, 0.04], spreadCoefficient: [4, 3], sentences: 100, concepts: 4))
        // 2·sqrt(se² + c²/(N·n_c)): 2·sqrt(0.0009 + 0.04) and 2·sqrt(0.0016 + 0.0225).
        #expect(abs(band[0] - 2 * (0.0009 + 0.04).squareRoot()) < 1e-12)
        #expect(abs(band[1] - 2 * (0.0016 + 0.0225).squareRoot()) < 1e-12)
        #expect(NormLawComparison.band(predictionSE: nil, spreadCoefficient: nil, sentences: 1, concepts: 1) == nil)
    }
}
