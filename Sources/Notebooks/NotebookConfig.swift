import Foundation

/// A quick-mode string replacement: every occurrence of `from` in a command becomes `to`.
public struct Substitution: Sendable, Equatable {
    public let from: String
    public let to: String
    public init(from: String, to: String) { self.from = from; self.to = to }
}

/// The settings a notebook declares in its ```` ```notebook-config ```` block. Each line of that
/// block is `key: JSON value`; blank lines and lines starting with `#` are ignored.
///
/// | key | value | default |
/// |---|---|---|
/// | `quick` | object `{"from": "to", ...}` or array `[["from", "to"], ...]` | no substitutions |
/// | `timeout` | seconds per command cell | 3600 |
/// | `max-output-lines` | lines kept in a stored output cell (0: keep all) | 60 |
/// | `workdir` | folder the cells run in, relative to the notebook's folder | `.` |
public struct NotebookConfig: Sendable, Equatable {
    /// Quick-mode substitutions, applied in this order (see `parse`).
    public var quick: [Substitution] = []
    /// Seconds a command cell may run before it is stopped.
    public var timeout: Double = 3600
    /// Lines kept in a stored output cell; 0 keeps everything.
    public var maxOutputLines: Int = 60
    /// The folder cells run in, relative to the notebook's folder.
    public var workdir: String = "."

    public init() {}

    /// The command a cell runs: in quick mode, the script with every substitution applied in turn.
    public func command(_ script: String, quick isQuick: Bool) -> String {
        guard isQuick else { return script }
        var s = script
        for sub in quick { s = s.replacingOccurrences(of: sub.from, with: sub.to) }
        return s
    }

    static let keys = ["quick", "timeout", "max-output-lines", "workdir"]

    /// Parses a config block. `firstLine` is the 1-based file line of the block's first content line.
    /// An object's keys are applied longest first (ties in alphabetical order), since JSON objects are
    /// unordered; give an array of pairs to fix the order yourself.
    static func parse(_ lines: [String], firstLine: Int, file: String) throws -> NotebookConfig {
        var c = NotebookConfig()
        var seen: Set<String> = []
        for (k, raw) in lines.enumerated() {
            let line = firstLine + k
            let text = raw.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            func fail(_ m: String) -> NotebookError { NotebookError(file: file, line: line, message: "notebook-config: \(m)") }
            guard let colon = text.firstIndex(of: ":") else {
                throw fail("expected `key: value` (keys: \(keys.joined(separator: ", "))), got `\(text)`")
            }
            let key = text[..<colon].trimmingCharacters(in: .whitespaces)
            let valueText = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard keys.contains(key) else { throw fail("unknown key '\(key)' (keys: \(keys.joined(separator: ", ")))") }
            guard !seen.contains(key) else { throw fail("key '\(key)' given twice") }
            seen.insert(key)
            let value: Any
            do {
                value = try JSONSerialization.jsonObject(with: Data(valueText.utf8), options: [.fragmentsAllowed])
            } catch {
                throw fail("the value of '\(key)' is not valid JSON: \(valueText)")
            }
            switch key {
            case "quick":
                if let d = value as? [String: Any] {
                    var subs: [Substitution] = []
                    for (f, t) in d {
                        guard let t = t as? String else { throw fail("quick: the replacement of \"\(f)\" must be a string") }
                        subs.append(Substitution(from: f, to: t))
                    }
                    c.quick = subs.sorted { $0.from.count != $1.from.count ? $0.from.count > $1.from.count : $0.from < $1.from }
                } else if let a = value as? [Any] {
                    c.quick = try a.map { pair in
                        guard let p = pair as? [Any], p.count == 2, let f = p[0] as? String, let t = p[1] as? String else {
                            throw fail("quick: each entry of the array must be a pair [\"from\", \"to\"] of strings")
                        }
                        return Substitution(from: f, to: t)
                    }
                } else {
                    throw fail("quick must be an object {\"from\": \"to\", ...} or an array of [\"from\", \"to\"] pairs")
                }
                if let empty = c.quick.first(where: { $0.from.isEmpty }) {
                    throw fail("quick: empty pattern (replacement \"\(empty.to)\")")
                }
            case "timeout":
                guard let n = jsonNumber(value), n > 0, n.isFinite else { throw fail("timeout must be a positive number of seconds") }
                c.timeout = n
            case "max-output-lines":
                guard let n = jsonNumber(value), n >= 0, n == n.rounded(), n < 1e9 else {
                    throw fail("max-output-lines must be a whole number >= 0 (0 keeps every line)")
                }
                c.maxOutputLines = Int(n)
            default:  // workdir
                guard let s = value as? String, !s.isEmpty else {
                    throw fail("workdir must be a non-empty string (a folder relative to the notebook)")
                }
                c.workdir = s
            }
        }
        return c
    }
}

/// The number in a JSONSerialization value, or nil (booleans are not numbers).
func jsonNumber(_ v: Any) -> Double? {
    guard let n = v as? NSNumber, !isJSONBoolean(n) else { return nil }
    return n.doubleValue
}

/// JSONSerialization returns booleans as NSNumber of a distinct class: tell them from 0 and 1.
func isJSONBoolean(_ n: NSNumber) -> Bool {
    ObjectIdentifier(type(of: n)) == booleanClass
}

private let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))
