import ArrayIO
import ExperimentSpec
import Foundation
import LimitTheory
import TaskModel
import Training

/// The three regimes a convergence sweep runs (`--regimes uniform,zipf,zipf-ln`).
public enum SweepRegime: String, Codable, Sendable, CaseIterable {
    case uniform
    case zipf
    case zipfLN = "zipf-ln"

    /// The base spec in this regime: μ and LayerNorm set, everything else kept.
    public func apply(to base: Spec) -> Spec {
        var s = base
        switch self {
        case .uniform: s.wordFreq = .uniform; s.layerNorm = false
        case .zipf: s.wordFreq = .zipf; s.layerNorm = false
        case .zipfLN: s.wordFreq = .zipf; s.layerNorm = true
        }
        return s
    }
}

/// How the networks of a sweep are trained.
public enum SweepOptimizer: String, Codable, Sendable, CaseIterable {
    /// The reference SGD protocol; the number of SGD steps is held at the base spec's
    /// (num_epochs · nspl / n_spl epochs, at least 1), as the paper's runs fig3 and fig4a do.
    case sgd
    /// Full-batch minimisation of the exact empirical risk (gsl_multimin BFGS2).
    case fullBatch = "full-batch"
}

/// Where a full-batch minimisation starts.
public enum SweepStart: String, Codable, Sendable, CaseIterable {
    /// The reference initialisation (PyTorch defaults / 1000), as SGD does.
    case reference
    /// The predicted limit configuration: the minimiser nearest the prediction, found fast; the
    /// objective gap then measures how far the empirical minimum has moved from the limit.
    case prediction
}

/// A convergence sweep: one network per (regime, n_spl, seed), each set against the prediction.
public struct SweepPlan: Codable, Sendable, Equatable {
    public var base: String  // the base spec's JSON text
    public var nspl: [Int]
    public var regimes: [SweepRegime]
    public var seeds: Int
    public var optimizer: SweepOptimizer
    /// Full-batch: BFGS iteration limit and gradient tolerance.
    public var maxIterations: Int
    public var gradientTolerance: Double
    public var starts: Int
    /// Full-batch: where BFGS starts.
    public var start: SweepStart

    public init(base: Spec, nspl: [Int], regimes: [SweepRegime], seeds: Int, optimizer: SweepOptimizer,
                maxIterations: Int = 3000, gradientTolerance: Double = 1e-7, starts: Int = defaultPredictStarts,
                start: SweepStart = .reference) throws {
        guard !nspl.isEmpty, nspl.allSatisfy({ $0 >= 1 }) else {
            throw SweepError("--nspl must list positive integers (got \(nspl))")
        }
        guard !regimes.isEmpty else { throw SweepError("--regimes must name at least one of uniform, zipf, zipf-ln") }
        guard seeds >= 1 else { throw SweepError("--seeds must be at least 1 (got \(seeds))") }
        if regimes.contains(.zipfLN) && base.d < base.nc {
            throw SweepError("regime zipf-ln needs d ≥ nc (spec has d = \(base.d), nc = \(base.nc))")
        }
        self.base = base.jsonText
        self.nspl = Array(Set(nspl)).sorted()
        self.regimes = regimes
        self.seeds = seeds
        self.optimizer = optimizer
        self.maxIterations = maxIterations
        self.gradientTolerance = gradientTolerance
        self.starts = starts
        self.start = start
    }

    public var baseSpec: Spec { try! Spec.parse(json: Data(base.utf8)) }

    /// The cells in a fixed order: regime, then seed, then n_spl.
    public var cells: [ConvergenceCell.Key] {
        var out: [ConvergenceCell.Key] = []
        for r in regimes { for s in 0..<seeds { for n in nspl { out.append(.init(regime: r.rawValue, nspl: n, seed: UInt64(s))) } } }
        return out
    }

    /// The cells of shard i of n (1-based): every n-th cell starting at the i-th.
    public func cells(shard: Int, of count: Int) -> [ConvergenceCell.Key] {
        cells.enumerated().filter { $0.offset % count == shard - 1 }.map(\.element)
    }

    /// The spec of one cell: the regime applied, n_spl set, the seed offset (which changes the latent
    /// variables, data and initialisation), and for SGD the epochs scaled to keep the step count.
    public func spec(for key: ConvergenceCell.Key) -> Spec {
        let base = baseSpec
        var s = SweepRegime(rawValue: key.regime)!.apply(to: base)
        s.nspl = key.nspl
        s.seed = base.seed &+ key.seed
        if optimizer == .sgd {
            s.numEpochs = max(1, Int((Double(base.numEpochs) * Double(base.nspl) / Double(key.nspl)).rounded()))
        }
        s.name = "\(base.name ?? "sweep")-\(key.regime)-nspl\(key.nspl)-seed\(key.seed)"
        return s
    }

    /// The spec whose prediction a cell is compared with (n_spl does not enter the limit).
    public func predictionSpec(regime: String, seed: UInt64) -> Spec {
        var s = spec(for: .init(regime: regime, nspl: nspl[0], seed: seed))
        s.name = "\(baseSpec.name ?? "sweep")-\(regime)-seed\(seed)"
        return s
    }
}

public struct SweepError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Runs a sweep into a folder, resumably: each finished cell is a JSON file there and is skipped
/// on a rerun; predictions are cached in `predictions/`.
public final class ConvergenceSweep {
    public let plan: SweepPlan
    public let folder: String
    public var progress: ((String) -> Void)?

    public init(plan: SweepPlan, folder: String) { self.plan = plan; self.folder = folder }

    var cellsFolder: String { folder + "/cells" }

    /// Checks that the folder holds this sweep (or nothing), and records the plan.
    public func prepare() throws {
        let planPath = folder + "/plan.json"
        if let data = FileManager.default.contents(atPath: planPath) {
            let old = try JSONDecoder().decode(SweepPlan.self, from: data)
            guard old == plan else {
                throw SweepError("\(folder) holds a different sweep (its plan.json differs): use another --out folder, or delete it")
            }
        } else {
            try AtomicFile.writeJSON(plan, to: planPath)
        }
    }

    /// The prediction for (regime, seed), computed once and cached.
    public func prediction(regime: String, seed: UInt64) throws -> Prediction {
        let path = "\(folder)/predictions/\(regime)-seed\(seed).json"
        if let data = FileManager.default.contents(atPath: path) {
            return try JSONDecoder().decode(Prediction.self, from: data)
        }
        let spec = plan.predictionSpec(regime: regime, seed: seed)
        progress?("predicting \(regime), seed \(seed)")
        let p = try Compare.prediction(for: spec, starts: plan.starts)
        try AtomicFile.writeJSON(p, to: path)
        return p
    }

    /// The checkpoint folder of an SGD cell in flight (removed once the cell is written).
    public func runFolder(_ key: ConvergenceCell.Key) -> String {
        "\(folder)/in-flight/\(key.regime)-nspl\(key.nspl)-seed\(key.seed)"
    }

    /// Trains and compares one cell (does not look at the cache).
    public func runCell(_ key: ConvergenceCell.Key) throws -> ConvergenceCell {
        let spec = plan.spec(for: key)
        let t0 = Date()
        let prediction = try prediction(regime: key.regime, seed: key.seed)
        let params: Parameters
        var info: [String: String] = ["optimizer": plan.optimizer.rawValue, "prediction_method": prediction.method,
                                      "prediction_exact": String(prediction.exact)]
        switch plan.optimizer {
        case .sgd:
            // Checkpointed at every report epoch, so that an interrupted cell resumes where it stopped
            // (exactly: the Trainer's resume is bit-for-bit) instead of starting over.
            let runDir = runFolder(key)
            var resumed: Checkpoint.State? = nil
            if FileManager.default.fileExists(atPath: runDir + "/checkpoint.json") {
                let (stored, state) = try Checkpoint.load(from: runDir)
                if stored == spec {
                    resumed = state
                    progress?("    \(key.description): resuming from the checkpoint at epoch \(state.epoch)")
                }
            }
            let trainer = Trainer(spec: spec, resuming: resumed)
            let report = progress
            try trainer.train(progress: { event in
                if case .epoch(let r, true) = event {
                    report?(String(format: "    %@: epoch %d/%d, train loss %.4f, train acc %.1f%%%@", key.description, r.epoch,
                                   spec.numEpochs, r.trainLoss, 100 * r.trainAccuracy,
                                   r.testAccuracy.map { String(format: ", test acc %.1f%%", 100 * $0) } ?? ""))
                }
            }, onReport: { t in
                try Checkpoint.save(t.state, spec: spec, summary: t.summary(), to: runDir)
            })
            params = trainer.parameters
            info["epochs"] = String(spec.numEpochs)
            info["test_accuracy"] = String(trainer.history.last?.testAccuracy ?? .nan)
        case .fullBatch:
            let fb = FullBatchTrainer(spec: spec)
            let start = plan.start == .prediction
                ? try Compare.parameters(at: prediction, spec: spec, latents: spec.latentVariables()) : nil
            info["start"] = start == nil ? "reference" : "prediction"
            let report = progress
            let r = try fb.minimise(from: start, maxIterations: plan.maxIterations, gradientTolerance: plan.gradientTolerance,
                                    progress: { it, value in
                                        if it % 500 == 0 { report?(String(format: "    %@: BFGS iteration %d, objective %.8f", key.description, it, value)) }
                                    })
            params = r.parameters
            info["iterations"] = String(r.summary.epochs)
            info["stop"] = r.summary.stopReason ?? ""
            info["gradient_norm"] = String(r.summary.gradientNorm ?? .nan)
            info["test_accuracy"] = String(r.summary.testAccuracy)
        }
        let cmp = try Compare.compare(spec: spec, parameters: params, prediction: prediction)
        info["seconds"] = String(format: "%.2f", Date().timeIntervalSince(t0))
        var metrics = cmp.metrics.scalars
        metrics["train_accuracy"] = cmp.trainAccuracy
        metrics["cross_entropy"] = cmp.empiricalCrossEntropy
        // Keep the network too, so pictures can be drawn later without retraining.
        let netDir = "\(folder)/networks/\(key.regime)-nspl\(key.nspl)-seed\(key.seed)"
        try NPY.write(NPY.Array(shape: [params.nw, params.d], values: .float32(params.W)), to: netDir + "/W.npy")
        try NPY.write(NPY.Array(shape: [params.K, params.L * params.d], values: .float32(params.U)), to: netDir + "/U.npy")
        try AtomicFile.write(spec.jsonText, to: netDir + "/spec.json")
        if plan.optimizer == .sgd { try? FileManager.default.removeItem(atPath: runFolder(key)) }
        return ConvergenceCell(regime: key.regime, nspl: key.nspl, seed: key.seed, metrics: metrics, info: info)
    }

    /// Runs the cells of a shard (all cells by default), skipping finished ones. Returns the cells
    /// that were computed in this call.
    @discardableResult
    public func run(shard: Int = 1, of count: Int = 1) throws -> [ConvergenceCell] {
        try prepare()
        let todo = plan.cells(shard: shard, of: count)
        var done: [ConvergenceCell] = []
        for (i, key) in todo.enumerated() {
            let probe = ConvergenceCell(regime: key.regime, nspl: key.nspl, seed: key.seed, metrics: [:])
            if FileManager.default.fileExists(atPath: cellsFolder + "/" + probe.fileName) {
                progress?("[\(i + 1)/\(todo.count)] \(key): done before, skipped")
                continue
            }
            progress?("[\(i + 1)/\(todo.count)] \(key): training (\(plan.optimizer.rawValue))")
            let cell = try runCell(key)
            _ = try cell.write(into: cellsFolder)
            let ratio = cell.metrics["nc1_ratio"].map { String(format: "%.3g", $0) } ?? "-"
            let gap = cell.metrics["objective_gap"].map { String(format: "%.3g", $0) } ?? "-"
            progress?("[\(i + 1)/\(todo.count)] \(key): within-concept ratio \(ratio), objective gap \(gap), \(cell.info["seconds"] ?? "?") s")
            done.append(cell)
        }
        return done
    }

    /// Builds the tables and plots from every cell in the given folders and writes them into `out`.
    @discardableResult
    public static func writeTables(from folders: [String], into out: String) throws -> ConvergenceTable {
        let cells = try ConvergenceCell.load(folders: folders.map { $0 + "/cells" })
        guard !cells.isEmpty else { throw SweepError("no finished cells in \(folders.joined(separator: ", "))") }
        let table = try ConvergenceTable.build(cells: cells, regimeOrder: SweepRegime.allCases.map(\.rawValue))
        try table.write(into: out)
        for metric in ["nc1_ratio", "objective_gap", "procrustes_words", "dir_residual"] where table.metrics.contains(metric) {
            let plot = CollapsePlots.convergence(table: table, metric: metric)
            try plot.write(to: "\(out)/convergence-\(metric).svg")
        }
        return table
    }
}
