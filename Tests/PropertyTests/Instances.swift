import Foundation
import GSLBridge
import PropertyBased
import Testing
import TaskModel

// Random small instances for the property tests.
//
// An instance is a handful of integers (sizes, the choice of μ and of LayerNorm, a seed), generated
// with PropertyBased's `Gen`; everything else (latent variables, μ's weights, W, U, the symmetry) is
// built deterministically from those integers with GSL's mt19937. A failing property therefore prints
// a complete, copyable counterexample, shrunk towards small sizes, uniform μ, no LayerNorm and seed 0.
//
// Determinism: PropertyBased's `.fixedSeed` trait runs a property on ONE input only and records an
// issue when that input passes (it is meant to replay a failure), and without it the inputs come from
// the system's random source. So every property draws its instances from an `InstanceSource` whose
// Xoshiro generator is seeded from the property's name: CI sees the same instances on every run.
// Set PROPERTY_RANDOM=1 to draw fresh instances (the source prints its seed, for a re-run with
// PROPERTY_SEED=<that seed>), PROPERTY_SCALE=n to run n times as many instances, PROPERTY_VERBOSE=1 to
// print how many instances each property ran and how long it took.

/// μ of an instance.
enum MuChoice: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case uniform = 0, zipf, random
    var description: String { ".\(["uniform", "zipf", "random"][rawValue])" }
}

/// The feature map ψ of an instance.
enum NormChoice: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No LayerNorm.
    case none = 0
    /// LayerNorm with the reference ε = 1e-5.
    case layerNorm
    /// Idealised LayerNorm, ε = 0.
    case idealised
    /// LayerNorm with a large ε = 0.3, where ε visibly changes the feature norms.
    case largeEps
    var description: String { ".\(["none", "layerNorm", "idealised", "largeEps"][rawValue])" }
    var layerNorm: Bool { self != .none }
    var eps: Double { [0, 1e-5, 0, 0.3][rawValue] }
}

/// The parameters of one random instance: all a failing property needs to print.
struct Instance: Sendable, Hashable, CustomTestStringConvertible, CustomStringConvertible {
    var nc: Int, sc: Int, L: Int, K: Int, d: Int
    var mu: MuChoice
    var norm: NormChoice
    var seed: UInt64

    var nw: Int { nc * sc }
    var description: String {
        "Instance(nc: \(nc), sc: \(sc), L: \(L), K: \(K), d: \(d), mu: \(mu), norm: \(norm), seed: \(seed))"
    }
    var testDescription: String { description }
}

/// The ranges instances are drawn from (defaults: those of the task description).
struct InstanceSpace: Sendable {
    var nc: ClosedRange<Int> = 2...4
    var sc: ClosedRange<Int> = 1...3
    var L: ClosedRange<Int> = 1...3
    var K: ClosedRange<Int> = 1...6
    /// d is drawn in nc...maxD.
    var maxD: Int = 5
    var mus: [MuChoice] = MuChoice.allCases
    var norms: [NormChoice] = NormChoice.allCases

    /// The instance generator, built from PropertyBased's integer generators.
    var generator: Generator<Instance, some Sequence & SendableMetatype> {
        let space = self
        return zip(
            Gen.int(in: nc), Gen.int(in: sc), Gen.int(in: L), Gen.int(in: K), Gen.int(in: 0...maxD),
            Gen.int(in: 0...(mus.count - 1)), Gen.int(in: 0...(norms.count - 1)),
            Gen.uint64(in: 0...UInt64(UInt32.max))
        )
        .map { t in
            Instance(
                nc: t.0, sc: t.1, L: t.2, K: t.3, d: t.0 + t.4 % (space.maxD - t.0 + 1),
                mu: space.mus[t.5], norm: space.norms[t.6], seed: t.7)
        }
    }

    /// Smaller instances than `x` inside this space: each field moved towards its lower bound
    /// (or uniform μ, no LayerNorm, seed 0), most shrunk first.
    func shrink(_ x: Instance) -> [Instance] {
        func towards(_ v: Int, _ lower: Int) -> [Int] {
            var out: [Int] = []
            for c in [lower, lower + (v - lower) / 2, v - 1] where c >= lower && c < v && !out.contains(c) { out.append(c) }
            return out
        }
        var out: [Instance] = []
        for v in towards(x.nc, nc.lowerBound) { var y = x; y.nc = v; out.append(y) }
        for v in towards(x.sc, sc.lowerBound) { var y = x; y.sc = v; out.append(y) }
        for v in towards(x.L, L.lowerBound) { var y = x; y.L = v; out.append(y) }
        for v in towards(x.K, K.lowerBound) { var y = x; y.K = v; out.append(y) }
        for v in towards(x.d, x.nc) { var y = x; y.d = v; out.append(y) }
        if let i = mus.firstIndex(of: x.mu), i > 0 { var y = x; y.mu = mus[0]; out.append(y) }
        if let i = norms.firstIndex(of: x.norm), i > 0 { var y = x; y.norm = norms[0]; out.append(y) }
        var seeds: [UInt64] = []
        for s in [UInt64(0), x.seed / 2, x.seed &- 1] where s < x.seed && !seeds.contains(s) { seeds.append(s) }
        for s in seeds { var y = x; y.seed = s; out.append(y) }
        return out
    }
}

/// A deterministic stream of instances for one property (see the note at the top of this file).
final class InstanceSource: @unchecked Sendable {
    private let lock = NSLock()
    private var rng: Xoshiro

    init(_ name: String) {
        let env = ProcessInfo.processInfo.environment
        if let text = env["PROPERTY_SEED"], let s = UInt64(text) {
            rng = Xoshiro(seed: InstanceSource.state(s))
        } else if env["PROPERTY_RANDOM"] == "1" {
            let s = UInt64.random(in: 0...UInt64.max)
            print("property '\(name)': PROPERTY_SEED=\(s)")
            rng = Xoshiro(seed: InstanceSource.state(s))
        } else {
            // FNV-1a of the name: a fixed seed per property.
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            rng = Xoshiro(seed: InstanceSource.state(h))
        }
    }

    private static func state(_ s: UInt64) -> (UInt64, UInt64, UInt64, UInt64) {
        (
            RandomGenerator.derive(s, stream: 1), RandomGenerator.derive(s, stream: 2),
            RandomGenerator.derive(s, stream: 3), RandomGenerator.derive(s, stream: 4)
        )
    }

    func next(_ space: InstanceSpace) -> Instance {
        lock.lock(); defer { lock.unlock() }
        return space.generator.run(using: &rng)
    }
}

/// Runs `body` on `count` instances of `space` drawn from the property's own deterministic source;
/// a failure is shrunk by PropertyBased and printed as an `Instance(...)` literal.
func forAllInstances(
    _ name: String, count: Int, in space: InstanceSpace = InstanceSpace(),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping (Instance) async throws -> Void
) async {
    let env = ProcessInfo.processInfo.environment
    let count = count * max(1, Int(env["PROPERTY_SCALE"] ?? "") ?? 1)
    let source = InstanceSource(name)
    let input = Generator<Instance, [Instance]>(run: { _ in source.next(space) }, shrink: { space.shrink($0) })
    var runs = 0
    let start = Date()
    await propertyCheck(
        count: count, input: input,
        perform: { p in
            runs += 1; try await body(p)
        }, sourceLocation: sourceLocation)
    if env["PROPERTY_VERBOSE"] == "1" {
        print("property '\(name)': \(runs) runs in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
    }
}

// MARK: - Building an instance

/// Penalties used throughout (different on purpose, so that a W/U mix-up shows).
let lambdaW = 0.013
let lambdaU = 0.007

/// Everything an instance's properties need, built deterministically from `Instance`.
struct Built {
    let instance: Instance
    let latents: LatentVariables
    let mu: [Double]
    /// n_w x d, row-major.
    let W: [Double]
    /// K x L·d, row-major (block u_{k,ℓ} at k·L·d + ℓ·d).
    let U: [Double]
    /// A generator for anything else the property draws (symmetries, sentences' seed, ...).
    let rng: RandomGenerator

    var nc: Int { instance.nc }
    var sc: Int { instance.sc }
    var nw: Int { instance.nw }
    var L: Int { instance.L }
    var K: Int { instance.K }
    var d: Int { instance.d }
    var layerNorm: Bool { instance.norm.layerNorm }
    var eps: Double { instance.norm.eps }
    /// W then U, the layout of ExactRisk and EmpiricalRisk.
    var x: [Double] { W + U }
    var muIsUniform: Bool { instance.mu == .uniform || sc == 1 }

    init(_ p: Instance) {
        instance = p
        latents = LatentVariables.random(concepts: p.nc, length: p.L, count: p.K, seed: RandomGenerator.derive(p.seed, stream: 11))
        let r = RandomGenerator(seed: RandomGenerator.derive(p.seed, stream: 12))
        switch p.mu {
        case .uniform: mu = WordFrequency.uniform.probabilities(wordsPerConcept: p.sc)
        case .zipf: mu = WordFrequency.zipf.probabilities(wordsPerConcept: p.sc)
        case .random: mu = WordFrequency.weights((0..<p.sc).map { _ in 0.05 + r.uniform() }).probabilities(wordsPerConcept: p.sc)
        }
        // Scales chosen so that the logits are O(1): neither saturated softmaxes nor a flat loss.
        W = (0..<(p.nw * p.d)).map { _ in r.gaussian(sigma: 0.7) }
        U = (0..<(p.K * p.L * p.d)).map { _ in r.gaussian(sigma: 0.5) }
        rng = RandomGenerator(seed: RandomGenerator.derive(p.seed, stream: 13))
    }

    /// With LayerNorm, max over words of ‖w‖/‖w − mean(w)·1‖: how much the centring cancels. Rounding
    /// errors of a rotated W (ε·‖w‖) reach ψ and its derivative amplified by this factor. 1 without LayerNorm.
    var layerNormConditioning: Double {
        guard layerNorm else { return 1 }
        var worst = 1.0
        for w in 0..<nw {
            let v = W[(w * d)..<((w + 1) * d)]
            let m = v.reduce(0, +) / Double(d)
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(), c = v.reduce(0) { $0 + ($1 - m) * ($1 - m) }.squareRoot()
            worst = max(worst, n / c)
        }
        return worst
    }

    /// The factor by which the rounding of a symmetry is amplified: the LayerNorm conditioning for
    /// rotations (computed W·Q is exact only to ε·‖w‖), 1 for permutations (which move values exactly).
    func amplification(_ s: Symmetry) -> Double {
        if case .rotation = s { return layerNormConditioning }
        return 1
    }

    /// The task of the instance (vocabulary, μ, latent variables).
    var task: ConceptTask {
        ConceptTask(vocabulary: Vocabulary(concepts: nc, wordsPerConcept: sc), mu: mu, latents: latents)
    }
}

// MARK: - Comparisons

/// |a − b| ≤ rel·max(1, |a|, |b|).
func close(_ a: Double, _ b: Double, rel: Double) -> Bool {
    abs(a - b) <= rel * max(1, abs(a), abs(b))
}

/// Largest |a_i − b_i| relative to max(1, largest |a_i|, |b_i|).
func maxRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var scale = 1.0, diff = 0.0
    for (x, y) in zip(a, b) { scale = max(scale, abs(x), abs(y)); diff = max(diff, abs(x - y)) }
    return diff / scale
}
