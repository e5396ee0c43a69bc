import Foundation
import Notebooks
import Testing

/// Running notebooks: outputs rewritten in place, idempotence, failure reports, quick mode, limits.
/// The cells use echo/printf/seq rather than fcollapse, so these tests do not need the binary.
@Suite final class RunnerTests {
    private let scratch = ScratchNotebooks()
    func write(_ text: String, name: String = "nb.md") throws -> String { try scratch.write(text, name: name) }
    func read(_ path: String) throws -> String { try scratch.read(path) }

    func run(_ path: String, _ options: RunOptions) throws -> NotebookRun {
        try NotebookRunner.execute(try Notebook.load(path: path), options: options)
    }

    @Test func runRewritesOutputsInPlaceAndIsIdempotent() throws {
        let original = """
            # Notebook

            Some prose.

            ```sh
            printf 'alpha\\nbeta\\n'
            ```

            More prose ![a picture](pic.svg).

            ```sh
            echo '{"n": 3}'
            ```
            ```output exit=0
            stale output
            from an earlier run
            ```

            ```assert
            .n == 3
            ```
            """
        let path = try write(original)
        let first = try run(path, RunOptions(rewrite: true))
        #expect(first.failures.isEmpty)
        #expect(first.rewritten)
        let text = try read(path)
        // The expected file: the first cell gains an output cell right after its closing fence, the
        // second cell's stale output is replaced, and every other line is untouched.
        let expected =
            original
            .replacingOccurrences(
                of: "printf 'alpha\\nbeta\\n'\n```\n", with: "printf 'alpha\\nbeta\\n'\n```\n```output exit=0\nalpha\nbeta\n```\n"
            )
            .replacingOccurrences(of: "stale output\nfrom an earlier run\n", with: "{\"n\": 3}\n")
        #expect(text == expected)
        // The rewritten notebook parses, and its stored outputs are what the commands printed.
        let nb = try Notebook.load(path: path)
        #expect(nb.cells.map { $0.output?.text } == ["alpha\nbeta", "{\"n\": 3}"])

        let second = try run(path, RunOptions(rewrite: true))
        #expect(!second.rewritten)
        #expect(try read(path) == expected)
        // No temporary file is left beside the notebook.
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["nb.md"])
    }

    @Test func checkReportsTheFailingCellAndLeavesTheFileAlone() throws {
        let original = """
            ```sh
            echo '{"accuracy": 0.95}'
            ```

            ```assert
            .accuracy > 0.9
            ```

            ```sh
            echo '{"accuracy": 0.42, "epochs": 10}'
            ```

            ```assert
            .epochs == 10
            .accuracy >= 0.99
            ```

            ```sh
            echo fine
            ```
            """
        let path = try write(original)
        let r = try run(path, RunOptions())
        #expect(r.cells.count == 3)
        #expect(r.failures.count == 1)
        let f = try #require(r.failures.first)
        #expect(f.file == path)
        #expect(f.cell == 2)
        #expect(f.cellLine == 9)
        #expect(f.line == 15)
        #expect(f.assertion == ".accuracy >= 0.99")
        // How jq judged it, what it printed, and the value of the path it read.
        #expect(f.reason.contains("false or null") && f.reason.contains("printed false"), "\(f.reason)")
        #expect(f.reason.contains(".accuracy = 0.42"), "\(f.reason)")
        #expect(f.description.hasPrefix("\(path):15: cell 2 (line 9): assertion `.accuracy >= 0.99` failed"))
        #expect(try read(path) == original)
    }

    @Test func nonZeroExitFailsUnlessAnAssertionReadsExit() throws {
        let path = try write(
            """
            ```sh
            echo before; exit 3
            ```

            ```sh
            echo expected >&2; exit 4
            ```

            ```assert
            $exit == 4
            $stderr | test("expected")
            ```
            """)
        let r = try run(path, RunOptions())
        #expect(r.failures.count == 1)
        let f = try #require(r.failures.first)
        #expect(f.cell == 1 && f.line == 1 && f.assertion == nil)
        #expect(f.reason.contains("status 3") && f.reason.contains("before"))
    }

    @Test func quickModeSubstitutesSkipsAndMarksTheOutputs() throws {
        let path = try write(
            """
            ```notebook-config
            quick: {"--scale full": "--scale small"}
            ```

            ```sh
            echo run --scale full
            ```

            ```assert
            full: $output | test("--scale full")
            quick: $output | test("--scale small")
            ```

            ```sh skip-quick
            exit 9
            ```
            """)
        let quick = try run(path, RunOptions(quick: true, rewrite: true))
        #expect(quick.failures.isEmpty)
        #expect(quick.cells[0].command == "echo run --scale small")
        #expect(quick.cells[1].result == nil)
        var nb = try Notebook.load(path: path)
        #expect(nb.cells[0].output?.text == "run --scale small")
        #expect(nb.cells[1].output == nil)
        #expect(try read(path).contains("```output exit=0 quick\n"))

        // At full scale the skipped cell runs (and fails: exit 9 with no assertion on exit).
        let full = try run(path, RunOptions(rewrite: true))
        #expect(full.failures.map(\.cell) == [2])
        nb = try Notebook.load(path: path)
        #expect(nb.cells[0].output?.text == "run --scale full")
        #expect(try read(path).contains("```output exit=9\n"))
    }

    @Test func storedOutputIsTruncatedButAssertionsSeeEverything() throws {
        let path = try write(
            """
            ```notebook-config
            max-output-lines: 8
            ```

            ```sh
            seq 1 100
            ```

            ```assert
            ($output | test("(?m)^50$")) and ($output | test("(?m)^100$"))
            [$output | scan("(?m)^[0-9]+$")] | length == 100
            ```
            """)
        let r = try run(path, RunOptions(rewrite: true))
        #expect(r.failures.isEmpty)
        let stored = try #require(try Notebook.load(path: path).cells[0].output?.text).components(separatedBy: "\n")
        // 8 kept lines (6 first, 2 last) plus the marker.
        #expect(stored.count == 9)
        #expect(Array(stored.prefix(6)) == (1...6).map(String.init))
        #expect(Array(stored.suffix(2)) == ["99", "100"])
        // The marker names the file beside the notebook that holds the whole output.
        #expect(stored[6] == "[... 92 lines omitted of 100; the whole output is in outputs/nb-cell1.txt ...]")
        let whole = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("outputs/nb-cell1.txt")
        let (header, lines) = try WholeOutput.read(whole)
        #expect(header == WholeOutput.Header(cell: 1, notebook: "nb.md", exitCode: 0, quick: false, timedOut: false, lineCount: 100))
        #expect(lines == (1...100).map(String.init))
        #expect(try read(whole.path).hasPrefix("fcollapse notebook output: cell 1 of nb.md, exit=0, 100 lines\n1\n2\n"))
        // An explicit per-run limit overrides the notebook's; the whole output is no longer needed
        // and its file is removed.
        _ = try run(path, RunOptions(rewrite: true, maxOutputLines: 0))
        #expect(try Notebook.load(path: path).cells[0].output?.text.components(separatedBy: "\n").count == 100)
        #expect(!FileManager.default.fileExists(atPath: whole.path))
    }

    @Test func outputsWithBackticksGetALongerFence() throws {
        let path = try write("```sh\nprintf 'a\\n```\\n````x\\nb\\n'\n```\n")
        _ = try run(path, RunOptions(rewrite: true))
        let once = try read(path)
        #expect(once.contains("\n`````output exit=0\n"))
        let nb = try Notebook.load(path: path)
        #expect(nb.cells.count == 1)
        #expect(nb.cells[0].output?.text == "a\n```\n````x\nb")
        let again = try run(path, RunOptions(rewrite: true))
        #expect(!again.rewritten)
    }

    @Test func timeoutStopsTheCommand() throws {
        let path = try write("```sh timeout=0.3\necho started; sleep 30\n```\n\n```sh\necho next\n```\n")
        let r = try run(path, RunOptions())
        let first = try #require(r.cells.first?.result)
        #expect(first.timedOut)
        #expect(first.output.exitCode == ShellCommand.timeoutStatus)
        #expect(first.output.output.contains("started"))
        // Generous bound: 0.3 s timeout plus process start-up and a loaded 2-core machine, far below
        // the 30 s the command would take if it were not stopped.
        #expect(first.duration < 10)
        #expect(r.failures.count == 1 && r.failures[0].reason.contains("timeout"))
        #expect(r.cells.count == 2 && r.cells[1].failures.isEmpty)
    }

    @Test func failFastStopsAtTheFirstFailure() throws {
        let path = try write("```sh\nfalse\n```\n\n```sh\necho never\n```\n")
        let r = try run(path, RunOptions(failFast: true))
        #expect(r.cells.count == 1 && r.failures.count == 1)
    }

    @Test func fcollapseIsTheGivenExecutableAndCellsShareAScratchFolder() throws {
        let path = try write(
            """
            ```sh
            fcollapse spec show fig3
            ```

            ```assert
            $output | test("(?m)^fake fcollapse: spec show fig3$")
            ```

            ```sh
            pwd; echo shared > "$NOTEBOOK_TMP/file"; echo "quick=$NOTEBOOK_QUICK"
            ```

            ```sh
            cat "$NOTEBOOK_TMP/file"; test "$FCOLLAPSE" -ef "$(command -v fcollapse)" && echo same-binary
            ```

            ```assert
            ($output | test("(?m)^shared$")) and ($output | test("(?m)^same-binary$"))
            ```
            """)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fake = bin.appendingPathComponent("fcollapse").path
        try "#!/bin/sh\necho \"fake fcollapse: $*\"\n".write(toFile: fake, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)

        let r = try run(path, RunOptions(executable: fake))
        #expect(r.failures.isEmpty, "\(r.failures)")
        let second = try #require(r.cells[1].result?.output.stdout)
        let cwd = second.components(separatedBy: "\n")[0]
        #expect(URL(fileURLWithPath: cwd).resolvingSymlinksInPath().path == dir.resolvingSymlinksInPath().path)
        #expect(second.contains("quick=0"))
    }

    @Test func theScratchFolderIsStoredAsItsVariableSoOutputsStayTheSame() throws {
        let path = try write(
            "```sh\necho \"wrote $NOTEBOOK_TMP/a.json\" >&2\n```\n\n```assert\n$stderr | contains(\"wrote $NOTEBOOK_TMP/a.json\")\n```\n")
        let first = try run(path, RunOptions(rewrite: true))
        #expect(first.failures.isEmpty, "\(first.failures)")
        #expect(try Notebook.load(path: path).cells[0].output?.text == "wrote $NOTEBOOK_TMP/a.json")
        #expect(!(try run(path, RunOptions(rewrite: true))).rewritten)
    }

    @Test func storedLinesKeepTheLastStateOfCarriageReturnLinesAndDropTrailingBlanks() {
        #expect(OutputRendering.lines(of: "a\r\nprogress 10%\rprogress 100%\ndone\r\n\n  \n") == ["a", "progress 100%", "done"])
        #expect(OutputRendering.lines(of: "") == [])
    }

    @Test func standardOutputAndErrorAreCapturedSeparatelyAndTogether() throws {
        let r = try ShellCommand.run(
            "echo '{\"a\": 1}'; echo warn >&2; echo tail", in: "/", environment: ["PATH": "/usr/bin:/bin"], timeout: 30)
        #expect(r.output.exitCode == 0 && !r.timedOut)
        #expect(r.output.stdout == "{\"a\": 1}\ntail\n")
        #expect(r.output.stderr == "warn\n")
        // Arrival order across the two pipes is not guaranteed, so only the contents are checked.
        #expect(r.output.output.split(separator: "\n").sorted() == ["tail", "warn", "{\"a\": 1}"])
        let check = try JQCheck(r.output, json: JSONExtraction.json(in: r.output.stdout), jq: try JQ.locate())
        #expect(try check.failure(of: Assertion(line: 1, text: ".a == 1 and ($stderr | test(\"warn\"))", mode: .always)) == nil)
    }
}
