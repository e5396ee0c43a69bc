import Notebooks
import Testing

/// Parsing the notebook format: cells, config, quick substitutions, options and located errors.
@Suite struct ParsingTests {
    static let sample = """
        # Title

        Prose with an inline `sh` word and a non-cell block:

        ```text
        ```sh
        not a cell: inside a text block
        ```

        ```notebook-config
        # comment
        quick: {"--preset fig3": "--preset quick", "--nspl 5,10,20": "--nspl 5"}
        timeout: 12.5
        max-output-lines: 7
        ```

        ```sh timeout=3 max-lines=2
        fcollapse spec show fig3
        ```
        ```output exit=0
        old output
        ```

        ```assert
        .K == 1000
        full: .L == 15
          quick: .L == 6

        # comment
        ```

        ````sh skip-quick
        printf 'a\\nb\\n'
        echo done
        ````

        ```assert
        $exit == 0
        ```
        """

    @Test func cellsAndOutputs() throws {
        let nb = try Notebook.parse(Self.sample, path: "nb.md")
        #expect(nb.cells.count == 2)
        let c1 = nb.cells[0], c2 = nb.cells[1]
        #expect(c1.index == 1 && c2.index == 2)
        #expect(c1.script == "fcollapse spec show fig3")
        #expect(c1.openLine == 17 && c1.closeLine == 19)
        #expect(c1.options == CellOptions(timeout: 3, maxLines: 2, skipQuick: false))
        #expect(c1.output?.text == "old output")
        #expect(c1.output?.openLine == 20 && c1.output?.closeLine == 22)
        #expect(c1.assertions.map(\.text) == [".K == 1000", ".L == 15", ".L == 6"])
        #expect(c1.assertions.map(\.mode) == [.always, .full, .quick])
        #expect(c1.assertions.map(\.line) == [25, 26, 27])
        #expect(c1.assertions[1].applies(quick: false) && !c1.assertions[1].applies(quick: true))
        #expect(c1.assertions[2].applies(quick: true) && !c1.assertions[2].applies(quick: false))
        // A four-backtick fence holds the two-line script; it has no output cell yet.
        #expect(c2.script == "printf 'a\\nb\\n'\necho done")
        #expect(c2.options.skipQuick)
        #expect(c2.output == nil)
        #expect(c2.assertions.count == 1 && c2.assertions[0].readsExit)
        #expect(!c1.assertions[0].readsExit)
        // The output cell's info string is read: exit status, scale, timeout.
        #expect(c1.output?.exitCode == 0 && c1.output?.quick == false && c1.output?.timedOut == false)
    }

    @Test func configAndQuickSubstitutions() throws {
        let nb = try Notebook.parse(Self.sample, path: "nb.md")
        // Timeout 12.5 is exactly representable, so exact comparison is safe here.
        #expect(nb.config.timeout == 12.5)
        #expect(nb.config.maxOutputLines == 7)
        #expect(nb.config.quick.count == 2)
        let cmd = "fcollapse sweep --preset fig3 --nspl 5,10,20 --json"
        #expect(nb.config.command(cmd, quick: true) == "fcollapse sweep --preset quick --nspl 5 --json")
        #expect(nb.config.command(cmd, quick: false) == cmd)
    }

    @Test func objectSubstitutionsApplyLongestFirstAndArraysKeepTheirOrder() throws {
        let obj = try Notebook.parse("```notebook-config\nquick: {\"a\": \"x\", \"ab\": \"y\"}\n```\n", path: "n.md")
        #expect(obj.config.quick.map(\.from) == ["ab", "a"])
        #expect(obj.config.command("ab a", quick: true) == "y x")
        let arr = try Notebook.parse("```notebook-config\nquick: [[\"a\", \"x\"], [\"ab\", \"y\"]]\n```\n", path: "n.md")
        #expect(arr.config.command("ab a", quick: true) == "xb x")
    }

    @Test func crlfLineEndsAreAccepted() throws {
        let nb = try Notebook.parse(
            "```sh\r\necho hi\r\n```\r\n\r\n```output exit=0\r\nhi\r\n```\r\n```assert\r\n$output | test(\"hi\")\r\n```\r\n", path: "n.md")
        try #require(nb.cells.count == 1)
        #expect(nb.cells[0].script == "echo hi")
        #expect(nb.cells[0].output?.text == "hi")
        #expect(nb.cells[0].assertions.map(\.text) == ["$output | test(\"hi\")"])
    }

    @Test func defaultsWithoutConfig() throws {
        let nb = try Notebook.parse("```sh\necho hi\n```\n", path: "n.md")
        #expect(nb.config == NotebookConfig())
        #expect(nb.config.command("echo --preset fig3", quick: true) == "echo --preset fig3")
    }

    /// Each malformed notebook must fail with the right line and a message naming the problem.
    @Test(arguments: [
        ("```sh\necho\n", 1, "never closed"),
        ("text\n```output\nx\n```\n", 2, "must directly follow a command cell"),
        ("```sh\necho\n```\n\nprose\n\n```output\nx\n```\n", 7, "must directly follow"),
        ("```sh\necho\n```\n```output\nx\n```\n```output\ny\n```\n", 7, "must directly follow"),
        ("```assert\n$exit == 0\n```\n", 1, "must come after a command cell"),
        ("```notebook-config\nspeed: 3\n```\n", 2, "unknown key 'speed'"),
        ("```notebook-config\ntimeout: -1\n```\n", 2, "timeout must be a positive number"),
        ("```notebook-config\nquick: {\"a\": 3}\n```\n", 2, "must be a string"),
        ("```notebook-config\nquick: {oops}\n```\n", 2, "not valid JSON"),
        ("```notebook-config\nmax-output-lines: 2.5\n```\n", 2, "whole number"),
        ("```notebook-config\n```\n```notebook-config\n```\n", 3, "second notebook-config"),
        ("```sh\necho\n```\n```notebook-config\n```\n", 4, "before the first command cell"),
        ("```sh fast\necho\n```\n", 1, "unknown option"),
        ("```sh timeout=0\necho\n```\n", 1, "timeout must be a positive number"),
        ("```sh\n\n```\n", 1, "empty command cell"),
        // jq syntax errors, located at the assertion's line, before anything runs.
        ("```sh\necho\n```\n\n```assert\n.a == 1\n.b == (1 +\n```\n", 7, "assertion syntax error (jq)"),
        ("```sh\necho\n```\n\n```assert\n.a == 1\n\nfull: .b | nosuchfunction\n```\n", 8, "nosuchfunction/0 is not defined"),
        ("```sh\necho\n```\n\n```assert\n$exit == 0 and $undefined == 1\n```\n", 6, "$undefined is not defined"),
        ("```sh\necho\n```\n\n```assert\nquick:\n```\n", 6, "no jq filter")
    ])
    func errorsNameTheLine(text: String, line: Int, message: String) {
        do {
            _ = try Notebook.parse(text, path: "bad.md")
            Issue.record("expected an error for \(text.debugDescription)")
        } catch let e as NotebookError {
            #expect(e.file == "bad.md")
            #expect(e.line == line, "\(e)")
            #expect(e.message.contains(message), "\(e)")
            #expect(e.description.hasPrefix("bad.md:\(line):"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aSyntaxErrorShowsJQsMessageAndTheFilterButNotTheWrapper() {
        let text = "```sh\necho\n```\n```assert\n.x > 1\n  quick: .a >= (1 + # a comment\n```\n"
        do {
            _ = try Notebook.parse(text, path: "c.md")
            Issue.record("expected a syntax error")
        } catch let e as NotebookError {
            #expect(e.line == 6)
            #expect(e.description.hasPrefix("c.md:6: assertion syntax error (jq): syntax error"), "\(e)")
            // The filter as written (without its prefix), not the compile wrapper or jq's line number.
            #expect(e.message.contains(".a >= (1 + # a comment"))
            #expect(!e.message.contains("if false") && !e.message.contains("<top-level>") && !e.message.contains("shell quoting"), "\(e)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// A `#` comment at the end of a filter must not swallow the compile wrapper's closing part.
    @Test func trailingCommentsAndVariablesCompile() throws {
        let nb = try Notebook.parse(
            "```sh\necho\n```\n```assert\n.a == 1 # the answer\n$exit == 0 and ($output | length) >= 0 and $stdout == $stderr\n```\n",
            path: "n.md")
        #expect(
            nb.cells[0].assertions.map(\.text) == [".a == 1 # the answer", "$exit == 0 and ($output | length) >= 0 and $stdout == $stderr"])
        #expect(nb.cells[0].assertions[1].readsExit && nb.cells[0].assertions[1].readsStreams)
        #expect(!nb.cells[0].assertions[0].readsExit && !nb.cells[0].assertions[0].readsStreams)
    }

    @Test func variablesAreFoundAsWholeWords() {
        #expect(Assertion(line: 1, text: "$exit != 0", mode: .always).readsExit)
        #expect(!Assertion(line: 1, text: "$exitcode != 0", mode: .always).readsExit)
        #expect(!Assertion(line: 1, text: ".exit != 0", mode: .always).readsExit)
        #expect(Assertion(line: 1, text: "$stderr | test(\"x\")", mode: .always).readsStreams)
    }
}
