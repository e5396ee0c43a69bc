extension Spec {
    /// The built-in presets: the four reference runs of SPEC section 3 and a small quick one.
    public static let presetNames = ["quick", "fig3", "fig4a", "fig4b", "fig4c"]

    /// A built-in preset by name, or nil.
    public static func preset(_ name: String) -> Spec? {
        let paper = Spec(
            nc: 3, nw: 1200, L: 15, K: 1000, d: 100, wordFreq: .uniform, layerNorm: false,
            layerNormEps: 1e-5, weightDecayW: 1e-3, weightDecayU: 1e-3, lr: 0.1, bsz: 100,
            numEpochs: 1200, nspl: 5, nTest: 5, report: 100, latent: .random, seed: 0, name: name)
        switch name {
        case "fig3":
            return paper
        case "fig4a":
            var s = paper
            s.wordFreq = .zipf; s.nspl = 500; s.numEpochs = 10; s.report = 1
            return s
        case "fig4b":
            var s = paper
            s.wordFreq = .zipf; s.nspl = 5; s.numEpochs = 3000; s.report = 100
            return s
        case "fig4c":
            var s = paper
            s.wordFreq = .zipf; s.layerNorm = true; s.nspl = 5; s.numEpochs = 500; s.report = 50
            return s
        case "quick":
            return Spec(
                nc: 3, nw: 60, L: 6, K: 50, d: 8, wordFreq: .uniform, layerNorm: false, layerNormEps: 1e-5,
                weightDecayW: 1e-3, weightDecayU: 1e-3, lr: 0.1, bsz: 10, numEpochs: 60, nspl: 20,
                nTest: 5, report: 10, latent: .random, seed: 0, name: name)
        default:
            return nil
        }
    }

    /// What each preset reproduces, for `spec list` and the README.
    public static let presetSummaries: [String: String] = [
        "quick": "a small task (n_c = 3, s_c = 20, L = 6, K = 50, d = 8) that trains in seconds",
        "fig3": "paper figure 3: uniform μ, no LayerNorm, n_spl = 5, 1200 epochs",
        "fig4a": "paper figure 4a: Zipf μ, no LayerNorm, n_spl = 500, 10 epochs",
        "fig4b": "paper figure 4b: Zipf μ, no LayerNorm, n_spl = 5, 3000 epochs (overfits)",
        "fig4c": "paper figure 4c: Zipf μ, LayerNorm, n_spl = 5, 500 epochs"
    ]
}
