import ArrayIO
import Foundation

/// jq could not be found or started.
public struct JQError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Runs the assertions with jq (https://jqlang.github.io/jq/), a Debian package (`apt-get install
/// jq`; `./dev` installs it). Each assertion is one jq filter, run as
///
///     jq -e -c --argjson exit N --rawfile output F --rawfile stdout F --rawfile stderr F FILTER INPUT
///
/// with INPUT the JSON found in the cell's output (`null` when there is none, see
/// `JSONExtraction`). `jq -e` exits with 0 when the last value the filter printed is neither
/// `false` nor `null`: then the assertion holds. jq is started with `posix_spawn`, the filter being
/// one element of its argument vector (no shell, so no quoting).
public enum JQ {
    /// The variables every filter may read.
    public static let variables = ["$exit", "$output", "$stdout", "$stderr"]

    /// What to tell the user when jq is missing.
    public static let missingMessage =
        "jq is not installed, and the notebook assertions are jq filters: install it with `apt-get install jq` (./dev installs it)"

    /// The jq program: `$FCOLLAPSE_JQ` when set, else `jq` on the PATH.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let p = environment["FCOLLAPSE_JQ"], !p.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: p) else {
                throw JQError(message: "FCOLLAPSE_JQ=\(p) is not an executable file; " + missingMessage)
            }
            return p
        }
        guard let p = find(inPath: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else { throw JQError(message: missingMessage) }
        return p
    }

    /// The first executable `jq` in the folders of a PATH value, or nil.
    public static func find(inPath path: String) -> String? {
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = String(folder) + "/jq"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Seconds one jq run may take (the inputs are at most a few megabytes).
    static let timeout = 120.0

    /// Runs jq with the given arguments.
    static func run(_ jq: String, _ arguments: [String]) throws -> ShellCommand.Result {
        do {
            return try ShellCommand.spawn(jq, arguments: arguments, environment: ProcessInfo.processInfo.environment, timeout: timeout)
        } catch {
            throw JQError(message: "cannot run \(jq): \(error)")
        }
    }

    /// nil when `filter` compiles (with the variables defined); else jq's message. The filter is
    /// compiled inside `if false then (FILTER) else empty end`, so it is not evaluated; the newline
    /// before the closing parenthesis ends a `#` comment in the filter.
    public static func compileError(_ filter: String, jq: String) throws -> String? {
        let program = "if false then (" + filter + "\n) else empty end"
        let r = try run(jq, ["-n", "--argjson", "exit", "0", "--arg", "output", "", "--arg", "stdout", "", "--arg", "stderr", "", program])
        if r.output.exitCode == 0 { return nil }
        return cleanCompileMessage(r.output.stderr, status: r.output.exitCode)
    }

    /// jq's compile error without what does not apply here: the program line it echoes (that is the
    /// wrapper, not the line as written), its line number in the wrapper, the "shell quoting" hint
    /// and the count line.
    static func cleanCompileMessage(_ stderr: String, status: Int) -> String {
        var kept: [String] = []
        for line in stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            guard line.hasPrefix("jq: error") else { continue }
            var m = String(line.dropFirst("jq: error: ".count))
            m = m.replacingOccurrences(of: " (Unix shell quoting issues?)", with: "")
            if let r = m.range(of: " at <top-level>, line ", options: .backwards) { m = String(m[..<r.lowerBound]) }
            // The wrapper's closing parenthesis follows the filter: an unfinished filter meets it.
            m = m.replacingOccurrences(of: "unexpected ')'", with: "unexpected ')' or end of the filter")
            kept.append(m)
        }
        if kept.isEmpty {
            let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? "jq exited with status \(status)" : text
        }
        return kept.joined(separator: "; ")
    }
}

/// The inputs of one cell's assertions (its JSON, exit status and texts), written once to a
/// scratch folder, and the checks of its assertions with jq.
public final class JQCheck {
    public let jq: String
    public let output: CellOutput
    /// The JSON the filters read as `.`; nil when the output holds none (then `.` is null).
    public let json: String?
    private let folder: URL

    public init(_ output: CellOutput, json: String?, jq: String) throws {
        self.jq = jq
        self.output = output
        self.json = json
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("fcollapse-jq-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in [
            ("input.json", json ?? "null"), ("output", output.output), ("stdout", output.stdout), ("stderr", output.stderr)
        ] {
            try Data(text.utf8).write(to: folder.appendingPathComponent(name))
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    private func arguments(_ filter: String, exitStatus: Bool) -> [String] {
        (exitStatus ? ["-e"] : []) + ["-c", "--argjson", "exit", String(output.exitCode)]
            + ["output", "stdout", "stderr"].flatMap { ["--rawfile", $0, folder.appendingPathComponent($0).path] }
            + [filter, folder.appendingPathComponent("input.json").path]
    }

    /// nil when the assertion holds; otherwise why not: how jq judged it, what the filter printed
    /// (or jq's error), and the values of the paths it reads from `.` and of `$exit`.
    public func failure(of a: Assertion) throws -> String? {
        let r = try JQ.run(jq, arguments(a.text, exitStatus: true))
        let status = r.output.exitCode
        if status == 0 { return nil }
        var why: String
        switch status {
        case 1: why = "its last value is false or null"
        case 4: why = "it printed nothing"
        case 2, 3: why = "jq cannot compile it"
        case ShellCommand.timeoutStatus: why = "jq was stopped after \(Int(JQ.timeout)) s"
        default: why = "jq stopped with an error"
        }
        let printed = OutputRendering.lines(of: r.output.stdout)
        if !printed.isEmpty {
            let shown = printed.suffix(3).map { $0.count > 200 ? $0.prefix(197) + "..." : $0 }
            why += "; it printed " + (printed.count > 3 ? "(last 3 of \(printed.count) values) " : "") + shown.joined(separator: ", ")
        }
        let errors = OutputRendering.lines(of: r.output.stderr).filter { !$0.isEmpty }
        if !errors.isEmpty { why += "; " + errors.prefix(3).joined(separator: "; ") }
        let values = pathValues(a.text)
        if !values.isEmpty { why += "; values: " + values.joined(separator: ", ") }
        if json == nil && JQCheck.rootPaths(in: a.text).count > 0 { why += " (the output holds no JSON, so `.` is null)" }
        return why
    }

    /// `PATH = value` for each path of `.` the filter reads at its top level (see `rootPaths`), and
    /// `$exit = N` when it reads the exit status; values are shortened.
    func pathValues(_ filter: String) -> [String] {
        var shown: [String] = []
        let paths = JQCheck.rootPaths(in: filter)
        if !paths.isEmpty {
            // One jq run prints, for each path, the array of its values (or the error it raises).
            let program = paths.map { p in "(try [" + p + "] catch (\"error: \" + tostring))" }.joined(separator: ", ")
            if let r = try? JQ.run(jq, arguments(program, exitStatus: false)), r.output.exitCode == 0 {
                let lines = r.output.stdout.split(separator: "\n").map(String.init)
                for (p, l) in zip(paths, lines) {
                    var v = l
                    if l.hasPrefix("["), l.hasSuffix("]"),
                        let a = try? JSONSerialization.jsonObject(with: Data(l.utf8), options: [.fragmentsAllowed]) as? [Any], a.count == 1,
                        let one = try? JSONSerialization.data(withJSONObject: a[0], options: [.fragmentsAllowed])
                    {
                        v = String(decoding: one, as: UTF8.self)  // one value: without the brackets
                    }
                    if v.count > 120 { v = v.prefix(117) + "..." }
                    shown.append("\(p) = \(v)")
                }
            }
        }
        if Assertion.mentions(filter, variable: "exit") { shown.append("$exit = \(output.exitCode)") }
        return shown
    }

    /// The paths such as `.rows[0].nc1_ratio` that the filter applies to its input `.` itself: those
    /// outside strings, not inside the arguments of a function (`map(.x)` reads `.x` of each element),
    /// and before the first `|` of their level (after it, `.` is the pipe's left side). At most 8.
    public static func rootPaths(in filter: String) -> [String] {
        let u = Array(filter.unicodeScalars)
        var paths: [String] = []
        // Per open parenthesis or bracket: whether it is a function's argument list, and whether a
        // `|` was seen at its level; level 0 is the filter itself.
        var rebinds: [Bool] = [false]
        var i = 0
        func isPathStart(_ k: Int) -> Bool {
            guard u[k] == ".", k + 1 < u.count, isIdentifierStart(u[k + 1]) || u[k + 1] == "[" else { return false }
            if k == 0 { return true }
            let p = u[k - 1]
            // Not `a.b`, `x].b`, `).b`, `$v.b`, `..`, a number `1.5`.
            return !(isIdentifierPart(p) || p == "]" || p == ")" || p == "." || p == "}" || p == "\"" || p == "?")
        }
        while i < u.count {
            let c = u[i]
            if c == "\"" {  // skip a string, with its escapes (interpolations are skipped too)
                i += 1
                while i < u.count && u[i] != "\"" { i += u[i] == "\\" ? 2 : 1 }
                i += 1
                continue
            }
            if c == "#" { break }  // a comment runs to the end of the line
            if c == "(" || c == "[" || c == "{" {
                var k = i - 1
                while k >= 0 && u[k] == " " { k -= 1 }
                // A parenthesis after a name is a call (`map(...)`), unless the name is a keyword.
                var word = ""
                var w = k
                while w >= 0 && isIdentifierPart(u[w]) { word = String(Character(u[w])) + word; w -= 1 }
                let keywords: Set<String> = ["and", "or", "not", "if", "then", "elif", "else", "end"]
                let call = c == "(" && !word.isEmpty && !keywords.contains(word)
                rebinds.append(rebinds.last! || call)
                i += 1
                continue
            }
            if c == ")" || c == "]" || c == "}" {
                if rebinds.count > 1 { rebinds.removeLast() }
                i += 1
                continue
            }
            if c == "|" {
                if i + 1 < u.count && u[i + 1] == "=" { i += 2; continue }  // `|=` update
                rebinds[rebinds.count - 1] = true
                i += 1
                continue
            }
            if c == "/" && i + 1 < u.count && u[i + 1] == "/" { i += 2; continue }  // `//` alternative
            if isPathStart(i) && !rebinds.last! {
                var j = i
                var depth = 0
                while j < u.count {
                    let d = u[j]
                    if d == "[" {
                        depth += 1
                    } else if d == "]" {
                        if depth == 0 { break }; depth -= 1
                    } else if depth == 0 && !(isIdentifierPart(d) || d == "." || d == "?") {
                        break
                    } else if depth > 0 && (d == "|" || d == "(") {
                        break
                    }
                    j += 1
                }
                var p = String(String.UnicodeScalarView(u[i..<j]))
                while p.hasSuffix(".") { p.removeLast() }
                if depth == 0, p.count > 1, !paths.contains(p) { paths.append(p) }
                // Brackets inside the path were balanced: continue after it.
                i = max(j, i + 1)
                continue
            }
            i += 1
        }
        return Array(paths.prefix(8))
    }
}
