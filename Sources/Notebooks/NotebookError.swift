import Foundation

/// An error in a notebook, located by file and line (and column when known), printed as
/// `file:line:column: message` like a compiler diagnostic.
public struct NotebookError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    /// 1-based; 0 when the error concerns the whole file (it cannot be read).
    public let line: Int
    public let column: Int?
    public let message: String

    public init(file: String, line: Int, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        if line <= 0 { return "\(file): \(message)" }
        if let c = column { return "\(file):\(line):\(c): \(message)" }
        return "\(file):\(line): \(message)"
    }
}
