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
        #expect(statements.count == 7)
        #expect(controls.count == 4)
        for c in statements { #expect(c.holds, "\(c.id): \(c.measured)") }
        for c in controls { #expect(!c.holds, "control \(c.id) holds: \(c.measured)") }
        for c in checks {
            #expect(!c.tolerance.isEmpty && !c.toleranceSource.isEmpty, "\(c.id) lacks its tolerance or its source")
            #expect(c.id.unicodeScalars.allSatisfy { $0.isASCII }, "\(c.id)")
        }
    }
}
