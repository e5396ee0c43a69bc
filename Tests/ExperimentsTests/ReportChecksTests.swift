import ExperimentSpec
import Experiments
import Foundation
import Testing

/// The report's verdicts on small instances: every statement holds and every negative control says
/// "does not hold" with the same criterion (the whole report, sweep included, is run by the CLI tests).
@Suite struct ReportChecksTests {
    @Test func statementsHoldAndControlsDoNot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let checks = try Report(plan: ReportPlan.named("quick")!, folder: dir).theoremChecks()
        let statements = checks.filter { $0.kind == .statement }, controls = checks.filter { $0.kind == .control }
        #expect(statements.count == 8)
        #expect(controls.count == 5)
        #expect(checks.allSatisfy { $0.kind != .reported })
        for c in statements { #expect(c.holds == true, "\(c.id): \(c.measured)") }
        for c in controls { #expect(c.holds == false, "control \(c.id) holds: \(c.measured)") }
        // P4's rotation symmetry and its control, with their records.
        for id in ["p4-layernorm-rotation-invariance", "control-p4-rotation-moving-ones"] {
            let c = try #require(checks.first { $0.id == id })
            #expect(FileManager.default.fileExists(atPath: dir + "/" + (c.record ?? "none")))
        }
        for c in checks {
            #expect(!c.tolerance.isEmpty && !c.toleranceSource.isEmpty, "\(c.id) lacks its tolerance or its source")
            #expect(c.id.unicodeScalars.allSatisfy { $0.isASCII }, "\(c.id)")
        }
    }
}
