/// One verdict of the report, as data: the statement, the instance it was checked on, what was
/// predicted and measured, the tolerance (fixed in code before the run) and why it is that tolerance,
/// and whether the statement holds. `checks.json` is the list of these (snake_case keys); the
/// Markdown report is rendered from them by ``ReportRenderer``.
public struct Check: Codable, Sendable, Equatable {
    /// Whether the check tests a statement inside its hypotheses (it must hold) or a negative control
    /// outside them (the same criterion must say "does not hold").
    public enum Kind: String, Codable, Sendable {
        case statement
        case control
    }

    /// ASCII identifier, also the name of the check's JSON record (`verify/<id>.json`).
    public var id: String
    /// The statement (P1 … P5) in words.
    public var statement: String
    public var kind: Kind
    /// The instance it was checked on.
    public var instance: String
    public var predicted: String
    public var measured: String
    /// The criterion with its numbers, e.g. "|min R − min R_c| ≤ 1e-6 and within-concept ratio ≤ 1e-6".
    public var tolerance: String
    /// Where the tolerance comes from (a numerical bound, a standard error, a spread over seeds, ...).
    public var toleranceSource: String
    public var holds: Bool
    /// The check's record, relative to the report folder (nil when the report holds everything).
    public var record: String?

    enum CodingKeys: String, CodingKey {
        case id, statement, kind, instance, predicted, measured, tolerance, holds, record
        case toleranceSource = "tolerance_source"
    }

    public init(
        id: String, statement: String, kind: Kind = .statement, instance: String, predicted: String, measured: String,
        tolerance: String, toleranceSource: String, holds: Bool, record: String? = nil
    ) {
        self.id = id
        self.statement = statement
        self.kind = kind
        self.instance = instance
        self.predicted = predicted
        self.measured = measured
        self.tolerance = tolerance
        self.toleranceSource = toleranceSource
        self.holds = holds
        self.record = record
    }
}
