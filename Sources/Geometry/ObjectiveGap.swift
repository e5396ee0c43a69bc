/// The objective gap of SPEC §5: the empirical objective (mean cross-entropy over the training set plus
/// the penalties, R̂_n) minus the predicted limit objective R(θ*). SPEC §6 predicts its mean at leading
/// order in 1/N: E R̂_n(θ_n) − R(θ*) ≈ −tr(H⁺Σ̄)/(2N) (negative: the empirical minimiser fits its own
/// training set better than the limit).
public enum ObjectiveGap {
    public static func compute(empirical: Double, predicted: Double) -> Double { empirical - predicted }
}
