import ArrayIO
import Foundation

/// How to run notebooks.
public struct RunOptions: Sendable {
    /// Apply the notebook's quick substitutions, skip `skip-quick` cells, use `quick:` assertions.
    public var quick = false
    /// `run`: store the outputs in the notebook (atomically). `check` leaves the file alone.
    public var rewrite = false
    /// Stop a notebook at its first failing cell.
    public var failFast = false
    /// Overrides the notebook's `max-output-lines`.
    public var maxOutputLines: Int?
    /// The `fcollapse` binary the cells should run: its folder goes first on PATH and its path is
    /// in $FCOLLAPSE.
    public var executable: String?
    /// Ctrl-C (SIGINT, SIGTERM, SIGHUP) also stops the running cell's processes and ends this
    /// process; for command-line use (see `ShellCommand.run`).
    public var stopOnInterrupt: Bool

    public init(
        quick: Bool = false, rewrite: Bool = false, failFast: Bool = false, maxOutputLines: Int? = nil,
        executable: String? = nil, stopOnInterrupt: Bool = false
    ) {
        self.quick = quick
        self.rewrite = rewrite
        self.failFast = failFast
        self.maxOutputLines = maxOutputLines
        self.executable = executable
        self.stopOnInterrupt = stopOnInterrupt
    }
}

/// A failed assertion or command, located in the notebook.
public struct CellFailure: Sendable, CustomStringConvertible {
    public let file: String
    /// The assertion's line, or the command cell's opening line when the command itself failed.
    public let line: Int
    /// The command cell's index (1-based) and opening line.
    public let cell: Int
    public let cellLine: Int
    /// The assertion as written; nil when the command failed (non-zero exit, timeout).
    public let assertion: String?
    public let reason: String

    public var description: String {
        if let a = assertion {
            return "\(file):\(line): cell \(cell) (line \(cellLine)): assertion `\(a)` failed: \(reason)"
        }
        return "\(file):\(line): cell \(cell): \(reason)"
    }
}

/// What happened to one command cell.
public struct CellRun: Sendable {
    public let cell: Int
    /// The script as run (after quick substitutions).
    public let command: String
    /// nil when the cell was skipped.
    public let result: ShellCommand.Result?
    public let assertionsChecked: Int
    public let failures: [CellFailure]
}

/// What happened to one notebook.
public struct NotebookRun: Sendable {
    public let path: String
    public let cells: [CellRun]
    public var failures: [CellFailure] { cells.flatMap(\.failures) }
    /// True when `run` changed the file.
    public let rewritten: Bool
    public let duration: Double
}

/// Runs the command cells of a notebook in order, checks their assertions and, for `run`, stores
/// their outputs.
public enum NotebookRunner {
    /// Runs a notebook. `progress` receives one line per event (cell started, cell finished with its
    /// duration, failures), meant for standard error.
    public static func execute(_ nb: Notebook, options: RunOptions, progress: (String) -> Void = { _ in }) throws -> NotebookRun {
        let start = DispatchTime.now().uptimeNanoseconds
        let notebookURL = URL(fileURLWithPath: nb.path).standardizedFileURL
        let notebookDir = notebookURL.deletingLastPathComponent()
        let workdir =
            nb.config.workdir.hasPrefix("/")
            ? URL(fileURLWithPath: nb.config.workdir)
            : notebookDir.appendingPathComponent(nb.config.workdir).standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workdir.path, isDirectory: &isDir), isDir.boolValue else {
            throw NotebookError(file: nb.path, line: 1, message: "workdir \(workdir.path) is not a folder")
        }
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("fcollapse-notebook-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        var env = ProcessInfo.processInfo.environment
        if let exe = options.executable {
            let folder = URL(fileURLWithPath: exe).deletingLastPathComponent().path
            env["PATH"] = folder + ":" + (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            env["FCOLLAPSE"] = exe
        }
        env["NOTEBOOK"] = notebookURL.path
        env["NOTEBOOK_DIR"] = notebookDir.path
        env["NOTEBOOK_QUICK"] = options.quick ? "1" : "0"
        env["NOTEBOOK_TMP"] = scratch.path

        let maxLines = options.maxOutputLines ?? nb.config.maxOutputLines
        let total = nb.cells.count
        progress("\(nb.path): \(total) command cell\(total == 1 ? "" : "s")\(options.quick ? " (quick mode)" : "")")
        var runs: [CellRun] = []
        var outputs: [Int: [String]] = [:]
        var wholeOutputs: [(URL, WholeOutput.Header, [String])] = []
        var staleWholeOutputs: [URL] = []
        var jq: String?
        func jqPath() throws -> String {
            if let p = jq { return p }
            do { jq = try JQ.locate() } catch { throw NotebookError(file: nb.path, line: 0, message: "\(error)") }
            return jq!
        }
        for cell in nb.cells {
            let tag = "  [\(cell.index)/\(total)] line \(cell.openLine)"
            if options.quick && cell.options.skipQuick {
                progress("\(tag): skipped in quick mode: \(cell.summary)")
                runs.append(CellRun(cell: cell.index, command: cell.script, result: nil, assertionsChecked: 0, failures: []))
                continue
            }
            let command = nb.config.command(cell.script, quick: options.quick)
            progress("\(tag): \(CommandCell.summary(of: command))")
            let timeout = cell.options.timeout ?? nb.config.timeout
            let r = masked(
                try ShellCommand.run(
                    command, in: workdir.path, environment: env, timeout: timeout,
                    stopOnInterrupt: options.stopOnInterrupt),
                paths: [scratch.resolvingSymlinksInPath().path, scratch.path])

            var failures: [CellFailure] = []
            let active = cell.assertions.filter { $0.applies(quick: options.quick) }
            if r.timedOut {
                failures.append(
                    CellFailure(
                        file: nb.path, line: cell.openLine, cell: cell.index, cellLine: cell.openLine, assertion: nil,
                        reason: "the command was stopped after its timeout of \(JSONExtraction.format(timeout)) s"))
            } else if r.output.exitCode != 0 && !active.contains(where: \.readsExit) {
                let lastLines = OutputRendering.lines(of: r.output.output).suffix(5).map { "      | " + $0 }.joined(separator: "\n")
                failures.append(
                    CellFailure(
                        file: nb.path, line: cell.openLine, cell: cell.index, cellLine: cell.openLine, assertion: nil,
                        reason: "the command exited with status \(r.output.exitCode) (an assertion reading `$exit` can expect that)"
                            + (lastLines.isEmpty ? "" : "; its last lines:\n" + lastLines)))
            }
            if !r.timedOut && !active.isEmpty {
                let check = try JQCheck(r.output, json: JSONExtraction.json(in: r.output.stdout), jq: try jqPath())
                for a in active {
                    if let why = try check.failure(of: a) {
                        failures.append(
                            CellFailure(
                                file: nb.path, line: a.line, cell: cell.index, cellLine: cell.openLine, assertion: a.text, reason: why))
                    }
                }
            }
            let status = failures.isEmpty ? "ok" : "FAILED"
            let checks = active.isEmpty ? "" : ", \(active.count) assertion\(active.count == 1 ? "" : "s")"
            progress("        \(status) in \(String(format: "%.2f", r.duration)) s (exit \(r.output.exitCode)\(checks))")
            for f in failures { progress("        " + f.description) }
            runs.append(CellRun(cell: cell.index, command: command, result: r, assertionsChecked: active.count, failures: failures))
            if options.rewrite {
                if options.quick, let o = cell.output, !o.quick {
                    // A quick run is not the recorded state: the full-scale output stays.
                    progress("        kept its full-scale output (a quick run does not replace it)")
                } else {
                    let m = cell.options.maxLines ?? maxLines
                    let ls = OutputRendering.lines(of: r.output.output)
                    let relative = WholeOutput.relativePath(notebook: nb.path, cell: cell.index)
                    let url = WholeOutput.url(relative, notebook: nb.path)
                    if OutputRendering.needsCut(ls, maxLines: m) {
                        let h = WholeOutput.Header(
                            cell: cell.index, notebook: notebookURL.lastPathComponent, exitCode: r.output.exitCode,
                            quick: options.quick, timedOut: r.timedOut, lineCount: ls.count)
                        wholeOutputs.append((url, h, ls))
                        outputs[cell.index] = OutputRendering.block(
                            r.output, timedOut: r.timedOut, quick: options.quick, maxLines: m,
                            wholeOutputFile: relative)
                    } else {
                        if FileManager.default.fileExists(atPath: url.path) { staleWholeOutputs.append(url) }
                        outputs[cell.index] = OutputRendering.block(r.output, timedOut: r.timedOut, quick: options.quick, maxLines: m)
                    }
                }
            }
            if options.failFast && !failures.isEmpty { break }
        }

        var rewritten = false
        if options.rewrite && !outputs.isEmpty {
            // The whole outputs first: the notebook then never names a file that is not there.
            for (url, h, ls) in wholeOutputs { try WholeOutput.write(h, lines: ls, to: url) }
            for url in staleWholeOutputs { try? FileManager.default.removeItem(at: url) }
            let text = OutputRendering.rewrite(nb, outputs: outputs)
            if text != nb.lines.joined(separator: "\n") {
                try AtomicFile.write(text, to: nb.path)
                rewritten = true
            }
        }
        let duration = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return NotebookRun(path: nb.path, cells: runs, rewritten: rewritten, duration: duration)
    }

    /// The result with the scratch folder's path written as `$NOTEBOOK_TMP`, so that stored outputs
    /// do not change from run to run (the assertions see the same text).
    static func masked(_ r: ShellCommand.Result, paths: [String]) -> ShellCommand.Result {
        func mask(_ s: String) -> String {
            var t = s
            for p in Set(paths) where !p.isEmpty { t = t.replacingOccurrences(of: p, with: "$NOTEBOOK_TMP") }
            return t
        }
        let o = r.output
        return ShellCommand.Result(
            output: CellOutput(exitCode: o.exitCode, output: mask(o.output), stdout: mask(o.stdout), stderr: mask(o.stderr)),
            timedOut: r.timedOut, duration: r.duration)
    }
}
