import Foundation
import Notebooks
import Testing

/// The assertions as jq filters: holding and failing, the variables, the input `.`, the messages,
/// and a missing jq. These tests need jq (`apt-get install jq`; ./dev installs it).
@Suite struct JQTests {
    let jq: String
    init() throws { jq = try JQ.locate() }

    func check(_ output: CellOutput, json: String? = nil) throws -> JQCheck {
        try JQCheck(output, json: json ?? JSONExtraction.json(in: output.stdout), jq: jq)
    }

    func a(_ text: String) -> Assertion { Assertion(line: 7, text: text, mode: .always) }

    static let sample = CellOutput(stdout: "{\"K\": 50, \"rows\": [{\"x\": 1.5}, {\"x\": 2.5}], \"name\": \"quick\"}\n")

    @Test func holdingAndFailingFilters() throws {
        let c = try check(Self.sample)
        #expect(try c.failure(of: a(".K == 50")) == nil)
        #expect(try c.failure(of: a("[.rows[].x] | add == 4")) == nil)
        #expect(try c.failure(of: a(".name == \"quick\" and (.rows | length) == 2")) == nil)
        // Any last value but false and null holds (jq -e).
        #expect(try c.failure(of: a(".rows[0]")) == nil)

        let f = try #require(try c.failure(of: a(".K > 60 and .rows[1].x < 2")))
        #expect(f.contains("its last value is false or null"), "\(f)")
        #expect(f.contains("it printed false"), "\(f)")
        #expect(f.contains(".K = 50") && f.contains(".rows[1].x = 2.5"), "\(f)")
        // null fails too, and so does a filter that prints nothing.
        #expect(try c.failure(of: a(".missing"))?.contains("printed null") == true)
        #expect(try c.failure(of: a("empty"))?.contains("printed nothing") == true)
        // A run-time error is reported with jq's message.
        let e = try #require(try c.failure(of: a(".name.x == 1")))
        #expect(e.contains("error") && e.contains("Cannot index string"), "\(e)")
    }

    @Test func exitAndTextVariables() throws {
        let out = CellOutput(exitCode: 3, output: "out\nerr\n", stdout: "out\n", stderr: "err\n")
        let c = try check(out)
        #expect(try c.failure(of: a("$exit == 3")) == nil)
        #expect(try c.failure(of: a("$stdout == \"out\\n\" and $stderr == \"err\\n\"")) == nil)
        #expect(try c.failure(of: a("($output | test(\"(?m)^out$\")) and ($output | test(\"(?m)^err$\"))")) == nil)
        let f = try #require(try c.failure(of: a("$exit == 0")))
        #expect(f.contains("$exit = 3"), "\(f)")
    }

    @Test func theInputIsNullWithoutJSONAndTheJSONAfterProgressLines() throws {
        let none = try check(CellOutput(stdout: "no json here\n"))
        #expect(none.json == nil)
        #expect(try none.failure(of: a(". == null")) == nil)
        let f = try #require(try none.failure(of: a(".K == 50")))
        #expect(f.contains("holds no JSON"), "\(f)")
        // A progress line that starts with `[` before the JSON is passed over.
        #expect(JSONExtraction.json(in: "[3/12] regime uniform\n{\"a\": [1, 2]}\nwrote x\n") == "{\"a\": [1, 2]}")
        #expect(JSONExtraction.json(in: " 42 \n") == "42")
    }

    /// The filter is one element of jq's argument vector: shell syntax in it is just text.
    @Test func theFilterDoesNotGoThroughAShell() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("jq-shell-\(UUID().uuidString)").path
        let c = try check(Self.sample)
        #expect(try c.failure(of: a("\"$(touch \(marker))'`;\" | length > 0")) == nil)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func aMissingJQIsAClearError() {
        #expect(JQ.find(inPath: "/nonexistent-folder:/another-one") == nil)
        do {
            _ = try JQ.locate(environment: ["PATH": "/nonexistent-folder"])
            Issue.record("expected an error")
        } catch {
            let m = "\(error)"
            #expect(m.contains("jq is not installed") && m.contains("apt-get install jq") && m.contains("./dev"), "\(m)")
        }
        // And a notebook with assertions cannot be parsed without it: the error names the file.
        #expect(throws: JQError.self) { _ = try JQ.locate(environment: ["PATH": "", "FCOLLAPSE_JQ": "/nonexistent/jq"]) }
    }

    @Test func compileErrorsAreFoundWithoutEvaluating() throws {
        #expect(try JQ.compileError(".a == 1", jq: jq) == nil)
        // `error` would stop an evaluation; compiling does not evaluate.
        #expect(try JQ.compileError("error(\"never evaluated\")", jq: jq) == nil)
        #expect(try JQ.compileError("$exit + ($output | length) + ($stdout | length) + ($stderr | length) > 0", jq: jq) == nil)
        let m = try #require(try JQ.compileError(".a == (1 +", jq: jq))
        #expect(m.contains("syntax error") && !m.contains("<top-level>"), "\(m)")
        #expect(try JQ.compileError("$nope", jq: jq)?.contains("$nope is not defined") == true)
    }

    @Test func thePathsShownAreThoseReadFromTheInput() {
        #expect(JQCheck.rootPaths(in: ".a.b > 1 and (.c | length) == 2") == [".a.b", ".c"])
        // Inside a function's arguments or after a pipe `.` is something else: not shown.
        #expect(JQCheck.rootPaths(in: "[.rows[].x] | map(.y) | .z") == [".rows[].x"])
        #expect(JQCheck.rootPaths(in: "all(.rows[]; .x > 0)") == [])
        // Not inside strings, not field accesses of variables.
        #expect(JQCheck.rootPaths(in: "$r.k == \".not\" and .m[-1] == 2") == [".m[-1]"])
    }
}
