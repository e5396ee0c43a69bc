import ArrayIO
import Comparison
import Geometry
import Plots
import ExperimentSpec
import Foundation
import LimitTheory
import TaskModel
import Training

/// Where a full-batch minimisation starts.
public enum Start: String, Codable, Sendable, CaseIterable {
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
    public var regimes: [Regime] {
        get { regimeNames.map(\.wrappedValue) }
        set { regimeNames = newValue.map(SettingNamed.init(wrappedValue:)) }
    }
    var regimeNames: [SettingNamed]
    public var seeds: Int
    public var optimizer: Optimizer
    /// Full-batch: BFGS iteration limit and gradient tolerance.
    public var maxIterations: Int
    public var gradientTolerance: Double
    /// Starts of the restricted problem behind each prediction.
    public var starts: Int
    /// Full-batch: where BFGS starts.
    public var start: Start
    /// Whether each cell also records SPEC 6's predicted means (`--finite-sample`): the coefficients are
    /// computed once per (regime, seed), exactly on small instances (which can take minutes when the exact
    /// limit risk is costly to enumerate), by the decoupled blocks at a collapsed θ* otherwise.
    public var finiteSample: Bool
    /// Full-batch from the prediction: also minimise the seed-0 cells from the reference initialisation and record whether
    /// both starts reach the same minimum (SPEC 6: P6 is about the minimiser near θ*, which need not be the one BFGS finds
    /// from elsewhere, nor a minimiser at all when θ* is near a saddle of R̂_n).
    public var checkStart: Bool

    enum CodingKeys: String, CodingKey {
        case base, nspl, seeds, optimizer, starts, start
        case finiteSample = "finite_sample"
        case checkStart = "check_start"
        case regimeNames = "regimes"
        case maxIterations = "max_iterations"
        case gradientTolerance = "gradient_tolerance"
    }

    public init(
        base: Spec, nspl: [Int], regimes: [Regime], seeds: Int, optimizer: Optimizer,
        maxIterations: Int = 3000, gradientTolerance: Double = 1e-7, starts: Int = defaultPredictStarts,
        start: Start = .reference, finiteSample: Bool = false, checkStart: Bool = false
    ) throws {
        guard !nspl.isEmpty, nspl.allSatisfy({ $0 >= 1 }) else {
            throw ExperimentError(field: "nspl", rule: "must list positive integers (got \(nspl))")
        }
        guard !regimes.isEmpty else { throw ExperimentError(field: "regimes", rule: "must name at least one of \(Regime.acceptedNames)") }
        guard seeds >= 1 else { throw ExperimentError(field: "seeds", rule: "must be at least 1 (got \(seeds))") }
        if regimes.contains(.layerNorm) && base.d < base.nc {
            throw ExperimentError(field: "regimes", rule: "layernorm needs d ≥ nc (spec has d = \(base.d), nc = \(base.nc))")
        }
        self.base = base.jsonText
        self.nspl = Array(Set(nspl)).sorted()
        self.regimeNames = regimes.map(SettingNamed.init(wrappedValue:))
        self.seeds = seeds
        self.optimizer = optimizer
        self.maxIterations = maxIterations
        self.gradientTolerance = gradientTolerance
        self.starts = starts
        self.start = start
        self.finiteSample = finiteSample
        if checkStart && !(optimizer == .fullBatch && start == .prediction) {
            throw ExperimentError(field: "check_start", rule: "needs the full-batch optimizer started at the prediction")
        }
        self.checkStart = checkStart
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        base = try c.decode(String.self, forKey: .base)
        nspl = try c.decode([Int].self, forKey: .nspl)
        regimeNames = try c.decode([SettingNamed].self, forKey: .regimeNames)
        seeds = try c.decode(Int.self, forKey: .seeds)
        optimizer = try c.decode(Optimizer.self, forKey: .optimizer)
        maxIterations = try c.decode(Int.self, forKey: .maxIterations)
        gradientTolerance = try c.decode(Double.self, forKey: .gradientTolerance)
        starts = try c.decode(Int.self, forKey: .starts)
        start = try c.decode(Start.self, forKey: .start)
        finiteSample = try c.decodeIfPresent(Bool.self, forKey: .finiteSample) ?? false
        checkStart = try c.decodeIfPresent(Bool.self, forKey: .checkStart) ?? false
    }

    public var baseSpec: Spec { try! Spec.parse(json: Data(base.utf8)) }

    /// The cells in a fixed order: regime, then seed, then n_spl.
    public var cells: [ConvergenceCell.Key] {
        var out: [ConvergenceCell.Key] = []
        for r in regimes { for s in 0..<seeds { for n in nspl { out.append(.init(regime: r, nspl: n, seed: UInt64(s))) } } }
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
        var s = key.regime.apply(to: base)
        s.nspl = key.nspl
        s.seed = base.seed &+ key.seed
        if optimizer == .sgd {
            s.numEpochs = max(1, Int((Double(base.numEpochs) * Double(base.nspl) / Double(key.nspl)).rounded()))
        }
        s.name = "\(base.name ?? "sweep")-\(key.fileName())"
        return s
    }

    /// The spec whose prediction a cell is compared with (n_spl does not enter the limit).
    public func predictionSpec(regime: Regime, seed: UInt64) -> Spec {
        var s = spec(for: .init(regime: regime, nspl: nspl[0], seed: seed))
        s.name = "\(baseSpec.name ?? "sweep")-\(regime.settingName)-seed\(seed)"
        return s
    }
}

/// Runs a sweep into a folder, resumably and safely shared by several processes. The folder's format:
///
/// - `plan.json`: the plan (a folder holds one plan: a different one is refused);
/// - `cells/cell-<regime>-nspl<n>-seed<s>.json`: one finished cell each (skipped on a rerun);
/// - `cells/cell-<...>.lock`: a cell in flight (``CellLock``), so two processes never train the same cell;
/// - `in-flight/<regime>-nspl<n>-seed<s>/`: an SGD cell's ``RunFolder`` checkpoint (removed once the cell is written);
/// - `networks/<regime>-nspl<n>-seed<s>/`: the trained network of each cell (a ``RunFolder``);
/// - `predictions/<regime>-seed<s>.json`: the cached predictions;
/// - `convergence.csv`, `.json`, `.md` and `convergence-<metric>.svg`: the tables and plots
///   (written under a folder lock, so the last one written holds every finished cell).
public final class ConvergenceSweep {
    public let plan: SweepPlan
    public let folder: String
    public var progress: ((String) -> Void)?

    public init(plan: SweepPlan, folder: String) { self.plan = plan; self.folder = folder }

    var cellsFolder: String { folder + "/cells" }

    func cellPath(_ key: ConvergenceCell.Key) -> String { cellsFolder + "/" + key.fileName(prefix: "cell-", suffix: ".json") }
    func lockPath(_ key: ConvergenceCell.Key) -> String { cellsFolder + "/" + key.fileName(prefix: "cell-", suffix: ".lock") }

    /// The checkpoint folder of an SGD cell in flight (removed once the cell is written).
    public func inFlightFolder(_ key: ConvergenceCell.Key) -> RunFolder { RunFolder(folder + "/in-flight/" + key.fileName()) }

    /// The folder that keeps a finished cell's network.
    public func networkFolder(_ key: ConvergenceCell.Key) -> RunFolder { RunFolder(folder + "/networks/" + key.fileName()) }

    /// Checks that the folder holds this sweep (or nothing), and records the plan.
    public func prepare() throws {
        let planPath = folder + "/plan.json"
        try withFileLock(folder + "/.plan.lock") {
            if let data = FileManager.default.contents(atPath: planPath) {
                let old: SweepPlan
                do { old = try JSONDecoder().decode(SweepPlan.self, from: data) } catch {
                    throw ExperimentError(field: planPath, rule: "is not a sweep plan of this version (\(error)): use another --out folder")
                }
                guard old == plan else {
                    throw ExperimentError(field: planPath, rule: "holds a different sweep: use another --out folder, or delete it")
                }
            } else {
                try AtomicFile.writeJSON(plan, to: planPath)
            }
        }
    }

    /// The prediction for (regime, seed), computed once and cached.
    public func prediction(regime: Regime, seed: UInt64) throws -> Prediction {
        let path = "\(folder)/predictions/\(regime.settingName)-seed\(seed).json"
        if let data = FileManager.default.contents(atPath: path) {
            return try JSONDecoder().decode(Prediction.self, from: data)
        }
        let spec = plan.predictionSpec(regime: regime, seed: seed)
        progress?("predicting \(regime.settingName), seed \(seed)")
        let p = try Compare.prediction(for: spec, starts: plan.starts)
        try AtomicFile.writeJSON(p, to: path)
        return p
    }

    /// SPEC 6's finite-sample coefficients for (regime, seed), computed once from the cached prediction and
    /// cached beside it (`predictions/<regime>-seed<s>-finite-sample.json`).
    public func finiteSample(regime: Regime, seed: UInt64) throws -> FiniteSampleCoefficients {
        let path = "\(folder)/predictions/\(regime.settingName)-seed\(seed)-finite-sample.json"
        if let data = FileManager.default.contents(atPath: path) {
            return try JSONDecoder().decode(FiniteSampleCoefficients.self, from: data)
        }
        let p = try prediction(regime: regime, seed: seed)
        progress?("finite-sample coefficients (P6) for \(regime.settingName), seed \(seed)")
        let c = try finiteSampleCoefficients(spec: plan.predictionSpec(regime: regime, seed: seed), prediction: p, starts: plan.starts)
        try AtomicFile.writeJSON(c, to: path)
        return c
    }

    /// The predicted spread of each rank's word norm (SPEC 6, `word_norm_sd_coefficient`) for (regime, seed): from the
    /// cached coefficients when `finiteSample(regime:seed:)` has computed them, else by the cheap paths only (the rare-word
    /// approximation for the type-II family, not the exact analysis of a small instance, which takes minutes per seed),
    /// cached as `predictions/<regime>-seed<s>-word-norm-spread.json`.
    public func wordNormSpread(regime: Regime, seed: UInt64) throws -> FiniteSampleCoefficients {
        let full = "\(folder)/predictions/\(regime.settingName)-seed\(seed)-finite-sample.json"
        let path = "\(folder)/predictions/\(regime.settingName)-seed\(seed)-word-norm-spread.json"
        for f in [full, path] {
            if let data = FileManager.default.contents(atPath: f) {
                return try JSONDecoder().decode(FiniteSampleCoefficients.self, from: data)
            }
        }
        let p = try prediction(regime: regime, seed: seed)
        progress?("word-norm spread (P6) for \(regime.settingName), seed \(seed)")
        let c = try finiteSampleCoefficients(
            spec: plan.predictionSpec(regime: regime, seed: seed), prediction: p, starts: plan.starts, exactAnalysis: false)
        try AtomicFile.writeJSON(c, to: path)
        return c
    }

    /// The predicted means of a cell's metrics (SPEC 6: coefficient / N, N = K·n_spl), where P6 gives them.
    public func predictedMetrics(_ key: ConvergenceCell.Key) throws -> [Metric: Double] {
        let c = try finiteSample(regime: key.regime, seed: key.seed)
        let n = Double(plan.spec(for: key).K * key.nspl)
        var out: [Metric: Double] = [:]
        out[.nc1Ratio] = c.withinConceptRatioCoefficient.map { $0 / n }
        out[.objectiveGap] = c.objectiveGapCoefficient.map { $0 / n }
        return out
    }

    /// Trains and compares one cell (does not look at the cache or the locks).
    public func runCell(_ key: ConvergenceCell.Key) throws -> ConvergenceCell {
        let spec = plan.spec(for: key)
        let t0 = Date()
        let prediction = try prediction(regime: key.regime, seed: key.seed)
        let params: Parameters
        var info: [String: String] = [
            "optimizer": plan.optimizer.rawValue, "prediction_method": prediction.method,
            "prediction_exact": String(prediction.exact)
        ]
        switch plan.optimizer {
        case .sgd:
            // Checkpointed at every report epoch, so that an interrupted cell resumes where it stopped
            // (exactly: the Trainer's resume is bit-for-bit) instead of starting over.
            let run = inFlightFolder(key)
            var resumed: TrainingState? = nil
            if run.hasCheckpoint {
                let (stored, state) = try run.loadCheckpoint()
                if stored == spec {
                    resumed = state
                    progress?("    \(key.description): resuming from the checkpoint at epoch \(state.epoch)")
                }
            }
            let trainer = Trainer(spec: spec, resuming: resumed)
            let report = progress
            try trainer.train(
                progress: { event in
                    if case .epoch(let r, true) = event {
                        report?(
                            String(
                                format: "    %@: epoch %d/%d, train loss %.4f, train acc %.1f%%%@", key.description, r.epoch,
                                spec.numEpochs, r.trainLoss, 100 * r.trainAccuracy,
                                r.testAccuracy.map { String(format: ", test acc %.1f%%", 100 * $0) } ?? ""))
                    }
                },
                onReport: { t in
                    try run.saveCheckpoint(t.state, spec: spec, summary: t.summary())
                })
            params = trainer.parameters
            info["epochs"] = String(spec.numEpochs)
            info["test_accuracy"] = String(trainer.history.last?.testAccuracy ?? .nan)
        case .fullBatch:
            let fb = FullBatchTrainer(spec: spec)
            let start =
                plan.start == .prediction
                ? try Compare.parameters(at: prediction, spec: spec, latents: spec.latentVariables()) : nil
            info["start"] = start == nil ? Start.reference.rawValue : Start.prediction.rawValue
            let report = progress
            let r = try fb.minimise(
                from: start, maxIterations: plan.maxIterations, gradientTolerance: plan.gradientTolerance,
                progress: { it, value in
                    if it % 500 == 0 { report?(String(format: "    %@: BFGS iteration %d, objective %.8f", key.description, it, value)) }
                })
            params = r.parameters
            info["iterations"] = String(r.summary.epochs)
            info["stop"] = r.summary.stopReason ?? ""
            info["gradient_norm"] = String(r.summary.gradientNorm ?? .nan)
            info["test_accuracy"] = String(r.summary.testAccuracy)
            if plan.checkStart && key.seed == 0, let fromLimit = r.summary.objective {
                progress?("    \(key.description): the same training set from the reference initialisation (start check)")
                let other = try fb.minimise(from: nil, maxIterations: plan.maxIterations, gradientTolerance: plan.gradientTolerance)
                let otherCmp = try Compare.compare(spec: spec, parameters: other.parameters, prediction: prediction)
                let objective = other.summary.objective ?? .nan
                info["reference_start_objective"] = String(objective)
                info["reference_start_gradient_norm"] = String(other.summary.gradientNorm ?? .nan)
                info["reference_start_iterations"] = String(other.summary.epochs)
                info["reference_start_nc1_ratio"] = String(otherCmp.metrics.scalars[.nc1Ratio] ?? .nan)
                info["start_check"] = Self.startCheck(fromLimit: fromLimit, fromReference: objective)
            }
        }
        let cmp = try Compare.compare(spec: spec, parameters: params, prediction: prediction)
        info["seconds"] = String(format: "%.2f", Date().timeIntervalSince(t0))
        var metrics = cmp.metrics.scalars
        metrics[.trainAccuracy] = cmp.trainAccuracy
        metrics[.crossEntropy] = cmp.empiricalCrossEntropy
        // Keep the network too, so pictures can be drawn later without retraining.
        try networkFolder(key).writeNetwork(params, spec: spec)
        if plan.optimizer == .sgd { try? FileManager.default.removeItem(atPath: inFlightFolder(key).path) }
        return ConvergenceCell(
            regime: key.regime, nspl: key.nspl, seed: key.seed, metrics: metrics, info: info,
            predicted: plan.finiteSample ? try predictedMetrics(key) : [:])
    }

    /// Whether two full-batch minimisations of one training set reached the same minimum. Two stationary points of R̂_n with
    /// values closer than 1e-7 (relative) are taken as one: at ‖∇R̂_n‖ ≤ 1e-7 and a curvature ≥ λ_W = 1e-3 modulo the
    /// symmetry, a point is within ‖∇‖²/λ_min ≤ 1e-11 of its minimum in value, and distinct minima of a non-convex objective
    /// differ by far more. "agree", or which start ended lower and by how much. Source of the 1e-7: numerical, four orders
    /// above that value bound; that distinct minima differ by more is an assumption, not a bound (two minima closer than
    /// 1e-7 would read "agree"), and at λ = 1e-3 near a saddle of R̂_n (SPEC 6) λ_min may not be positive. The label is
    /// reported in the table (`start_check`), not a judged check.
    public static func startCheck(fromLimit a: Double, fromReference b: Double) -> String {
        let tolerance = 1e-7 * max(abs(a), abs(b), 1e-12)
        if abs(a - b) <= tolerance { return "agree" }
        return a < b
            ? String(format: "disagree: the start at θ* ends lower by %.3g", b - a)
            : String(
                format: "disagree: the reference start ends lower by %.3g (the point reached from θ* is not the global minimiser)", a - b)
    }

    /// What one call of ``run(shard:of:)`` did.
    public struct RunSummary: Sendable {
        /// Cells trained by this call.
        public var computed: [ConvergenceCell] = []
        /// Cells found finished.
        public var skipped: [ConvergenceCell.Key] = []
        /// Cells left to another live process that holds their lock.
        public var heldElsewhere: [ConvergenceCell.Key] = []
    }

    /// Runs the cells of a shard (all cells by default): skips finished ones and those another process is
    /// training (their lock is held), takes over the cells of a crashed process (stale lock), and resumes
    /// an SGD cell from its checkpoint.
    @discardableResult
    public func run(shard: Int = 1, of count: Int = 1) throws -> RunSummary {
        try prepare()
        let todo = plan.cells(shard: shard, of: count)
        var summary = RunSummary()
        for (i, key) in todo.enumerated() {
            let tag = "[\(i + 1)/\(todo.count)] \(key)"
            if FileManager.default.fileExists(atPath: cellPath(key)) {
                progress?("\(tag): done before, skipped")
                summary.skipped.append(key)
                continue
            }
            let lock: CellLock
            switch try CellLock.acquire(lockPath(key)) {
            case .success(let l): lock = l
            case .failure(let held):
                progress?("\(tag): being trained by \(held.owner), skipped")
                summary.heldElsewhere.append(key)
                continue
            }
            defer { lock.release() }
            // Finished by another process between the check above and the lock.
            if FileManager.default.fileExists(atPath: cellPath(key)) {
                summary.skipped.append(key)
                continue
            }
            progress?("\(tag): training (\(plan.optimizer.rawValue))")
            let cell = try runCell(key)
            _ = try cell.write(into: cellsFolder)
            let ratio = cell.metrics[.nc1Ratio].map { String(format: "%.3g", $0) } ?? "-"
            let gap = cell.metrics[.objectiveGap].map { String(format: "%.3g", $0) } ?? "-"
            progress?("\(tag): within-concept ratio \(ratio), objective gap \(gap), \(cell.info["seconds"] ?? "?") s")
            summary.computed.append(cell)
        }
        return summary
    }

    /// The metrics drawn as convergence plots.
    public static let plottedMetrics: [Metric] = [.nc1Ratio, .objectiveGap, .procrustesWords, .directionResidual]

    /// Builds the tables and plots from every cell in the given folders and writes them into `out`,
    /// under a lock on `out`, so that the last table written holds every cell finished before it.
    @discardableResult
    public static func writeTables(from folders: [String], into out: String) throws -> ConvergenceTable {
        try withFileLock(out + "/.tables.lock") {
            let cells = try ConvergenceCell.load(folders: folders.map { $0 + "/cells" })
            guard !cells.isEmpty else {
                throw ExperimentError(field: folders.joined(separator: ", "), rule: "holds no finished cells")
            }
            let table = try ConvergenceTable.build(cells: cells)
            try table.write(into: out)
            for metric in plottedMetrics where table.metrics.contains(metric) {
                try Figures.convergence(table: table, metric: metric).write(to: "\(out)/convergence-\(metric.rawValue).svg")
            }
            return table
        }
    }
}
