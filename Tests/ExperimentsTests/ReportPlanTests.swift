import ExperimentSpec
import Foundation
import Experiments
import Testing

@Suite struct ReportPlanTests {
    @Test func namedPlansReadBackFromTheirJSON() throws {
        for name in ReportPlan.names {
            let p = try #require(ReportPlan.named(name))
            let back = try JSONDecoder().decode(ReportPlan.self, from: Data(p.jsonText.utf8))
            #expect(back.nspl == p.nspl && back.seeds == p.seeds && back.optimizer == p.optimizer)
            #expect(back.maxIterations == p.maxIterations && back.finiteSample == p.finiteSample && back.start == p.start)
            #expect(back.judgesLayerNormConvergence == p.judgesLayerNormConvergence)
            #expect(back.smallInstances == p.smallInstances && back.specPreset == p.specPreset)
            #expect(back.sweepBase == p.sweepBase)
        }
    }

    @Test func smallInstancesTakeTheSpecsParameters() throws {
        var s = Spec.preset("quick")!
        s.wordFreq = .zipf
        s.weightDecayW = 0.003
        s.weightDecayU = 0.002
        let d = SmallInstanceSource.derived(from: s)
        #expect(d.weightDecayW == 0.003 && d.weightDecayU == 0.002)
        // Zipf's three most frequent ranks, 1 : 1/2 : 1/3, renormalised.
        let expected = [6.0 / 11, 3.0 / 11, 2.0 / 11]
        #expect(zip(d.skewed, expected).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(d.layerNormEps == 1e-5)
        // Every check's instance carries those decays.
        for c in Report.smallInstances(d) {
            #expect(c.spec.weightDecayW == 0.003 && c.spec.weightDecayU == 0.002, "\(c.id)")
        }

        // Out of range: clamped to [1e-3, 0.05], and said so; a uniform μ keeps the default skewed μ; LayerNorm's ε is taken.
        s.weightDecayW = 1e-5
        s.weightDecayU = 0.5
        s.wordFreq = .uniform
        s.layerNorm = true
        s.layerNormEps = 1e-3
        let c = SmallInstanceSource.derived(from: s)
        #expect(c.weightDecayW == 1e-3 && c.weightDecayU == 0.05)
        #expect(c.derivation.contains("clamped"))
        #expect(c.skewed == [0.6, 0.3, 0.1])
        #expect(c.layerNormEps == 1e-3)

        // Ties among the top ranks would leave P3's ordering nothing to check: the default is kept.
        s.wordFreq = .weights([0.4, 0.2, 0.2] + Array(repeating: 0.2 / 17, count: 17))
        #expect(SmallInstanceSource.derived(from: s).skewed == [0.6, 0.3, 0.1])
    }

    @Test func spec44InstancesKeepSpec44sParameters() throws {
        let checks = Report.smallInstances(.spec44)
        let p2 = try #require(checks.first { $0.id == "p2-type-i-minimiser" })
        #expect(p2.spec.weightDecayW == 0.01 && p2.spec.weightDecayU == 0.01)
        let p1 = try #require(checks.first { $0.id == "p1-within-concept-collapse" })
        #expect(p1.spec.weightDecayW == 0.02)
    }

    @Test func aPlanFileBreakingARuleIsRefusedByName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("plan.json").path
        let quick = ReportPlan.named("quick")!
        let good = quick.jsonText
        for (edit, field) in [
            (good.replacingOccurrences(of: "\"seeds\" : \(quick.seeds)", with: "\"seeds\" : 0"), "seeds"),
            (good.replacingOccurrences(of: "\"spec\" : \"quick\"", with: "\"spec\" : \"nope\""), "spec"),
            (good.replacingOccurrences(of: "\"optimizer\" : \"full-batch\"", with: "\"optimizer\" : \"adam\""), "optimizer")
        ] {
            try edit.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(edit != good)
            do {
                _ = try ReportPlan.load(path: path)
                Issue.record("accepted a plan with a bad \(field)")
            } catch let e as ExperimentError {
                #expect(e.field.hasPrefix(path) && e.field.contains(field), "\(e)")
            }
        }
    }
}
