import GSLBridge
import TaskModel

/// What the limit theory predicts, as far as the metrics need it. Every field is optional: a metric
/// whose prediction is missing is reported without its deviation.
public struct Prediction: Sendable, Equatable {
    /// n_c x n_c cosines between (centred) concept means.
    public var conceptCosines: Matrix?
    /// n_c x n_c Gram matrix of the (centred) concept means.
    public var gram: Matrix?
    /// Predicted norms ρ_β of the word vectors after ψ, one per rank (s(r_β) with LayerNorm).
    public var rho: [Double]?
    /// Predicted word vectors after ψ, n_w x d (rows α·s_c + β), for Procrustes.
    public var words: Matrix?
    /// Predicted classifier, K x L·d, for the joint Procrustes alignment.
    public var classifier: Matrix?
    /// Predicted mean self-duality cosine (1 for the full latent space).
    public var selfDualityMean: Double?
    /// Predicted limit objective.
    public var objective: Double?

    public init(conceptCosines: Matrix? = nil, gram: Matrix? = nil, rho: [Double]? = nil, words: Matrix? = nil,
                classifier: Matrix? = nil, selfDualityMean: Double? = nil, objective: Double? = nil) {
        self.conceptCosines = conceptCosines
        self.gram = gram
        self.rho = rho
        self.words = words
        self.classifier = classifier
        self.selfDualityMean = selfDualityMean
        self.objective = objective
    }

    /// The full-latent-space prediction that needs no configuration: simplex cosines −1/(n_c − 1) and
    /// perfect self-duality.
    public static func fullLatentSpace(concepts nc: Int, objective: Double? = nil, rho: [Double]? = nil) -> Prediction {
        Prediction(conceptCosines: ConceptGeometry.simplexCosines(concepts: nc), rho: rho, selfDualityMean: 1, objective: objective)
    }

    /// A prediction from a predicted configuration (W* after ψ, optionally U*): cosines, Gram and
    /// self-duality are computed from it with the same conventions as the measured ones.
    public static func configuration(words: Matrix, classifier: Matrix? = nil, latents: LatentVariables? = nil,
                                     layout: ConceptLayout, centring: MeanCentring = .globalMean,
                                     rho: [Double]? = nil, objective: Double? = nil) throws -> Prediction {
        let means = try ConceptMeans.compute(words, layout: layout, centring: centring)
        var p = Prediction(conceptCosines: ConceptGeometry.cosines(means), gram: ConceptGeometry.gram(means), rho: rho,
                           words: words, classifier: classifier, objective: objective)
        if let classifier, let latents {
            p.selfDualityMean = try SelfDuality.compute(words: words, classifier: classifier, latents: latents,
                                                        layout: layout, centring: centring).meanCosine
        }
        return p
    }
}

/// Empirical objective minus the predicted limit objective (SPEC §5), kept as a named helper for the table schema.
public enum ObjectiveGap {
    public static func gap(empirical: Double, predicted: Double) -> Double { empirical - predicted }
}

/// Every comparison metric of SPEC §5 for one trained network.
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

    /// Computes everything from W after ψ (n_w x d, rows α·s_c + β), U (K x L·d) and the latent
    /// variables. `layerNorm` restricts Procrustes to rotations fixing 1. Centring applies to NC1–NC3
    /// (NC1 does not depend on it); the direction residual and norm law use the raw vectors.
    public static func compute(words w: Matrix, classifier u: Matrix, latents: LatentVariables,
                               concepts nc: Int, wordsPerConcept sc: Int, layerNorm: Bool,
                               objective: Double? = nil, predicted: Prediction? = nil,
                               centring: MeanCentring = .globalMean) throws -> CollapseMetrics {
        let layout = try ConceptLayout(concepts: nc, wordsPerConcept: sc)
        try layout.validate(words: w)
        try ClassifierBlocks.validate(u, latents: latents, dimension: w.cols, concepts: nc)
        let p = predicted ?? Prediction()
        let nc1 = try WithinConceptVariability.compute(w, layout: layout)
        let nc2 = try ConceptGeometry.compute(w, layout: layout, centring: centring,
                                              predictedCosines: p.conceptCosines, predictedGram: p.gram)
        let nc3 = try SelfDuality.compute(words: w, classifier: u, latents: latents, layout: layout, centring: centring)
        let residual = try DirectionCollapse.residual(w, layout: layout)
        let law = try NormLaw.compute(w, layout: layout, predicted: p.rho)
        var proc: ProcrustesDistances? = nil
        if let pw = p.words {
            let alone = try Procrustes.align(w, to: pw, fixingOnes: layerNorm)
            var joint: Procrustes.JointAlignment? = nil
            if let pu = p.classifier {
                guard pu.rows == u.rows && pu.cols == u.cols else {
                    throw ComparisonError(field: "predicted.classifier", rule: "must be \(u.rows) x \(u.cols) like U (got \(pu.rows) x \(pu.cols))")
                }
                joint = try Procrustes.alignJointly(words: w, to: pw, blocks: ClassifierBlocks.blocks(u, length: latents.length),
                                                   to: ClassifierBlocks.blocks(pu, length: latents.length), fixingOnes: layerNorm)
            }
            proc = ProcrustesDistances(words: alone.distance, jointWords: joint?.words, jointBlocks: joint?.blocks,
                                       jointCombined: joint?.combined, fixingOnes: layerNorm)
        }
        let gap: Double? = if let objective, let po = p.objective { ObjectiveGap.gap(empirical: objective, predicted: po) } else { nil }
        return CollapseMetrics(
            concepts: nc, wordsPerConcept: sc, latentCount: latents.count, length: latents.length, dimension: w.cols,
            layerNorm: layerNorm, centring: centring, nc1: nc1, nc2: nc2, nc3: nc3,
            selfDualityGap: p.selfDualityMean.map { abs(nc3.meanCosine - $0) },
            directionResidual: residual, normLaw: law, objective: objective, predictedObjective: p.objective,
            objectiveGap: gap, procrustes: proc,
            singularValuesWords: try PCA.compute(w).singularValues,
            singularValuesBlocks: try PCA.ofClassifierBlocks(u, length: latents.length).singularValues)
    }

    /// The scalar metrics by name, the columns of a convergence table. Names (present only when
    /// computable): nc1_trace, nc1_ratio, nc2_norm_spread, nc2_cos_dev, nc2_gram_dist, nc2_gram_shape,
    /// nc3_mean_cos, nc3_min_cos, nc3_gap, dir_residual, norm_law_max_err, objective, objective_gap,
    /// procrustes_words, procrustes_joint, procrustes_joint_words, procrustes_joint_blocks.
    public var scalars: [String: Double] {
        var s: [String: Double] = [
            "nc1_trace": nc1.traceRatio, "nc1_ratio": nc1.scatterRatio, "nc2_norm_spread": nc2.normSpread,
            "nc3_mean_cos": nc3.meanCosine, "nc3_min_cos": nc3.minCosine, "dir_residual": directionResidual,
        ]
        s["nc2_cos_dev"] = nc2.cosineMaxDeviation
        s["nc2_gram_dist"] = nc2.gramDistance
        s["nc2_gram_shape"] = nc2.gramShapeDistance
        s["nc3_gap"] = selfDualityGap
        s["norm_law_max_err"] = normLaw.maxRelativeError
        s["objective"] = objective
        s["objective_gap"] = objectiveGap
        s["procrustes_words"] = procrustes?.words
        s["procrustes_joint"] = procrustes?.jointCombined
        s["procrustes_joint_words"] = procrustes?.jointWords
        s["procrustes_joint_blocks"] = procrustes?.jointBlocks
        return s
    }
}
