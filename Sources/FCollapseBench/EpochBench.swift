import ArgumentParser
import ExperimentSpec
import Foundation
import GSLBridge
import Training

/// Time per SGD epoch of a preset (fig3 by default), side by side with the PyTorch reference protocol
/// (benchmarks/pytorch/epoch.py) run on the CPU in a virtualenv under .benchmark-venv/.
struct EpochBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epoch",
        abstract: "Seconds per SGD epoch of a preset (default fig3), against PyTorch on the CPU in the same run."
    )
    @Option(help: "Preset to time.") var preset = "fig3"
    @Option(help: "Timed epochs (the median is reported).") var epochs = 5
    @Option(help: "Threads for OpenBLAS and for PyTorch.") var threads = 2
    @Flag(help: "Skip the PyTorch comparison.") var noPytorch = false
    @Option(help: "The PyTorch script.") var script = "benchmarks/pytorch/epoch.py"
    @Option(help: "Virtualenv for PyTorch (created with `pip install torch` when missing).") var venv = ".benchmark-venv"

    func run() throws {
        guard var spec = Spec.preset(preset) else { throw ValidationError("unknown preset '\(preset)'") }
        spec.report = Int.max / 2  // no test pass inside the timed epochs
        BLAS.setThreads(threads)
        let trainer = Trainer(spec: spec)
        // Epoch 1 is a warm-up (and carries the test pass); epochs 2...epochs+1 are timed.
        try trainer.train(epochs: epochs + 2)
        let times = trainer.history[1...epochs].map(\.seconds)
        let med = median(times)
        let batches = (spec.K * spec.nspl + spec.bsz - 1) / spec.bsz
        // Three products of bsz x L·d x K per minibatch (logits, dX, the update of U).
        let flop = Double(batches) * 3 * 2 * Double(spec.bsz) * Double(spec.L * spec.d) * Double(spec.K)
        print("BLAS: \(BLAS.implementation), threads = \(BLAS.threads)")
        print(
            String(
                format: "fcollapse %@: median %.3f s per epoch over %d epochs (%@), %.1f GFLOP/s in the three sgemm products",
                preset, med, epochs, times.map { String(format: "%.3f", $0) }.joined(separator: ", "), flop / med / 1e9))
        guard !noPytorch else { return }
        guard let py = try ensureVenv() else { return }
        let args =
            [
                script, "--nw", "\(spec.nw)", "--L", "\(spec.L)", "--K", "\(spec.K)", "--d", "\(spec.d)",
                "--nspl", "\(spec.nspl)", "--bsz", "\(spec.bsz)", "--lr", "\(spec.lr)", "--wd", "\(spec.weightDecayW)",
                "--epochs", "\(epochs + 1)", "--threads", "\(threads)"
            ] + (spec.layerNorm ? ["--layer-norm"] : [])
        let (status, out) = runProcess(py, args)
        guard status == 0, let line = out.split(separator: "\n").last,
            let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let all = obj["epoch_seconds"] as? [Double]
        else {
            print("PyTorch run failed (exit \(status)): \(out)")
            return
        }
        let ptimes = Array(all.dropFirst())  // the first epoch is a warm-up there too
        let pmed = median(ptimes)
        print(
            String(
                format: "PyTorch %@ (%@ threads): median %.3f s per epoch over %d epochs (%@), %.1f GFLOP/s",
                "\(obj["torch"] ?? "?")", "\(obj["threads"] ?? "?")", pmed, ptimes.count,
                ptimes.map { String(format: "%.3f", $0) }.joined(separator: ", "), flop / pmed / 1e9))
        print(String(format: "speed-up of fcollapse over PyTorch: %.2fx", pmed / med))
    }

    /// The virtualenv's python, creating the venv and installing torch when needed; nil when impossible.
    func ensureVenv() throws -> String? {
        let py = venv + "/bin/python"
        if FileManager.default.isExecutableFile(atPath: py), runProcess(py, ["-c", "import torch"]).0 == 0 { return py }
        print("creating \(venv) and installing torch from PyPI (large CPU wheels; once)...")
        if runProcess("/usr/bin/env", ["python3", "-m", "venv", venv]).0 != 0 {
            print("cannot create the virtualenv \(venv) (python3 -m venv failed): PyTorch comparison skipped"); return nil
        }
        let (s, out) = runProcess(venv + "/bin/pip", ["install", "--quiet", "torch"])
        if s != 0 { print("pip install torch failed: PyTorch comparison skipped\n\(out.suffix(2000))"); return nil }
        return py
    }

    func runProcess(_ exe: String, _ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "cannot run \(exe): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
