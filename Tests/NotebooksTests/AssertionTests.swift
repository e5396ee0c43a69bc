import Notebooks
import Testing

/// The assertion mini-language: parsing, evaluation on JSON and text, and failure messages.
@Suite struct AssertionTests {
    static let json = """
        {
          "test_accuracy": 0.995,
          "objective": 0.5291,
          "trivial": false,
          "name": "fig3",
          "classes": [ {"class": 0, "latent": [2, 2, 1, 0, 0, 1, 2, 1, 0, 0, 1, 2, 2, 1, 0]},
                       {"class": 1, "latent": [0, 1, 2]} ],
          "hist": [0, 3, 5, 2],
          "bad": "nan",
          "nested": {"a b": {"c": 7}},
          "flags": [true, true, false]
        }
        """

    func check(_ text: String, _ output: CellOutput = CellOutput(stdout: AssertionTests.json)) throws -> String? {
        let e = try AssertionParser.parse(text)
        return AssertionEvaluator(output).failure(of: e)
    }

    @Test(arguments: [
        "$.test_accuracy >= 0.99",
        "$.classes[0].latent length == 15",
        "$.trivial == false",
        "abs($.objective - 0.528) < 0.01",
        "0.5 < $.objective < 0.6",
        "$.name == \"fig3\" and not $.trivial",
        "$.name == 'fig3'",
        "$.name contains \"^fig[0-9]$\"",
        "$.classes[-1].class == 1",
        "$.classes[*].class == [0, 1]",
        "$.classes[*].class contains 1",
        "$.nested[\"a b\"].c == 7",
        "sum($.hist) == 10",
        "mean($.hist) == 2.5",
        "max($.hist) == $.hist[2]",
        "min(3, 1, 2) == 1",
        "len($.classes) == 2 and $.nested length == 1",
        "any($.flags) and not all($.flags)",
        "$.bad != $.bad or true",
        "not ($.bad < 1)",
        "-$.hist[1] + 2 * 3 / 2 == 0",
        "sqrt(16) == 4 and exp(0) == 1 and log(1) == 0",
        "1e-3 * 1000 == 1",
        "exit == 0",
        "contains \"test_accuracy\"",
        "not contains \"error\"",
        "contains \"^  \\\"trivial\\\": false\"",
        "capture(\"\\\"objective\\\": ([0-9.]+)\") > 0.5",
        "count(\"class\") == 1 + 2",
        "null == null and $.classes[0] != null",
    ])
    func holds(_ text: String) throws {
        #expect(try check(text) == nil, "\(text)")
    }

    @Test(arguments: [
        ("$.test_accuracy >= 0.999", "`$.test_accuracy` is 0.995"),
        ("$.classes[1].latent length == 15", "`$.classes[1].latent length` is 3"),
        ("$.trivial == true", "`$.trivial` is false"),
        ("abs($.objective - 0.528) < 0.001", "`abs($.objective - 0.528)` is"),
        ("$.name contains \"fig4\"", "`$.name` is \"fig3\""),
        ("contains \"nothing like this\"", "no match for \"nothing like this\""),
        ("exit != 0", "`exit` is 0"),
        ("$.missing == 1", "no key \"missing\""),
        ("$.classes[5].class == 1", "index 5 is out of range"),
        ("$.name.first == 1", "is a string (\"fig3\"), not an object"),
        ("$.name < 3", "cannot order"),
        ("$.objective + \"x\" > 0", "should be a number"),
        ("$.objective", "must be true or false"),
        ("$.trivial and $.test_accuracy > 0.9", "`$.trivial` is false"),
        ("$.trivial or $.objective > 1", "none holds"),
        ("$.bad > 0", "`$.bad` is \"nan\""),
        ("capture(\"zzz(\\d)\") == 1", "no match"),
    ])
    func fails(_ text: String, reason: String) throws {
        let why = try check(text)
        #expect(why != nil, "\(text) should fail")
        #expect(why?.contains(reason) == true, "\(text): \(why ?? "nil")")
    }

    @Test func jsonAfterATextLineAndOnStdoutOnly() throws {
        // Standard error is mixed into `output` but `$` reads standard output only; a text line after
        // the JSON (as `spec check` prints) does not stop the JSON from being found.
        let out = CellOutput(exitCode: 0, output: "progress\n{\"K\": 50}\nok: type-I\n",
                             stdout: "{\"K\": 50}\nok: type-I\n", stderr: "progress\n")
        #expect(try check("$.K == 50", out) == nil)
        #expect(try check("stderr contains \"progress\" and stdout contains \"^ok:\"", out) == nil)
        #expect(try check("output contains \"progress\"", out) == nil)
        let text = CellOutput(stdout: "just text\n")
        #expect(try check("$.K == 1", text)?.contains("needs JSON on standard output") == true)
    }

    @Test func nonZeroExitIsVisible() throws {
        let out = CellOutput(exitCode: 3, stdout: "")
        #expect(try check("exit == 3", out) == nil)
        #expect(try check("exit == 0", out)?.contains("`exit` is 3") == true)
    }

    @Test(arguments: [
        ("$.a == ", 8, "end of the line"),
        ("$.a = 1", 5, "use `==`"),
        ("$.a && $.b", 5, "use `and`"),
        ("foo > 1", 1, "unknown word `foo`"),
        ("abs(1, 2) > 0", 1, "takes 1 argument"),
        ("$.a[x] == 1", 5, "integer index"),
        ("\"open", 1, "not closed"),
        ("contains \"(\"", 10, "invalid regular expression"),
        ("count(output, \"[\") == 1", 15, "invalid regular expression"),
        ("$.a == 1 1", 10, "after a complete expression"),
        ("(1 == 1", 8, "to close the `(`"),
        ("$. == 1", 2, "key name"),
    ])
    func syntaxErrors(_ text: String, column: Int, message: String) {
        do {
            _ = try AssertionParser.parse(text)
            Issue.record("\(text) should not parse")
        } catch {
            #expect(error.column == column, "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error)")
        }
    }

    @Test func renderedExpressionsParseBackToTheSameText() throws {
        // Written in the canonical form (no redundant parentheses, single spaces), each renders back
        // to exactly its text.
        for text in ["abs($.objective - 0.528) < 0.01", "$.classes[0].latent length == 15", "not contains \"x\"",
                     "$[\"a b\"][*].c == [1, 2]", "0.5 < $.x <= 1 or exit != 0", "$.a - ($.b - $.c) == $.a - $.b - $.c",
                     "$.a / ($.b * 2) > -($.c + 1)", "not (exit == 0 and $.x) or $.y", "($.a or $.b) and not not $.c",
                     "(-$.a) length == 1", "stdout contains \"(a|b)\" and $.t == true",
                     "output contains \"say \\\"hi\\\" to a string longer than sixty characters, which messages shorten\""] {
            #expect(try AssertionParser.parse(text).rendered == text)
        }
    }
}
