import CGSLBridge

/// Distribution functions used by the statistical tests and error bars.
public enum Distributions {
    /// Upper tail Q(χ² > x) of the chi-square distribution with `dof` degrees of freedom (gsl_cdf_chisq_Q).
    public static func chiSquareUpperTail(_ x: Double, dof: Double) -> Double { gsl_cdf_chisq_Q(x, dof) }

    /// Standard normal upper tail (gsl_cdf_ugaussian_Q).
    public static func normalUpperTail(_ x: Double) -> Double { gsl_cdf_ugaussian_Q(x) }

    /// The p-quantile of Student's t distribution with `dof` degrees of freedom (gsl_cdf_tdist_Pinv), e.g. 4.303 for
    /// p = 0.975 and 2 degrees of freedom.
    public static func studentTQuantile(_ p: Double, dof: Double) -> Double { gsl_cdf_tdist_Pinv(p, dof) }
}

extension RandomGenerator {
    /// The generator's next raw output (gsl_rng_get), for checking the stream against reference values.
    public func nextRaw() -> UInt { gsl_rng_get(rng) }
}
