import ExperimentSpec
import Experiments
import Foundation
import LimitTheory
import Testing

/// The report's P6 check: its criterion on synthetic studies (each clause can fail on its own), and the report's P6
/// statements and negative controls run as the report runs them.
@Suite struct FiniteSampleCheckTests {
    /// A study whose means are c/N + offset(N) with standard error se(N); every set stationary and Ĥ_n positive definite.
    static func synthetic(
        ratioCoefficient: Double = 0.14, gapCoefficient: Double = -0.1, offset: (Int) -> Double = { _ in 0 },
        se: (Int) -> Double = { 0.1 / Double($0) }, positive: Int = 40, gradient: Double = 1e-10
    ) throws -> FiniteSampleStudy {
        let plan = try FiniteSamplePlan(nspl: [10, 40, 160, 640], sets: 40, judgedFrom: 40)
        let K = 9
        let rows = plan.nspl.map { n -> FiniteSampleStudy.Row in
            let N = K * n
            func s(_ c: Double) -> FiniteSampleStudy.Summary {
                .init(mean: c / Double(N) + offset(N) * (c < 0 ? -1 : 1), se: se(N), predicted: c / Double(N))
            }
            return FiniteSampleStudy.Row(
                nspl: n, sentences: N, withinConceptRatio: s(ratioCoefficient), objectiveGap: s(gapCoefficient),
                smallestEmpiricalNormalEigenvalue: positive == 40 ? 0.005 : -0.001, positiveDefiniteSets: positive,
                worstGradientNorm: gradient, sets: 40)
        }
        let coefficients = FiniteSampleCoefficients(
            withinConceptRatioCoefficient: ratioCoefficient, objectiveGapCoefficient: gapCoefficient,
            withinConceptRatioCoefficientSE: 0, objectiveGapCoefficientSE: 0, wordNormSdCoefficient: nil, nullSpaceDimension: 5,
            expectedNullSpaceDimension: 5, smallestNormalEigenvalue: 0.01, method: "exact-small-instance",
            withinConceptRatioAtOptimum: 0, collapseTolerance: 1e-8, nullTolerance: 1e-6, gradientNorm: 1e-13, hessianAsymmetry: 0,
            notes: [])
        return FiniteSampleStudy(
            instance: "synthetic", plan: plan, minimisation: "synthetic", coefficients: coefficients, rows: rows, ratioSlope: nil,
            gapSlope: nil, outcomes: [])
    }

    @Test func criterionHoldsOnTheExpansionAndFailsOffIt() throws {
        // Exactly c/N: holds.
        #expect(try Self.synthetic().judge().holds)
        // A next term a/N² (calibrated at n_spl = 10, N = 90, where it is measured with its SE): still holds at the judged
        // sizes, since B(N) scales it by (90/N)².
        #expect(try Self.synthetic(offset: { 5 / Double($0 * $0) }).judge().holds)
        // A 30% excess of the leading term (a wrong coefficient) at 10x the standard error: fails.
        #expect(try !Self.synthetic(offset: { 0.3 * 0.14 / Double($0) }, se: { 0.003 / Double($0) }).judge().holds)
        // Within 3 SE but Ĥ_n(θ*) indefinite on a set: SPEC 6's condition fails, so the check does.
        let indefinite = try Self.synthetic(positive: 39).judge()
        #expect(!indefinite.holds && indefinite.failures.contains { $0.contains("positive definite") })
        // θ_n not stationary to the bound.
        let unstationary = try Self.synthetic(gradient: 1e-6).judge()
        #expect(!unstationary.holds && unstationary.failures.contains { $0.contains("stationary") })
    }

    @Test func planRefusesSizesWithoutCalibrationOrJudgedRows() {
        #expect(throws: ExperimentError.self) { try FiniteSamplePlan(nspl: [40, 160], sets: 40, judgedFrom: 40) }
        #expect(throws: ExperimentError.self) { try FiniteSamplePlan(nspl: [10, 20], sets: 40, judgedFrom: 40) }
        #expect(throws: ExperimentError.self) { try FiniteSamplePlan(nspl: [10, 40], sets: 2, judgedFrom: 40) }
    }

    @Test(.timeLimit(.minutes(10))) func reportStatementsHoldAndControlsDoNot() throws {
        // SPEC 6's table by the report's own plan and instances: the statements hold, the controls (stopped early; just
        // below the threshold) do not, with the same criterion.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-p6-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (checks, studies) = try Report(plan: ReportPlan.named("quick")!, folder: dir).finiteSampleChecks()
        #expect(checks.filter { $0.kind == .statement }.count == 2 && checks.filter { $0.kind == .control }.count == 2)
        for c in checks {
            #expect(c.holds == (c.kind == .statement), "\(c.id): holds = \(c.holds): \(c.measured)")
            #expect(FileManager.default.fileExists(atPath: dir + "/" + (c.record ?? "none")), "\(c.id) has no record")
        }
        // SPEC 6's coefficients, and its table's rows to within their standard errors (the same construction).
        let uniform = try #require(studies.first { $0.id == "p6-finite-sample" }?.study)
        #expect(abs((uniform.coefficients.withinConceptRatioCoefficient ?? 0) / 0.13886 - 1) < 0.01)
        #expect(abs((uniform.coefficients.objectiveGapCoefficient ?? 0) / -0.10432 - 1) < 0.01)
        let row640 = try #require(uniform.rows.first { $0.nspl == 640 })
        #expect(abs(row640.withinConceptRatio.mean - 2.60e-5) < 3 * (row640.withinConceptRatio.se + 0.23e-5))
        #expect(abs(row640.objectiveGap.mean - -1.95e-5) < 3 * (row640.objectiveGap.se + 0.17e-5))
    }
}
