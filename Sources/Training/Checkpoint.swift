import ArrayIO
import ExperimentSpec
import Foundation

/// The files of a run folder, each written atomically:
/// - `spec.json`: the spec (`Spec.jsonText`);
/// - `W.npy` (n_w x d) and `U.npy` (K x L·d), float32: the parameters at the last checkpoint;
/// - `metrics.json`: ``TrainingMetrics`` (summary and per-epoch history);
/// - `checkpoint.json` and the parameter file it names (`checkpoint-EPOCH.npy`, W then U as one
///   float32 vector): the state to resume from. The parameter file is written before
///   checkpoint.json points to it, so an interruption at any moment leaves a consistent pair.
public enum Checkpoint {
    /// What a resumed run needs.
    public struct State: Sendable, Equatable {
        public var parameters: Parameters
        public var epoch: Int
        public var history: [EpochRecord]
        public var seconds: Double
        public init(parameters: Parameters, epoch: Int, history: [EpochRecord], seconds: Double) {
            self.parameters = parameters; self.epoch = epoch; self.history = history; self.seconds = seconds
        }
    }

    struct Index: Codable {
        var epoch: Int
        var seconds: Double
        var parameters: String
        var history: [EpochRecord]
    }

    static func path(_ dir: String, _ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    /// Writes spec.json, W.npy, U.npy, metrics.json and the resumable checkpoint.
    public static func save(_ state: State, spec: Spec, summary: TrainingSummary, to dir: String) throws {
        let p = state.parameters
        try AtomicFile.write(spec.jsonText, to: path(dir, "spec.json"))
        try NPY.write(NPY.Array(shape: [p.nw, p.d], values: .float32(p.W)), to: path(dir, "W.npy"))
        try NPY.write(NPY.Array(shape: [p.K, p.L * p.d], values: .float32(p.U)), to: path(dir, "U.npy"))
        try AtomicFile.writeJSON(TrainingMetrics(summary: summary, history: state.history), to: path(dir, "metrics.json"))
        let name = String(format: "checkpoint-%06d.npy", state.epoch)
        try NPY.write(NPY.Array(shape: [p.W.count + p.U.count], values: .float32(p.W + p.U)), to: path(dir, name))
        let old = try? readIndex(dir)
        try AtomicFile.writeJSON(Index(epoch: state.epoch, seconds: state.seconds, parameters: name, history: state.history),
                                 to: path(dir, "checkpoint.json"))
        if let o = old, o.parameters != name { try? FileManager.default.removeItem(atPath: path(dir, o.parameters)) }
    }

    static func readIndex(_ dir: String) throws -> Index {
        let f = path(dir, "checkpoint.json")
        guard let data = FileManager.default.contents(atPath: f) else {
            throw TrainingError.badRunFolder(path: f, reason: "no checkpoint to resume from (was the run started with --out here?)")
        }
        do { return try JSONDecoder().decode(Index.self, from: data) } catch {
            throw TrainingError.badRunFolder(path: f, reason: "unreadable checkpoint: \(error)")
        }
    }

    /// The spec stored in a run folder.
    public static func loadSpec(from dir: String) throws -> Spec {
        try Spec.load(path: path(dir, "spec.json"))
    }

    /// The resumable state of a run folder and its spec.
    public static func load(from dir: String) throws -> (spec: Spec, state: State) {
        let spec = try loadSpec(from: dir)
        let idx = try readIndex(dir)
        let a = try NPY.read(path(dir, idx.parameters))
        let nW = spec.nw * spec.d, nU = spec.K * spec.L * spec.d
        let v = a.values.floats
        guard v.count == nW + nU else {
            throw TrainingError.badRunFolder(path: path(dir, idx.parameters),
                                             reason: "\(v.count) values where the spec needs \(nW) + \(nU)")
        }
        let p = Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, W: Array(v[0..<nW]), U: Array(v[nW...]))
        return (spec, State(parameters: p, epoch: idx.epoch, history: idx.history, seconds: idx.seconds))
    }
}

/// A finished (or checkpointed) run read back from its folder: spec, W, U and metrics. This is
/// what the comparison module loads.
public struct TrainedRun: Sendable {
    public var spec: Spec
    public var parameters: Parameters
    public var metrics: TrainingMetrics?

    public init(spec: Spec, parameters: Parameters, metrics: TrainingMetrics?) {
        self.spec = spec; self.parameters = parameters; self.metrics = metrics
    }

    /// Reads spec.json, W.npy, U.npy and (when present) metrics.json from `dir`.
    public static func load(from dir: String) throws -> TrainedRun {
        let spec = try Checkpoint.loadSpec(from: dir)
        let w = try NPY.read(Checkpoint.path(dir, "W.npy")), u = try NPY.read(Checkpoint.path(dir, "U.npy"))
        guard w.shape == [spec.nw, spec.d] else {
            throw TrainingError.badRunFolder(path: Checkpoint.path(dir, "W.npy"), reason: "shape \(w.shape), the spec needs [\(spec.nw), \(spec.d)]")
        }
        guard u.shape == [spec.K, spec.L * spec.d] else {
            throw TrainingError.badRunFolder(path: Checkpoint.path(dir, "U.npy"), reason: "shape \(u.shape), the spec needs [\(spec.K), \(spec.L * spec.d)]")
        }
        let p = Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, W: w.values.floats, U: u.values.floats)
        let metrics = FileManager.default.contents(atPath: Checkpoint.path(dir, "metrics.json"))
            .flatMap { try? JSONDecoder().decode(TrainingMetrics.self, from: $0) }
        return TrainedRun(spec: spec, parameters: p, metrics: metrics)
    }
}
