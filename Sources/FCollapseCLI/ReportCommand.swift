import ArgumentParser
import Experiments
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The toolkit's main job: predictions, theorem checks (verify), a convergence sweep, plots and a report.",
        discussion: """
            Writes DIR/README.md, a report that states for each statement P1 to P5 what was predicted, what was \
            measured, the tolerance and its source, and whether it holds, and for each negative control (the same criterion \
            outside the statement's hypotheses) that it does not hold; where no principled tolerance exists the check reports \
            its numbers and judges nothing ("reported, not judged"). DIR/checks.json holds every check; the tables, JSON and \
            SVG figures are beside it. The quick preset takes a few minutes on 2 cores; the paper preset trains at the \
            paper's scale (hours). Rerunning resumes the sweep.
            """
    )

    @Option(help: "quick or paper.") var preset = "quick"
    @Option(help: "Output folder.") var out = "report"

    func run() throws {
        guard let plan = ReportPlan.named(preset) else {
            throw ValidationError("--preset must be one of \(ReportPlan.names.joined(separator: ", ")) (got '\(preset)')")
        }
        var report = Report(plan: plan, folder: out)
        let t0 = Date()
        report.progress = { printError(String(format: "[%5.0fs] ", Date().timeIntervalSince(t0)) + $0) }
        let outcome = try report.run()
        print("fcollapse report (\(preset)) — \(out)/README.md")
        for c in outcome.checks {
            let verdict =
                switch (c.kind, c.holds) {
                case (.statement, true): "holds "
                case (.statement, false): "FAILS "
                case (.control, false): "control, does not hold (as it must) "
                case (.control, true): "CONTROL HOLDS (it must not) "
                case (.reported, _): "reported, not judged "
                case (.statement, nil), (.control, nil): "NOT JUDGED "
                }
            print("\(verdict) \(c.statement)\n        \(c.measured)")
        }
        print(String(format: "done in %.0f s", Date().timeIntervalSince(t0)))
        if !outcome.passed { throw ExitCode(1) }
    }
}
