import Foundation

/// Finds the JSON in a command's output, which an assertion's filter reads as `.`.
public enum JSONExtraction {
    /// The JSON text of an output: the whole text if it is one JSON value; otherwise the first JSON
    /// object or array that starts a line (a command may print a line of text before or after its
    /// JSON); nil when there is none.
    public static func json(in text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        if (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8), options: [.fragmentsAllowed])) != nil {
            return trimmed
        }
        return firstEmbeddedJSON(text)
    }

    /// The text of the first balanced `{...}` or `[...]` starting at the beginning of a line (after
    /// spaces) that parses as JSON, skipping braces inside JSON strings (so a progress line such as
    /// `[3/12] ...` before the JSON is passed over).
    static func firstEmbeddedJSON(_ text: String) -> String? {
        let u = Array(text.utf8)
        var lineStart = true
        var i = 0
        while i < u.count {
            let c = u[i]
            if lineStart && (c == UInt8(ascii: "{") || c == UInt8(ascii: "[")), let end = balancedEnd(u, from: i) {
                let candidate = String(decoding: u[i...end], as: UTF8.self)
                if (try? JSONSerialization.jsonObject(with: Data(candidate.utf8), options: [])) != nil { return candidate }
            }
            if c == UInt8(ascii: "\n") { lineStart = true } else if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") { lineStart = false }
            i += 1
        }
        return nil
    }

    private static func balancedEnd(_ u: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var i = start
        while i < u.count {
            let c = u[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return i }
            }
            i += 1
        }
        return nil
    }

    /// Whole numbers without a decimal point, others with up to 10 significant digits.
    static func format(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
        return String(format: "%.10g", d)
    }
}
