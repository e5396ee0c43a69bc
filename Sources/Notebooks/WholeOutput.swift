import ArrayIO
import Foundation

/// The whole output of a command cell whose output cell holds only an excerpt, stored beside the
/// notebook as `outputs/NOTEBOOK-cellN.txt` (N: the cell's number), so that `check --recorded` can
/// re-check the assertions without running anything. The file's first line is a header recording
/// the cell, its exit status, the scale and the number of lines:
///
///     fcollapse notebook output: cell 4 of figure-3.md, exit=0, 1250 lines
///
/// (`exit=0 quick` after a quick run, `timed-out` when the command was stopped); the lines follow,
/// as the output cell would show them without the cut (`OutputRendering.lines`).
public enum WholeOutput {
    /// The folder beside the notebook that holds the whole outputs.
    public static let folder = "outputs"

    /// `outputs/STEM-cellN.txt`, relative to the notebook's folder; STEM is the notebook's file name
    /// without `.md`, with any character other than ASCII letters, digits, `.`, `_` and `-` made `_`.
    public static func relativePath(notebook: String, cell: Int) -> String {
        var stem = URL(fileURLWithPath: notebook).lastPathComponent
        if stem.hasSuffix(".md") { stem.removeLast(3) }
        let safe = String(
            stem.unicodeScalars.map { c -> Character in
                let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "." || c == "_" || c == "-"
                return ok ? Character(c) : "_"
            })
        return "\(folder)/\(safe)-cell\(cell).txt"
    }

    /// The absolute path of a path relative to the notebook's folder.
    public static func url(_ relative: String, notebook: String) -> URL {
        URL(fileURLWithPath: notebook).standardizedFileURL.deletingLastPathComponent().appendingPathComponent(relative)
    }

    /// What the header records.
    public struct Header: Sendable, Equatable {
        public var cell: Int
        public var notebook: String
        public var exitCode: Int
        public var quick: Bool
        public var timedOut: Bool
        public var lineCount: Int

        public init(cell: Int, notebook: String, exitCode: Int, quick: Bool, timedOut: Bool, lineCount: Int) {
            self.cell = cell
            self.notebook = notebook
            self.exitCode = exitCode
            self.quick = quick
            self.timedOut = timedOut
            self.lineCount = lineCount
        }
    }

    static let headerPrefix = "fcollapse notebook output: cell "

    static func headerLine(_ h: Header) -> String {
        "\(headerPrefix)\(h.cell) of \(h.notebook), exit=\(h.exitCode)\(h.quick ? " quick" : "")\(h.timedOut ? " timed-out" : ""), \(h.lineCount) lines"
    }

    /// The file's text: the header and the lines.
    public static func text(_ h: Header, lines: [String]) -> String {
        ([headerLine(h)] + lines).joined(separator: "\n") + "\n"
    }

    /// Writes the file atomically, creating `outputs/` when needed.
    public static func write(_ h: Header, lines: [String], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(text(h, lines: lines), to: url.path)
    }

    /// Reads a whole-output file: its header and its lines. Errors name the file and what is wrong.
    public static func read(_ url: URL) throws -> (header: Header, lines: [String]) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw NotebookError(file: url.path, line: 0, message: "cannot read the recorded whole output (missing?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw NotebookError(file: url.path, line: 0, message: "the recorded whole output is not UTF-8 text")
        }
        var lines = splitLines(text)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first, let h = parseHeader(first) else {
            throw NotebookError(file: url.path, line: 1, message: "expected a header `\(headerPrefix)N of NOTEBOOK, exit=S, L lines`")
        }
        let body = Array(lines.dropFirst())
        guard body.count == h.lineCount else {
            throw NotebookError(file: url.path, line: 1, message: "the header says \(h.lineCount) lines, the file holds \(body.count)")
        }
        return (h, body)
    }

    static func parseHeader(_ line: String) -> Header? {
        guard line.hasPrefix(headerPrefix) else { return nil }
        let rest = line.dropFirst(headerPrefix.count)
        guard let of = rest.range(of: " of "), let cell = Int(rest[..<of.lowerBound]) else { return nil }
        let afterOf = rest[of.upperBound...]
        guard let ex = afterOf.range(of: ", exit=", options: .backwards) else { return nil }
        let notebook = String(afterOf[..<ex.lowerBound])
        let fields = afterOf[ex.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count == 2 else { return nil }
        let words = fields[0].split(separator: " ").map(String.init)
        guard let code = words.first.flatMap({ Int($0) }) else { return nil }
        let countWords = fields[1].split(separator: " ")
        guard countWords.count == 2, countWords[1] == "lines", let n = Int(countWords[0]) else { return nil }
        return Header(
            cell: cell, notebook: notebook, exitCode: code, quick: words.contains("quick"),
            timedOut: words.contains("timed-out"), lineCount: n)
    }

    /// The marker line that replaces the omitted middle of a long output in its output cell: it names
    /// the whole-output file when there is one (`file`: relative to the notebook's folder).
    public static func marker(omitted: Int, total: Int, file: String?) -> String {
        if let f = file { return "[... \(omitted) lines omitted of \(total); the whole output is in \(f) ...]" }
        return "[... \(omitted) lines omitted of \(total); the assertions see every line ...]"
    }

    /// A marker line of an output cell: the total line count and the whole-output file it names (nil
    /// when it names none: the output cell holds only an excerpt and the rest was not stored).
    public static func parseMarker(_ line: String) -> (total: Int, file: String?)? {
        guard line.hasPrefix("[... "), line.hasSuffix(" ...]"), let of = line.range(of: " lines omitted of ") else { return nil }
        let after = line[of.upperBound...]
        guard let semi = after.firstIndex(of: ";"), let total = Int(after[..<semi]) else { return nil }
        let tail = after[after.index(after: semi)...]
        let key = " the whole output is in "
        guard tail.hasPrefix(key) else { return (total, nil) }
        let f = tail.dropFirst(key.count).dropLast(" ...]".count)
        return (total, String(f))
    }
}
