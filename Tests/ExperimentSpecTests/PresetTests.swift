import ExperimentSpec
import Foundation
import TaskModel
import Testing

@Suite struct PresetTests {
    @Test(arguments: Spec.presetNames)
    func presetIsValidAndRoundTripsThroughJSON(_ name: String) throws {
        let s = try #require(Spec.preset(name))
        try s.validate()
        let back = try Spec.parse(json: s.jsonData)
        #expect(back == s)
    }

    @Test func paperPresetsMatchSpecSection3() throws {
        // SPEC section 3: (μ, LayerNorm, n_spl, epochs) of the four reference runs.
        let expected: [String: (WordFrequency, Bool, Int, Int)] = [
            "fig3": (.uniform, false, 5, 1200), "fig4a": (.zipf, false, 500, 10),
            "fig4b": (.zipf, false, 5, 3000), "fig4c": (.zipf, true, 5, 500)
        ]
        for (name, e) in expected {
            let s = try #require(Spec.preset(name))
            #expect(s.wordFreq == e.0 && s.layerNorm == e.1 && s.nspl == e.2 && s.numEpochs == e.3, "\(name)")
            #expect(s.nc == 3 && s.nw == 1200 && s.L == 15 && s.K == 1000 && s.d == 100)
            #expect(s.lr == 0.1 && s.bsz == 100 && s.weightDecayW == 0.001 && s.weightDecayU == 0.001)
            #expect(s.layerNormEps == 1e-5)
        }
        #expect(Spec.preset("fig3")?.regime == .typeI)
        #expect(Spec.preset("fig4a")?.regime == .typeII)
        #expect(Spec.preset("fig4c")?.regime == .layerNorm)
        #expect(Spec.preset("nope") == nil)
    }

    @Test func streamsAreDistinctAndSeeded() throws {
        var s = try #require(Spec.preset("quick"))
        let a = s.seed(for: .train)
        #expect(a != s.seed(for: .test) && a != s.seed(for: .latent))
        s.seed = 1
        #expect(s.seed(for: .train) != a)
    }

    @Test func specDrivesTheTask() throws {
        let s = try #require(Spec.preset("quick"))
        let t = s.task()
        #expect(t.classes == s.K && t.length == s.L && t.vocabulary.size == s.nw)
        #expect(t.latents == s.latentVariables())  // deterministic
    }
}
