/// Bad input to a comparison function: names the argument and the rule it breaks.
public struct GeometryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The argument or field at fault (`W`, `U`, `predicted.gram`, ...).
    public let field: String
    /// The rule it breaks.
    public let rule: String

    public init(field: String, rule: String) {
        self.field = field
        self.rule = rule
    }

    public var description: String { "\(field): \(rule)" }
}
