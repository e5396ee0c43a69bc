import ArgumentParser
import Foundation
import Notebooks

struct NotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Run and check the executable text notebooks (notebooks-text/*.md).",
        discussion: """
            A text notebook is Markdown with command cells (```sh), the output cells that follow them (```output) \
            and assertion cells (```assert), whose lines are jq filters (run with `jq -e`; jq must be installed: \
            apt-get install jq, or ./dev). The format is described in notebooks-text/README.md. Cells run with \
            /bin/sh in the notebook's folder; `fcollapse` in a cell is this very binary.
            """,
        subcommands: [Run.self, Check.self]
    )

    struct Common: ParsableArguments {
        @Argument(help: "Notebook files (Markdown).")
        var files: [String]

        @Flag(help: "Run at the reduced scale the notebook declares (its `quick` substitutions).")
        var quick = false

        @Flag(help: "Stop a notebook at its first failing cell.")
        var failFast = false

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one notebook file") }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the command cells and rewrite the output cells in place (atomically).",
            discussion: "Assertions are checked as well; the exit status is non-zero if any fails, but the outputs are stored anyway."
        )
        @OptionGroup var common: Common
        @Option(help: "Lines kept in each stored output cell (0: all); overrides the notebook's max-output-lines.")
        var maxOutputLines: Int?

        func validate() throws {
            if let n = maxOutputLines, n < 0 { throw ValidationError("--max-output-lines must be >= 0 (0 keeps every line)") }
        }

        func run() throws {
            try runNotebooks(common, rewrite: true, maxOutputLines: maxOutputLines)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the command cells and check the assertions; the notebook is not changed.",
            discussion: """
                Exits non-zero, naming the file, the cell and the assertion, when an assertion or a command fails. \
                With --recorded nothing runs: every assertion (the full-scale ones included) is checked against \
                the outputs recorded in the notebook (and in outputs/ beside it), and listed as holds, FAILS or \
                cannot be checked (an output stored only as an excerpt, for instance); only FAILS makes the exit \
                status 1.
                """
        )
        @OptionGroup var common: Common

        @Flag(help: "Check the assertions against the recorded outputs instead of running the cells.")
        var recorded = false

        func validate() throws {
            if recorded && common.quick {
                throw ValidationError("--recorded checks each output at the scale it was recorded at; --quick does not apply")
            }
        }

        func run() throws {
            if recorded {
                try checkRecorded(common)
            } else {
                try runNotebooks(common, rewrite: false, maxOutputLines: nil)
            }
        }
    }
}

/// This binary's path, so that cells run the same build.
private func currentExecutable() -> String? {
    if let p = Bundle.main.executablePath { return URL(fileURLWithPath: p).resolvingSymlinksInPath().path }
    let a0 = CommandLine.arguments[0]
    if a0.contains("/") { return URL(fileURLWithPath: a0).standardizedFileURL.resolvingSymlinksInPath().path }
    return nil
}

/// Parses every notebook first, so that a format error (an assertion that does not compile, for
/// one) stops everything before anything runs, with exit status 2.
private func loadNotebooks(_ files: [String]) throws -> [Notebook] {
    var notebooks: [Notebook] = []
    var parseErrors: [String] = []
    for f in files {
        do { notebooks.append(try Notebook.load(path: f)) } catch { parseErrors.append("\(error)") }
    }
    if !parseErrors.isEmpty {
        for e in parseErrors { printError("error: \(e)") }
        throw ExitCode(2)
    }
    return notebooks
}

/// `check --recorded`: one line per verdict on standard output, a summary on standard error; exit
/// status 1 when something fails (an assertion that cannot be checked is listed, not a failure).
private func checkRecorded(_ common: NotebookCommand.Common) throws {
    let notebooks = try loadNotebooks(common.files)
    var hold = 0, fail = 0, unchecked = 0
    var failures: [RecordedVerdict] = []
    for nb in notebooks {
        let r: RecordedCheck
        do { r = try NotebookRunner.checkRecorded(nb) } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        for v in r.verdicts { print(v.description) }
        hold += r.holding.count
        fail += r.failures.count
        unchecked += r.unchecked.count
        failures += r.failures
        if common.failFast && !r.failures.isEmpty { break }
    }
    let summary =
        "\(notebooks.count) notebook\(notebooks.count == 1 ? "" : "s") checked against their recorded outputs: "
        + "\(hold) hold, \(fail) fail, \(unchecked) cannot be checked"
    if failures.isEmpty {
        printError("ok: " + summary)
        return
    }
    printError("\n" + summary + ":")
    for f in failures { printError("  " + f.description) }
    throw ExitCode(1)
}

private func runNotebooks(_ common: NotebookCommand.Common, rewrite: Bool, maxOutputLines: Int?) throws {
    let notebooks = try loadNotebooks(common.files)
    let options = RunOptions(
        quick: common.quick, rewrite: rewrite, failFast: common.failFast,
        maxOutputLines: maxOutputLines, executable: currentExecutable(), stopOnInterrupt: true)
    var failures: [CellFailure] = []
    var cells = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for nb in notebooks {
        let r = try NotebookRunner.execute(nb, options: options, progress: printError)
        cells += r.cells.count
        failures += r.failures
        if rewrite { printError(r.rewritten ? "  wrote \(nb.path)" : "  \(nb.path) unchanged") }
        if common.failFast && !r.failures.isEmpty { break }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let summary =
        "\(notebooks.count) notebook\(notebooks.count == 1 ? "" : "s"), \(cells) cell\(cells == 1 ? "" : "s") in \(String(format: "%.1f", seconds)) s"
    if failures.isEmpty {
        printError("ok: \(summary)")
        return
    }
    printError("\n\(failures.count) failure\(failures.count == 1 ? "" : "s") (\(summary)):")
    for f in failures { printError("  " + f.description) }
    throw ExitCode(1)
}
