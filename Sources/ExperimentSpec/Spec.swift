import Foundation
import TaskModel

/// One experiment, as one JSON file: it drives every command (sample, predict, verify, train,
/// compare, converge), as one architecture description drives both the finite and the infinite
/// model in neural-tangents. Keys mirror the parameter names of the authors' reference code.
public struct Spec: Sendable, Equatable, Hashable {
    /// Number of concepts n_c (`nc`).
    public var nc: Int
    /// Vocabulary size n_w = n_c·s_c (`nw`).
    public var nw: Int
    /// Sentence length (`L`).
    public var L: Int
    /// Number of classes (`K`); with `latent: "full"` it is n_c^L.
    public var K: Int
    /// Embedding dimension (`d`).
    public var d: Int
    /// μ (`word_freq`): "uniform", "zipf" or a list of s_c non-negative weights.
    public var wordFreq: WordFrequency
    /// LayerNorm without affine parameters after the embedding (`layer_norm`).
    public var layerNorm: Bool
    /// LayerNorm's ε (`layer_norm_eps`); 0 means the idealised LayerNorm of SPEC 4.
    public var layerNormEps: Double
    /// λ_W (`weight_decay_W`).
    public var weightDecayW: Double
    /// λ_U (`weight_decay_U`).
    public var weightDecayU: Double
    /// SGD learning rate (`lr`).
    public var lr: Double
    /// Minibatch size (`bsz`).
    public var bsz: Int
    /// Training epochs (`num_epochs`).
    public var numEpochs: Int
    /// Training sentences per class (`nspl`).
    public var nspl: Int
    /// Test sentences per class (`n_test`, 5 in the reference).
    public var nTest: Int
    /// Report every this many epochs (`report`), and at epoch 1.
    public var report: Int
    /// Latent variables (`latent`).
    public var latent: LatentChoice
    /// Master seed (`seed`); every random stream is derived from it.
    public var seed: UInt64
    /// A name for outputs (`name`, optional).
    public var name: String?

    public init(
        nc: Int, nw: Int, L: Int, K: Int, d: Int, wordFreq: WordFrequency = .uniform, layerNorm: Bool = false,
        layerNormEps: Double = 1e-5, weightDecayW: Double = 1e-3, weightDecayU: Double = 1e-3, lr: Double = 0.1,
        bsz: Int = 100, numEpochs: Int = 100, nspl: Int = 5, nTest: Int = 5, report: Int = 10,
        latent: LatentChoice = .random, seed: UInt64 = 0, name: String? = nil
    ) {
        self.nc = nc; self.nw = nw; self.L = L; self.K = K; self.d = d; self.wordFreq = wordFreq
        self.layerNorm = layerNorm; self.layerNormEps = layerNormEps
        self.weightDecayW = weightDecayW; self.weightDecayU = weightDecayU; self.lr = lr; self.bsz = bsz
        self.numEpochs = numEpochs; self.nspl = nspl; self.nTest = nTest; self.report = report
        self.latent = latent; self.seed = seed; self.name = name
    }

    /// Words per concept s_c = n_w / n_c.
    public var sc: Int { nw / nc }

    public var vocabulary: Vocabulary { Vocabulary(concepts: nc, wordsPerConcept: sc) }

    /// The normalised μ.
    public var mu: [Double] { wordFreq.probabilities(wordsPerConcept: sc) }

    public var fullLatentSpace: FullLatentSpace { FullLatentSpace(concepts: nc, length: L) }

    /// The regime of the theory this spec falls in.
    public var regime: Regime {
        if layerNorm { return .layerNorm }
        return wordFreq.isUniform(wordsPerConcept: sc) ? .typeI : .typeII
    }

    /// Named random streams, each derived from `seed`.
    public enum Stream: UInt64, Sendable {
        case latent = 1, train = 2, test = 3, initialisation = 4, shuffle = 5, verify = 6, predict = 7
    }

    public func seed(for stream: Stream) -> UInt64 {
        SeedStreams.derive(seed, stream: stream.rawValue)
    }

    /// The latent variables this spec describes (materialised: check ``memoryNeeded(for:)`` first
    /// for the full latent space).
    public func latentVariables() -> LatentVariables {
        switch latent {
        case .random: return LatentVariables.random(concepts: nc, length: L, count: K, seed: seed(for: .latent))
        case .full: return LatentVariables.full(fullLatentSpace)
        case .explicit(let z): return LatentVariables(concepts: nc, sequences: z)
        }
    }

    /// The task: vocabulary, μ and latent variables.
    public func task() -> ConceptTask { ConceptTask(vocabulary: vocabulary, mu: mu, latents: latentVariables()) }
}
