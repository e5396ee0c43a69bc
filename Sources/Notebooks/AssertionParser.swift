import Foundation

/// A syntax error in an assertion, at a 1-based column of the text given to the parser.
public struct AssertionSyntaxError: Error, Sendable, CustomStringConvertible {
    public let column: Int
    public let message: String
    public var description: String { "column \(column): \(message)" }
}

/// A small hand-written tokenizer and recursive-descent parser for assertion expressions.
///
///     expression := or
///     or         := and ("or" and)*
///     and        := not ("and" not)*
///     not        := "not" not | relation
///     relation   := "contains" sum
///                 | sum ( ("=="|"!="|"<"|"<="|">"|">=") sum )*      (a chain: a < b < c)
///                 | sum "contains" sum
///     sum        := product (("+"|"-") product)*
///     product    := unary (("*"|"/") unary)*
///     unary      := "-" unary | postfix
///     postfix    := primary "length"*
///     primary    := number | string | true | false | null | path | exit | output | stdout | stderr
///                 | function "(" arguments ")" | "(" expression ")" | "[" elements "]"
///     path       := "$" ( "." name | "[" integer "]" | "[" string "]" | "[*]" )*
public enum AssertionParser {
    /// Functions and their numbers of arguments.
    public static let functions: [String: ClosedRange<Int>] = [
        "abs": 1...1, "sqrt": 1...1, "log": 1...1, "exp": 1...1,
        "min": 1...64, "max": 1...64, "sum": 1...1, "mean": 1...1, "len": 1...1,
        "all": 1...1, "any": 1...1, "capture": 1...2, "count": 1...2,
    ]

    static let reserved: Set<String> = ["and", "or", "not", "contains", "length", "true", "false", "null"]

    public static func parse(_ text: String) throws(AssertionSyntaxError) -> Expression {
        var p = Parser(tokens: try tokenize(text))
        let e = try p.expression()
        guard case .end = p.current.kind else {
            throw AssertionSyntaxError(column: p.current.column, message: "unexpected \(p.current.kind.shown) after a complete expression")
        }
        return e
    }

    // MARK: tokens

    struct Token {
        enum Kind {
            case number(Double), string(String), word(String), path([PathComponent]), symbol(String), end
            var shown: String {
                switch self {
                case .number(let d): "number \(JSONValue.format(d))"
                case .string(let s): "string \"\(s)\""
                case .word(let w): "`\(w)`"
                case .path(let p): "`\(Expression.render(path: p))`"
                case .symbol(let s): "`\(s)`"
                case .end: "the end of the line"
                }
            }
        }
        let kind: Kind
        let column: Int
    }

    static func tokenize(_ text: String) throws(AssertionSyntaxError) -> [Token] {
        let s = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        func err(_ col: Int, _ m: String) -> AssertionSyntaxError { AssertionSyntaxError(column: col + 1, message: m) }
        func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

        func readString(_ start: Int) throws(AssertionSyntaxError) -> (String, Int) {
            let q = s[start]
            var j = start + 1
            var out = String.UnicodeScalarView()
            while j < s.count {
                if s[j] == "\\" && j + 1 < s.count && s[j + 1] == q { out.append(q); j += 2; continue }
                if s[j] == q { return (String(out), j + 1) }
                out.append(s[j])
                j += 1
            }
            throw err(start, "string is not closed (missing \(q))")
        }

        func readInteger(_ start: Int) -> (Int, Int)? {
            var j = start
            if j < s.count && s[j] == "-" { j += 1 }
            let d0 = j
            while j < s.count && isDigit(s[j]) { j += 1 }
            guard j > d0, let n = Int(String(String.UnicodeScalarView(s[start..<j]))) else { return nil }
            return (n, j)
        }

        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" { i += 1; continue }
            let col = i + 1
            if isDigit(c) || (c == "." && i + 1 < s.count && isDigit(s[i + 1])) {
                var j = i
                while j < s.count && isDigit(s[j]) { j += 1 }
                if j < s.count && s[j] == "." { j += 1; while j < s.count && isDigit(s[j]) { j += 1 } }
                if j < s.count && (s[j] == "e" || s[j] == "E") {
                    var k = j + 1
                    if k < s.count && (s[k] == "+" || s[k] == "-") { k += 1 }
                    if k < s.count && isDigit(s[k]) {
                        while k < s.count && isDigit(s[k]) { k += 1 }
                        j = k
                    }
                }
                let t = String(String.UnicodeScalarView(s[i..<j]))
                guard let d = Double(t) else { throw err(i, "bad number `\(t)`") }
                if j < s.count && isIdentifierStart(s[j]) { throw err(j, "a number must not run into a word (`\(t)\(s[j])`)") }
                tokens.append(Token(kind: .number(d), column: col))
                i = j
            } else if c == "\"" || c == "'" {
                let (str, j) = try readString(i)
                tokens.append(Token(kind: .string(str), column: col))
                i = j
            } else if isIdentifierStart(c) {
                var j = i
                while j < s.count && isIdentifierPart(s[j]) { j += 1 }
                tokens.append(Token(kind: .word(String(String.UnicodeScalarView(s[i..<j]))), column: col))
                i = j
            } else if c == "$" {
                var comps: [PathComponent] = []
                var j = i + 1
                while j < s.count {
                    if s[j] == "." {
                        var k = j + 1
                        guard k < s.count, isIdentifierStart(s[k]) else {
                            throw err(j, "expected a key name after `.` in a path (write [\"key\"] for other keys)")
                        }
                        while k < s.count && isIdentifierPart(s[k]) { k += 1 }
                        comps.append(.key(String(String.UnicodeScalarView(s[(j + 1)..<k]))))
                        j = k
                    } else if s[j] == "[" {
                        var k = j + 1
                        while k < s.count && s[k] == " " { k += 1 }
                        guard k < s.count else { throw err(j, "path: `[` is not closed") }
                        if s[k] == "*" {
                            comps.append(.all); k += 1
                        } else if s[k] == "\"" || s[k] == "'" {
                            let (key, e) = try readString(k)
                            comps.append(.key(key)); k = e
                        } else if let (n, e) = readInteger(k) {
                            comps.append(.index(n)); k = e
                        } else {
                            throw err(k, "path: expected an integer index, a quoted key or * inside [ ]")
                        }
                        while k < s.count && s[k] == " " { k += 1 }
                        guard k < s.count, s[k] == "]" else { throw err(k, "path: expected `]`") }
                        j = k + 1
                    } else {
                        break
                    }
                }
                tokens.append(Token(kind: .path(comps), column: col))
                i = j
            } else {
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
                if ["==", "!=", "<=", ">="].contains(two) {
                    tokens.append(Token(kind: .symbol(two), column: col)); i += 2
                } else if ["&&", "||"].contains(two) {
                    throw err(i, "use `\(two == "&&" ? "and" : "or")` instead of `\(two)`")
                } else if "()[],+-*/<>".unicodeScalars.contains(c) {
                    tokens.append(Token(kind: .symbol(String(c)), column: col)); i += 1
                } else if c == "=" {
                    throw err(i, "use `==` to compare")
                } else if c == "!" {
                    throw err(i, "use `not` (or `!=`) instead of `!`")
                } else {
                    throw err(i, "unexpected character `\(c)`")
                }
            }
        }
        tokens.append(Token(kind: .end, column: s.count + 1))
        return tokens
    }

    // MARK: parser

    struct Parser {
        let tokens: [Token]
        var pos = 0
        var current: Token { tokens[pos] }

        init(tokens: [Token]) { self.tokens = tokens }

        mutating func advance() { if pos < tokens.count - 1 { pos += 1 } }

        func isSymbol(_ s: String) -> Bool { if case .symbol(let x) = current.kind { return x == s }; return false }
        func isWord(_ w: String) -> Bool { if case .word(let x) = current.kind { return x == w }; return false }

        func fail(_ m: String) -> AssertionSyntaxError { AssertionSyntaxError(column: current.column, message: m) }

        mutating func expect(_ s: String, _ context: String) throws(AssertionSyntaxError) {
            guard isSymbol(s) else { throw fail("expected `\(s)` \(context), found \(current.kind.shown)") }
            advance()
        }

        mutating func expression() throws(AssertionSyntaxError) -> Expression { try or() }

        mutating func or() throws(AssertionSyntaxError) -> Expression {
            var xs = [try and()]
            while isWord("or") { advance(); xs.append(try and()) }
            return xs.count == 1 ? xs[0] : .or(xs)
        }

        mutating func and() throws(AssertionSyntaxError) -> Expression {
            var xs = [try not()]
            while isWord("and") { advance(); xs.append(try not()) }
            return xs.count == 1 ? xs[0] : .and(xs)
        }

        mutating func not() throws(AssertionSyntaxError) -> Expression {
            if isWord("not") { advance(); return .not(try not()) }
            return try relation()
        }

        mutating func relation() throws(AssertionSyntaxError) -> Expression {
            if isWord("contains") {
                advance()
                let column = current.column
                return .contains(nil, try Parser.checkedPattern(try sum(), at: column))
            }
            let first = try sum()
            if isWord("contains") {
                advance()
                let column = current.column
                return .contains(first, try Parser.checkedPattern(try sum(), at: column))
            }
            var xs = [first]
            var ops: [Expression.Comparison] = []
            while case .symbol(let s) = current.kind, let op = Expression.Comparison(rawValue: s) {
                advance()
                ops.append(op)
                xs.append(try sum())
            }
            return ops.isEmpty ? first : .comparison(xs, ops)
        }

        /// Compiles a literal regular expression now, so that a bad pattern is a parse error at the
        /// pattern's column.
        static func checkedPattern(_ e: Expression, at column: Int) throws(AssertionSyntaxError) -> Expression {
            if case .literal(.string(let p)) = e {
                do { _ = try NSRegularExpression(pattern: p, options: [.anchorsMatchLines]) } catch {
                    throw AssertionSyntaxError(column: column, message: "invalid regular expression \"\(p)\"")
                }
            }
            return e
        }

        mutating func sum() throws(AssertionSyntaxError) -> Expression {
            var e = try product()
            while case .symbol(let s) = current.kind, s == "+" || s == "-" {
                advance()
                e = .arithmetic(s == "+" ? .add : .subtract, e, try product())
            }
            return e
        }

        mutating func product() throws(AssertionSyntaxError) -> Expression {
            var e = try unary()
            while case .symbol(let s) = current.kind, s == "*" || s == "/" {
                advance()
                e = .arithmetic(s == "*" ? .multiply : .divide, e, try unary())
            }
            return e
        }

        mutating func unary() throws(AssertionSyntaxError) -> Expression {
            if isSymbol("-") {
                advance()
                let x = try unary()
                if case .literal(.number(let d)) = x { return .literal(.number(-d)) }
                return .negate(x)
            }
            var e = try primary()
            while isWord("length") { advance(); e = .length(e) }
            return e
        }

        mutating func primary() throws(AssertionSyntaxError) -> Expression {
            let t = current
            switch t.kind {
            case .number(let d): advance(); return .literal(.number(d))
            case .string(let s): advance(); return .literal(.string(s))
            case .path(let p): advance(); return .path(p)
            case .symbol("("):
                advance()
                let e = try expression()
                try expect(")", "to close the `(`")
                return e
            case .symbol("["):
                advance()
                var xs: [Expression] = []
                if !isSymbol("]") {
                    xs.append(try expression())
                    while isSymbol(",") { advance(); xs.append(try expression()) }
                }
                try expect("]", "to close the list")
                return .list(xs)
            case .word(let w):
                switch w {
                case "true": advance(); return .literal(.bool(true))
                case "false": advance(); return .literal(.bool(false))
                case "null": advance(); return .literal(.null)
                default: break
                }
                if let v = ResultVariable(rawValue: w) { advance(); return .variable(v) }
                if let arity = AssertionParser.functions[w] {
                    advance()
                    try expect("(", "after the function name `\(w)`")
                    var args: [Expression] = []
                    var columns: [Int] = []
                    if !isSymbol(")") {
                        columns.append(current.column)
                        args.append(try expression())
                        while isSymbol(",") { advance(); columns.append(current.column); args.append(try expression()) }
                    }
                    let close = current.column
                    try expect(")", "to close the arguments of `\(w)`")
                    guard arity.contains(args.count) else {
                        let want = arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
                        throw AssertionSyntaxError(column: t.column, message: "`\(w)` takes \(want) argument(s), got \(args.count) (closing at column \(close))")
                    }
                    if w == "capture" || w == "count", let last = args.last {
                        args[args.count - 1] = try Parser.checkedPattern(last, at: columns[columns.count - 1])
                    }
                    return .call(w, args)
                }
                if AssertionParser.reserved.contains(w) { throw fail("expected an expression, found `\(w)`") }
                throw fail("unknown word `\(w)`; expected a number, a string, a path like $.\(w), exit, output, stdout, stderr, true, false, null or a function (\(AssertionParser.functions.keys.sorted().joined(separator: ", ")))")
            case .symbol(let s): throw fail("expected an expression, found `\(s)`")
            case .end: throw fail("expected an expression, found the end of the line")
            }
        }
    }
}
