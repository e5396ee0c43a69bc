import Foundation

/// NumPy `.npy` files, format version 1.0, C order, little-endian.
/// `numpy.load` reads what `NPY.encode` writes, and `NPY.decode` reads what `numpy.save` writes for
/// these dtypes: `<f4`, `<f8`, `<i4`, `<i8`.
public enum NPY {
    public enum Values: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int32([Int32])
        case int64([Int64])

        public var descr: String {
            switch self {
            case .float32: return "<f4"
            case .float64: return "<f8"
            case .int32: return "<i4"
            case .int64: return "<i8"
            }
        }

        var count: Int {
            switch self {
            case .float32(let v): return v.count
            case .float64(let v): return v.count
            case .int32(let v): return v.count
            case .int64(let v): return v.count
            }
        }

        /// The values as doubles, whatever the stored type.
        public var doubles: [Double] {
            switch self {
            case .float32(let v): return v.map(Double.init)
            case .float64(let v): return v
            case .int32(let v): return v.map(Double.init)
            case .int64(let v): return v.map(Double.init)
            }
        }

        /// The values as floats, whatever the stored type.
        public var floats: [Float] {
            switch self {
            case .float32(let v): return v
            default: return doubles.map(Float.init)
            }
        }
    }

    public struct Array: Sendable, Equatable {
        public var shape: [Int]
        public var values: Values
        public init(shape: [Int], values: Values) {
            precondition(shape.reduce(1, *) == values.count, "NPY: shape \(shape) does not hold \(values.count) values")
            self.shape = shape; self.values = values
        }
    }

    public static func encode(_ a: Array) -> Data {
        let shapeText = a.shape.count == 1 ? "(\(a.shape[0]),)" : "(" + a.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(a.values.descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var d = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let hl = UInt16(header.utf8.count)
        d.append(contentsOf: [UInt8(hl & 0xFF), UInt8(hl >> 8)])
        d.append(contentsOf: header.utf8)
        func raw<T>(_ v: [T]) { v.withUnsafeBytes { d.append(contentsOf: $0) } }
        switch a.values {
        case .float32(let v): raw(v.map { $0.bitPattern.littleEndian })
        case .float64(let v): raw(v.map { $0.bitPattern.littleEndian })
        case .int32(let v): raw(v.map { $0.littleEndian })
        case .int64(let v): raw(v.map { $0.littleEndian })
        }
        return d
    }

    public static func write(_ a: Array, to path: String) throws {
        try AtomicFile.write(encode(a), to: path)
    }

    public static func decode(_ d: Data, path: String = "<data>") throws -> Array {
        let bytes = [UInt8](d)
        guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1...5]) == Swift.Array("NUMPY".utf8) else {
            throw FileError(path: path, reason: "not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let (hlen, start): (Int, Int) =
            major == 1
            ? (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
            : (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        guard bytes.count >= start + hlen else { throw FileError(path: path, reason: "truncated .npy header") }
        let header = String(decoding: bytes[start..<(start + hlen)], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return header[r.upperBound...].drop(while: { $0 == " " })
        }
        guard let descrField = field("descr"), let q = descrField.dropFirst().firstIndex(of: "'") else {
            throw FileError(path: path, reason: "no dtype in .npy header")
        }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<q])
        if let fo = field("fortran_order"), fo.hasPrefix("True") {
            throw FileError(path: path, reason: "Fortran-ordered arrays are not supported")
        }
        guard let sf = field("shape"), let open = sf.firstIndex(of: "("), let close = sf.firstIndex(of: ")") else {
            throw FileError(path: path, reason: "no shape in .npy header")
        }
        let shape = sf[sf.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let n = shape.reduce(1, *)
        let body = bytes[(start + hlen)...]
        func load<T: FixedWidthInteger>(_: T.Type) throws -> [T] {
            let size = MemoryLayout<T>.size
            guard body.count >= n * size else {
                throw FileError(path: path, reason: "truncated .npy data: \(body.count) bytes for \(n) values")
            }
            return body.withUnsafeBytes { raw in (0..<n).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) } }
        }
        let values: Values
        switch descr {
        case "<f4": values = .float32(try load(UInt32.self).map { Float(bitPattern: $0) })
        case "<f8": values = .float64(try load(UInt64.self).map { Double(bitPattern: $0) })
        case "<i4": values = .int32(try load(Int32.self))
        case "<i8": values = .int64(try load(Int64.self))
        default: throw FileError(path: path, reason: "unsupported dtype \(descr) (supported: <f4, <f8, <i4, <i8)")
        }
        return Array(shape: shape, values: values)
    }

    public static func read(_ path: String) throws -> Array {
        guard let d = FileManager.default.contents(atPath: path) else { throw FileError(path: path, reason: "cannot read file") }
        return try decode(d, path: path)
    }
}
