import Foundation
import GSLBridge
import LimitTheory
import PropertyBased
import Testing
import TaskModel

// The heart of P1 (SPEC 4.3): for a fixed classifier U, R is strictly convex in W (the logits are
// linear in W and λ_W > 0), and with uniform μ permuting the words of a concept leaves R unchanged;
// so the unique W-minimiser is invariant, i.e. the words of a concept share one vector.
//
// The check minimises R over W only (gsl_multimin BFGS2 through GSLBridge.MultiMinimizer, with the
// W-part of ExactRisk's analytic gradient) for a fixed random U, from a random W.
//
// Tolerance, from the minimiser's own gradient: R(·, U) is λ_W-strongly convex, so the computed
// W has ‖W − W*‖_F ≤ ‖∇_W R(W)‖/λ_W, and two rows of one concept, both within their distances
// a, b of the common row of W*, differ by at most a + b ≤ √2·sqrt(a² + b²) ≤ √2·‖∇_W R(W)‖/λ_W. The
// gradient is recomputed at the returned point (not taken from the minimiser's report), plus 1e-12
// for its rounding.
//
// With Zipf μ the symmetry is broken: the same minimisation gives rows that differ inside a concept
// (rare words pay the same weight decay for less benefit), by far more than that bound. The spread is
// printed, and must be clearly nonzero: above 100 times the bound and above 1e-3 of the row norms.

/// Largest ‖w_{α,β} − w_{α,β'}‖ over concepts that occur in the latent variables, and the largest row norm.
private func withinConceptSpread(_ W: [Double], nc: Int, sc: Int, d: Int, concepts: Set<Int>) -> (spread: Double, norm: Double) {
    var spread = 0.0, norm = 0.0
    for a in 0..<nc where concepts.contains(a) {
        for b in 0..<sc {
            let r = W[((a * sc + b) * d)..<((a * sc + b + 1) * d)]
            norm = max(norm, r.reduce(0) { $0 + $1 * $1 }.squareRoot())
            for b2 in (b + 1)..<max(b + 1, sc) {
                var s = 0.0
                for e in 0..<d { let t = W[(a * sc + b) * d + e] - W[(a * sc + b2) * d + e]; s += t * t }
                spread = max(spread, s.squareRoot())
            }
        }
    }
    return (spread, norm)
}

/// Minimises R(·, U) over W from the instance's W; returns W and the bound √2·‖∇_W R‖/λ_W + 1e-12.
private func minimiseOverW(_ b: Built) throws -> (W: [Double], bound: Double, gradientNorm: Double, iterations: Int) {
    let risk = try ExactRisk(latents: b.latents, mu: b.mu, d: b.d, lambdaW: lambdaW, lambdaU: lambdaU, layerNorm: false, eps: 0)
    let U = b.U, n = b.nw * b.d
    let f: MultiMinimizer.Objective = { w, g in
        let x = Array(w) + U
        guard let g else { return risk.value(x) }
        var full = [Double](repeating: 0, count: x.count)
        let v = x.withUnsafeBufferPointer { xb in full.withUnsafeMutableBufferPointer { risk.evaluate(xb, gradient: $0) } }
        for i in 0..<n { g[i] = full[i] }
        return v
    }
    var options = MultiMinimizer.Options()
    options.gradientTolerance = 1e-10
    options.maxIterations = 5000
    options.initialStep = 0.1
    var r = try MultiMinimizer.minimise(f, from: b.W, options: options)
    // BFGS2 may stop on "no progress" before the gradient test: restart from where it stopped (a fresh
    // Hessian estimate), a few times, while that still lowers the gradient.
    var restarts = 0
    while !r.converged && restarts < 4 {
        options.initialStep = 0.01
        let again = try MultiMinimizer.minimise(f, from: r.x, options: options)
        restarts += 1
        guard again.gradientNorm < r.gradientNorm else { break }
        let iterations = r.iterations
        r = again
        r.iterations += iterations
    }
    let g = Array(risk.gradient(r.x + U)[0..<n])
    let gn = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return (r.x, 2.0.squareRoot() * gn / lambdaW + 1e-12, gn, r.iterations)
}

/// Spreads seen with Zipf μ, printed at the end of the property.
private final class SpreadLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var rows: [(instance: Instance, spread: Double, relative: Double, bound: Double)] = []
    func add(_ r: (Instance, Double, Double, Double)) { lock.lock(); rows.append(r); lock.unlock() }
}

@Suite("P1: the W-minimiser for a fixed U")
struct WordMinimiserTests {
    /// Instances where some concept has at least two words, and no LayerNorm (P1's setting).
    static func space(_ mu: MuChoice) -> InstanceSpace {
        InstanceSpace(nc: 2...3, sc: 2...3, L: 1...2, K: 2...5, maxD: 4, mus: [mu], norms: [.none])
    }

    @Test(.shrinking)
    func uniformMuCollapsesTheMinimiser() async {
        let log = SpreadLog()
        await forAllInstances("p1/uniform", count: 100, in: Self.space(.uniform)) { p in
            let b = Built(p)
            let m = try minimiseOverW(b)
            let present = Set(b.latents.storage.map(Int.init))
            let s = withinConceptSpread(m.W, nc: b.nc, sc: b.sc, d: b.d, concepts: Set(0..<b.nc))
            // The bound must be small for the check to mean something: far below the spreads Zipf μ gives
            // (≥ 6e-3 on 10⁴ random instances).
            #expect(m.bound < 1e-4, "minimiser stopped at ‖∇_W R‖ = \(m.gradientNorm) after \(m.iterations) iterations")
            #expect(
                s.spread <= m.bound, "rows of one concept differ by \(s.spread) > bound \(m.bound) (concepts present: \(present.sorted()))")
            log.add((p, s.spread, s.spread / max(s.norm, 1e-300), m.bound))
        }
        let rows = log.rows
        if !rows.isEmpty {
            print(
                """
                P1 with uniform μ, \(rows.count) instances: within-concept spread of the W-minimiser at most \
                \(rows.map(\.spread).max()!), bound √2‖∇‖/λ_W at most \(rows.map(\.bound).max()!)
                """)
        }
    }

    @Test(.shrinking)
    func zipfMuDoesNotCollapseTheMinimiser() async {
        let log = SpreadLog()
        await forAllInstances("p1/zipf", count: 100, in: Self.space(.zipf)) { p in
            let b = Built(p)
            // With every class on one latent variable the classes cannot be told apart, W* = 0 and
            // there is nothing to break: skip such draws.
            guard Set(b.latents.sequences).count >= 2 else { return }
            let m = try minimiseOverW(b)
            let s = withinConceptSpread(m.W, nc: b.nc, sc: b.sc, d: b.d, concepts: Set(b.latents.storage.map(Int.init)))
            log.add((p, s.spread, s.spread / max(s.norm, 1e-300), m.bound))
            #expect(m.bound < 1e-4, "minimiser stopped at ‖∇_W R‖ = \(m.gradientNorm) after \(m.iterations) iterations")
            #expect(
                s.spread > 100 * m.bound && s.spread > 1e-3 * s.norm,
                "Zipf μ: within-concept spread \(s.spread) (row norms up to \(s.norm)) not clearly above the bound \(m.bound)")
        }
        let rows = log.rows
        if !rows.isEmpty {
            let rel = rows.map(\.relative).sorted(), abs = rows.map(\.spread).sorted(), bounds = rows.map(\.bound).sorted()
            print(
                """
                P1 with Zipf μ, \(rows.count) instances: within-concept spread of the W-minimiser \
                min \(abs.first!), median \(abs[abs.count / 2]), max \(abs.last!); relative to the largest row norm \
                min \(rel.first!), median \(rel[rel.count / 2]), max \(rel.last!); uniform-μ bound √2‖∇‖/λ_W at most \(bounds.last!)
                """)
        }
    }
}
