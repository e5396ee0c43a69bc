/// One verdict of the report, as data: the statement, the instance it was checked on, what was
/// predicted and measured, the tolerance (fixed in code before the run) and why it is that tolerance,
/// and whether the statement holds. `checks.json` is the list of these (snake_case keys); the
/// Markdown report is rendered from them by ``ReportRenderer``.
public struct Check: Codable, Sendable, Equatable {
    /// Whether the check tests a statement inside its hypotheses (it must hold), a negative control
    /// outside them (the same criterion must say "does not hold"), or only reports numbers where no
    /// principled tolerance exists (it judges nothing).
    public enum Kind: String, Codable, Sendable {
        case statement
        case control
        /// Reported, not judged: `holds` is nil (`null` in `checks.json`) and `tolerance_source` says why
        /// no tolerance is set.
        case reported
    }

    /// ASCII identifier, also the name of the check's JSON record (`verify/<id>.json`).
    public var id: String
    /// The statement (P1 … P6) in words.
    public var statement: String
    public var kind: Kind
    /// The instance it was checked on.
    public var instance: String
    public var predicted: String
    public var measured: String
    /// The criterion with its numbers, e.g. "|min R − min R_c| ≤ 1e-6 and within-concept ratio ≤ 1e-6"
    /// (for a reported check: what is reported, and that nothing is judged).
    public var tolerance: String
    /// Where the tolerance comes from (a numerical bound, a standard error, a spread over seeds, ...); for a
    /// reported check, why there is none.
    public var toleranceSource: String
    /// Whether the criterion holds; nil for a reported check (it judges nothing).
    public var holds: Bool?
    /// The check's record, relative to the report folder (nil when the report holds everything).
    public var record: String?

    enum CodingKeys: String, CodingKey {
        case id, statement, kind, instance, predicted, measured, tolerance, holds, record
        case toleranceSource = "tolerance_source"
    }

    public init(
        id: String, statement: String, kind: Kind = .statement, instance: String, predicted: String, measured: String,
        tolerance: String, toleranceSource: String, holds: Bool?, record: String? = nil
    ) {
        self.id = id
        self.statement = statement
        self.kind = kind
        self.instance = instance
        self.predicted = predicted
        self.measured = measured
        self.tolerance = tolerance
        self.toleranceSource = toleranceSource
        self.holds = kind == .reported ? nil : holds
        self.record = record
    }

    /// A check that reports numbers and judges nothing, with the reason no tolerance is set.
    public static func reported(
        id: String, statement: String, instance: String, predicted: String, measured: String, reported: String, why: String,
        record: String? = nil
    ) -> Check {
        Check(
            id: id, statement: statement, kind: .reported, instance: instance, predicted: predicted, measured: measured,
            tolerance: "reported, not judged: " + reported, toleranceSource: why, holds: nil, record: record)
    }

    /// Whether the verdict is the one the check's kind requires: a statement holds, a control does not; nil for a
    /// reported check (nothing was judged).
    public var asExpected: Bool? {
        switch kind {
        case .statement: holds == true
        case .control: holds == false
        case .reported: nil
        }
    }

    /// Reads every version of `checks.json`: `holds` is a boolean in judged checks (always, before reported checks
    /// existed) and `null` in reported ones.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        statement = try c.decode(String.self, forKey: .statement)
        kind = try c.decode(Kind.self, forKey: .kind)
        instance = try c.decode(String.self, forKey: .instance)
        predicted = try c.decode(String.self, forKey: .predicted)
        measured = try c.decode(String.self, forKey: .measured)
        tolerance = try c.decode(String.self, forKey: .tolerance)
        toleranceSource = try c.decode(String.self, forKey: .toleranceSource)
        holds = try c.decodeIfPresent(Bool.self, forKey: .holds)
        record = try c.decodeIfPresent(String.self, forKey: .record)
        if kind != .reported && holds == nil {
            throw DecodingError.dataCorruptedError(
                forKey: .holds, in: c, debugDescription: "check \(id): a \(kind.rawValue) needs holds (true or false)")
        }
    }

    /// Writes every key; `holds` is `null` for a reported check (not left out), `record` only when there is one.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(statement, forKey: .statement)
        try c.encode(kind, forKey: .kind)
        try c.encode(instance, forKey: .instance)
        try c.encode(predicted, forKey: .predicted)
        try c.encode(measured, forKey: .measured)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(toleranceSource, forKey: .toleranceSource)
        try c.encode(holds, forKey: .holds)
        try c.encodeIfPresent(record, forKey: .record)
    }
}
