import Comparison
import Experiments
import Geometry
import Plots
import TestSupport
import ExperimentSpec
import Foundation
import Testing
import Training

/// The convergence sweep end to end on a tiny task: resuming, and sharding then merging.
@Suite(.serialized) struct SweepTests {
    static func plan() throws -> SweepPlan {
        let base = Spec(
            nc: 3, nw: 6, L: 3, K: 8, d: 4, wordFreq: .uniform, layerNorm: false, weightDecayW: 0.01,
            weightDecayU: 0.01, lr: 0.5, bsz: 8, numEpochs: 20, nspl: 4, nTest: 2, report: 10, seed: 3, name: "tiny")
        return try SweepPlan(base: base, nspl: [2, 8], regimes: [.typeI, .layerNorm], seeds: 2, optimizer: .sgd)
    }

    static func tempDir() -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("fc-sweep-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func shardsMergeToTheSameTableAsOneRun() throws {
        let plan = try Self.plan()
        #expect(plan.cells.count == 8)
        // Shards partition the cells.
        let s1 = plan.cells(shard: 1, of: 3), s2 = plan.cells(shard: 2, of: 3), s3 = plan.cells(shard: 3, of: 3)
        #expect(Set(s1 + s2 + s3) == Set(plan.cells) && s1.count + s2.count + s3.count == 8)

        let whole = Self.tempDir(), a = Self.tempDir(), b = Self.tempDir(), merged = Self.tempDir()
        defer { for d in [whole, a, b, merged] { try? FileManager.default.removeItem(atPath: d) } }
        try ConvergenceSweep(plan: plan, folder: whole).run()
        let one = try ConvergenceSweep.writeTables(from: [whole], into: whole)
        try ConvergenceSweep(plan: plan, folder: a).run(shard: 1, of: 2)
        try ConvergenceSweep(plan: plan, folder: b).run(shard: 2, of: 2)
        let joined = try ConvergenceSweep.writeTables(from: [a, b], into: merged)
        // Same seeds, same cells: training is deterministic, so the tables agree exactly in content.
        #expect(joined.rows == one.rows)
        #expect(joined.cells.count == 8)
        let text = try String(contentsOfFile: merged + "/convergence.md", encoding: .utf8)
        #expect(text == (try String(contentsOfFile: whole + "/convergence.md", encoding: .utf8)))
    }

    @Test func rerunSkipsFinishedCellsAndRecomputesOnlyTheMissingOne() throws {
        let plan = try Self.plan()
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try ConvergenceSweep(plan: plan, folder: dir).run().computed
        #expect(first.count == 8)
        // Simulate an interruption: one cell's file is missing.
        let victim = first[3]
        try FileManager.default.removeItem(atPath: dir + "/cells/" + victim.fileName)
        let second = try ConvergenceSweep(plan: plan, folder: dir).run().computed
        #expect(second.map(\.key) == [victim.key])
        // Determinism by seed is the property under test here, so bitwise equality is intended.
        #expect(second[0].metrics == victim.metrics)
        // A different sweep is refused in the same folder.
        var other = plan
        other.nspl = [2, 16]
        #expect(throws: ExperimentError.self) { try ConvergenceSweep(plan: other, folder: dir).run() }
    }

    @Test func anInterruptedSGDCellResumesFromItsCheckpoint() throws {
        let plan = try Self.plan()
        let key = plan.cells[0]
        let whole = Self.tempDir(), cut = Self.tempDir()
        defer { for d in [whole, cut] { try? FileManager.default.removeItem(atPath: d) } }
        let reference = try ConvergenceSweep(plan: plan, folder: whole).runCell(key)
        // An interruption after the first report epoch (10 of 20): the checkpoint the cell leaves.
        let sweep = ConvergenceSweep(plan: plan, folder: cut)
        let spec = plan.spec(for: key)
        let partial = Trainer(spec: spec)
        try partial.train(
            epochs: 10, onReport: { t in try sweep.inFlightFolder(key).saveCheckpoint(t.state, spec: spec, summary: t.summary()) })
        var lines: [String] = []
        sweep.progress = { lines.append($0) }
        let resumed = try sweep.runCell(key)
        #expect(lines.contains { $0.contains("resuming from the checkpoint at epoch 10") }, "\(lines)")
        // Resuming is exact, so the cell's metrics are those of the uninterrupted run.
        #expect(resumed.metrics == reference.metrics)
        // The checkpoint folder goes once the cell is done.
        #expect(!FileManager.default.fileExists(atPath: sweep.inFlightFolder(key).path))
    }

    @Test func badPlansAreRefused() {
        let base = Spec(nc: 3, nw: 6, L: 3, K: 8, d: 2)
        #expect(throws: ExperimentError.self) { _ = try SweepPlan(base: base, nspl: [2], regimes: [.layerNorm], seeds: 1, optimizer: .sgd) }
        #expect(throws: ExperimentError.self) { _ = try SweepPlan(base: base, nspl: [0], regimes: [.typeI], seeds: 1, optimizer: .sgd) }
        #expect(throws: ExperimentError.self) { _ = try SweepPlan(base: base, nspl: [2], regimes: [.typeI], seeds: 0, optimizer: .sgd) }
    }

    @Test func aCellLockedByALiveProcessIsSkippedAndAStaleLockIsTakenOver() throws {
        let plan = try Self.plan()
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sweep = ConvergenceSweep(plan: plan, folder: dir)
        let held = plan.cells[0], stale = plan.cells[1]
        let cells = dir + "/cells/"
        try FileManager.default.createDirectory(atPath: cells, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName
        // pid 1 is alive on every Linux machine; a pid above the kernel's limit (2^22) cannot exist.
        try "\(host)\n1\n".write(toFile: cells + held.fileName(prefix: "cell-", suffix: ".lock"), atomically: true, encoding: .utf8)
        try "\(host)\n99999999\n".write(toFile: cells + stale.fileName(prefix: "cell-", suffix: ".lock"), atomically: true, encoding: .utf8)
        let ran = try sweep.run()
        #expect(ran.heldElsewhere == [held])
        #expect(ran.computed.count == plan.cells.count - 1)
        #expect(ran.computed.contains { $0.key == stale })
        // Locks are released once their cell is written; the held one is left to its owner.
        let left = try FileManager.default.contentsOfDirectory(atPath: cells).filter { $0.hasSuffix(".lock") }
        #expect(left == [held.fileName(prefix: "cell-", suffix: ".lock")])
    }

    @Test func startCheckComparesTheTwoMinimaOfOneTrainingSet() throws {
        // Equal values to 1e-7 relative are one minimum; otherwise the lower start is named.
        #expect(ConvergenceSweep.startCheck(fromLimit: 0.5, fromReference: 0.5 + 1e-9) == "agree")
        #expect(ConvergenceSweep.startCheck(fromLimit: 0.5, fromReference: 0.49).contains("reference start ends lower"))
        #expect(ConvergenceSweep.startCheck(fromLimit: 0.49, fromReference: 0.5).contains("θ* ends lower"))
        // End to end on the tiny task: seed-0 cells carry the check (seed 1 does not), the table lists it, and the plan
        // refuses the check without a full-batch start at the prediction.
        var plan = try Self.plan()
        plan = try SweepPlan(
            base: plan.baseSpec, nspl: [8], regimes: [.typeI], seeds: 2, optimizer: .fullBatch, start: .prediction,
            checkStart: true)
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cells = try ConvergenceSweep(plan: plan, folder: dir).run().computed
        #expect(cells.count == 2)
        #expect(cells.first { $0.seed == 0 }?.info["start_check"] != nil && cells.first { $0.seed == 1 }?.info["start_check"] == nil)
        let table = try ConvergenceSweep.writeTables(from: [dir], into: dir)
        #expect(table.markdown.contains("## Start check"))
        #expect(throws: ExperimentError.self) {
            try SweepPlan(base: plan.baseSpec, nspl: [8], regimes: [.typeI], seeds: 1, optimizer: .sgd, checkStart: true)
        }
    }
}
