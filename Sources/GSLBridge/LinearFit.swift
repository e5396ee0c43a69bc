import CGSLBridge

/// Least-squares straight line through points, through gsl_fit_linear.
public enum LinearFit {
    /// The fitted line y ≈ intercept + slope·x, with the covariance of the two parameters estimated from
    /// the scatter of the residuals (GSL's convention) and the residual sum of squares.
    public struct Result: Sendable, Equatable, Codable {
        public let intercept: Double
        public let slope: Double
        public let covInterceptIntercept: Double
        public let covInterceptSlope: Double
        public let covSlopeSlope: Double
        public let sumOfSquares: Double
        public let count: Int

        /// Standard error of the slope (NaN with only two points: GSL divides the residual sum of squares
        /// by n − 2).
        public var slopeStandardError: Double { covSlopeSlope.squareRoot() }
    }

    /// Fits y = c0 + c1·x by ordinary least squares. Needs at least two points and two distinct x;
    /// anything else (or a non-finite value) is a `GSLError` with status GSL_EINVAL naming the rule.
    public static func fit(x: [Double], y: [Double]) throws(GSLError) -> Result {
        GSL.initialise()
        guard x.count == y.count else {
            throw GSLError(status: Int32(GSL_EBADLEN), context: "LinearFit.fit: x has \(x.count) values, y has \(y.count)")
        }
        guard x.count >= 2, Set(x).count >= 2 else {
            throw GSLError(
                status: Int32(GSL_EINVAL), context: "LinearFit.fit: needs at least two distinct x values (got \(x.count) points)")
        }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else {
            throw GSLError(status: Int32(GSL_EINVAL), context: "LinearFit.fit: every x and y must be finite")
        }
        var c0 = 0.0, c1 = 0.0, c00 = 0.0, c01 = 0.0, c11 = 0.0, ss = 0.0
        let status = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                gsl_fit_linear(xp.baseAddress, 1, yp.baseAddress, 1, x.count, &c0, &c1, &c00, &c01, &c11, &ss)
            }
        }
        try GSL.check(status, "gsl_fit_linear (\(x.count) points)")
        return Result(
            intercept: c0, slope: c1, covInterceptIntercept: c00, covInterceptSlope: c01,
            covSlopeSlope: c11, sumOfSquares: ss, count: x.count)
    }

    /// Fits y = c0 + c1·x by weighted least squares with weights w_i = 1/σ_i² (gsl_fit_wlinear): the covariance is
    /// that of known standard errors σ_i (not rescaled by the residuals). Same rules as ``fit(x:y:)``; every weight must be
    /// positive and finite.
    public static func fit(x: [Double], y: [Double], weights: [Double]) throws(GSLError) -> Result {
        GSL.initialise()
        guard x.count == y.count, x.count == weights.count else {
            throw GSLError(
                status: Int32(GSL_EBADLEN), context: "LinearFit.fit: x, y and weights have \(x.count), \(y.count), \(weights.count) values")
        }
        guard x.count >= 2, Set(x).count >= 2 else {
            throw GSLError(
                status: Int32(GSL_EINVAL), context: "LinearFit.fit: needs at least two distinct x values (got \(x.count) points)")
        }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite), weights.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw GSLError(status: Int32(GSL_EINVAL), context: "LinearFit.fit: every x and y must be finite and every weight positive")
        }
        var c0 = 0.0, c1 = 0.0, c00 = 0.0, c01 = 0.0, c11 = 0.0, ss = 0.0
        let status = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                weights.withUnsafeBufferPointer { wp in
                    gsl_fit_wlinear(xp.baseAddress, 1, wp.baseAddress, 1, yp.baseAddress, 1, x.count, &c0, &c1, &c00, &c01, &c11, &ss)
                }
            }
        }
        try GSL.check(status, "gsl_fit_wlinear (\(x.count) points)")
        return Result(
            intercept: c0, slope: c1, covInterceptIntercept: c00, covInterceptSlope: c01,
            covSlopeSlope: c11, sumOfSquares: ss, count: x.count)
    }
}
