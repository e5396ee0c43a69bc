import Foundation

/// What a command cell produced, as the assertions see it (the whole output, never truncated).
public struct CellOutput: Sendable {
    public let exitCode: Int
    /// Standard output and standard error together, in the order they arrived.
    public let output: String
    public let stdout: String
    public let stderr: String

    public init(exitCode: Int, output: String, stdout: String, stderr: String) {
        self.exitCode = exitCode
        self.output = output
        self.stdout = stdout
        self.stderr = stderr
    }

    /// For tests and simple uses: the same text as output and standard output.
    public init(exitCode: Int = 0, stdout: String) {
        self.init(exitCode: exitCode, output: stdout, stdout: stdout, stderr: "")
    }
}

/// An assertion that could not be evaluated (missing key, wrong type, ...).
public struct EvaluationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Evaluates assertions on one cell's output. `$` is the JSON of standard output (parsed once, on
/// first use): the whole of it, or else the first JSON object or array that starts a line.
public final class AssertionEvaluator {
    public let result: CellOutput
    private var parsedJSON: JSONValue?
    private var jsonParsed = false

    public init(_ result: CellOutput) { self.result = result }

    /// nil when the assertion holds; otherwise why it fails, with the values involved.
    public func failure(of assertion: Assertion) -> String? {
        failure(of: assertion.expression)
    }

    /// nil when the expression is true; otherwise why not.
    public func failure(of e: Expression) -> String? {
        do {
            let v = try evaluate(e)
            guard case .bool(let b) = v else {
                return "an assertion must be true or false, but `\(e.rendered)` is \(v.typeName) (\(v.brief))"
            }
            return b ? nil : "false: " + explain(e)
        } catch {
            return error.message
        }
    }

    func json() throws(EvaluationError) -> JSONValue {
        if !jsonParsed { parsedJSON = JSONValue.parse(output: result.stdout); jsonParsed = true }
        guard let v = parsedJSON else {
            let head = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).prefix(60)
            throw EvaluationError(message: "`$` needs JSON on standard output, but it holds none" +
                                  (head.isEmpty ? " (standard output is empty)" : " (it starts \"\(head.replacingOccurrences(of: "\n", with: "\\n"))\")"))
        }
        return v
    }

    // MARK: evaluation

    public func evaluate(_ e: Expression) throws(EvaluationError) -> JSONValue {
        switch e {
        case .literal(let v): return v
        case .list(let xs):
            var out: [JSONValue] = []
            for x in xs { out.append(try evaluate(x)) }
            return .array(out)
        case .path(let cs): return try walk(try json(), cs[...], done: [])
        case .variable(let v):
            switch v {
            case .exit: return .number(Double(result.exitCode))
            case .output: return .string(result.output)
            case .stdout: return .string(result.stdout)
            case .stderr: return .string(result.stderr)
            }
        case .negate(let x): return .number(-(try number(x)))
        case .arithmetic(let op, let a, let b):
            let x = try number(a), y = try number(b)
            switch op {
            case .add: return .number(x + y)
            case .subtract: return .number(x - y)
            case .multiply: return .number(x * y)
            case .divide: return .number(x / y)
            }
        case .comparison(let xs, let ops):
            var left = try evaluate(xs[0])
            for (k, op) in ops.enumerated() {
                let right = try evaluate(xs[k + 1])
                if !(try compare(left, op, right, xs[k], xs[k + 1])) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .contains(let subject, let pattern):
            let s = try subject.map { x throws(EvaluationError) in try evaluate(x) } ?? .string(result.output)
            switch s {
            case .string(let text):
                return .bool(try firstMatch(try string(pattern), in: text) != nil)
            case .array(let a):
                let p = try evaluate(pattern)
                return .bool(a.contains(p))
            default:
                throw EvaluationError(message: "`contains` needs a string or an array on its left, but `\(subject!.rendered)` is \(s.typeName) (\(s.brief))")
            }
        case .not(let x): return .bool(!(try boolean(x)))
        case .and(let xs):
            for x in xs where !(try boolean(x)) { return .bool(false) }
            return .bool(true)
        case .or(let xs):
            for x in xs where try boolean(x) { return .bool(true) }
            return .bool(false)
        case .length(let x): return .number(Double(try length(x)))
        case .call(let f, let args): return try call(f, args)
        }
    }

    private func walk(_ v: JSONValue, _ rest: ArraySlice<PathComponent>, done: [PathComponent]) throws(EvaluationError) -> JSONValue {
        guard let c = rest.first else { return v }
        let here = Expression.render(path: done)
        let next = done + [c]
        switch (c, v) {
        case (.key(let k), .object(let o)):
            guard let x = o[k] else {
                let keys = o.keys.sorted()
                throw EvaluationError(message: "`\(Expression.render(path: next))`: no key \"\(k)\" in the object at `\(here)` (its keys: \(keys.prefix(12).joined(separator: ", "))\(keys.count > 12 ? ", ..." : ""))")
            }
            return try walk(x, rest.dropFirst(), done: next)
        case (.index(let i), .array(let a)):
            let j = i < 0 ? a.count + i : i
            guard j >= 0 && j < a.count else {
                throw EvaluationError(message: "`\(Expression.render(path: next))`: index \(i) is out of range (`\(here)` has \(a.count) elements)")
            }
            return try walk(a[j], rest.dropFirst(), done: next)
        case (.all, .array(let a)):
            var out: [JSONValue] = []
            for x in a { out.append(try walk(x, rest.dropFirst(), done: next)) }
            return .array(out)
        case (.all, .object(let o)):
            var out: [JSONValue] = []
            for k in o.keys.sorted() { out.append(try walk(o[k]!, rest.dropFirst(), done: next)) }
            return .array(out)
        case (.key, _):
            throw EvaluationError(message: "`\(Expression.render(path: next))`: `\(here)` is \(v.typeName) (\(v.brief)), not an object")
        case (.index, _), (.all, _):
            throw EvaluationError(message: "`\(Expression.render(path: next))`: `\(here)` is \(v.typeName) (\(v.brief)), not an array")
        }
    }

    /// Numbers; also the strings "nan", "inf" and "-inf" that the toolkit's JSON writes for
    /// non-finite values.
    private func asNumber(_ v: JSONValue) -> Double? {
        switch v {
        case .number(let d): return d
        case .string("nan"): return .nan
        case .string("inf"): return .infinity
        case .string("-inf"): return -.infinity
        default: return nil
        }
    }

    private func number(_ e: Expression) throws(EvaluationError) -> Double {
        let v = try evaluate(e)
        guard let d = asNumber(v) else { throw EvaluationError(message: "`\(e.rendered)` should be a number but is \(v.typeName) (\(v.brief))") }
        return d
    }

    private func string(_ e: Expression) throws(EvaluationError) -> String {
        let v = try evaluate(e)
        guard case .string(let s) = v else { throw EvaluationError(message: "`\(e.rendered)` should be a string but is \(v.typeName) (\(v.brief))") }
        return s
    }

    private func boolean(_ e: Expression) throws(EvaluationError) -> Bool {
        let v = try evaluate(e)
        guard case .bool(let b) = v else { throw EvaluationError(message: "`\(e.rendered)` should be true or false but is \(v.typeName) (\(v.brief))") }
        return b
    }

    private func numbers(_ e: Expression) throws(EvaluationError) -> [Double] {
        let v = try evaluate(e)
        guard case .array(let a) = v else { throw EvaluationError(message: "`\(e.rendered)` should be an array of numbers but is \(v.typeName) (\(v.brief))") }
        var out: [Double] = []
        for (k, x) in a.enumerated() {
            guard let d = asNumber(x) else { throw EvaluationError(message: "`\(e.rendered)`: element \(k) is \(x.typeName) (\(x.brief)), not a number") }
            out.append(d)
        }
        return out
    }

    private func length(_ e: Expression) throws(EvaluationError) -> Int {
        switch try evaluate(e) {
        case .array(let a): return a.count
        case .string(let s): return s.count
        case .object(let o): return o.count
        case let v: throw EvaluationError(message: "`\(e.rendered) length`: \(v.typeName) (\(v.brief)) has no length")
        }
    }

    private func compare(_ a: JSONValue, _ op: Expression.Comparison, _ b: JSONValue, _ ea: Expression, _ eb: Expression) throws(EvaluationError) -> Bool {
        switch op {
        case .equal: return equal(a, b)
        case .notEqual: return !equal(a, b)
        default: break
        }
        let order: ComparisonResult
        if let x = asNumber(a), let y = asNumber(b) {
            if x.isNaN || y.isNaN { return false }
            order = x < y ? .orderedAscending : (x > y ? .orderedDescending : .orderedSame)
        } else if case .string(let x) = a, case .string(let y) = b {
            order = x < y ? .orderedAscending : (x > y ? .orderedDescending : .orderedSame)
        } else {
            throw EvaluationError(message: "cannot order \(a.typeName) and \(b.typeName) with `\(op.rawValue)`: `\(ea.rendered)` is \(a.brief), `\(eb.rendered)` is \(b.brief)")
        }
        switch op {
        case .less: return order == .orderedAscending
        case .lessOrEqual: return order != .orderedDescending
        case .greater: return order == .orderedDescending
        default: return order != .orderedAscending
        }
    }

    /// Structural equality; numbers compare as numbers (so "inf" equals an infinite number).
    private func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if case .number = a, let y = asNumber(b), let x = asNumber(a) { return x == y }
        if case .number = b, let y = asNumber(b), let x = asNumber(a) { return x == y }
        switch (a, b) {
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)): return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
        default: return a == b
        }
    }

    private func regex(_ p: String) throws(EvaluationError) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: p, options: [.anchorsMatchLines]) } catch {
            throw EvaluationError(message: "invalid regular expression \"\(p)\"")
        }
    }

    private func firstMatch(_ p: String, in text: String) throws(EvaluationError) -> NSTextCheckingResult? {
        let r = try regex(p)
        return r.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
    }

    private func call(_ f: String, _ args: [Expression]) throws(EvaluationError) -> JSONValue {
        func one() throws(EvaluationError) -> Double { try number(args[0]) }
        switch f {
        case "abs": return .number(abs(try one()))
        case "sqrt": return .number(Foundation.sqrt(try one()))
        case "log": return .number(Foundation.log(try one()))
        case "exp": return .number(Foundation.exp(try one()))
        case "min", "max":
            var xs: [Double] = []
            if args.count == 1 { xs = try numbers(args[0]) } else { for a in args { xs.append(try number(a)) } }
            guard !xs.isEmpty else { throw EvaluationError(message: "`\(f)` of an empty array") }
            return .number(f == "min" ? xs.min()! : xs.max()!)
        case "sum": return .number(try numbers(args[0]).reduce(0, +))
        case "mean":
            let xs = try numbers(args[0])
            guard !xs.isEmpty else { throw EvaluationError(message: "`mean` of an empty array") }
            return .number(xs.reduce(0, +) / Double(xs.count))
        case "len": return .number(Double(try length(args[0])))
        case "all", "any":
            let v = try evaluate(args[0])
            guard case .array(let a) = v else { throw EvaluationError(message: "`\(f)` needs an array of booleans; `\(args[0].rendered)` is \(v.typeName)") }
            var bs: [Bool] = []
            for x in a {
                guard case .bool(let b) = x else { throw EvaluationError(message: "`\(f)`: `\(args[0].rendered)` holds \(x.typeName) (\(x.brief)), not a boolean") }
                bs.append(b)
            }
            return .bool(f == "all" ? bs.allSatisfy { $0 } : bs.contains(true))
        case "capture":
            let text = args.count == 2 ? try string(args[0]) : result.output
            let p = try string(args[args.count - 1])
            guard let m = try firstMatch(p, in: text) else {
                throw EvaluationError(message: "`\(Expression.call(f, args).rendered)`: no match for \"\(p)\" in \(args.count == 2 ? "`\(args[0].rendered)`" : "the output")")
            }
            let g = m.numberOfRanges > 1 ? m.range(at: 1) : m.range
            guard let r = Range(g, in: text) else { return .null }
            let s = String(text[r])
            if let d = Double(s.trimmingCharacters(in: .whitespaces)) { return .number(d) }
            return .string(s)
        case "count":
            let text = args.count == 2 ? try string(args[0]) : result.output
            let r = try regex(try string(args[args.count - 1]))
            return .number(Double(r.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text))))
        default:
            throw EvaluationError(message: "unknown function `\(f)`")
        }
    }

    // MARK: explanations

    /// Why a false expression is false, naming the values it saw.
    func explain(_ e: Expression) -> String {
        switch e {
        case .comparison(let xs, _):
            let shown = xs.compactMap { x -> String? in
                if case .literal = x { return nil }
                return "`\(x.rendered)` is \(describe(x))"
            }
            return shown.isEmpty ? "`\(e.rendered)`" : shown.joined(separator: ", ")
        case .and(let xs):
            if let f = xs.first(where: { (try? boolean($0)) == false }) { return explain(f) }
        case .or(let xs):
            return "none holds: " + xs.map(explain).joined(separator: "; ")
        case .not(let x):
            return "`\(x.rendered)` holds"
        case .contains(let subject, let pattern):
            let p = describe(pattern)
            guard let s = subject else {
                let n = OutputRendering.lines(of: result.output).count
                return "the output (\(n) lines) has no match for \(p)"
            }
            return "`\(s.rendered)` is \(describe(s)), with no match for \(p)"
        default: break
        }
        return "`\(e.rendered)` is \(describe(e))"
    }

    private func describe(_ e: Expression) -> String {
        do { return try evaluate(e).brief } catch { return "(error: \(error.message))" }
    }
}
