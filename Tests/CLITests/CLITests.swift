import Foundation
import Testing

@Suite struct CLITests {
    @Test func helpListsCommands() throws {
        let r = try CLIRunner.run(["--help"])
        #expect(r.status == 0)
        for c in ["spec", "sample", "predict", "verify", "train", "report"] { #expect(r.stdout.contains(c)) }
    }

    @Test func specShowPrintsAPresetThatSpecCheckAccepts() throws {
        let r = try CLIRunner.run(["spec", "show", "fig3"])
        #expect(r.status == 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(obj["nw"] as? Int == 1200 && obj["word_freq"] as? String == "uniform")
        let dir = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("fig3.json")
        try r.stdout.write(to: f, atomically: true, encoding: .utf8)
        let c = try CLIRunner.run(["spec", "check", f.path])
        #expect(c.status == 0 && c.stdout.contains("ok: type-I"))
    }

    @Test func sampleShowsSentencesFollowingTheirLatentVariable() throws {
        let r = try CLIRunner.run(["sample", "--preset", "fig3", "--json", "--classes", "2", "--sentences", "3"])
        #expect(r.status == 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let classes = try #require(obj["classes"] as? [[String: Any]])
        #expect(classes.count == 2)
        for c in classes {
            let z = try #require(c["latent"] as? [Int])
            let sentences = try #require(c["sentences"] as? [[[Int]]])
            #expect(z.count == 15 && sentences.count == 3)
            for s in sentences { #expect(s.map { $0[0] } == z) }
        }
        let text = try CLIRunner.run(["sample", "--preset", "fig3"])
        #expect(text.status == 0 && text.stdout.contains("latent variable z ="))
    }

    /// Each bad spec gets an error naming the field, a non-zero exit, and no output on stdout.
    @Test(arguments: [
        ("{\"nc\": 3, \"nw\": 1201, \"L\": 15, \"K\": 10, \"d\": 100}", "'nw'"),
        ("{\"nc\": 3, \"nw\": 12, \"L\": 15, \"K\": 0, \"d\": 100}", "'K'"),
        ("{\"nc\": 3, \"nw\": 12, \"L\": 15, \"K\": 10, \"d\": 1}", "'d'"),
        ("{\"nc\": 3, \"nw\": 12, \"L\": 15, \"K\": 10, \"d\": 2, \"layer_norm\": true}", "'d'"),
        ("{\"nc\": 3, \"nw\": 12, \"L\": 15, \"K\": 10, \"d\": 4, \"word_freq\": [1, 2]}", "'word_freq'"),
        ("{\"nc\": 3, \"nw\": 12, \"L\": 2, \"K\": 1, \"d\": 4, \"latent\": [[0, 5]]}", "'latent[0][1]'"),
        ("{\"nc\": 3, \"nw\": 12, \"L\": 15, \"K\": 10, \"d\": 4, \"lrate\": 0.1}", "did you mean 'lr'"),
        ("{\"nc\": 3, \"nw\": 12,\n \"L\": 15 \"K\": 10}", "line 2")
    ])
    func badSpecIsRefused(_ json: String, _ expected: String) throws {
        let dir = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("bad.json")
        try json.write(to: f, atomically: true, encoding: .utf8)
        for cmd in [["spec", "check"], ["sample"]] {
            let r = try CLIRunner.run(cmd + [f.path])
            #expect(r.status != 0)
            #expect(r.stderr.contains(expected), "stderr: \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bad.json"])
    }

    @Test func unknownPresetAndMissingFileAreClear() throws {
        let r = try CLIRunner.run(["sample", "--preset", "fig9"])
        #expect(r.status != 0 && r.stderr.contains("unknown preset 'fig9'"))
        let m = try CLIRunner.run(["sample", "/nonexistent/spec.json"])
        #expect(m.status != 0 && m.stderr.contains("cannot read spec file"))
    }

    @Test func fullBatchPrecisionIsCheckedAndReported() throws {
        let sgd = try CLIRunner.run(["train", "--preset", "quick", "--precision", "single"])
        #expect(sgd.status != 0 && sgd.stderr.contains("--precision is for --optimizer full-batch") && sgd.stdout.isEmpty)
        let bad = try CLIRunner.run(["train", "--preset", "quick", "--optimizer", "full-batch", "--precision", "half"])
        #expect(bad.status != 0 && bad.stderr.contains("'half'") && bad.stderr.contains("single") && bad.stdout.isEmpty)
        let ok = try CLIRunner.run(["train", "--preset", "quick", "--optimizer", "full-batch", "--precision", "single", "--epochs", "20"])
        #expect(ok.status == 0 && ok.stdout.contains("risk passes in single precision"), "\(ok.stdout)\n\(ok.stderr)")
    }
}
