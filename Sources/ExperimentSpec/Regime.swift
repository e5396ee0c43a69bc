import TaskModel

/// The three regimes of SPEC §4.1, the toolkit's one type for them: the spec's classification
/// (``Spec/regime``), the axis of a convergence sweep (``apply(to:)``), the `regime` of every
/// prediction, comparison and table row.
///
/// The raw value is the canonical name written to JSON and file names. The sweep's names for the
/// paper's three settings are accepted on input as aliases (``init(name:)``): `uniform` (type I),
/// `zipf` (type II with Zipf μ), `zipf-ln` (LayerNorm with Zipf μ).
public enum Regime: String, Sendable, Codable, CaseIterable, Comparable {
    /// Uniform μ, no LayerNorm.
    case typeI = "type-I"
    /// Non-uniform μ, no LayerNorm.
    case typeII = "type-II"
    /// LayerNorm, any μ.
    case layerNorm = "layernorm"

    /// The paper's setting of each regime, as the sweep names it.
    public var settingName: String {
        switch self {
        case .typeI: "uniform"
        case .typeII: "zipf"
        case .layerNorm: "zipf-ln"
        }
    }

    /// A regime from its canonical name or its setting name (`uniform`, `zipf`, `zipf-ln`).
    public init?(name: String) {
        if let r = Regime(rawValue: name) {
            self = r
        } else if let r = Regime.allCases.first(where: { $0.settingName == name }) {
            self = r
        } else {
            return nil
        }
    }

    /// Every accepted name, for error messages.
    public static var acceptedNames: String {
        allCases.map { "\($0.rawValue) (or \($0.settingName))" }.joined(separator: ", ")
    }

    /// The base spec moved into this regime, everything else kept: type I sets μ uniform and LayerNorm
    /// off; type II and LayerNorm keep the base's μ when it is non-uniform and take Zipf otherwise, and
    /// set LayerNorm off and on.
    public func apply(to base: Spec) -> Spec {
        var s = base
        let nonUniform = base.wordFreq.isUniform(wordsPerConcept: base.sc) ? WordFrequency.zipf : base.wordFreq
        switch self {
        case .typeI:
            s.wordFreq = .uniform
            s.layerNorm = false
        case .typeII:
            s.wordFreq = nonUniform
            s.layerNorm = false
        case .layerNorm:
            s.wordFreq = nonUniform
            s.layerNorm = true
        }
        return s
    }

    public static func < (a: Regime, b: Regime) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// How a finite network is trained.
public enum Optimizer: String, Sendable, Codable, CaseIterable {
    /// The reference protocol of SPEC §2: plain SGD, minibatches, coupled weight decay.
    case sgd
    /// Full-batch minimisation of the exact empirical risk (BFGS).
    case fullBatch = "full-batch"
}
