import Foundation
import Testing

/// What the commands write, checked file by file: JSON keys in one convention (snake_case), file names
/// ASCII, no absolute path and no link leaving the output folder, and two `converge` processes sharing a
/// folder without training a cell twice.
@Suite(.serialized) struct OutputFilesTests {
    /// snake_case as the toolkit writes it: lowercase words joined by "_", where a word may also be one
    /// capital letter naming a symbol of the reference code (W, U, L, K in `sv_W`, `weight_decay_W`, `L`).
    static func isSnakeCase(_ key: String) -> Bool {
        let words = key.split(separator: "_", omittingEmptySubsequences: false)
        return !words.isEmpty
            && words.allSatisfy { w in
                guard !w.isEmpty else { return false }
                if w.count == 1, let c = w.first, c.isUppercase, c.isASCII { return true }
                return w.allSatisfy { ($0.isLowercase || $0.isNumber) && $0.isASCII }
            }
    }

    /// Every key of every object in a JSON value, with its path.
    static func keys(_ value: Any, path: String = "$") -> [(path: String, key: String)] {
        if let d = value as? [String: Any] {
            return d.flatMap { k, v in [(path, k)] + keys(v, path: path + "." + k) }
        }
        if let a = value as? [Any] { return a.enumerated().flatMap { keys($1, path: path + "[\($0)]") } }
        return []
    }

    static func files(under root: URL) -> [URL] {
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return e.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }

    /// Keys of every JSON file under `root` that are not snake_case ("file: path.key").
    static func badKeys(under root: URL) throws -> (checked: Int, bad: [String]) {
        var bad: [String] = []
        var checked = 0
        for f in files(under: root) where f.pathExtension == "json" {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: f), options: [.fragmentsAllowed])
            checked += 1
            for (path, key) in keys(object) where !isSnakeCase(key) { bad.append("\(f.lastPathComponent): \(path).\(key)") }
        }
        return (checked, bad)
    }

    @Test func snakeCaseRuleAcceptsAndRejects() {
        for k in ["nc1_ratio", "sv_W", "weight_decay_W", "L", "objective", "slope_standard_error"] { #expect(Self.isSnakeCase(k), "\(k)") }
        for k in ["slopeStandardError", "Nc1", "a__b", "_x", "x_", "ε", "wordNorms"] { #expect(!Self.isSnakeCase(k), "\(k)") }
    }

    @Test func trainCompareAndConvergeWriteSnakeCaseJSON() throws {
        let root = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run").path
        let t = try CLIRunner.run(["train", "--preset", "quick", "--epochs", "3", "--out", run])
        #expect(t.status == 0, "\(t.stderr)")
        let c = try CLIRunner.run(["compare", run, "--no-figures"])
        #expect(c.status == 0, "\(c.stderr)")
        let spec = root.appendingPathComponent("tiny.json")
        try Self.tinySpec.write(to: spec, atomically: true, encoding: .utf8)
        let sweep = root.appendingPathComponent("sweep").path
        let v = try CLIRunner.run(["converge", spec.path, "--nspl", "2,4", "--regimes", "type-I,layernorm", "--out", sweep])
        #expect(v.status == 0, "\(v.stderr)")
        let (checked, bad) = try Self.badKeys(under: root)
        // metrics.json, comparison.json, checkpoint.json, state.json, plan.json, 4 cells, 2 predictions, convergence.json.
        #expect(checked >= 10)
        #expect(bad.isEmpty, "\(bad)")
    }

    static let tinySpec = """
        {"nc": 3, "nw": 6, "L": 3, "K": 8, "d": 4, "weight_decay_W": 0.01, "weight_decay_U": 0.01, "lr": 0.5, "bsz": 8,
         "num_epochs": 20, "nspl": 4, "n_test": 2, "report": 10, "seed": 3, "name": "tiny"}
        """

    @Test func twoConvergeProcessesOnOneFolderTrainEachCellOnceAndLeaveAWholeTable() throws {
        let root = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("tiny.json")
        try Self.tinySpec.write(to: spec, atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("sweep").path
        let args = ["converge", spec.path, "--nspl", "2,4,8", "--regimes", "type-I,type-II,layernorm", "--seeds", "2", "--out", out]
        // Both processes start at once and walk the cells in the same order: they meet on every cell.
        let runs = try [0, 1].map { _ -> (Process, Pipe) in
            let p = Process()
            p.executableURL = CLIRunner.binary
            p.arguments = args
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return (p, err)
        }
        var trained: [[String]] = []
        for (p, err) in runs {
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(text)")
            trained.append(
                text.split(separator: "\n").filter { $0.hasSuffix(": training (sgd)") }.map {
                    String($0.split(separator: "]", maxSplits: 1)[1])
                })
        }
        let total = 3 * 3 * 2
        #expect(Set(trained[0]).isDisjoint(with: Set(trained[1])), "a cell was trained twice: \(trained)")
        #expect(trained[0].count + trained[1].count == total, "\(trained)")
        let cells = try FileManager.default.contentsOfDirectory(atPath: out + "/cells")
        #expect(cells.filter { $0.hasSuffix(".json") }.count == total)
        #expect(cells.filter { $0.hasSuffix(".lock") }.isEmpty)
        let table =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/convergence.json"))) as? [String: Any]
        #expect((table?["cells"] as? [Any])?.count == total)
    }

    @Test(.timeLimit(.minutes(20))) func quickReportHoldsAndWritesPortableFiles() throws {
        let root = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("report")
        let r = try CLIRunner.run(["report", "--preset", "quick", "--out", out.path])
        // Exit status 0: every statement holds.
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr.suffix(3000))")

        // checks.json: the documented schema.
        let checks = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("checks.json"))) as? [[String: Any]]
        #expect((checks?.count ?? 0) >= 8)
        func kind(_ k: String) -> [[String: Any]] { (checks ?? []).filter { ($0["kind"] as? String) == k } }
        #expect(kind("statement").count >= 12)
        #expect(kind("control").count >= 9)
        // P5 over seeds, its controls, and what is reported without a verdict.
        let ids = Set((checks ?? []).compactMap { $0["id"] as? String })
        for id in [
            "p5-convergence", "p5-type-ii-directions", "control-p5-interleaved-concepts", "control-p5-type-ii-interleaved-concepts",
            "p4-layernorm-rotation-invariance", "control-p4-rotation-moving-ones"
        ] {
            #expect(ids.contains(id), "no check \(id)")
        }
        #expect(
            Set(kind("reported").compactMap { $0["id"] as? String }) == [
                "p5-convergence-zipf-ln", "p5-type-ii-norm-law", "p5-criterion-merged-halves"
            ])
        for c in checks ?? [] {
            for field in ["id", "statement", "kind", "holds", "tolerance", "tolerance_source", "instance", "predicted", "measured"] {
                #expect(c[field] != nil, "check \(c["id"] ?? "?") lacks \(field)")
            }
            // Statements hold; negative controls must not; reported checks judge nothing (holds: null).
            switch c["kind"] as? String {
            case "statement", "control":
                let expected = (c["kind"] as? String) == "statement"
                #expect(
                    c["holds"] as? Bool == expected,
                    "\(c["id"] ?? "?"): holds = \(c["holds"] ?? "?"), expected \(expected): \(c["measured"] ?? "")")
            case "reported":
                #expect(c["holds"] is NSNull, "\(c["id"] ?? "?"): a reported check has holds null")
            default:
                Issue.record("\(c["id"] ?? "?"): unknown kind \(c["kind"] ?? "?")")
            }
        }
        let readmeText = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readmeText.contains("## Reported, not judged"))

        let files = Self.files(under: out)
        #expect(files.count > 20)
        for f in files {
            let relative = String(f.path.dropFirst(out.path.count))
            let ascii = relative.unicodeScalars.allSatisfy(\.isASCII)
            #expect(ascii, "non-ASCII file name \(relative)")
            guard ["md", "json", "csv", "svg"].contains(f.pathExtension) else { continue }
            let text = try String(contentsOf: f, encoding: .utf8)
            #expect(!text.contains(root.path), "\(relative) records an absolute path")
            #expect(!text.contains(FileManager.default.temporaryDirectory.path + "/"), "\(relative) records an absolute path")
        }
        // Every link of the README stays inside the report folder and points at a file that exists.
        let readme = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        let links = try NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
            .matches(in: readme, range: NSRange(readme.startIndex..., in: readme))
            .map { String(readme[Range($0.range(at: 1), in: readme)!]) }
        #expect(links.count >= 10)
        for l in links {
            #expect(!l.hasPrefix("/") && !l.contains("..") && !l.contains("://"), "link leaves the folder: \(l)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(l).path), "dead link \(l)")
        }
        let (checked, bad) = try Self.badKeys(under: out)
        #expect(checked >= 20)
        #expect(bad.isEmpty, "\(bad)")
    }
}
