import Foundation

/// One line of an ```` ```assert ```` cell: a jq filter that must come out true (`jq -e`) of the
/// output of the command cell above it. See `JQ` for how it is run.
public struct Assertion: Sendable {
    /// When the assertion applies: always, only at full scale (`full:` prefix) or only in quick mode
    /// (`quick:` prefix).
    public enum Mode: String, Sendable { case always, full, quick }

    /// 1-based line in the notebook file.
    public let line: Int
    /// The jq filter as written (without the mode prefix).
    public let text: String
    public let mode: Mode

    public init(line: Int, text: String, mode: Mode) {
        self.line = line
        self.text = text
        self.mode = mode
    }

    /// True when the assertion runs in the given mode.
    public func applies(quick: Bool) -> Bool {
        switch mode {
        case .always: true
        case .full: !quick
        case .quick: quick
        }
    }

    /// True when the filter reads `$exit` (then a non-zero exit status is not an error by itself:
    /// the assertion decides).
    public var readsExit: Bool { Assertion.mentions(text, variable: "exit") }

    /// True when the filter reads `$stdout` or `$stderr` (the streams apart), which a recorded output
    /// does not keep.
    public var readsStreams: Bool { Assertion.mentions(text, variable: "stdout") || Assertion.mentions(text, variable: "stderr") }

    /// True when `$name` occurs in the filter as a whole word (not `$exitcode`).
    static func mentions(_ text: String, variable name: String) -> Bool {
        let u = Array(text.unicodeScalars)
        let v = Array(("$" + name).unicodeScalars)
        guard u.count >= v.count else { return false }
        for i in 0...(u.count - v.count) where Array(u[i..<(i + v.count)]) == v {
            let next = i + v.count
            if next == u.count || !isIdentifierPart(u[next]) { return true }
        }
        return false
    }
}

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

func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
}

func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
    isIdentifierStart(c) || (c >= "0" && c <= "9")
}
