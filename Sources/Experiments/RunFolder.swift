import ArrayIO
import ExperimentSpec
import Foundation
import Training

/// One network's folder: the one owner of its format, used by `fcollapse train --out`, by the
/// in-flight checkpoints of a sweep cell, by the networks a sweep keeps, and read by `compare`.
///
/// - `spec.json`: the spec (`Spec.jsonText`);
/// - `W.npy` (n_w x d) and `U.npy` (K x L·d): the parameters (float32 when written here; `compare` also
///   reads float64, e.g. from numpy or PyTorch);
/// - `metrics.json`: ``TrainingMetrics`` (summary and per-epoch history), when trained here;
/// - `checkpoint.json` naming a folder `checkpoint-EPOCH/` that holds the resumable set
///   (`parameters.npy`, W then U as one float32 vector, and `state.json`).
///
/// Every file is written atomically. The checkpoint set is first written whole into a temporary folder,
/// which is renamed to `checkpoint-EPOCH/`; only then is `checkpoint.json` replaced (atomically) to name
/// it, and the previous set removed. A crash at any moment therefore leaves `checkpoint.json` naming a
/// complete set: the old one or the new one.
public struct RunFolder: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public static let specFile = "spec.json"
    public static let wordsFile = "W.npy"
    public static let classifierFile = "U.npy"
    public static let metricsFile = "metrics.json"
    public static let checkpointFile = "checkpoint.json"

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    struct CheckpointIndex: Codable {
        var epoch: Int
        var folder: String
    }

    struct StoredState: Codable {
        var epoch: Int
        var seconds: Double
        var history: [EpochRecord]
    }

    /// Whether the folder holds a checkpoint to resume from.
    public var hasCheckpoint: Bool { FileManager.default.fileExists(atPath: file(Self.checkpointFile)) }

    /// Writes spec.json, W.npy and U.npy (float32).
    public func writeNetwork(_ p: Parameters, spec: Spec) throws {
        try AtomicFile.write(spec.jsonText, to: file(Self.specFile))
        try NPY.write(NPY.Array(shape: [p.nw, p.d], values: .float32(p.W)), to: file(Self.wordsFile))
        try NPY.write(NPY.Array(shape: [p.K, p.L * p.d], values: .float32(p.U)), to: file(Self.classifierFile))
    }

    /// Writes the resumable checkpoint set (see the type's documentation), then the network and metrics.json.
    public func saveCheckpoint(_ state: TrainingState, spec: Spec, summary: TrainingSummary) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        let name = String(format: "checkpoint-%06d", state.epoch)
        let staging = file(".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let p = state.parameters
        try NPY.write(
            NPY.Array(shape: [p.W.count + p.U.count], values: .float32(p.W + p.U)),
            to: (staging as NSString).appendingPathComponent("parameters.npy"))
        try AtomicFile.writeJSON(
            StoredState(epoch: state.epoch, seconds: state.seconds, history: state.history),
            to: (staging as NSString).appendingPathComponent("state.json"))
        try? fm.removeItem(atPath: file(name))  // a set of the same epoch left by an earlier crash
        guard rename(staging, file(name)) == 0 else {
            throw FileError(path: file(name), reason: "cannot move the checkpoint set into place: \(String(cString: strerror(errno)))")
        }
        let old = try? readIndex()
        try AtomicFile.writeJSON(CheckpointIndex(epoch: state.epoch, folder: name), to: file(Self.checkpointFile))
        if let old, old.folder != name { try? fm.removeItem(atPath: file(old.folder)) }
        try writeNetwork(p, spec: spec)
        try AtomicFile.writeJSON(TrainingMetrics(summary: summary, history: state.history), to: file(Self.metricsFile))
    }

    /// Writes the network and metrics.json of a finished run that has no resumable state (full batch).
    public func saveFinished(_ p: Parameters, spec: Spec, summary: TrainingSummary, history: [EpochRecord] = []) throws {
        try writeNetwork(p, spec: spec)
        try AtomicFile.writeJSON(TrainingMetrics(summary: summary, history: history), to: file(Self.metricsFile))
    }

    func readIndex() throws -> CheckpointIndex {
        let f = file(Self.checkpointFile)
        guard let data = FileManager.default.contents(atPath: f) else {
            throw ExperimentError(field: f, rule: "no checkpoint to resume from (was the run started with --out here?)")
        }
        do { return try JSONDecoder().decode(CheckpointIndex.self, from: data) } catch {
            throw ExperimentError(field: f, rule: "unreadable checkpoint index: \(error)")
        }
    }

    /// The spec stored in the folder.
    public func loadSpec() throws -> Spec {
        let f = file(Self.specFile)
        guard FileManager.default.fileExists(atPath: f) else {
            throw ExperimentError(field: f, rule: "missing: a run folder holds spec.json, W.npy and U.npy")
        }
        return try Spec.load(path: f)
    }

    /// The resumable state and the spec.
    public func loadCheckpoint() throws -> (spec: Spec, state: TrainingState) {
        let spec = try loadSpec()
        let index = try readIndex()
        let set = file(index.folder)
        let parametersFile = (set as NSString).appendingPathComponent("parameters.npy")
        let stateFile = (set as NSString).appendingPathComponent("state.json")
        let a = try NPY.read(parametersFile)
        let nW = spec.nw * spec.d, nU = spec.K * spec.L * spec.d
        let v = a.values.floats
        guard v.count == nW + nU else {
            throw ExperimentError(field: parametersFile, rule: "holds \(v.count) values where the spec needs \(nW) + \(nU)")
        }
        guard let data = FileManager.default.contents(atPath: stateFile) else {
            throw ExperimentError(field: stateFile, rule: "missing from the checkpoint set")
        }
        let stored: StoredState
        do { stored = try JSONDecoder().decode(StoredState.self, from: data) } catch {
            throw ExperimentError(field: stateFile, rule: "unreadable: \(error)")
        }
        let p = Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, W: Array(v[0..<nW]), U: Array(v[nW...]))
        return (spec, TrainingState(parameters: p, epoch: stored.epoch, history: stored.history, seconds: stored.seconds))
    }

    /// The network of the folder: spec.json, W.npy (n_w x d) and U.npy (K x L·d), float32 or float64, and
    /// metrics.json when present. A missing file, a wrong shape or a non-finite value is an error naming
    /// the file and the expected shape.
    public func loadNetwork() throws -> TrainedRun {
        let spec = try loadSpec()
        func read(_ name: String, shape: [Int], meaning: String) throws -> [Float] {
            let f = file(name)
            guard FileManager.default.fileExists(atPath: f) else {
                throw ExperimentError(field: f, rule: "missing: expected \(meaning), shape \(shape)")
            }
            let a = try NPY.read(f)
            switch a.values {
            case .float32, .float64: break
            case .int32, .int64:
                throw ExperimentError(field: f, rule: "holds integers (\(a.values.descr)); expected \(meaning) as float32 or float64")
            }
            guard a.shape == shape else {
                throw ExperimentError(field: f, rule: "has shape \(a.shape); the spec needs \(meaning), shape \(shape)")
            }
            let v = a.values.floats
            guard v.allSatisfy(\.isFinite) else { throw ExperimentError(field: f, rule: "holds NaN or infinite values") }
            return v
        }
        let w = try read(Self.wordsFile, shape: [spec.nw, spec.d], meaning: "n_w x d word vectors")
        let u = try read(Self.classifierFile, shape: [spec.K, spec.L * spec.d], meaning: "K x L·d classifier")
        let metrics = FileManager.default.contents(atPath: file(Self.metricsFile))
            .flatMap { try? JSONDecoder().decode(TrainingMetrics.self, from: $0) }
        let p = Parameters(nw: spec.nw, d: spec.d, K: spec.K, L: spec.L, W: w, U: u)
        return TrainedRun(spec: spec, parameters: p, metrics: metrics)
    }
}

/// A network read back from a ``RunFolder``: spec, parameters and (when trained here) metrics.
public struct TrainedRun: Sendable {
    public var spec: Spec
    public var parameters: Parameters
    public var metrics: TrainingMetrics?

    public init(spec: Spec, parameters: Parameters, metrics: TrainingMetrics?) {
        self.spec = spec
        self.parameters = parameters
        self.metrics = metrics
    }
}
