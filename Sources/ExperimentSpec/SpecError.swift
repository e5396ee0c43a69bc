/// A spec that breaks a rule: names the field, the rule, and what was found.
public struct SpecError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The spec key at fault ("nw", "word_freq", "latent[3]", ...), or "(json)" for a syntax error.
    public let field: String
    /// What the rule requires and what the spec had.
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field == "(json)" ? message : "spec field '\(field)': \(message)" }
}

/// A request that would not fit in this machine's memory.
public struct MemoryError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let neededBytes: Double
    public let availableBytes: Double

    public var description: String {
        "\(what) needs about \(MemoryError.format(neededBytes)) of memory, more than this machine's "
            + "\(MemoryError.format(availableBytes)) usable; reduce K, nspl, nw, L or d"
    }

    public static func format(_ b: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = b, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i >= units.count - 1 && v >= 1024
            ? String(format: "%.3g EiB", v) : String(format: i == 0 ? "%.0f %@" : "%.1f %@", v, units[i])
    }
}

import Foundation
