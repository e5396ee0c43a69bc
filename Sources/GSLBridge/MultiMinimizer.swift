import CGSLBridge

/// Minimisation of a smooth function of many variables with GSL's gradient methods
/// (gsl_multimin_fdfminimizer: vector BFGS2 by default, or conjugate gradients).
public enum MultiMinimizer {
    public enum Method: String, Sendable, CaseIterable {
        case bfgs2, conjugateFR, conjugatePR, steepestDescent

        var type: UnsafePointer<gsl_multimin_fdfminimizer_type> {
            switch self {
            case .bfgs2: return fc_multimin_bfgs2()
            case .conjugateFR: return fc_multimin_conjugate_fr()
            case .conjugatePR: return fc_multimin_conjugate_pr()
            case .steepestDescent: return fc_multimin_steepest_descent()
            }
        }
    }

    public struct Options: Sendable {
        public var method: Method = .bfgs2
        public var initialStep: Double = 0.01
        public var lineTolerance: Double = 0.1
        /// Stop when the gradient norm falls below this (gsl_multimin_test_gradient).
        public var gradientTolerance: Double = 1e-8
        public var maxIterations: Int = 10_000
        public init() {}
    }

    public struct Result: Sendable {
        public var x: [Double]
        public var value: Double
        public var gradientNorm: Double
        public var iterations: Int
        /// True when the gradient test passed; false when the iteration limit was hit or the line
        /// search could make no more progress (GSL_ENOPROG), which at a minimum is common.
        public var converged: Bool
        public var stopReason: String

        public init(x: [Double], value: Double, gradientNorm: Double, iterations: Int, converged: Bool, stopReason: String) {
            self.x = x; self.value = value; self.gradientNorm = gradientNorm
            self.iterations = iterations; self.converged = converged; self.stopReason = stopReason
        }
    }

    /// Evaluates f(x) and, when `gradient` is non-nil, writes ∇f(x) into it.
    public typealias Objective = (_ x: UnsafeBufferPointer<Double>, _ gradient: UnsafeMutableBufferPointer<Double>?) -> Double

    private final class Box {
        let f: Objective
        let n: Int
        init(_ f: @escaping Objective, n: Int) { self.f = f; self.n = n }
        func call(_ x: UnsafePointer<gsl_vector>?, _ g: UnsafeMutablePointer<gsl_vector>?) -> Double {
            let xv = x!.pointee
            precondition(xv.stride == 1 && (g == nil || g!.pointee.stride == 1))
            let xs = UnsafeBufferPointer(start: xv.data, count: n)
            if let g { return f(xs, UnsafeMutableBufferPointer(start: g.pointee.data, count: n)) }
            return f(xs, nil)
        }
    }

    /// Minimises `f` from `x0`. `progress` is called after each iteration with (iteration, value).
    public static func minimise(
        _ f: @escaping Objective, from x0: [Double], options: Options = Options(),
        progress: ((Int, Double) -> Void)? = nil
    ) throws(GSLError) -> Result {
        GSL.initialise()
        let n = x0.count
        precondition(n > 0)
        let box = Box(f, n: n)
        let unmanaged = Unmanaged.passRetained(box)
        defer { unmanaged.release() }
        var fdf = gsl_multimin_function_fdf(
            f: { x, p in Unmanaged<Box>.fromOpaque(p!).takeUnretainedValue().call(x, nil) },
            df: { x, p, g in _ = Unmanaged<Box>.fromOpaque(p!).takeUnretainedValue().call(x, g) },
            fdf: { x, p, fx, g in fx!.pointee = Unmanaged<Box>.fromOpaque(p!).takeUnretainedValue().call(x, g) },
            n: n, params: unmanaged.toOpaque())
        guard let xv = gsl_vector_alloc(n) else { throw GSLError(status: Int32(GSL_ENOMEM), context: "gsl_vector_alloc(\(n))") }
        defer { gsl_vector_free(xv) }
        for i in 0..<n { gsl_vector_set(xv, i, x0[i]) }
        guard let s = gsl_multimin_fdfminimizer_alloc(options.method.type, n) else {
            throw GSLError(status: Int32(GSL_ENOMEM), context: "gsl_multimin_fdfminimizer_alloc(\(n))")
        }
        defer { gsl_multimin_fdfminimizer_free(s) }
        try GSL.check(
            gsl_multimin_fdfminimizer_set(s, &fdf, xv, options.initialStep, options.lineTolerance),
            "multimin set-up")
        var iter = 0
        var converged = false
        var reason = "iteration limit (\(options.maxIterations))"
        while iter < options.maxIterations {
            iter += 1
            let status = gsl_multimin_fdfminimizer_iterate(s)
            progress?(iter, gsl_multimin_fdfminimizer_minimum(s))
            if status == Int32(GSL_ENOPROG) { reason = "no further progress in the line search"; _ = fc_gsl_last_reason(); break }
            try GSL.check(status, "multimin iteration \(iter)")
            let grad = gsl_multimin_fdfminimizer_gradient(s)
            if gsl_multimin_test_gradient(grad, options.gradientTolerance) == Int32(GSL_SUCCESS) {
                converged = true
                reason = "gradient norm below \(options.gradientTolerance)"
                break
            }
        }
        let xs = gsl_multimin_fdfminimizer_x(s)!
        let g = gsl_multimin_fdfminimizer_gradient(s)!
        var out = [Double](repeating: 0, count: n)
        for i in 0..<n { out[i] = gsl_vector_get(xs, i) }
        return Result(
            x: out, value: gsl_multimin_fdfminimizer_minimum(s), gradientNorm: gsl_blas_dnrm2(g),
            iterations: iter, converged: converged, stopReason: reason)
    }
}
