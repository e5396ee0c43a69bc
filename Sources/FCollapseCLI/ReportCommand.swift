import ArgumentParser
import ExperimentSpec
import Experiments
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The toolkit's main job: predictions, theorem checks (verify), a convergence sweep, plots and a report.",
        discussion: """
            Writes DIR/README.md, a report that states for each statement P1 to P6 what was predicted, what was \
            measured, the tolerance and its source, and whether it holds, and for each negative control (the same criterion \
            outside the statement's hypotheses) that it does not hold; where no principled tolerance exists the check reports \
            its numbers and judges nothing ("reported, not judged"). DIR/checks.json holds every check; the tables, JSON and \
            SVG figures are beside it, with DIR/plan.json and DIR/spec.json, the plan and task it ran.

            The task is a spec file (SPEC) or a named plan's own task (--preset quick: the quick preset; --preset paper: fig3). \
            What the report sweeps (n_spl values, seeds, optimizer, iteration limits, P6's simulation sizes) is a plan: \
            --plan quick|paper|FILE (default: quick with a spec file, else the --preset's); `--show-plan NAME` prints a named \
            plan as JSON to edit. With a spec file, the statements that need an enumerable instance (P1-P4) run on SPEC 4.4's \
            shapes with the spec's weight decays, μ and LayerNorm ε (the report says which instance each check used).

            --shard i/n trains only the i-th of n slices of the convergence sweep (for a cluster array job, with the same \
            SPEC, plan and --out on a shared file system); the report run without --shard then finds those cells done. \
            The quick plan takes a few minutes on 2 cores; the paper plan trains at the paper's scale (hours). Rerunning \
            resumes the sweep.
            """
    )

    @Argument(help: "An experiment spec (JSON file): the report on your own task. See `fcollapse spec show quick`.")
    var spec: String?
    @Option(help: "A named plan with its own task, instead of a spec file: \(ReportPlan.names.joined(separator: ", ")).")
    var preset: String?
    @Option(help: "The plan: a name (\(ReportPlan.names.joined(separator: ", "))) or a JSON file as --show-plan prints.")
    var plan: String?
    @Option(help: "Print the named plan as JSON and exit.") var showPlan: String?
    @Option(
        help: "Train only shard i/n (1-based) of the convergence sweep, e.g. --shard $((SLURM_ARRAY_TASK_ID+1))/$SLURM_ARRAY_TASK_COUNT.")
    var shard: String = "1/1"
    @Option(help: "Output folder.") var out = "report"

    func validate() throws {
        if spec != nil && preset != nil { throw ValidationError("give either a spec file or --preset, not both") }
    }

    /// The plan asked for, on the task asked for.
    func resolvedPlan() throws -> ReportPlan {
        func named(_ n: String, _ option: String) throws -> ReportPlan {
            guard let p = ReportPlan.named(n) else {
                throw ValidationError("\(option) must be one of \(ReportPlan.names.joined(separator: ", ")) (got '\(n)')")
            }
            return p
        }
        var p: ReportPlan
        if let file = plan {
            p = ReportPlan.names.contains(file) ? try named(file, "--plan") : try ReportPlan.load(path: file)
        } else {
            p = try named(preset ?? "quick", "--preset")
        }
        if let spec {
            let s = try Spec.load(path: spec)
            return p.on(spec: s, invocation: "\(spec)" + (plan.map { " --plan \($0)" } ?? ""))
        }
        if let preset, plan != nil {
            // A named plan's task with another plan.
            let base = try named(preset, "--preset")
            p.sweepBase = base.sweepBase
            p.invocation = "--preset \(preset) --plan \(plan!)"
        } else if let preset {
            p.invocation = "--preset \(preset)"
        }
        return p
    }

    func run() throws {
        if let name = showPlan {
            guard let p = ReportPlan.named(name) else {
                throw ValidationError("--show-plan must be one of \(ReportPlan.names.joined(separator: ", ")) (got '\(name)')")
            }
            print(p.jsonText, terminator: "")
            return
        }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else {
            throw ValidationError("--shard must be i/n with 1 ≤ i ≤ n (got '\(shard)')")
        }
        let plan = try resolvedPlan()
        var report = Report(plan: plan, folder: out)
        let t0 = Date()
        report.progress = { printError(String(format: "[%5.0fs] ", Date().timeIntervalSince(t0)) + $0) }
        if parts[1] > 1 {
            let n = try report.runSweepShard(parts[0], of: parts[1])
            print(
                "fcollapse report: shard \(shard) of the convergence sweep done (\(n) cells) in \(out)/convergence; "
                    + "when every shard is done, run the same command without --shard to write the report")
            return
        }
        let outcome = try report.run()
        print("fcollapse report (\(plan.invocation)) — \(out)/README.md")
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
