import ArgumentParser
import ExperimentSpec
import Experiments
import Foundation

struct ConvergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "converge",
        abstract: "Train one network per (regime, n_spl, seed) and set each against the prediction: convergence tables and plots.",
        discussion: """
            Writes DIR/cells/*.json (one per finished cell), DIR/convergence.csv, .json, .md and \
            DIR/convergence-*.svg. Rerunning skips finished cells and resumes an SGD cell from its last report-epoch \
            checkpoint (DIR/in-flight/), so an interrupted sweep loses little. --shard i/n runs every n-th cell from the i-th, for a cluster array job; \
            `fcollapse merge DIR... --out ALL` joins the shards' tables.
            """
    )

    @OptionGroup var source: SpecSource
    @Option(help: "Training sentences per class, comma-separated.") var nspl = "5,10,20,50,100,200,500"
    @Option(
        help:
            "Regimes, comma-separated: uniform (type I), zipf (type II), zipf-ln (LayerNorm); type-I, type-II, layernorm are accepted too.")
    var regimes = "uniform,zipf,zipf-ln"
    @Option(help: "sgd (the reference protocol, step count held fixed) or full-batch (exact empirical-risk minimiser).")
    var optimizer: Optimizer = .sgd
    @Option(help: "Full-batch start: reference (the reference initialisation) or prediction (the predicted configuration).")
    var start = "reference"
    @Option(help: "Seeds per cell.") var seeds = 1
    @Flag(
        help: "Also record SPEC 6's predicted means (nc1_ratio_predicted, objective_gap_predicted = coefficient/N) in every cell and table."
    )
    var finiteSample = false
    @Flag(
        help:
            "With --optimizer full-batch --start prediction: also minimise each seed-0 cell from the reference initialisation and record whether both starts reach the same minimum (info start_check)."
    )
    var checkStart = false
    @Option(help: "Full-batch: BFGS iteration limit.") var maxIterations = 3000
    @Option(help: "Run one slice of the cells, i/n (1-based), e.g. for Slurm: --shard $((SLURM_ARRAY_TASK_ID+1))/$SLURM_ARRAY_TASK_COUNT")
    var shard: String = "1/1"
    @Option(help: "Output folder.") var out: String

    func run() throws {
        let spec = try source.load()
        let ns = try nspl.split(separator: ",").map { s -> Int in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw ValidationError("--nspl: '\(s)' is not a positive integer")
            }
            return n
        }
        let rs = try regimes.split(separator: ",").map { s -> Regime in
            guard let r = Regime(name: s.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--regimes: unknown regime '\(s)' (\(Regime.acceptedNames))")
            }
            return r
        }
        let opt = optimizer
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else {
            throw ValidationError("--shard must be i/n with 1 ≤ i ≤ n (got '\(shard)')")
        }
        guard let st = Start(rawValue: start) else {
            throw ValidationError("--start must be reference or prediction (got '\(start)')")
        }
        let plan = try SweepPlan(
            base: spec, nspl: ns, regimes: rs, seeds: seeds, optimizer: opt, maxIterations: maxIterations,
            start: st, finiteSample: finiteSample, checkStart: checkStart)
        for key in plan.cells {
            try plan.spec(for: key).checkMemory(for: opt == .sgd ? .train : .fullBatch)
        }
        let sweep = ConvergenceSweep(plan: plan, folder: out)
        sweep.progress = { printError($0) }
        let cells = plan.cells(shard: parts[0], of: parts[1])
        printError("converge: \(cells.count) of \(plan.cells.count) cells in shard \(shard), into \(out)")
        let ran = try sweep.run(shard: parts[0], of: parts[1])
        if !ran.heldElsewhere.isEmpty {
            printError(
                "converge: \(ran.heldElsewhere.count) cell(s) are being trained by another process; the table below lacks them until it finishes"
            )
        }
        let table = try ConvergenceSweep.writeTables(from: [out], into: out)
        print(table.markdown)
        printError("wrote \(out)/convergence.csv, convergence.json, convergence.md and convergence-*.svg")
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the cells of several `converge` folders (shards) into one convergence table."
    )

    @Argument(help: "Folders written by `fcollapse converge --out`.") var folders: [String]
    @Option(help: "Output folder for the merged tables.") var out: String

    func run() throws {
        guard !folders.isEmpty else { throw ValidationError("give at least one converge folder") }
        let table = try ConvergenceSweep.writeTables(from: folders, into: out)
        if !table.duplicates.isEmpty {
            printError("note: \(table.duplicates.count) cell(s) appeared in several folders with identical results")
        }
        print(table.markdown)
        printError("merged \(table.cells.count) cells from \(folders.count) folder(s) into \(out)")
    }
}
