import GSLBridge

/// Every comparison metric of SPEC §5 for one trained network, each computed by its one definition in this
/// module (NC1 ``WithinConceptVariability``, NC2 ``ConceptGeometry``, NC3 ``SelfDuality``,
/// ``DirectionResidual``, ``NormLaw``, ``ObjectiveGap``, ``Procrustes``, ``PCA``).
public struct CollapseMetrics: Codable, Sendable, Equatable {
    /// Procrustes distances (relative, see ``Procrustes``).
    public struct ProcrustesDistances: Codable, Sendable, Equatable {
        /// Words aligned alone.
        public let words: Double
        /// Words and blocks aligned with one Q: the word part, the block part and their RMS.
        public let jointWords: Double?
        public let jointBlocks: Double?
        public let jointCombined: Double?
        /// True when the alignment was restricted to rotations fixing the all-ones vector (LayerNorm).
        public let fixingOnes: Bool

        enum CodingKeys: String, CodingKey {
            case words
            case jointWords = "joint_words"
            case jointBlocks = "joint_blocks"
            case jointCombined = "joint_combined"
            case fixingOnes = "fixing_ones"
        }
    }

    public let concepts: Int
    public let wordsPerConcept: Int
    public let latentCount: Int
    public let length: Int
    public let dimension: Int
    public let layerNorm: Bool
    public let centring: MeanCentring
    /// NC1.
    public let nc1: WithinConceptVariability.Result
    /// NC2.
    public let nc2: ConceptGeometry.Result
    /// NC3.
    public let nc3: SelfDuality.Result
    /// |mean self-duality cosine − predicted| when predicted.
    public let selfDualityGap: Double?
    /// Type-II direction residual: mean of 1 − cos(w_{α,β}, f_α).
    public let directionResidual: Double
    /// Norm law.
    public let normLaw: NormLaw.Result
    public let objective: Double?
    public let predictedObjective: Double?
    /// objective − predictedObjective.
    public let objectiveGap: Double?
    public let procrustes: ProcrustesDistances?
    /// Singular values of the centred word matrix (after ψ) and of the centred K·L blocks.
    public let singularValuesWords: [Double]
    public let singularValuesBlocks: [Double]

    enum CodingKeys: String, CodingKey {
        case concepts, dimension, length, centring, nc1, nc2, nc3, objective, procrustes
        case wordsPerConcept = "words_per_concept"
        case latentCount = "latent_count"
        case layerNorm = "layer_norm"
        case selfDualityGap = "self_duality_gap"
        case directionResidual = "direction_residual"
        case normLaw = "norm_law"
        case predictedObjective = "predicted_objective"
        case objectiveGap = "objective_gap"
        case singularValuesWords = "singular_values_words"
        case singularValuesBlocks = "singular_values_blocks"
    }

    /// Computes everything from W after ψ (n_w x d, rows α·s_c + β), U (K x L·d) and the latent
    /// variables. `layerNorm` restricts Procrustes to rotations fixing 1. Centring applies to NC1–NC3
    /// (NC1 does not depend on it); the direction residual and norm law use the raw vectors.
    public static func compute(
        words w: Matrix, classifier u: Matrix, latents: BlockLayout,
        concepts nc: Int, wordsPerConcept sc: Int, layerNorm: Bool,
        objective: Double? = nil, predicted: PredictedConfiguration? = nil,
        centring: MeanCentring = .globalMean
    ) throws -> CollapseMetrics {
        let layout = try ConceptLayout(concepts: nc, wordsPerConcept: sc)
        try layout.validate(words: w)
        try ClassifierBlocks.validate(u, latents: latents, dimension: w.cols, concepts: nc)
        let p = predicted ?? PredictedConfiguration()
        let nc1 = try WithinConceptVariability.compute(w, layout: layout)
        let nc2 = try ConceptGeometry.compute(
            w, layout: layout, centring: centring,
            predictedCosines: p.conceptCosines, predictedGram: p.gram)
        let nc3 = try SelfDuality.compute(words: w, classifier: u, latents: latents, layout: layout, centring: centring)
        let residual = try DirectionResidual.compute(w, layout: layout)
        let law = try NormLaw.compute(w, layout: layout, predicted: p.rho)
        var proc: ProcrustesDistances? = nil
        if let pw = p.words {
            let alone = try Procrustes.align(w, to: pw, fixingOnes: layerNorm)
            var joint: Procrustes.JointAlignment? = nil
            if let pu = p.classifier {
                guard pu.rows == u.rows && pu.cols == u.cols else {
                    throw GeometryError(
                        field: "predicted.classifier", rule: "must be \(u.rows) x \(u.cols) like U (got \(pu.rows) x \(pu.cols))")
                }
                joint = try Procrustes.alignJointly(
                    words: w, to: pw, blocks: ClassifierBlocks.blocks(u, length: latents.length),
                    to: ClassifierBlocks.blocks(pu, length: latents.length), fixingOnes: layerNorm)
            }
            proc = ProcrustesDistances(
                words: alone.distance, jointWords: joint?.words, jointBlocks: joint?.blocks,
                jointCombined: joint?.combined, fixingOnes: layerNorm)
        }
        let gap: Double? = if let objective, let po = p.objective { ObjectiveGap.compute(empirical: objective, predicted: po) } else { nil }
        return CollapseMetrics(
            concepts: nc, wordsPerConcept: sc, latentCount: latents.count, length: latents.length, dimension: w.cols,
            layerNorm: layerNorm, centring: centring, nc1: nc1, nc2: nc2, nc3: nc3,
            selfDualityGap: p.selfDualityMean.map { abs(nc3.meanCosine - $0) },
            directionResidual: residual, normLaw: law, objective: objective, predictedObjective: p.objective,
            objectiveGap: gap, procrustes: proc,
            singularValuesWords: try PCA.compute(w).singularValues,
            singularValuesBlocks: try PCA.ofClassifierBlocks(u, length: latents.length).singularValues)
    }

    /// The scalar metrics of a convergence table (present only when computable).
    public var scalars: [Metric: Double] {
        var s: [Metric: Double] = [
            .nc1Trace: nc1.traceRatio, .nc1Ratio: nc1.scatterRatio, .nc2NormSpread: nc2.normSpread,
            .nc3MeanCosine: nc3.meanCosine, .nc3MinCosine: nc3.minCosine, .directionResidual: directionResidual
        ]
        s[.nc2CosineDeviation] = nc2.cosineMaxDeviation
        s[.nc2GramDistance] = nc2.gramDistance
        s[.nc2GramShape] = nc2.gramShapeDistance
        s[.nc3Gap] = selfDualityGap
        s[.normLawMaxError] = normLaw.maxRelativeError
        s[.objective] = objective
        s[.objectiveGap] = objectiveGap
        s[.procrustesWords] = procrustes?.words
        s[.procrustesJoint] = procrustes?.jointCombined
        s[.procrustesJointWords] = procrustes?.jointWords
        s[.procrustesJointBlocks] = procrustes?.jointBlocks
        return s
    }
}
