import CGSLBridge

/// One-dimensional minimisation with GSL's Brent minimiser (gsl_min_fminimizer_brent).
public enum Minimize1D {
    public struct Result: Sendable {
        public let x: Double
        public let value: Double
        public let iterations: Int
    }

    private final class Box {
        let f: (Double) -> Double
        init(_ f: @escaping (Double) -> Double) { self.f = f }
    }

    /// Minimises `f` on [lower, upper] starting from `guess`, which must satisfy
    /// f(guess) < f(lower) and f(guess) < f(upper) (GSL's bracketing rule; see ``bracket(_:lower:upper:)``).
    public static func brent(
        _ f: @escaping (Double) -> Double, lower: Double, upper: Double, guess: Double,
        xTolerance: Double = 1e-12, maxIterations: Int = 500
    ) throws(GSLError) -> Result {
        GSL.initialise()
        let box = Box(f)
        let unmanaged = Unmanaged.passRetained(box)
        defer { unmanaged.release() }
        var fn = gsl_function(
            function: { x, params in Unmanaged<Box>.fromOpaque(params!).takeUnretainedValue().f(x) },
            params: unmanaged.toOpaque())
        guard let s = gsl_min_fminimizer_alloc(fc_min_brent()) else {
            throw GSLError(status: Int32(GSL_ENOMEM), context: "gsl_min_fminimizer_alloc")
        }
        defer { gsl_min_fminimizer_free(s) }
        try GSL.check(gsl_min_fminimizer_set(s, &fn, guess, lower, upper), "Brent minimiser set-up on [\(lower), \(upper)]")
        var iter = 0
        while iter < maxIterations {
            iter += 1
            try GSL.check(gsl_min_fminimizer_iterate(s), "Brent iteration")
            let a = gsl_min_fminimizer_x_lower(s), b = gsl_min_fminimizer_x_upper(s)
            if gsl_min_test_interval(a, b, xTolerance, 1e-12) == Int32(GSL_SUCCESS) { break }
        }
        return Result(x: gsl_min_fminimizer_x_minimum(s), value: gsl_min_fminimizer_f_minimum(s), iterations: iter)
    }

    /// Minimises a function on [lower, upper], finding a valid bracket by a grid scan first; if the
    /// minimum sits on an end point (no interior bracket), that end point is returned.
    public static func minimise(
        _ f: @escaping (Double) -> Double, lower: Double, upper: Double, grid: Int = 64,
        xTolerance: Double = 1e-12
    ) throws(GSLError) -> Result {
        precondition(upper > lower && grid >= 3)
        var best = 0
        var values = [Double](repeating: 0, count: grid + 1)
        for i in 0...grid {
            values[i] = f(lower + (upper - lower) * Double(i) / Double(grid))
            if values[i] < values[best] { best = i }
        }
        if best == 0 || best == grid {
            return Result(x: best == 0 ? lower : upper, value: values[best], iterations: 0)
        }
        let a = lower + (upper - lower) * Double(best - 1) / Double(grid)
        let b = lower + (upper - lower) * Double(best + 1) / Double(grid)
        let g = lower + (upper - lower) * Double(best) / Double(grid)
        // A flat stretch can make f(g) equal to a neighbour: fall back to the grid point then.
        if !(values[best] < values[best - 1] && values[best] < values[best + 1]) {
            return Result(x: g, value: values[best], iterations: 0)
        }
        return try brent(f, lower: a, upper: b, guess: g, xTolerance: xTolerance)
    }
}
