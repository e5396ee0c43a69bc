import ExperimentSpec
import Foundation

/// What the report runs, apart from the task itself: the sample sizes, seeds and optimizer of its
/// convergence sweep, P6's simulation, and where its small instances come from. `quick` and `paper`
/// are the named plans; `fcollapse report --show-plan NAME` prints one as JSON, and a plan file in that
/// format replaces it (`--plan FILE`).
public struct ReportPlan: Codable, Sendable {
    public var name: String
    /// The task of the convergence sweep: the user's spec, or the plan's preset (`spec`).
    public var sweepBase: Spec
    /// The preset the plan runs on when no spec file is given (JSON `spec`).
    public var specPreset: String?
    public var nspl: [Int]
    /// Independent training sets (seeds: each its latent variables, data and initialisation) per (regime, n_spl); P5 is
    /// judged over them (``ConvergenceCriterion``), so at least 3 for a verdict.
    public var seeds: Int
    public var optimizer: Optimizer
    /// Full-batch: where BFGS starts.
    public var start: Start
    public var maxIterations: Int
    /// Whether zipf-ln's convergence is judged (a statement) or only reported: SPEC 6 ("Which minimiser") finds θ* near a
    /// saddle of R̂_n at λ = 1e-3 on the quick task at its sizes, so the quick plan reports it.
    public var judgesLayerNormConvergence: Bool
    /// P6's simulation on small instances (sizes, training sets per size, n₀).
    public var finiteSample: FiniteSamplePlan
    /// Where the enumerable instances of P1–P4 come from.
    public var smallInstances: SmallInstanceChoice
    /// How the report was asked for, as the command-line arguments after `fcollapse report` (for its README).
    public var invocation: String

    /// SPEC 4.4's shapes with SPEC 4.4's parameters, or with parameters taken from the sweep's spec.
    public enum SmallInstanceChoice: String, Codable, Sendable, CaseIterable {
        /// λ = 0.01 or 0.02, μ = (0.6, 0.3, 0.1), ε = 1e-5: the instances SPEC 4.4 and the proofs state numbers for.
        case spec44 = "spec-4.4"
        /// The same shapes with the sweep's weight decays, μ and ε (``SmallInstanceSource/derived(from:)``).
        case derived
    }

    enum CodingKeys: String, CodingKey {
        case name, nspl, seeds, optimizer, start
        case judgesLayerNormConvergence = "judges_zipf_ln_convergence"
        case specPreset = "spec"
        case maxIterations = "max_iterations"
        case finiteSample = "finite_sample"
        case smallInstances = "small_instances"
    }

    public init(
        name: String, sweepBase: Spec, specPreset: String? = nil, nspl: [Int], seeds: Int, optimizer: Optimizer,
        start: Start = .reference, maxIterations: Int, judgesLayerNormConvergence: Bool = true, finiteSample: FiniteSamplePlan,
        smallInstances: SmallInstanceChoice = .spec44, invocation: String? = nil
    ) throws {
        guard !nspl.isEmpty, nspl.allSatisfy({ $0 >= 1 }) else {
            throw ExperimentError(field: "nspl", rule: "must list positive integers (got \(nspl))")
        }
        guard seeds >= 1 else { throw ExperimentError(field: "seeds", rule: "must be at least 1 (got \(seeds))") }
        guard maxIterations >= 1 else {
            throw ExperimentError(field: "max_iterations", rule: "must be at least 1 (got \(maxIterations))")
        }
        self.name = name
        self.sweepBase = sweepBase
        self.specPreset = specPreset
        self.nspl = Array(Set(nspl)).sorted()
        self.seeds = seeds
        self.optimizer = optimizer
        self.start = start
        self.maxIterations = maxIterations
        self.judgesLayerNormConvergence = judgesLayerNormConvergence
        self.finiteSample = finiteSample
        self.smallInstances = smallInstances
        self.invocation = invocation ?? "--preset \(name)"
    }

    /// `quick`: the quick preset's task, exact empirical minimisers (full-batch BFGS started at the prediction θ*: P5 and
    /// P6 are about the minimiser near θ*), n_spl = 5, 20, 50, 100 with 3 seeds each, a few minutes on 2 cores.
    /// `paper`: the fig3 task with the reference SGD protocol, n_spl = 5, 10, 20, 50 with 5 seeds each (hours; shard it
    /// with `--shard i/n`).
    public static func named(_ name: String) -> ReportPlan? {
        switch name {
        case "quick":
            try! ReportPlan(
                name: name, sweepBase: Spec.preset("quick")!, specPreset: "quick", nspl: [5, 20, 50, 100], seeds: 3,
                optimizer: .fullBatch, start: .prediction, maxIterations: 4000, judgesLayerNormConvergence: false,
                finiteSample: .quick)
        case "paper":
            try! ReportPlan(
                name: name, sweepBase: Spec.preset("fig3")!, specPreset: "fig3", nspl: [5, 10, 20, 50], seeds: 5, optimizer: .sgd,
                start: .reference, maxIterations: 4000, judgesLayerNormConvergence: true, finiteSample: .paper)
        default: nil
        }
    }

    public static let names = ["quick", "paper"]

    /// The same plan run on another task: its small instances are then derived from that task.
    public func on(spec: Spec, invocation: String) -> ReportPlan {
        var p = self
        p.sweepBase = spec
        p.smallInstances = .derived
        p.invocation = invocation
        return p
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(specPreset, forKey: .specPreset)
        try c.encode(nspl, forKey: .nspl)
        try c.encode(seeds, forKey: .seeds)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(start, forKey: .start)
        try c.encode(maxIterations, forKey: .maxIterations)
        try c.encode(judgesLayerNormConvergence, forKey: .judgesLayerNormConvergence)
        try c.encode(finiteSample, forKey: .finiteSample)
        try c.encode(smallInstances, forKey: .smallInstances)
    }

    /// Decodes a plan file; its task is the preset it names (`spec`), or `fcollapse report SPEC` replaces it.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let preset = try c.decodeIfPresent(String.self, forKey: .specPreset)
        let base: Spec
        if let preset {
            guard let s = Spec.preset(preset) else {
                throw ExperimentError(
                    field: "spec", rule: "must name a preset (\(Spec.presetNames.joined(separator: ", "))); got '\(preset)'")
            }
            base = s
        } else {
            base = Spec.preset("quick")!
        }
        let fs = try c.decode(FiniteSamplePlan.self, forKey: .finiteSample)
        try self.init(
            name: try c.decode(String.self, forKey: .name), sweepBase: base, specPreset: preset,
            nspl: try c.decode([Int].self, forKey: .nspl), seeds: try c.decode(Int.self, forKey: .seeds),
            optimizer: try c.decode(Optimizer.self, forKey: .optimizer),
            start: try c.decodeIfPresent(Start.self, forKey: .start) ?? .reference,
            maxIterations: try c.decode(Int.self, forKey: .maxIterations),
            judgesLayerNormConvergence: try c.decodeIfPresent(Bool.self, forKey: .judgesLayerNormConvergence) ?? true,
            finiteSample: try FiniteSamplePlan(
                nspl: fs.nspl, sets: fs.sets, judgedFrom: fs.judgedFrom, seed: fs.seed, gradientTolerance: fs.gradientTolerance),
            smallInstances: try c.decodeIfPresent(SmallInstanceChoice.self, forKey: .smallInstances) ?? .spec44)
    }

    /// The plan as the JSON `--show-plan` prints and `--plan FILE` reads.
    public var jsonText: String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try! e.encode(self), as: UTF8.self) + "\n"
    }

    /// Reads a plan file; every error names the file and, where it can, the field.
    public static func load(path: String) throws -> ReportPlan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError(field: path, rule: "cannot read the plan file (does it exist?)")
        }
        do {
            var p = try JSONDecoder().decode(ReportPlan.self, from: data)
            p.invocation = "--plan \(path)"
            return p
        } catch let e as ExperimentError {
            throw ExperimentError(field: "\(path): \(e.field)", rule: e.rule)
        } catch let DecodingError.keyNotFound(key, ctx) {
            let at = (ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw ExperimentError(field: "\(path): \(at)", rule: "is required (see `fcollapse report --show-plan quick`)")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx),
            let DecodingError.dataCorrupted(ctx)
        {
            let at = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ExperimentError(field: "\(path): \(at.isEmpty ? "(json)" : at)", rule: ctx.debugDescription)
        }
    }
}

/// Where the small instances of P1–P4 get their parameters. Their shapes are SPEC 4.4's (n_c = 3, s_c = 3,
/// d = 4; L = 2 with the full latent space, or L = 3 with K = 5 random latent variables) because `verify`
/// enumerates all n_w^L word tuples of every class; a user's task is far too large for that. What a
/// statement does not fix comes from the source: the weight decays, the non-uniform μ of the statements
/// about Zipf-like μ (P3, P4, P4′ and the P1 control), and LayerNorm's ε of P4 with ε > 0.
public struct SmallInstanceSource: Sendable, Equatable {
    public var weightDecayW: Double
    public var weightDecayU: Double
    /// μ of the statements that need a non-uniform μ (three ranks, decreasing).
    public var skewed: [Double]
    /// ε of P4 with ε > 0.
    public var layerNormEps: Double
    /// How the parameters were chosen, in words (shown in the report).
    public var derivation: String

    /// SPEC 4.4's parameters (λ set per instance: 0.01 on the full latent space, 0.02 on random ones).
    public static let spec44 = SmallInstanceSource(
        weightDecayW: .nan, weightDecayU: .nan, skewed: [0.6, 0.3, 0.1], layerNormEps: 1e-5,
        derivation: "SPEC 4.4's small instances (λ = 0.01 with the full latent space, 0.02 with random ones; μ = (0.6, 0.3, 0.1); ε = 1e-5)"
    )

    /// The weight decays are kept in [1e-3, 0.05]. Below 1e-3 the curvature away from the symmetry orbit (about λ) is too
    /// weak for `verify`'s tolerance: BFGS stops at ‖∇R‖ ≤ 1e-9, which places the point within ‖∇R‖/λ ≤ 1e-6 of the
    /// minimiser only when λ ≥ 1e-3. Above 0.05 the instances near their learning thresholds (λ* ≥ 0.157 for all
    /// of them, SPEC 4.1), where the minimiser is degenerate; the threshold itself is checked apart.
    public static let weightDecayRange = 1e-3...0.05

    /// The parameters taken from a task: its λ_W and λ_U (clamped to ``weightDecayRange``), its first three
    /// word frequencies renormalised when μ is not uniform (else (0.6, 0.3, 0.1)), its ε when it uses LayerNorm
    /// with ε > 0 (else 1e-5).
    public static func derived(from s: Spec) -> SmallInstanceSource {
        func clamp(_ x: Double) -> Double { min(max(x, weightDecayRange.lowerBound), weightDecayRange.upperBound) }
        var notes: [String] = []
        let lw = clamp(s.weightDecayW), lu = clamp(s.weightDecayU)
        notes.append(
            lw == s.weightDecayW && lu == s.weightDecayU
                ? "λ_W = \(s.weightDecayW), λ_U = \(s.weightDecayU) from the spec"
                : "λ_W = \(lw), λ_U = \(lu) (the spec's \(s.weightDecayW), \(s.weightDecayU) clamped to [1e-3, 0.05])")
        var mu = [0.6, 0.3, 0.1]
        let freq = s.wordFreq.probabilities(wordsPerConcept: s.sc)
        if freq.count >= 3, !s.wordFreq.isUniform(wordsPerConcept: s.sc) {
            let top = Array(freq.sorted(by: >).prefix(3))
            let total = top.reduce(0, +)
            // P3 predicts norms strictly decreasing with the rank: ties among the top three would leave it nothing to
            // check, so the default is kept then.
            if top[0] - top[1] > 1e-9 * total && top[1] - top[2] > 1e-9 * total {
                mu = top.map { $0 / total }
                notes.append(
                    "μ = the spec's three most frequent ranks renormalised, ("
                        + mu.map { String(format: "%.4f", $0) }.joined(separator: ", ") + ")")
            }
        }
        if notes.count == 1 { notes.append("μ = (0.6, 0.3, 0.1) where a statement needs a non-uniform μ (the spec's μ is uniform)") }
        let eps = s.layerNorm && s.layerNormEps > 0 ? s.layerNormEps : 1e-5
        notes.append(s.layerNorm && s.layerNormEps > 0 ? "ε = \(eps) from the spec" : "ε = 1e-5 for P4 with ε > 0")
        return SmallInstanceSource(
            weightDecayW: lw, weightDecayU: lu, skewed: mu, layerNormEps: eps,
            derivation:
                "SPEC 4.4's shapes (n_c = 3, s_c = 3, d = 4; L = 2 on the full latent space or L = 3 with K = 5 random latent variables) with "
                + notes.joined(separator: "; "))
    }
}
