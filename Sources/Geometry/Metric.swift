/// The scalar metrics of SPEC §5 as they appear in a convergence table: the raw value is the column
/// name in every table (CSV, JSON, Markdown) and every cell file, so no metric name is written twice.
public enum Metric: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, Comparable {
    /// NC1, Tr(Σ_W Σ_B^†)/n_c.
    case nc1Trace = "nc1_trace"
    /// NC1, the within-concept ratio Σ‖w − m_α‖² / Σ‖w − m‖².
    case nc1Ratio = "nc1_ratio"
    /// NC2, spread of the concept-mean norms.
    case nc2NormSpread = "nc2_norm_spread"
    /// NC2, largest deviation of the concept-mean cosines from the predicted ones.
    case nc2CosineDeviation = "nc2_cos_dev"
    /// NC2, relative distance of the concept-mean Gram matrix to the predicted one.
    case nc2GramDistance = "nc2_gram_dist"
    /// NC2, the same after scaling both Gram matrices to unit norm.
    case nc2GramShape = "nc2_gram_shape"
    /// NC3, mean and smallest cosine of a classifier block with its concept mean.
    case nc3MeanCosine = "nc3_mean_cos"
    case nc3MinCosine = "nc3_min_cos"
    /// NC3, |mean cosine − predicted mean cosine|.
    case nc3Gap = "nc3_gap"
    /// Direction residual, mean of 1 − cos(w_{α,β}, f_α).
    case directionResidual = "dir_residual"
    /// Norm law, the largest relative error |‖w‖_β − ρ_β|/ρ_β over the ranks.
    case normLawMaxError = "norm_law_max_err"
    /// The empirical objective R̂_n (mean cross-entropy plus penalties) and its gap to the limit.
    case objective
    case objectiveGap = "objective_gap"
    /// Procrustes distances to the predicted configuration.
    case procrustesWords = "procrustes_words"
    case procrustesJoint = "procrustes_joint"
    case procrustesJointWords = "procrustes_joint_words"
    case procrustesJointBlocks = "procrustes_joint_blocks"
    /// Training-set accuracy and mean cross-entropy of the network.
    case trainAccuracy = "train_accuracy"
    case crossEntropy = "cross_entropy"

    public static func < (a: Metric, b: Metric) -> Bool { a.rawValue < b.rawValue }
}
