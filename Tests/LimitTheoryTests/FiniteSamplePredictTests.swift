import ExperimentSpec
import Foundation
import GSLBridge
import LimitTheory
import TaskModel
import Testing

@Suite struct FiniteSamplePredictTests {
    @Test func smallSpecUsesTheExactAnalysis() throws {
        let spec = smallSpec()
        let p = try predict(spec: spec)
        let c = try finiteSampleCoefficients(spec: spec, prediction: p, starts: 3)
        #expect(c.method == "exact-small-instance")
        #expect(abs((c.withinConceptRatioCoefficient ?? 0) / 0.13886 - 1) < 0.01)  // SPEC 6, to 1%
        #expect(abs((c.objectiveGapCoefficient ?? 0) / -0.10432 - 1) < 0.01)
        #expect(c.nullSpaceDimension == 5 && c.expectedNullSpaceDimension == 5)
        // Every key is written, absent ones as null.
        let json = String(decoding: try JSONEncoder().encode(PredictionWithFiniteSample(prediction: p, finiteSample: c)), as: UTF8.self)
        #expect(
            json.contains("\"finite_sample\"") && json.contains("\"within_concept_ratio_coefficient\"") && json.contains("\"objective\""))
    }

    @Test func quickPresetMatchesTheSpecCoefficient() throws {
        // SPEC 6: on the quick preset's task (its own Z from seed 0, R_c = 0.34440157) P6's within-concept coefficient
        // is 2.03 (three digits printed, so ±0.005). Too large for the exact analysis (s_c^L = 20^6 tuples): decoupled.
        let spec = try #require(Spec.preset("quick"))
        var options = PredictOptions()
        options.includeClassifier = true
        let p = try predict(spec: spec, starts: 3, options: options)
        #expect(abs(p.objective - 0.34440157) < 1e-7)
        let c = try finiteSampleCoefficients(spec: spec, prediction: p)
        #expect(c.method == "decoupled-collapsed")
        let r = try #require(c.withinConceptRatioCoefficient)
        #expect(abs(r - 2.03) < 0.005, "ratio coefficient \(r)")
        #expect(c.objectiveGapCoefficient.map { $0 < 0 } == true && c.nullSpaceDimension == nil)
        #expect(c.expectedNullSpaceDimension == 2 * 8 - 3)  // a 2-D simplex span in R⁸
    }

    @Test func zipfAtScaleGivesTheRareWordSpread() throws {
        // The quick task with Zipf μ: too large for the exact analysis, not collapsed. The word-norm spread comes from the
        // rare-word approximation; the ratio and gap coefficients are absent, and the relative spread sd/ρ_β grows towards the
        // rare ranks (fewer sentences hold them: the variance falls like μ_β while ρ_β falls faster near the weight decay).
        var spec = try #require(Spec.preset("quick"))
        spec.wordFreq = .zipf
        let p = try predict(spec: spec)
        let c = try finiteSampleCoefficients(spec: spec, prediction: p)
        #expect(c.method == "rare-word-approximation")
        #expect(c.withinConceptRatioCoefficient == nil && c.objectiveGapCoefficient == nil)
        let sd = try #require(c.wordNormSdCoefficient), rho = try #require(p.wordNorms as [Double]?)
        #expect(sd.count == spec.sc && sd.allSatisfy { $0 > 0 && $0.isFinite })
        #expect(sd.last! / rho.last! > sd.first! / rho.first!)
    }

    @Test func idealisedLayerNormIsNotCovered() throws {
        let spec = smallSpec(freq: skewed, layerNorm: true, eps: 0)
        let c = try finiteSampleCoefficients(spec: spec, prediction: try predict(spec: spec))
        #expect(c.method == "unavailable" && c.withinConceptRatioCoefficient == nil && c.objectiveGapCoefficient == nil)
    }

    @Test func trivialMinimiserAboveTheThreshold() throws {
        // λ = 1.03 λc: θ* = 0, every rotation fixes it (orbit dimension 0), H is positive definite, the ratio is undefined,
        // and every sentence has the loss log K, so Σ̄ = 0 and the gap coefficient vanishes (to rounding of θ* ~ 1e-20).
        let spec = smallSpec(lambda: 1.03 * 2 / 162.0.squareRoot())
        let c = try finiteSampleCoefficients(spec: spec, prediction: try predict(spec: spec), starts: 2)
        #expect(c.withinConceptRatioCoefficient == nil && c.wordNormSdCoefficient == nil)
        #expect(c.expectedNullSpaceDimension == 0 && c.nullSpaceDimension == 0 && (c.smallestNormalEigenvalue ?? 0) > 0)
        #expect(abs(c.objectiveGapCoefficient ?? 1) < 1e-20)
    }
}
