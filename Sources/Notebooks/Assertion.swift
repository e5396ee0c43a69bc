import Foundation

/// One line of an ```` ```assert ```` cell: an expression that must be true of the output of the
/// command cell above it.
public struct Assertion: Sendable {
    /// When the assertion applies: always, only at full scale (`full:` prefix) or only in quick mode
    /// (`quick:` prefix).
    public enum Mode: String, Sendable { case always, full, quick }

    /// 1-based line in the notebook file.
    public let line: Int
    /// The expression as written (without the mode prefix).
    public let text: String
    public let mode: Mode
    public let expression: Expression

    public init(line: Int, text: String, mode: Mode, expression: Expression) {
        self.line = line
        self.text = text
        self.mode = mode
        self.expression = expression
    }

    /// True when the assertion runs in the given mode.
    public func applies(quick: Bool) -> Bool {
        switch mode {
        case .always: true
        case .full: !quick
        case .quick: quick
        }
    }
}

/// A step of a JSON path: `.key` or `["key"]`, `[3]` (negative counts from the end), `[*]`.
public enum PathComponent: Sendable, Equatable {
    case key(String)
    case index(Int)
    case all
}

/// The words that name parts of a cell's result.
public enum ResultVariable: String, Sendable, CaseIterable {
    /// The exit status (128 + signal when killed, -1 when stopped at the timeout).
    case exit
    /// Standard output and standard error together, in the order they arrived.
    case output
    case stdout
    case stderr
}

/// The syntax tree of an assertion expression.
public indirect enum Expression: Sendable {
    public enum Arithmetic: String, Sendable { case add = "+", subtract = "-", multiply = "*", divide = "/" }
    public enum Comparison: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    case literal(JSONValue)
    case list([Expression])
    /// `$` followed by path components, applied to the JSON of the cell's standard output.
    case path([PathComponent])
    case variable(ResultVariable)
    case negate(Expression)
    case arithmetic(Arithmetic, Expression, Expression)
    /// `a < b <= c`: every adjacent pair must hold.
    case comparison([Expression], [Comparison])
    /// `x contains "regex"` (string: regex search; array: membership); subject nil means `output`.
    case contains(Expression?, Expression)
    case not(Expression)
    case and([Expression])
    case or([Expression])
    /// Postfix `length`.
    case length(Expression)
    case call(String, [Expression])

    /// The expression written back in the notebook's syntax, with parentheses only where needed.
    public var rendered: String {
        switch self {
        case .literal(.string(let t)): return "\"" + t.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .literal(let v): return v.brief
        case .list(let xs): return "[" + xs.map(\.rendered).joined(separator: ", ") + "]"
        case .path(let cs): return Expression.render(path: cs)
        case .variable(let v): return v.rawValue
        case .negate(let x): return "-" + x.rendered(above: precedence)
        case .arithmetic(let op, let a, let b):
            // Left-associative: the right operand needs a strictly higher precedence.
            return "\(a.rendered(above: precedence - 1)) \(op.rawValue) \(b.rendered(above: precedence))"
        case .comparison(let xs, let ops):
            var s = xs[0].rendered(above: precedence)
            for (k, op) in ops.enumerated() { s += " \(op.rawValue) \(xs[k + 1].rendered(above: precedence))" }
            return s
        case .contains(let subject, let pattern):
            return (subject.map { $0.rendered(above: precedence) + " " } ?? "") + "contains " + pattern.rendered(above: precedence)
        case .not(let x): return "not " + x.rendered(above: precedence - 1)
        case .and(let xs): return xs.map { $0.rendered(above: precedence) }.joined(separator: " and ")
        case .or(let xs): return xs.map { $0.rendered(above: precedence) }.joined(separator: " or ")
        case .length(let x): return x.rendered(above: precedence - 1) + " length"
        case .call(let f, let args): return f + "(" + args.map(\.rendered).joined(separator: ", ") + ")"
        }
    }

    /// Binding strength, as in the grammar: or < and < not < relations < sums < products < unary < postfix.
    private var precedence: Int {
        switch self {
        case .or: 1
        case .and: 2
        case .not: 3
        case .comparison, .contains: 4
        case .arithmetic(let op, _, _): op == .add || op == .subtract ? 5 : 6
        case .negate: 7
        case .length: 8
        case .literal, .list, .path, .variable, .call: 9
        }
    }

    /// Rendered, in parentheses unless it binds more strongly than `level`.
    private func rendered(above level: Int) -> String {
        precedence > level ? rendered : "(" + rendered + ")"
    }

    static func render(path cs: [PathComponent]) -> String {
        var s = "$"
        for c in cs {
            switch c {
            case .key(let k):
                if let f = k.unicodeScalars.first, isIdentifierStart(f), k.unicodeScalars.allSatisfy(isIdentifierPart) {
                    s += "." + k
                } else {
                    s += "[\"" + k.replacingOccurrences(of: "\"", with: "\\\"") + "\"]"
                }
            case .index(let i): s += "[\(i)]"
            case .all: s += "[*]"
            }
        }
        return s
    }

    /// True when the expression reads the exit status (then a non-zero exit is not an error by itself).
    public var readsExit: Bool {
        switch self {
        case .variable(let v): return v == .exit
        case .literal, .path: return false
        case .list(let xs), .and(let xs), .or(let xs), .call(_, let xs): return xs.contains { $0.readsExit }
        case .comparison(let xs, _): return xs.contains { $0.readsExit }
        case .negate(let x), .not(let x), .length(let x): return x.readsExit
        case .arithmetic(_, let a, let b): return a.readsExit || b.readsExit
        case .contains(let a, let b): return (a?.readsExit ?? false) || b.readsExit
        }
    }
}

func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
}

func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
    isIdentifierStart(c) || (c >= "0" && c <= "9")
}
