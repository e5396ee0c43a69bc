import ArrayIO
import Foundation
import Testing

/// train → compare on the quick preset, as a user would run it.
@Suite struct CompareCLITests {
    @Test func trainedQuickNetworkIsComparedWithItsPrediction() throws {
        let dir = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("quick").path
        let t = try CLIRunner.run(["train", "--preset", "quick", "--out", run, "--json"])
        #expect(t.status == 0, "stderr: \(t.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(t.stdout.utf8)) as? [String: Any])
        #expect((summary["test_accuracy"] as? Double ?? 0) > 0.85)
        // The run folder holds arrays NumPy reads.
        let w = try NPY.read(run + "/W.npy")
        #expect(w.shape == [60, 8])

        let c = try CLIRunner.run(["compare", run, "--json"])
        #expect(c.status == 0, "stderr: \(c.stderr)")
        let cmp = try #require(try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any])
        #expect(cmp["prediction_method"] as? String == "restricted")
        let metrics = try #require(cmp["metrics"] as? [String: Any])
        let nc1 = try #require(metrics["nc1"] as? [String: Any])
        // Uniform μ: after training the words of a concept are close to collapsed (P1), well below the
        // ratio of an uncollapsed embedding (≈ 1 − 1/n_c for random vectors).
        #expect((nc1["scatter_ratio"] as? Double ?? 1) < 0.1)
        // The empirical objective is near the limit: the quick preset has n_spl = 20.
        let gap = (cmp["empirical_objective"] as? Double ?? 0) - (cmp["predicted_objective"] as? Double ?? 1)
        #expect(abs(gap) < 0.05)
        for f in ["comparison.json", "words-pca.svg", "blocks-pca.svg", "norm-law.svg"] {
            #expect(FileManager.default.fileExists(atPath: run + "/" + f), "\(f) missing")
        }
    }

    @Test func compareRefusesAFolderWithoutARun() throws {
        let dir = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLIRunner.run(["compare", dir.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains(dir.path) || r.stderr.contains("spec.json"), "stderr: \(r.stderr)")
    }
}
