import ExperimentSpec
import GSLBridge

/// The trainable parameters of the network of SPEC 2, in single precision as in the reference:
/// the embedding W (n_w x d, row per word) and the classifier U (K x L·d, no bias), both row-major.
/// Block u_{k,ℓ} of U is `U[k·L·d + ℓ·d ..< k·L·d + (ℓ+1)·d]`.
public struct Parameters: Sendable, Equatable {
    public let nw: Int
    public let d: Int
    public let K: Int
    public let L: Int
    /// n_w·d values, row w is the vector of word w.
    public var W: [Float]
    /// K·L·d values, row k is (u_{k,0}, .., u_{k,L-1}).
    public var U: [Float]

    public init(nw: Int, d: Int, K: Int, L: Int, W: [Float], U: [Float]) {
        precondition(W.count == nw * d, "Parameters: W has \(W.count) values for \(nw) x \(d)")
        precondition(U.count == K * L * d, "Parameters: U has \(U.count) values for \(K) x \(L * d)")
        self.nw = nw; self.d = d; self.K = K; self.L = L; self.W = W; self.U = U
    }

    /// Zero parameters of the spec's shapes.
    public init(zerosFor spec: Spec) {
        self.init(
            nw: spec.nw, d: spec.d, K: spec.K, L: spec.L,
            W: [Float](repeating: 0, count: spec.nw * spec.d),
            U: [Float](repeating: 0, count: spec.K * spec.L * spec.d))
    }

    /// The reference initialisation: PyTorch's defaults divided by 1000, i.e. W ~ N(0,1)/1000 and
    /// U ~ Uniform(−1/√(L·d), 1/√(L·d))/1000, drawn (W first, then U) from `spec.seed(for: .initialisation)`.
    public static func initial(for spec: Spec) -> Parameters {
        var p = Parameters(zerosFor: spec)
        let rng = RandomGenerator(seed: spec.seed(for: .initialisation))
        for i in p.W.indices { p.W[i] = Float(rng.gaussian() / 1000) }
        let bound = 1 / Double(spec.L * spec.d).squareRoot()
        for i in p.U.indices { p.U[i] = Float(rng.flat(-bound, bound) / 1000) }
        return p
    }

    /// Row length of U, L·d.
    public var featureLength: Int { L * d }

    /// The parameters in double precision, W then U (the layout of ``EmpiricalRisk``).
    public var flattened: [Double] { W.map(Double.init) + U.map(Double.init) }

    /// Parameters from the layout of ``flattened``.
    public init(nw: Int, d: Int, K: Int, L: Int, flattened x: [Double]) {
        precondition(x.count == nw * d + K * L * d)
        self.init(nw: nw, d: d, K: K, L: L, W: x[0..<(nw * d)].map(Float.init), U: x[(nw * d)...].map(Float.init))
    }

    /// True when every value is finite.
    public var isFinite: Bool { W.allSatisfy { $0.isFinite } && U.allSatisfy { $0.isFinite } }
}
