import ExperimentSpec
import Foundation
import TaskModel
import Testing

/// One test per validation rule: each bad spec is refused with an error naming its field.
@Suite struct ValidationTests {
    /// A valid base spec as JSON text with one key replaced (or removed with nil, or added).
    static func json(_ changes: [String: String?]) -> String {
        var fields: [(String, String)] = [
            ("nc", "3"), ("nw", "12"), ("L", "4"), ("K", "10"), ("d", "4"), ("word_freq", "\"uniform\""),
            ("layer_norm", "false"), ("seed", "1")
        ]
        for (k, v) in changes {
            if let i = fields.firstIndex(where: { $0.0 == k }) {
                if let v { fields[i].1 = v } else { fields.remove(at: i) }
            } else if let v {
                fields.append((k, v))
            }
        }
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func error(_ changes: [String: String?]) -> SpecError? {
        do {
            _ = try Spec.parse(json: Data(json(changes).utf8))
            return nil
        } catch { return error }
    }

    @Test func baseSpecIsValid() throws {
        let s = try Spec.parse(json: Data(Self.json([:]).utf8))
        #expect(s.sc == 4 && s.regime == .typeI && s.K == 10)
    }

    @Test(arguments: [
        // (changed key, new value, field expected in the error, words expected in the message)
        ("nw", "13", "nw", "multiple of nc"),
        ("nw", "0", "nw", "positive"),
        ("nc", "1", "nc", "at least 2"),
        ("L", "0", "L", "positive"),
        ("K", "-3", "K", "positive"),
        ("d", "0", "d", "positive"),
        ("d", "1", "d", "nc − 1"),
        ("bsz", "0", "bsz", "positive"),
        ("nspl", "-1", "nspl", "positive"),
        ("num_epochs", "0", "num_epochs", "positive"),
        ("lr", "0", "lr", "positive"),
        ("weight_decay_W", "-0.1", "weight_decay_W", "≥ 0"),
        ("weight_decay_U", "-1", "weight_decay_U", "≥ 0"),
        ("layer_norm_eps", "-1e-5", "layer_norm_eps", "≥ 0"),
        ("word_freq", "[1, 2, 3]", "word_freq", "s_c = nw / nc = 4"),
        ("word_freq", "[1, -2, 3, 1]", "word_freq[1]", "non-negative"),
        ("word_freq", "[0, 0, 0, 0]", "word_freq", "not all be zero"),
        ("word_freq", "\"zipff\"", "word_freq", "uniform"),
        ("nc", "\"3\"", "nc", "integer"),
        ("nc", "2.5", "nc", "integer"),
        ("layer_norm", "1", "layer_norm", "true or false"),
        ("seed", "-4", "seed", "non-negative"),
        ("latent", "\"everything\"", "latent", "random"),
        ("K", "3", "K", "number of explicit"),
        ("nw", "\"many\"", "nw", "integer")
    ])
    func ruleIsEnforced(_ key: String, _ value: String, _ field: String, _ words: String) throws {
        var changes: [String: String?] = [key: value]
        if key == "K" && value == "3" { changes["latent"] = "[[0,1,2,0],[1,1,1,1]]" }
        let e = try #require(Self.error(changes), "spec with \(key) = \(value) was accepted")
        #expect(e.field == field)
        #expect(e.message.contains(words), "message: \(e.message)")
        #expect(e.description.contains("'\(field)'"))
    }

    @Test func layerNormNeedsDAtLeastNc() throws {
        // d = nc − 1 = 2 is enough for the simplex without LayerNorm, not with it.
        #expect(Self.error(["d": "2"]) == nil)
        let e = try #require(Self.error(["d": "2", "layer_norm": "true"]))
        #expect(e.field == "d" && e.message.contains("layer_norm"))
    }

    @Test func explicitLatentVariablesAreChecked() throws {
        let wrongLength = try #require(Self.error(["K": nil, "latent": "[[0,1,2,0],[1,1,1]]"]))
        #expect(wrongLength.field == "latent[1]" && wrongLength.message.contains("L = 4"))
        let outOfRange = try #require(Self.error(["K": nil, "latent": "[[0,1,2,0],[1,3,1,1]]"]))
        #expect(outOfRange.field == "latent[1][1]" && outOfRange.message.contains("0..<nc"))
        let notAList = try #require(Self.error(["K": nil, "latent": "[[0,1,2,0], 7]"]))
        #expect(notAList.field == "latent[1]")
        let ok = try Spec.parse(json: Data(Self.json(["K": nil, "latent": "[[0,1,2,0],[1,1,1,1]]"]).utf8))
        #expect(ok.K == 2 && ok.latentVariables().sequence(1) == [1, 1, 1, 1])
    }

    @Test func fullLatentSpaceSetsK() throws {
        let s = try Spec.parse(json: Data(Self.json(["K": nil, "latent": "\"full\""]).utf8))
        #expect(s.K == 81)
        let wrongK = try #require(Self.error(["K": "80", "latent": "\"full\""]))
        #expect(wrongK.field == "K" && wrongK.message.contains("81"))
        let huge = try #require(Self.error(["K": nil, "latent": "\"full\"", "L": "60"]))
        #expect(huge.field == "K")
    }

    @Test func unknownKeyGetsASuggestion() throws {
        let e = try #require(Self.error(["weight_decay_w": "0.01"]))
        #expect(e.field == "weight_decay_w")
        #expect(e.message.contains("did you mean 'weight_decay_W'"))
        let e2 = try #require(Self.error(["num_epoch": "3"]))
        #expect(e2.message.contains("'num_epochs'"))
        let e3 = try #require(Self.error(["completely_unrelated_thing": "3"]))
        #expect(e3.message.contains("unknown key") && !e3.message.contains("did you mean"))
    }

    @Test func missingRequiredKey() throws {
        let e = try #require(Self.error(["nw": nil]))
        #expect(e.field == "nw" && e.message.contains("missing"))
    }

    @Test func malformedJSONSaysWhere() throws {
        let text = "{\n  \"nc\": 3,\n  \"nw\": ,\n  \"L\": 4\n}"
        do {
            _ = try Spec.parse(json: Data(text.utf8))
            Issue.record("malformed JSON was accepted")
        } catch {
            #expect(error.message.contains("malformed JSON"))
            #expect(error.message.contains("line 3"), "message: \(error.message)")
        }
        do {
            _ = try Spec.parse(json: Data("[1, 2]".utf8))
            Issue.record("a JSON array was accepted as a spec")
        } catch {
            #expect(error.message.contains("JSON object"))
        }
    }

    @Test func oversizedRequestIsRefusedWithItsSize() throws {
        var s = try #require(Spec.preset("fig3"))
        s.K = 1_000_000
        s.nspl = 100_000
        do {
            try s.checkMemory(for: .train, available: 24 * 1024 * 1024 * 1024)
            Issue.record("a 10^11-sentence training set was accepted")
        } catch {
            #expect(error.description.contains("needs about"))
            #expect(error.neededBytes > 24 * 1024 * 1024 * 1024)
        }
        let fig3 = try #require(Spec.preset("fig3"))
        try fig3.checkMemory(for: .train, available: 24 * 1024 * 1024 * 1024)
    }
}
