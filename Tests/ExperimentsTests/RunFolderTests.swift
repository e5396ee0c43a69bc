import ArrayIO
import ExperimentSpec
import Experiments
import Foundation
import TestSupport
import Testing
import Training

/// The run folder: resumable checkpoints (exact resume, a crash leaves a whole set), reading networks
/// back, and bad folders refused with the file and the rule.
@Suite("Run folders")
struct RunFolderTests {
    static func tempDir(_ tag: String) -> String {
        let dir = NSTemporaryDirectory() + "fcollapse-run-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a resumed run equals an uninterrupted one")
    func resumeIsExact() throws {
        var spec = Spec.preset("quick")!
        spec.numEpochs = 20; spec.report = 5
        let full = try Trainer.train(spec: spec)
        let dir = Self.tempDir("resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Interrupted after epoch 10 (checkpoints at 1, 5, 10).
        let first = Trainer(spec: spec)
        try first.train(epochs: 10, onReport: { t in try RunFolder(dir).saveCheckpoint(t.state, spec: spec, summary: t.summary()) })
        let (stored, state) = try RunFolder(dir).loadCheckpoint()
        #expect(stored == spec)
        #expect(state.epoch == 10)
        let second = Trainer(spec: stored, resuming: state)
        let s = try second.train(epochs: 20)
        // The shuffle of each epoch is derived from (seed, epoch) and parameters are saved exactly
        // (float32 .npy): the resumed run is the same computation; 1e-7 allows last-bit noise only.
        #expect(Fixtures.maxDifference(second.parameters.W, full.parameters.W) <= 1e-7)
        #expect(Fixtures.maxDifference(second.parameters.U, full.parameters.U) <= 1e-7)
        #expect(abs(s.trainLoss - full.summary.trainLoss) <= 1e-9)
        #expect(second.history.count == 20)
        // The run folder can be read back as a trained run.
        let run = try RunFolder(dir).loadNetwork()
        #expect(run.spec == spec)
        #expect(Fixtures.maxDifference(run.parameters.W, first.parameters.W) <= 0)  // exact float32 round trip
        #expect(run.metrics?.history.count == 10)
    }

    @Test("divergence is detected and names the epoch")
    func divergenceIsDetected() throws {
        var spec = Spec.preset("quick")!
        spec.lr = 1e6; spec.numEpochs = 5
        let dir = Self.tempDir("diverge")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = Trainer(spec: spec)
        var caught: TrainingError?
        do {
            try t.train(onReport: { t in try RunFolder(dir).saveCheckpoint(t.state, spec: spec, summary: t.summary()) })
        } catch let e as TrainingError {
            caught = e
        }
        guard case let .diverged(epoch, _, lr, lastGood)? = caught else {
            Issue.record("no divergence reported"); return
        }
        #expect(epoch >= 1 && lr == spec.lr && lastGood < epoch)
        #expect(caught!.description.contains("Lower the learning rate"))
        if lastGood > 0 {
            let (_, state) = try RunFolder(dir).loadCheckpoint()
            #expect(state.epoch == lastGood)
            #expect(state.parameters.isFinite)
        }
    }

    @Test("a crash while writing a checkpoint set leaves the previous set whole")
    func crashLeavesOldSet() throws {
        var spec = Spec.preset("quick")!
        spec.numEpochs = 6; spec.report = 5
        let dir = Self.tempDir("crash")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = Trainer(spec: spec)
        try t.train(epochs: 5, onReport: { t in try RunFolder(dir).saveCheckpoint(t.state, spec: spec, summary: t.summary()) })
        let (_, before) = try RunFolder(dir).loadCheckpoint()
        // A crash while the next set was being staged: a staging folder with a partial set, which
        // checkpoint.json never named.
        let staging = dir + "/.checkpoint-000009.tmp-1-2"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: staging + "/parameters.npy"))
        let (_, after) = try RunFolder(dir).loadCheckpoint()
        #expect(after == before)
        #expect(after.epoch == 5)
        // checkpoint.json names exactly one set, and the earlier sets were removed.
        let sets = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("checkpoint-") }
        #expect(sets == ["checkpoint-000005"])
    }

    @Test("networks are read back in float32 and float64, and bad folders are refused by file and shape")
    func loadNetworkChecksInput() throws {
        let spec = Spec.preset("quick")!
        let dir = Self.tempDir("load")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Parameters.initial(for: spec)
        let folder = RunFolder(dir)
        // Missing spec.json.
        #expect(throws: ExperimentError.self) { try folder.loadNetwork() }
        try folder.writeNetwork(p, spec: spec)
        let run = try folder.loadNetwork()
        #expect(run.parameters == p)
        // float64 W, as numpy writes by default: the same values.
        try NPY.write(NPY.Array(shape: [spec.nw, spec.d], values: .float64(p.W.map(Double.init))), to: dir + "/W.npy")
        #expect(try folder.loadNetwork().parameters.W == p.W)
        // A transposed U: the error names the file and the expected shape.
        try NPY.write(NPY.Array(shape: [spec.L * spec.d, spec.K], values: .float32(p.U)), to: dir + "/U.npy")
        do {
            _ = try folder.loadNetwork()
            Issue.record("a transposed U was accepted")
        } catch let e as ExperimentError {
            #expect(e.field.hasSuffix("U.npy"))
            #expect(e.rule.contains("[\(spec.K), \(spec.L * spec.d)]"))
        }
        // Integers where weights belong (e.g. a folder saved with the wrong dtype): refused by file and dtype.
        try NPY.write(NPY.Array(shape: [spec.K, spec.L * spec.d], values: .int32(p.U.map { Int32($0.rounded()) })), to: dir + "/U.npy")
        do {
            _ = try folder.loadNetwork()
            Issue.record("an int32 U was accepted")
        } catch let e as ExperimentError {
            #expect(e.field.hasSuffix("U.npy") && e.rule.contains("<i4") && e.rule.contains("float32 or float64"), "\(e)")
        }
        // A spec that does not match the arrays (another d): the first array's shape is refused.
        try NPY.write(NPY.Array(shape: [spec.K, spec.L * spec.d], values: .float32(p.U)), to: dir + "/U.npy")
        var other = spec
        other.d = spec.d + 1
        try AtomicFile.write(other.jsonText, to: dir + "/spec.json")
        do {
            _ = try folder.loadNetwork()
            Issue.record("arrays of d = \(spec.d) were accepted for a spec with d = \(other.d)")
        } catch let e as ExperimentError {
            #expect(e.field.hasSuffix("W.npy") && e.rule.contains("[\(spec.nw), \(other.d)]"), "\(e)")
        }
        try AtomicFile.write(spec.jsonText, to: dir + "/spec.json")
        // A missing file.
        try FileManager.default.removeItem(atPath: dir + "/U.npy")
        #expect(throws: ExperimentError.self) { try folder.loadNetwork() }
    }
}

/// `fcollapse sample --out`: the arrays are exactly the data `train` draws.
@Suite("Task data as arrays")
struct TaskDataTests {
    @Test("training from the exported arrays gives the same weights as training from the spec")
    func exportedDataReproducesTraining() throws {
        var spec = Spec.preset("quick")!
        spec.numEpochs = 3
        let dir = RunFolderTests.tempDir("data")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TaskData.write(spec: spec, to: dir)
        let (train, test) = try TaskData.read(from: dir, spec: spec)
        let own = Trainer(spec: spec)
        #expect(train == own.trainingSet && test == own.testSet)
        let latent = try NPY.read(dir + "/latent.npy")
        #expect(latent.shape == [spec.K, spec.L])
        let fromArrays = Trainer(spec: spec, trainingSet: train, testSet: test)
        try own.train()
        try fromArrays.train()
        // The same computation on the same data: bitwise equal weights are the property under test.
        #expect(fromArrays.parameters == own.parameters)
        // A label out of range is refused by name.
        try NPY.write(
            NPY.Array(shape: [train.count], values: .int32(train.labels.map { $0 + Int32(spec.K) })), to: dir + "/train_labels.npy")
        #expect(throws: ExperimentError.self) { try TaskData.read(from: dir, spec: spec) }
    }
}
