import ExperimentSpec

/// Bad input to an experiment (a plan, a run folder, a table): names the field or file and the rule.
public struct ExperimentError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The field, option or file at fault.
    public let field: String
    /// The rule it breaks.
    public let rule: String

    public init(field: String, rule: String) {
        self.field = field
        self.rule = rule
    }

    public var description: String { "\(field): \(rule)" }
}

/// A regime as the sweep writes it: by its setting name (`uniform`, `zipf`, `zipf-ln`) in cell files,
/// plans and tables, as the sweep's command line and the paper name them; read back from either name.
@propertyWrapper
public struct SettingNamed: Codable, Sendable, Hashable {
    public var wrappedValue: Regime
    public init(wrappedValue: Regime) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let r = Regime(name: name) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown regime '\(name)': expected \(Regime.acceptedNames)")
        }
        wrappedValue = r
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wrappedValue.settingName)
    }
}
