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
