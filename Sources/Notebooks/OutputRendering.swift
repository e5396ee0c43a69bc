import Foundation

/// How `run` stores a cell's output in the notebook.
public enum OutputRendering {
    /// The output as lines: "\r\n" becomes "\n", a carriage return inside a line keeps only what
    /// follows it (as a terminal would show a progress line), trailing blank lines are dropped.
    public static func lines(of output: String) -> [String] {
        var ls = splitLines(output).map { line -> String in
            // Segments between carriage returns; a terminal shows the last non-empty one.
            let parts = line.unicodeScalars.split(separator: "\r", omittingEmptySubsequences: false).map {
                String(String.UnicodeScalarView($0))
            }
            return parts.last(where: { !$0.isEmpty }) ?? ""
        }
        while let last = ls.last, last.trimmingCharacters(in: .whitespaces).isEmpty { ls.removeLast() }
        return ls
    }

    /// True when `truncated` would cut these lines.
    public static func needsCut(_ ls: [String], maxLines: Int) -> Bool { maxLines > 0 && ls.count > maxLines }

    /// At most `maxLines` lines (0: all): the first three quarters and the last quarter, with a
    /// marker line in between saying how many were left out and where the whole output is
    /// (`wholeOutputFile`, relative to the notebook's folder; see `WholeOutput`).
    public static func truncated(_ ls: [String], maxLines: Int, wholeOutputFile: String? = nil) -> [String] {
        guard needsCut(ls, maxLines: maxLines) else { return ls }
        let tail = maxLines / 4
        let head = maxLines - tail
        let omitted = ls.count - head - tail
        return Array(ls.prefix(head))
            + [WholeOutput.marker(omitted: omitted, total: ls.count, file: wholeOutputFile)]
            + Array(ls.suffix(tail))
    }

    /// The fenced output cell, as lines: ```` ```output exit=N ```` (plus `quick` in quick mode and
    /// `timed-out` when stopped), the lines, and a closing fence longer than any run of backticks in
    /// the output.
    public static func block(_ result: CellOutput, timedOut: Bool, quick: Bool, maxLines: Int, wholeOutputFile: String? = nil) -> [String] {
        let body = truncated(lines(of: result.output), maxLines: maxLines, wholeOutputFile: wholeOutputFile)
        var longest = 0
        for l in body {
            var run = 0
            for c in l { if c == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        var info = "output exit=\(result.exitCode)"
        if quick { info += " quick" }
        if timedOut { info += " timed-out" }
        return [fence + info] + body + [fence]
    }

    /// The notebook's text with the output cells of the given command cells (by index) replaced, or
    /// inserted directly after the command cell when it had none. Every other line is kept as is.
    public static func rewrite(_ notebook: Notebook, outputs: [Int: [String]]) -> String {
        var lines = notebook.lines
        for cell in notebook.cells.reversed() {
            guard let block = outputs[cell.index] else { continue }
            if let o = cell.output {
                lines.replaceSubrange((o.openLine - 1)..<o.closeLine, with: block)
            } else {
                lines.insert(contentsOf: block, at: cell.closeLine)
            }
        }
        return lines.joined(separator: "\n")
    }
}
