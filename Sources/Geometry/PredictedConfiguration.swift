import GSLBridge

/// What the limit theory predicts, as far as the metrics need it. Every field is optional: a metric
/// whose prediction is missing is reported without its deviation.
public struct PredictedConfiguration: Sendable, Equatable {
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

    public init(
        conceptCosines: Matrix? = nil, gram: Matrix? = nil, rho: [Double]? = nil, words: Matrix? = nil,
        classifier: Matrix? = nil, selfDualityMean: Double? = nil, objective: Double? = nil
    ) {
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
    public static func fullLatentSpace(concepts nc: Int, objective: Double? = nil, rho: [Double]? = nil) -> PredictedConfiguration {
        PredictedConfiguration(
            conceptCosines: ConceptGeometry.simplexCosines(concepts: nc), rho: rho, selfDualityMean: 1, objective: objective)
    }

    /// A prediction from a predicted configuration (W* after ψ, optionally U*): cosines, Gram and
    /// self-duality are computed from it with the same conventions as the measured ones.
    public static func configuration(
        words: Matrix, classifier: Matrix? = nil, latents: BlockLayout? = nil,
        layout: ConceptLayout, centring: MeanCentring = .globalMean,
        rho: [Double]? = nil, objective: Double? = nil
    ) throws -> PredictedConfiguration {
        let means = try ConceptMeans.compute(words, layout: layout, centring: centring)
        var p = PredictedConfiguration(
            conceptCosines: ConceptGeometry.cosines(means), gram: ConceptGeometry.gram(means), rho: rho,
            words: words, classifier: classifier, objective: objective)
        if let classifier, let latents {
            p.selfDualityMean = try SelfDuality.compute(
                words: words, classifier: classifier, latents: latents,
                layout: layout, centring: centring
            ).meanCosine
        }
        return p
    }
}
