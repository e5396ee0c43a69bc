/// A request the limit theory cannot serve: names what is wrong and the rule.
public struct LimitTheoryError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
