import ArgumentParser
import ArrayIO
import ExperimentSpec
import Foundation
import Experiments
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Train the finite network of the paper with the reference protocol (SGD), or minimise the exact empirical risk (full batch).",
        discussion: """
            Prints a line per report interval (epoch, train loss, train accuracy, test accuracy) as the \
            reference notebooks do. With --out DIR, writes spec.json, W.npy, U.npy, metrics.json and a \
            checkpoint at every report epoch; --resume continues an interrupted run from DIR exactly.

            Examples:
              fcollapse train --preset quick
              fcollapse train --preset fig3 --out runs/fig3
              fcollapse train --resume --out runs/fig3
            """
    )

    @Argument(help: "An experiment spec (JSON file). See `fcollapse spec show quick`.")
    var spec: String?
    @Option(name: .long, help: "A built-in preset instead of a file: \(Spec.presetNames.joined(separator: ", ")).")
    var preset: String?
    @Option(help: "Epochs in total (SGD) or maximum minimiser iterations (full batch); default: the spec's num_epochs.")
    var epochs: Int?
    @Option(help: "Override the spec's master seed.")
    var seed: UInt64?
    @Option(help: "Folder for spec.json, W.npy, U.npy, metrics.json and the checkpoint.")
    var out: String?
    @Flag(help: "Print the JSON summary on stdout (progress lines go to stderr).")
    var json = false
    @Flag(help: "Continue an interrupted run from the checkpoint in --out.")
    var resume = false
    @Option(help: "sgd (the reference protocol) or full-batch (BFGS on the exact empirical risk).")
    var optimizer: Optimizer = .sgd
    @Option(
        help:
            "Full batch only: arithmetic of the risk's passes over the sentences, single or double (default: single from N·K = 5e7 on, double below; BFGS runs in double either way)."
    )
    var precision: EmpiricalRisk.Precision?

    func validate() throws {
        if spec != nil && preset != nil { throw ValidationError("give either a spec file or --preset, not both") }
        if resume {
            if out == nil { throw ValidationError("--resume needs --out DIR, the folder of the interrupted run") }
        } else if spec == nil && preset == nil {
            throw ValidationError("give a spec file or --preset NAME (\(Spec.presetNames.joined(separator: ", ")))")
        }
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1 (got \(e))") }
        if precision != nil && optimizer != .fullBatch {
            throw ValidationError("--precision is for --optimizer full-batch (SGD runs in single precision, as the reference)")
        }
    }

    func loadGivenSpec() throws -> Spec? {
        var s: Spec
        if let p = preset {
            guard let ps = Spec.preset(p) else {
                throw ValidationError("unknown preset '\(p)'; the presets are \(Spec.presetNames.joined(separator: ", "))")
            }
            s = ps
        } else if let f = spec {
            s = try Spec.load(path: f)
        } else {
            return nil
        }
        if let sd = seed { s.seed = sd }
        return s
    }

    func run() throws {
        var given = try loadGivenSpec()
        if optimizer == .fullBatch {
            guard let s = given else { throw ValidationError("--resume is for SGD runs; full batch restarts") }
            try runFullBatch(s)
            return
        }
        let trainer: Trainer
        if resume {
            let dir = out!
            let (stored, state) = try RunFolder(dir).loadCheckpoint()
            if var g = given {
                g.numEpochs = stored.numEpochs
                if g != stored {
                    throw ValidationError(
                        "the spec given differs from \(dir)/spec.json; resume with --out \(dir) alone, or start a new folder")
                }
            }
            if let sd = seed, sd != stored.seed {
                throw ValidationError("--seed \(sd) differs from the run's seed \(stored.seed) in \(dir)/spec.json")
            }
            given = stored
            trainer = Trainer(spec: stored, resuming: state)
            log("resuming \(dir) at epoch \(state.epoch)")
        } else {
            trainer = Trainer(spec: given!)
        }
        var spec = given!
        let total = epochs ?? spec.numEpochs
        spec.numEpochs = max(spec.numEpochs, total)
        try spec.checkMemory(for: .train)
        if trainer.epoch >= total {
            log("the run in \(out ?? "") already has \(trainer.epoch) epochs (asked: \(total)); nothing to do")
        } else {
            log(
                "training \(spec.name ?? "spec"): N = \(trainer.trainingSet.count) sentences, K = \(spec.K), L = \(spec.L), d = \(spec.d), "
                    + "layer norm \(spec.layerNorm ? "on" : "off"), lr = \(spec.lr), bsz = \(spec.bsz), epochs \(trainer.epoch + 1)...\(total)"
            )
        }
        let bar = stderrIsTerminal ? ProgressBar() : nil
        let summary = try trainer.train(
            epochs: total,
            progress: { event in
                switch event {
                case let .minibatch(epoch, done, count):
                    bar?.update(epoch: epoch, of: total, done: done, count: count)
                case let .epoch(rec, isReport):
                    if isReport {
                        bar?.clear()
                        log(
                            String(
                                format: "epoch %5d  train loss %.4f  train acc %6.2f%%  test acc %6.2f%%  (%.2f s/epoch)",
                                rec.epoch, rec.trainLoss, 100 * rec.trainAccuracy, 100 * (rec.testAccuracy ?? .nan), rec.seconds))
                    }
                }
            },
            onReport: { t in
                if let dir = out { try RunFolder(dir).saveCheckpoint(t.state, spec: spec, summary: t.summary()) }
            })
        bar?.clear()
        if json {
            print(try JSONOutput.string(summary), terminator: "")
        } else {
            print(
                String(
                    format: "done: %d epochs in %.1f s; train loss %.4f, train acc %.2f%%, test acc %.2f%%",
                    summary.epochs, summary.seconds, summary.trainLoss, 100 * summary.trainAccuracy, 100 * summary.testAccuracy))
            print(
                "PCA singular values: W " + summary.svW.map { String(format: "%.4g", $0) }.joined(separator: ", ")
                    + "; U " + summary.svU.map { String(format: "%.4g", $0) }.joined(separator: ", "))
            if let dir = out { print("saved in \(dir): spec.json, W.npy, U.npy, metrics.json, checkpoint") }
        }
    }

    /// Progress lines go to stdout, or to stderr when stdout carries the JSON.
    func log(_ s: String) {
        if json { printError(s) } else { print(s); fflush(nil) }
    }

    func runFullBatch(_ spec: Spec) throws {
        try spec.checkMemory(for: .fullBatch)
        let fb = FullBatchTrainer(spec: spec, precision: precision)
        let saved =
            fb.risk.savesExponentials
            ? String(format: " (pass 1's exponentials kept for pass 2: %.1f GB)", fb.risk.savedExponentialBytes / 1e9) : ""
        log(
            "full batch: N = \(fb.trainingSet.count) sentences, \(fb.risk.dimension) parameters, BFGS2 in double precision, risk passes in \(fb.risk.precision.rawValue) precision\(saved)"
        )
        let r = try fb.minimise(
            maxIterations: epochs ?? spec.numEpochs,
            progress: { it, value in
                if it == 1 || it % 10 == 0 { log(String(format: "iteration %5d  objective %.8f", it, value)) }
            })
        if let dir = out {
            try RunFolder(dir).saveFinished(r.parameters, spec: spec, summary: r.summary)
        }
        if json {
            print(try JSONOutput.string(r.summary), terminator: "")
        } else {
            let s = r.summary
            print(
                String(
                    format:
                        "done: %d iterations in %.1f s (%@); objective %.8f, gradient norm %.3g, train CE %.4f, train acc %.2f%%, test acc %.2f%%",
                    s.epochs, s.seconds, s.stopReason ?? "", s.objective ?? .nan, s.gradientNorm ?? .nan, s.trainLoss,
                    100 * s.trainAccuracy, 100 * s.testAccuracy))
            print(
                "PCA singular values: W " + s.svW.map { String(format: "%.4g", $0) }.joined(separator: ", ")
                    + "; U " + s.svU.map { String(format: "%.4g", $0) }.joined(separator: ", "))
        }
    }
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
final class ProgressBar {
    var lastDraw: UInt64 = 0
    func update(epoch: Int, of total: Int, done: Int, count: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        if now - lastDraw < 100_000_000 && done != count { return }
        lastDraw = now
        let width = 30
        let filled = count > 0 ? width * done / count : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[K epoch \(epoch)/\(total) [\(bar)] \(done)/\(count)".utf8))
    }
    func clear() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

extension EmpiricalRisk.Precision: ExpressibleByArgument {}
