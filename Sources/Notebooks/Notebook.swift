import Foundation

/// A stored output cell: the ```` ```output ```` block that directly follows a command cell.
public struct OutputCell: Sendable {
    /// 1-based lines of its opening and closing fences.
    public let openLine: Int
    public let closeLine: Int
    public let text: String
    /// What its info string records (```` ```output exit=0 quick timed-out ````): the exit status
    /// (nil when not given), whether it came from a quick run, whether the command was stopped.
    public var exitCode: Int?
    public var quick = false
    public var timedOut = false

    public init(openLine: Int, closeLine: Int, text: String, exitCode: Int? = nil, quick: Bool = false, timedOut: Bool = false) {
        self.openLine = openLine
        self.closeLine = closeLine
        self.text = text
        self.exitCode = exitCode
        self.quick = quick
        self.timedOut = timedOut
    }
}

/// Options of a command cell, written after `sh` on its opening fence: `timeout=SECONDS`,
/// `max-lines=N` (overrides `max-output-lines`), `skip-quick` (not run in quick mode).
public struct CellOptions: Sendable, Equatable {
    public var timeout: Double?
    public var maxLines: Int?
    public var skipQuick = false

    public init(timeout: Double? = nil, maxLines: Int? = nil, skipQuick: Bool = false) {
        self.timeout = timeout
        self.maxLines = maxLines
        self.skipQuick = skipQuick
    }
}

/// A command cell (a ```` ```sh ```` block) with its stored output and the assertions on it.
public struct CommandCell: Sendable {
    /// 1-based position among the notebook's command cells.
    public let index: Int
    /// 1-based lines of the opening and closing fences.
    public let openLine: Int
    public let closeLine: Int
    /// The shell script (the block's lines), run with /bin/sh -c.
    public let script: String
    public let options: CellOptions
    public internal(set) var output: OutputCell?
    public internal(set) var assertions: [Assertion] = []

    /// The script's first line, shortened, for progress and messages.
    public var summary: String { CommandCell.summary(of: script) }

    /// The first line of a script that is not `set ...`, a comment or blank, shortened to 100
    /// characters, with " ..." when the script has more lines.
    public static func summary(of script: String) -> String {
        let lines = splitLines(script).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let first = lines.first { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("set ") } ?? lines.first ?? ""
        let more = lines.count > 1 ? " ..." : ""
        return first.count > 100 ? first.prefix(97) + "..." : first + more
    }
}

/// A parsed text notebook: Markdown with command, output, assertion and config cells.
/// See notebooks-text/README.md for the format.
public struct Notebook: Sendable {
    /// The path used in messages.
    public let path: String
    /// The file's lines (split at "\n"), for rewriting.
    public let lines: [String]
    public let config: NotebookConfig
    public let cells: [CommandCell]

    /// Reads and parses a notebook file.
    public static func load(path: String) throws -> Notebook {
        let data: Data
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw NotebookError(file: path, line: 0, message: "no such file")
        }
        guard !isDir.boolValue else { throw NotebookError(file: path, line: 0, message: "is a folder, not a notebook file") }
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw NotebookError(file: path, line: 0, message: "cannot read the notebook: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw NotebookError(file: path, line: 0, message: "the notebook is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Parses notebook text; `path` names it in errors. Every assertion is parsed here, so a syntax
    /// error is reported before anything runs.
    public static func parse(_ text: String, path: String) throws -> Notebook {
        let lines = splitLines(text)
        let blocks = try FencedBlockScanner.scan(lines: lines, file: path)
        var config: NotebookConfig?
        var cells: [CommandCell] = []
        var previousEnd = 0  // closing line of the previous block

        /// True when only blank lines separate the previous block from this one.
        func adjacent(_ b: FencedBlock) -> Bool {
            previousEnd > 0
                && lines[previousEnd..<(b.openLine - 1)].allSatisfy { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        }

        // jq is looked up once, at the first assertion (a notebook without any does not need it).
        var jqPath: String?
        func locateJQ() throws -> String {
            if let p = jqPath { return p }
            let p = try JQ.locate()
            jqPath = p
            return p
        }

        var lastWasCommand = false
        for b in blocks {
            defer { previousEnd = b.closeLine }
            switch b.language {
            case "notebook-config":
                if config != nil {
                    throw NotebookError(file: path, line: b.openLine, message: "a second notebook-config block (give one per notebook)")
                }
                if !cells.isEmpty {
                    throw NotebookError(
                        file: path, line: b.openLine, message: "the notebook-config block must come before the first command cell")
                }
                config = try NotebookConfig.parse(b.content, firstLine: b.openLine + 1, file: path)
                lastWasCommand = false
            case "sh":
                let opts = try parseOptions(b, file: path)
                cells.append(
                    CommandCell(
                        index: cells.count + 1, openLine: b.openLine, closeLine: b.closeLine,
                        script: b.content.joined(separator: "\n"), options: opts))
                if b.content.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                    throw NotebookError(file: path, line: b.openLine, message: "empty command cell")
                }
                lastWasCommand = true
            case "output":
                guard lastWasCommand, adjacent(b), cells.last?.output == nil else {
                    throw NotebookError(
                        file: path, line: b.openLine,
                        message: "an output cell must directly follow a command cell (```sh), with only blank lines between")
                }
                var o = OutputCell(openLine: b.openLine, closeLine: b.closeLine, text: b.content.joined(separator: "\n"))
                for w in b.options {
                    if w == "quick" {
                        o.quick = true
                    } else if w == "timed-out" {
                        o.timedOut = true
                    } else if w.hasPrefix("exit="), let n = Int(w.dropFirst(5)) {
                        o.exitCode = n
                    }
                }
                cells[cells.count - 1].output = o
                lastWasCommand = false
            case "assert":
                guard !cells.isEmpty else {
                    throw NotebookError(
                        file: path, line: b.openLine,
                        message: "an assert cell must come after a command cell (```sh): it checks that cell's output")
                }
                for (k, raw) in b.content.enumerated() {
                    if let a = try parseAssertion(raw, line: b.openLine + 1 + k, file: path, jq: locateJQ) {
                        cells[cells.count - 1].assertions.append(a)
                    }
                }
                lastWasCommand = false
            default:
                lastWasCommand = false
            }
        }
        return Notebook(path: path, lines: lines, config: config ?? NotebookConfig(), cells: cells)
    }

    private static func parseOptions(_ b: FencedBlock, file: String) throws -> CellOptions {
        var o = CellOptions()
        for w in b.options {
            func fail(_ m: String) -> NotebookError {
                NotebookError(file: file, line: b.openLine, message: "command cell option `\(w)`: \(m)")
            }
            if w == "skip-quick" { o.skipQuick = true; continue }
            let kv = w.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw fail("unknown option (options: timeout=SECONDS, max-lines=N, skip-quick)") }
            switch kv[0] {
            case "timeout":
                guard let t = Double(kv[1]), t > 0, t.isFinite else { throw fail("timeout must be a positive number of seconds") }
                o.timeout = t
            case "max-lines":
                guard let n = Int(kv[1]), n >= 0 else { throw fail("max-lines must be a whole number >= 0 (0 keeps every line)") }
                o.maxLines = n
            default:
                throw fail("unknown option (options: timeout=SECONDS, max-lines=N, skip-quick)")
            }
        }
        return o
    }

    /// One line of an assert cell: blank and `#` lines are skipped; `full:` and `quick:` prefixes
    /// restrict the mode; the rest is a jq filter, compiled here (not evaluated) so that a syntax
    /// error is reported before anything runs.
    static func parseAssertion(_ raw: String, line: Int, file: String, jq: () throws -> String) throws -> Assertion? {
        var body = raw.trimmingCharacters(in: .whitespaces)
        if body.isEmpty || body.hasPrefix("#") { return nil }
        var mode = Assertion.Mode.always
        for (prefix, m) in [("full:", Assertion.Mode.full), ("quick:", Assertion.Mode.quick)] where body.hasPrefix(prefix) {
            mode = m
            body = String(body.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        guard !body.isEmpty else {
            throw NotebookError(file: file, line: line, message: "assertion: `\(mode.rawValue):` with no jq filter after it")
        }
        let program: String
        do { program = try jq() } catch { throw NotebookError(file: file, line: line, message: "\(error)") }
        let compileError: String?
        do { compileError = try JQ.compileError(body, jq: program) } catch {
            throw NotebookError(file: file, line: line, message: "\(error)")
        }
        if let m = compileError {
            throw NotebookError(file: file, line: line, message: "assertion syntax error (jq): \(m)\n    \(body)")
        }
        return Assertion(line: line, text: body, mode: mode)
    }
}

/// The lines of a text, split at every "\n" (Swift's `Character` treats "\r\n" as one character,
/// so the split is done on Unicode scalars); a "\r" before the "\n" stays at the end of its line.
func splitLines(_ text: String) -> [String] {
    text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
}
