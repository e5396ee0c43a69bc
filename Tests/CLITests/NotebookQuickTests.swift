import Foundation
import Testing

/// Runs every text notebook of the repository (`notebooks-text/*.md`) in quick mode through the
/// built binary (`fcollapse notebook check --quick FILE`) and expects exit status 0: every cell ran
/// and every assertion that applies in quick mode held. The notebooks declare their own reduced
/// scale (their `quick` config); together they take well under two minutes on two cores.
@Suite(.serialized) struct NotebookQuickTests {
    /// notebooks-text/ of this checkout, found from this file's path (Tests/CLITests/ → repo root).
    static var notebookFolder: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("notebooks-text")
    }

    /// The notebooks: every Markdown file of the folder except its README (which documents the format).
    static var notebooks: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: notebookFolder.path)) ?? []
        return names.filter { $0.hasSuffix(".md") && $0 != "README.md" }.sorted()
    }

    @Test func theNotebooksAreFound() {
        // The five notebooks of issue 7 and the data-model example: a missing folder would make the
        // parameterised test below vacuous.
        let names = Set(Self.notebooks)
        for n in ["data-model.md", "figure-3.md", "figure-4.md", "theorem-checks.md", "convergence.md", "threshold.md"] {
            #expect(names.contains(n), "notebooks-text/\(n) not found in \(Self.notebookFolder.path)")
        }
    }

    @Test(arguments: NotebookQuickTests.notebooks)
    func notebookPassesInQuickMode(_ name: String) throws {
        let path = Self.notebookFolder.appendingPathComponent(name).path
        let r = try CLIRunner.run(["notebook", "check", "--quick", path])
        #expect(r.status == 0, "fcollapse notebook check --quick \(path) exited with \(r.status):\n\(r.stdout)\n\(r.stderr)")
    }

    /// `fcollapse notebook check --recorded FILE`: every assertion that the recorded outputs allow to
    /// check (full-scale ones included) holds on them; nothing runs. Assertions whose record is only an
    /// excerpt are listed, not failed, so this passes with them.
    @Test(arguments: NotebookQuickTests.notebooks)
    func recordedOutputsSatisfyTheAssertions(_ name: String) throws {
        let path = Self.notebookFolder.appendingPathComponent(name).path
        let r = try CLIRunner.run(["notebook", "check", "--recorded", path])
        #expect(r.status == 0, "fcollapse notebook check --recorded \(path) exited with \(r.status):\n\(r.stdout)\n\(r.stderr)")
        // One verdict line per checked assertion, and a summary.
        #expect(r.stdout.contains(": holds"), "\(r.stdout)")
        #expect(r.stderr.contains("checked against their recorded outputs"), "\(r.stderr)")
    }
}
