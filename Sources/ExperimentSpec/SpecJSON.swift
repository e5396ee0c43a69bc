import Foundation
import TaskModel

extension Spec {
    /// Every key a spec may have, in the order `spec show` prints them.
    public static let knownKeys = [
        "name", "nc", "nw", "L", "K", "d", "word_freq", "layer_norm", "layer_norm_eps",
        "weight_decay_W", "weight_decay_U", "lr", "bsz", "num_epochs", "nspl", "n_test", "report",
        "latent", "seed"
    ]

    /// Keys that must be present (the others have the reference code's defaults).
    public static let requiredKeys = ["nc", "nw", "L", "d"]

    /// Parses and validates a spec. Unknown keys, wrong types, rule violations and JSON syntax
    /// errors all throw a ``SpecError`` naming the field (or the line and column).
    public static func parse(json data: Data) throws(SpecError) -> Spec {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw SpecError(field: "(json)", "malformed JSON: \(describeSyntaxError(error, data))")
        }
        guard let dict = object as? [String: Any] else {
            throw SpecError(field: "(json)", "malformed spec: the top level must be a JSON object { ... }")
        }
        return try parse(dictionary: dict)
    }

    public static func parse(dictionary dict: [String: Any]) throws(SpecError) -> Spec {
        for key in dict.keys.sorted() where !knownKeys.contains(key) {
            let near = nearest(key, in: knownKeys)
            throw SpecError(
                field: key,
                "unknown key" + (near.map { "; did you mean '\($0)'?" } ?? "")
                    + " (known keys: \(knownKeys.joined(separator: ", ")))")
        }
        for key in requiredKeys where dict[key] == nil {
            throw SpecError(field: key, "missing (required keys: \(requiredKeys.joined(separator: ", ")))")
        }
        let r = Reader(dict: dict)
        let nc = try r.int("nc"), nw = try r.int("nw"), L = try r.int("L"), d = try r.int("d")
        let latent = try r.latent()
        var K: Int
        if let k = try r.optionalInt("K") {
            K = k
        } else if case .explicit(let z) = latent {
            K = z.count
        } else if case .full = latent {
            K = 0  // filled in by validation
        } else {
            throw SpecError(field: "K", "missing: required unless latent is \"full\" or an explicit list")
        }
        if case .full = latent, dict["K"] == nil || dict["K"] is NSNull {
            K = FullLatentSpace(concepts: max(nc, 1), length: max(L, 1)).count ?? Int.max
        }
        let spec = Spec(
            nc: nc, nw: nw, L: L, K: K, d: d,
            wordFreq: try r.wordFreq(),
            layerNorm: try r.optionalBool("layer_norm") ?? false,
            layerNormEps: try r.optionalDouble("layer_norm_eps") ?? 1e-5,
            weightDecayW: try r.optionalDouble("weight_decay_W") ?? 1e-3,
            weightDecayU: try r.optionalDouble("weight_decay_U") ?? 1e-3,
            lr: try r.optionalDouble("lr") ?? 0.1,
            bsz: try r.optionalInt("bsz") ?? 100,
            numEpochs: try r.optionalInt("num_epochs") ?? 100,
            nspl: try r.optionalInt("nspl") ?? 5,
            nTest: try r.optionalInt("n_test") ?? 5,
            report: try r.optionalInt("report") ?? 10,
            latent: latent,
            seed: try r.seed(),
            name: try r.optionalString("name"))
        try spec.validate()
        return spec
    }

    /// Reads a spec file.
    public static func load(path: String) throws -> Spec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecError(field: "(json)", "cannot read spec file '\(path)' (does it exist?)")
        }
        do {
            return try parse(json: data)
        } catch {
            throw SpecError(field: error.field, error.field == "(json)" ? "\(path): \(error.message)" : "\(error.message) (in \(path))")
        }
    }

    /// The spec as a JSON object with the reference code's key names.
    public var jsonObject: [(String, Any)] {
        var out: [(String, Any)] = []
        if let name { out.append(("name", name)) }
        out += [("nc", nc), ("nw", nw), ("L", L), ("K", K), ("d", d)]
        switch wordFreq {
        case .uniform: out.append(("word_freq", "uniform"))
        case .zipf: out.append(("word_freq", "zipf"))
        case .weights(let w): out.append(("word_freq", w))
        }
        out += [
            ("layer_norm", layerNorm), ("layer_norm_eps", layerNormEps), ("weight_decay_W", weightDecayW),
            ("weight_decay_U", weightDecayU), ("lr", lr), ("bsz", bsz), ("num_epochs", numEpochs),
            ("nspl", nspl), ("n_test", nTest), ("report", report)
        ]
        switch latent {
        case .random: out.append(("latent", "random"))
        case .full: out.append(("latent", "full"))
        case .explicit(let z): out.append(("latent", z))
        }
        out.append(("seed", seed))
        return out
    }

    /// Pretty JSON text in key order, the format `spec show` prints and every output folder keeps.
    public var jsonText: String {
        func lit(_ v: Any) -> String {
            switch v {
            case let b as Bool: return b ? "true" : "false"
            case let i as Int: return String(i)
            case let u as UInt64: return String(u)
            case let d as Double: return formatDouble(d)
            case let s as String:
                return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case let a as [Double]: return "[" + a.map(formatDouble).joined(separator: ", ") + "]"
            case let z as [[Int]]:
                return "[" + z.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
            default: return "null"
            }
        }
        return "{\n" + jsonObject.map { "  \"\($0.0)\": \(lit($0.1))" }.joined(separator: ",\n") + "\n}\n"
    }

    public var jsonData: Data { Data(jsonText.utf8) }
}

/// Shortest decimal form that reads back as the same double (Swift's description), never with
/// a bare trailing ".0" dropped, so integers stay distinguishable from reals in the JSON.
func formatDouble(_ d: Double) -> String {
    if d.isNaN || d.isInfinite { return "null" }
    return "\(d)"
}

/// Type-checked reads from the JSON dictionary, each naming its field on error.
struct Reader {
    let dict: [String: Any]

    static func isBool(_ v: Any) -> Bool {
        if v is Bool, let n = v as? NSNumber { return String(cString: n.objCType) == "c" || type(of: v) != NSNumber.self }
        return false
    }

    func present(_ key: String) -> Any? {
        guard let v = dict[key], !(v is NSNull) else { return nil }
        return v
    }

    func optionalInt(_ key: String) throws(SpecError) -> Int? {
        guard let v = present(key) else { return nil }
        if Reader.isBool(v) { throw SpecError(field: key, "expected an integer, got a boolean") }
        if let n = v as? NSNumber {
            let d = n.doubleValue
            if d.rounded() == d && abs(d) < 9.0e15 { return Int(d) }
            throw SpecError(field: key, "expected an integer, got \(n)")
        }
        throw SpecError(field: key, "expected an integer, got \(Reader.describe(v))")
    }

    func int(_ key: String) throws(SpecError) -> Int {
        guard let i = try optionalInt(key) else { throw SpecError(field: key, "missing") }
        return i
    }

    func optionalDouble(_ key: String) throws(SpecError) -> Double? {
        guard let v = present(key) else { return nil }
        if Reader.isBool(v) { throw SpecError(field: key, "expected a number, got a boolean") }
        if let n = v as? NSNumber { return n.doubleValue }
        throw SpecError(field: key, "expected a number, got \(Reader.describe(v))")
    }

    func optionalBool(_ key: String) throws(SpecError) -> Bool? {
        guard let v = present(key) else { return nil }
        if Reader.isBool(v), let b = v as? Bool { return b }
        throw SpecError(field: key, "expected true or false, got \(Reader.describe(v))")
    }

    func optionalString(_ key: String) throws(SpecError) -> String? {
        guard let v = present(key) else { return nil }
        if let s = v as? String { return s }
        throw SpecError(field: key, "expected a string, got \(Reader.describe(v))")
    }

    func seed() throws(SpecError) -> UInt64 {
        guard let v = present("seed") else { return 0 }
        if !Reader.isBool(v), let n = v as? NSNumber {
            let d = n.doubleValue
            if d >= 0 && d.rounded() == d && d < 9.0e15 { return n.uint64Value }
        }
        throw SpecError(field: "seed", "must be a non-negative integer, got \(Reader.describe(v))")
    }

    func wordFreq() throws(SpecError) -> WordFrequency {
        guard let v = present("word_freq") else { return .uniform }
        if let s = v as? String {
            switch s {
            case "uniform": return .uniform
            case "zipf": return .zipf
            default:
                throw SpecError(field: "word_freq", "must be \"uniform\", \"zipf\" or a list of s_c non-negative weights, got \"\(s)\"")
            }
        }
        if let a = v as? [Any] {
            var w: [Double] = []
            for (i, x) in a.enumerated() {
                guard !Reader.isBool(x), let n = x as? NSNumber else {
                    throw SpecError(field: "word_freq[\(i)]", "expected a number, got \(Reader.describe(x))")
                }
                w.append(n.doubleValue)
            }
            return .weights(w)
        }
        throw SpecError(
            field: "word_freq", "must be \"uniform\", \"zipf\" or a list of s_c non-negative weights, got \(Reader.describe(v))")
    }

    func latent() throws(SpecError) -> LatentChoice {
        guard let v = present("latent") else { return .random }
        if let s = v as? String {
            switch s {
            case "random": return .random
            case "full": return .full
            default: throw SpecError(field: "latent", "must be \"random\", \"full\" or a list of K lists of L concepts, got \"\(s)\"")
            }
        }
        if let a = v as? [Any] {
            var z: [[Int]] = []
            for (k, row) in a.enumerated() {
                guard let r = row as? [Any] else {
                    throw SpecError(field: "latent[\(k)]", "expected a list of L concepts, got \(Reader.describe(row))")
                }
                var seq: [Int] = []
                for (l, x) in r.enumerated() {
                    guard !Reader.isBool(x), let n = x as? NSNumber, n.doubleValue.rounded() == n.doubleValue else {
                        throw SpecError(field: "latent[\(k)][\(l)]", "expected an integer concept, got \(Reader.describe(x))")
                    }
                    seq.append(n.intValue)
                }
                z.append(seq)
            }
            return .explicit(z)
        }
        throw SpecError(field: "latent", "must be \"random\", \"full\" or a list of K lists of L concepts, got \(Reader.describe(v))")
    }

    static func describe(_ v: Any) -> String {
        if isBool(v) { return "a boolean" }
        switch v {
        case let s as String: return "the string \"\(s)\""
        case let n as NSNumber: return "the number \(n)"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        default: return "null"
        }
    }
}

/// Line and column of a JSONSerialization syntax error ("around character N" in its message).
func describeSyntaxError(_ error: Error, _ data: Data) -> String {
    let text = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
    let bytes = [UInt8](data)
    var offset: Int?
    if let r = text.range(of: "character ") {
        offset = Int(text[r.upperBound...].prefix(while: { $0.isNumber }))
    } else if text.contains("end of file") || text.contains("Unexpected end") {
        offset = bytes.count
    }
    guard let off = offset else { return text }
    var line = 1, col = 1
    for b in bytes.prefix(min(off, bytes.count)) {
        if b == 0x0A { line += 1; col = 1 } else { col += 1 }
    }
    let lineText = String(
        decoding: bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropFirst(line - 1).first ?? [], as: UTF8.self)
    let detail = text.replacingOccurrences(of: #" around character \d+\."#, with: "", options: .regularExpression)
    return "\(detail) at line \(line), column \(col): \(lineText.trimmingCharacters(in: .whitespaces).prefix(80))"
}

/// The known name nearest to `key` by edit distance, if it is close enough to be a typo.
func nearest(_ key: String, in names: [String]) -> String? {
    func lev(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + [Int](repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
    let k = Array(key.lowercased())
    // A key that extends or abbreviates a known one ("lrate" for "lr", "epochs" for "num_epochs").
    let low = key.lowercased()
    if let p = names.filter({
        $0.count >= 2
            && (low.hasPrefix($0.lowercased()) || low.hasSuffix($0.lowercased())
                || $0.lowercased().hasSuffix(low) || $0.lowercased().hasPrefix(low))
            && low.count >= 2
    })
    .max(by: { $0.count < $1.count }) {
        return p
    }
    let scored = names.map { ($0, lev(k, Array($0.lowercased()))) }.min { $0.1 < $1.1 }
    guard let (name, dist) = scored, dist <= max(2, key.count / 3) else { return nil }
    return name
}
