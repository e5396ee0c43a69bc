import Foundation
import Notebooks
import Testing

/// `check --recorded`: the assertions against the outputs stored in the notebook (and whole outputs
/// in outputs/ beside it), without running anything; and `run --quick` leaving full-scale records alone.
@Suite final class RecordedTests {
    private let scratch = ScratchNotebooks()
    func write(_ text: String, name: String = "nb.md") throws -> String { try scratch.write(text, name: name) }
    func read(_ path: String) throws -> String { try scratch.read(path) }

    func recorded(_ path: String) throws -> RecordedCheck { try NotebookRunner.checkRecorded(try Notebook.load(path: path)) }

    func states(_ r: RecordedCheck) -> [Int: RecordedVerdict.State] {
        Dictionary(r.verdicts.map { ($0.line, $0.state) }, uniquingKeysWith: { a, _ in a })
    }

    static let notebook = """
        ```notebook-config
        max-output-lines: 8
        ```

        ```sh
        echo '{"accuracy": 0.95}'
        ```

        ```assert
        .accuracy > 0.9
        ```

        ```sh
        seq 1 100; echo '{"total": 5050}'
        ```

        ```assert
        .total == ([range(1; 101)] | add)
        [$output | scan("(?m)^[0-9]+$")] | length == 100
        ```
        """

    /// The test the issue asks for: a recorded number edited so that an assertion breaks.
    @Test func editingARecordedNumberBreaksTheRecordedCheck() throws {
        let path = try write(Self.notebook)
        let run = try NotebookRunner.execute(try Notebook.load(path: path), options: RunOptions(rewrite: true))
        #expect(run.failures.isEmpty, "\(run.failures)")
        let nb = try Notebook.load(path: path)
        let (cell1, cell2) = (nb.cells[0], nb.cells[1])
        let (line1, line2, line3) = (cell1.assertions[0].line, cell2.assertions[0].line, cell2.assertions[1].line)
        let before = try recorded(path)
        #expect(before.verdicts.count == 3 && before.holding.count == 3, "\(before.verdicts)")

        // A number in the notebook's own output cell.
        let text = try read(path)
        #expect(text.contains("{\"accuracy\": 0.95}\n```"))
        try text.replacingOccurrences(of: "{\"accuracy\": 0.95}\n```", with: "{\"accuracy\": 0.85}\n```").write(
            toFile: path, atomically: false, encoding: .utf8)
        let afterCell = try recorded(path)
        #expect(afterCell.failures.map(\.line) == [line1], "\(afterCell.verdicts)")
        let f = try #require(afterCell.failures.first)
        #expect(f.description.hasPrefix("\(path):\(line1): cell 1 (line \(cell1.openLine)): assertion `.accuracy > 0.9`: FAILS: "), "\(f)")
        #expect(f.description.contains(".accuracy = 0.85"))

        // A number in the whole output beside it (the output cell holds an excerpt of 8 lines).
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let whole = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("outputs/nb-cell2.txt").path
        let stored = try read(whole)
        #expect(stored.contains("{\"total\": 5050}"))
        #expect(try recorded(path).failures.isEmpty)
        try stored.replacingOccurrences(of: "{\"total\": 5050}", with: "{\"total\": 5051}").write(
            toFile: whole, atomically: false, encoding: .utf8)
        let afterWhole = try recorded(path)
        #expect(afterWhole.failures.map(\.line) == [line2], "\(afterWhole.verdicts)")
        #expect(afterWhole.holding.count == 2)

        // A missing whole-output file is a failure of the cell, not a silent pass.
        try FileManager.default.removeItem(atPath: whole)
        let missing = try recorded(path)
        #expect(
            missing.failures.count == 1 && missing.failures[0].assertion == nil && missing.failures[0].line == cell2.openLine,
            "\(missing.verdicts)")
        #expect(missing.unchecked.map(\.line) == [line2, line3])
    }

    @Test func anExcerptCannotBeCheckedButIsNotAFailure() throws {
        let path = try write(
            """
            ```sh
            seq 1 100
            ```
            ```output exit=0
            1
            2
            [... 96 lines omitted of 100; the assertions see every line ...]
            99
            100
            ```

            ```assert
            [$output | scan("(?m)^[0-9]+$")] | length == 100
            ```
            """)
        let r = try recorded(path)
        #expect(r.failures.isEmpty && r.holding.isEmpty)
        let v = try #require(r.unchecked.first)
        #expect(r.unchecked.count == 1 && v.line == 13)
        #expect(v.description.contains("cannot be checked: the recorded output is an excerpt (4 of 100 lines"), "\(v)")
    }

    @Test func theScaleStreamsAndExitStatusOfTheRecord() throws {
        let path = try write(
            """
            ```sh
            echo '{"K": 50}'; echo note >&2
            ```
            ```output exit=0 quick
            {"K": 50}
            note
            ```

            ```assert
            full: .K == 1000
            quick: .K == 50
            .K > 0
            $stderr | test("note")
            $output | test("(?m)^note$")
            ```

            ```sh
            exit 3
            ```
            ```output exit=3
            ```

            ```sh
            exit 4
            ```
            ```output exit=4
            ```

            ```assert
            $exit == 4
            ```
            """)
        let r = try recorded(path)
        let s = states(r)
        // A quick record: its full-scale assertion cannot be checked, the others are.
        #expect(s[10] == .cannotBeChecked("the recorded output comes from a quick run"))
        #expect(s[11] == .holds && s[12] == .holds && s[14] == .holds)
        // The record keeps the streams together.
        if case .cannotBeChecked(let why)? = s[13] {
            #expect(why.contains("$stdout or $stderr"))
        } else {
            Issue.record("line 13: \(String(describing: s[13]))")
        }
        // A recorded non-zero exit fails unless an assertion reads $exit.
        #expect(r.failures.count == 1 && r.failures[0].cell == 2 && r.failures[0].assertion == nil, "\(r.verdicts)")
        #expect(s[30] == .holds)
    }

    @Test func aQuickRunDoesNotReplaceAFullScaleRecord() throws {
        let original = """
            ```notebook-config
            quick: {"full-scale": "small"}
            ```

            ```sh
            echo full-scale
            ```
            ```output exit=0
            full-scale (recorded)
            ```

            ```sh
            echo full-scale too
            ```
            """
        let path = try write(original)
        let r = try NotebookRunner.execute(try Notebook.load(path: path), options: RunOptions(quick: true, rewrite: true))
        #expect(r.failures.isEmpty)
        let nb = try Notebook.load(path: path)
        // The full-scale record stays; the cell without a record gets a quick one.
        #expect(nb.cells[0].output?.text == "full-scale (recorded)" && nb.cells[0].output?.quick == false)
        #expect(nb.cells[1].output?.text == "small too" && nb.cells[1].output?.quick == true)
        // A full run replaces both.
        _ = try NotebookRunner.execute(nb, options: RunOptions(rewrite: true))
        let full = try Notebook.load(path: path)
        #expect(full.cells.map { $0.output?.text } == ["full-scale", "full-scale too"])
        #expect(full.cells.allSatisfy { $0.output?.quick == false })
    }

    @Test func wholeOutputNamesAreASCIIAndHeadersRoundTrip() throws {
        #expect(WholeOutput.relativePath(notebook: "/a/b/figure-3.md", cell: 4) == "outputs/figure-3-cell4.txt")
        #expect(WholeOutput.relativePath(notebook: "my notebook é.md", cell: 12) == "outputs/my_notebook__-cell12.txt")
        let h = WholeOutput.Header(cell: 3, notebook: "a, b.md", exitCode: -1, quick: true, timedOut: true, lineCount: 2)
        let dir = try scratch.folder()
        let url = dir.appendingPathComponent("outputs/x-cell3.txt")
        try WholeOutput.write(h, lines: ["one", "two"], to: url)
        let (back, lines) = try WholeOutput.read(url)
        #expect(back == h && lines == ["one", "two"])
        #expect(
            WholeOutput.parseMarker("[... 5 lines omitted of 9; the whole output is in outputs/x-cell3.txt ...]")?.file
                == "outputs/x-cell3.txt")
        #expect(
            WholeOutput.parseMarker("[... 5 lines omitted of 9; the assertions see every line ...]").map { $0.file == nil && $0.total == 9 }
                == true)
        #expect(WholeOutput.parseMarker("[1/9] regime uniform") == nil)
    }
}
