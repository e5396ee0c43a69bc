import Foundation

/// An error writing or reading a file, naming the path.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

/// Atomic file writes: the data goes to a temporary file beside the target, which is then renamed
/// over it, so readers see either the old file or the whole new one, never a partial write.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: dir.path, reason: "cannot create folder: \(error.localizedDescription)")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: tmp.path, contents: data) else {
            throw FileError(path: path, reason: "cannot write (check the folder exists and is writable)")
        }
        if rename(tmp.path, url.path) != 0 {
            let e = String(cString: strerror(errno))
            unlink(tmp.path)
            throw FileError(path: path, reason: "cannot rename temporary file into place: \(e)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Encodes a value as pretty-printed JSON with sorted keys and writes it atomically.
    public static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        try write(try JSONOutput.encode(value), to: path)
    }
}

/// The toolkit's JSON conventions: sorted keys, pretty-printed, slashes unescaped, trailing newline,
/// non-finite numbers as the strings "inf", "-inf", "nan". Keys are snake_case, by one convention: every
/// type written to JSON spells its keys out in its `CodingKeys` (no key-conversion strategy), and a test
/// walks the files the commands write to check it.
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var d = try enc.encode(value)
        d.append(0x0A)
        return d
    }

    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}
