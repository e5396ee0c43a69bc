import ArrayIO
import Foundation
import Testing

@Suite struct ArrayIOTests {
    @Test func npyRoundTrips() throws {
        let a = NPY.Array(shape: [2, 3], values: .float32([1, -2.5, 3, 4, 5e-8, .greatestFiniteMagnitude]))
        let back = try NPY.decode(NPY.encode(a))
        #expect(back == a)
        let b = NPY.Array(shape: [4], values: .int64([1, -2, 3, Int64.max]))
        #expect(try NPY.decode(NPY.encode(b)) == b)
        // Header length is padded so that the data starts on a 64-byte boundary (NumPy's format 1.0).
        #expect(NPY.encode(a).count == 128 + 6 * 4)
    }

    @Test func npyRejectsGarbage() {
        #expect(throws: FileError.self) { _ = try NPY.decode(Data("hello".utf8)) }
    }

    @Test func atomicWriteLeavesNoTemporaryFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-atomic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.json").path
        try AtomicFile.write("one", to: path)
        try AtomicFile.write("two", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.json"])
    }
}
