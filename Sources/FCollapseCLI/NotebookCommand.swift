import ArgumentParser
import Foundation
import Notebooks

struct NotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Run and check the executable text notebooks (notebooks-text/*.md).",
        discussion: """
            A text notebook is Markdown with command cells (```sh), the output cells that follow them (```output) \
            and assertion cells (```assert). The format is described in notebooks-text/README.md. Cells run with \
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
            discussion: "Exits non-zero, naming the file, the cell and the assertion, when an assertion or a command fails."
        )
        @OptionGroup var common: Common

        func run() throws {
            try runNotebooks(common, rewrite: false, maxOutputLines: nil)
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

private func runNotebooks(_ common: NotebookCommand.Common, rewrite: Bool, maxOutputLines: Int?) throws {
    // Parse every notebook first, so a format error stops everything before anything runs.
    var notebooks: [Notebook] = []
    var parseErrors: [String] = []
    for f in common.files {
        do { notebooks.append(try Notebook.load(path: f)) } catch { parseErrors.append("\(error)") }
    }
    if !parseErrors.isEmpty {
        for e in parseErrors { printError("error: \(e)") }
        throw ExitCode(2)
    }
    let options = RunOptions(quick: common.quick, rewrite: rewrite, failFast: common.failFast,
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
    let summary = "\(notebooks.count) notebook\(notebooks.count == 1 ? "" : "s"), \(cells) cell\(cells == 1 ? "" : "s") in \(String(format: "%.1f", seconds)) s"
    if failures.isEmpty {
        printError("ok: \(summary)")
        return
    }
    printError("\n\(failures.count) failure\(failures.count == 1 ? "" : "s") (\(summary)):")
    for f in failures { printError("  " + f.description) }
    throw ExitCode(1)
}
