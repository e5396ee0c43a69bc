import Foundation

/// A fenced code block of a Markdown file: its fence, info string, content and line span.
struct FencedBlock: Sendable {
    /// 1-based line numbers of the opening and closing fences.
    let openLine: Int
    let closeLine: Int
    /// Spaces before the opening fence (0...3).
    let indent: Int
    /// The info string after the opening fence, trimmed (`sh timeout=60`, `output exit=0`, ...).
    let info: String
    /// The lines between the fences.
    let content: [String]

    /// The first word of the info string (`sh`, `output`, `assert`, `notebook-config`, ...).
    var language: String { String(info.split(separator: " ", maxSplits: 1).first ?? "") }
    /// The words of the info string after the language.
    var options: [String] { info.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().map(String.init) }
}

/// Finds the fenced code blocks of a Markdown text, following CommonMark's rules for fences: an
/// opening fence is at least three backticks or tildes indented by at most three spaces, and the
/// block ends at a line holding only a fence of the same character at least as long (or at the end
/// of the file, which is an error here).
enum FencedBlockScanner {
    static func scan(lines: [String], file: String) throws -> [FencedBlock] {
        var blocks: [FencedBlock] = []
        var i = 0
        // A file with CRLF line ends: the carriage returns are not part of fences or cell text.
        func clean(_ l: String) -> String { l.hasSuffix("\r") ? String(l.dropLast()) : l }
        while i < lines.count {
            guard let open = openingFence(clean(lines[i])) else { i += 1; continue }
            var content: [String] = []
            var j = i + 1
            var closed = false
            while j < lines.count {
                if isClosingFence(clean(lines[j]), char: open.char, length: open.length) { closed = true; break }
                content.append(clean(lines[j]))
                j += 1
            }
            guard closed else {
                throw NotebookError(
                    file: file, line: i + 1,
                    message:
                        "code block opened here (\(String(repeating: open.char, count: open.length))\(open.info.isEmpty ? "" : " " + open.info)) is never closed"
                )
            }
            blocks.append(FencedBlock(openLine: i + 1, closeLine: j + 1, indent: open.indent, info: open.info, content: content))
            i = j + 1
        }
        return blocks
    }

    private static func openingFence(_ line: String) -> (indent: Int, char: Character, length: Int, info: String)? {
        let chars = Array(line)
        var k = 0
        while k < chars.count && k < 4 && chars[k] == " " { k += 1 }
        guard k <= 3, k < chars.count, chars[k] == "`" || chars[k] == "~" else { return nil }
        let c = chars[k]
        var n = 0
        while k + n < chars.count && chars[k + n] == c { n += 1 }
        guard n >= 3 else { return nil }
        let info = String(chars[(k + n)...]).trimmingCharacters(in: .whitespaces)
        if c == "`" && info.contains("`") { return nil }
        return (k, c, n, info)
    }

    private static func isClosingFence(_ line: String, char: Character, length: Int) -> Bool {
        let chars = Array(line)
        var k = 0
        while k < chars.count && k < 4 && chars[k] == " " { k += 1 }
        guard k <= 3 else { return false }
        var n = 0
        while k + n < chars.count && chars[k + n] == char { n += 1 }
        guard n >= length else { return false }
        return chars[(k + n)...].allSatisfy { $0 == " " || $0 == "\t" }
    }
}
