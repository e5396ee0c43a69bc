import Foundation

/// A value an assertion computes with: the JSON types, with numbers as Double.
public indirect enum JSONValue: Sendable, Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    /// Converts what JSONSerialization returns.
    init(foundation v: Any) {
        switch v {
        case let n as NSNumber:
            self = isJSONBoolean(n) ? .bool(n.boolValue) : .number(n.doubleValue)
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(a.map { JSONValue(foundation: $0) })
        case let d as [String: Any]: self = .object(d.mapValues { JSONValue(foundation: $0) })
        default: self = .null
        }
    }

    /// Parses JSON text: the whole text if it is one JSON value; otherwise the first JSON object or
    /// array that starts a line (a command may print a line of text before or after its JSON).
    public static func parse(output text: String) -> JSONValue? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        if let v = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8), options: [.fragmentsAllowed]) {
            return JSONValue(foundation: v)
        }
        guard let sub = firstEmbeddedJSON(text),
              let v = try? JSONSerialization.jsonObject(with: Data(sub.utf8), options: []) else { return nil }
        return JSONValue(foundation: v)
    }

    /// The text of the first balanced `{...}` or `[...]` starting at the beginning of a line (after
    /// spaces), skipping braces inside JSON strings.
    static func firstEmbeddedJSON(_ text: String) -> String? {
        let u = Array(text.utf8)
        var lineStart = true
        var i = 0
        while i < u.count {
            let c = u[i]
            if lineStart && (c == UInt8(ascii: "{") || c == UInt8(ascii: "[")) {
                if let end = balancedEnd(u, from: i) {
                    return String(decoding: u[i...end], as: UTF8.self)
                }
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

    /// The type's name, for error messages.
    public var typeName: String {
        switch self {
        case .number: "a number"
        case .string: "a string"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A short rendering for messages: strings quoted, long arrays and strings shortened.
    public var brief: String {
        switch self {
        case .number(let d): return JSONValue.format(d)
        case .string(let s):
            let one = s.replacingOccurrences(of: "\n", with: "\\n")
            return one.count > 60 ? "\"\(one.prefix(57))...\" (\(s.count) characters)" : "\"\(one)\""
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let a):
            let shown = a.prefix(8).map(\.brief).joined(separator: ", ")
            return a.count > 8 ? "[\(shown), ... (\(a.count) elements)]" : "[\(shown)]"
        case .object(let o):
            let keys = o.keys.sorted()
            return "{object with keys \(keys.prefix(8).joined(separator: ", "))\(keys.count > 8 ? ", ..." : "")}"
        }
    }

    /// Whole numbers without a decimal point, others with up to 10 significant digits.
    static func format(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
        return String(format: "%.10g", d)
    }
}
