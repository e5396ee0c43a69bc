import Foundation

/// Notebooks written into fresh temporary folders for one test, removed when the test ends (each test of a
/// class suite gets its own instance, and so its own scratch).
final class ScratchNotebooks {
    private var folders: [URL] = []
    deinit { for f in folders { try? FileManager.default.removeItem(at: f) } }

    /// A fresh empty folder.
    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nbtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        folders.append(dir)
        return dir
    }

    /// A fresh folder holding `name` with `text`; returns the notebook's path.
    func write(_ text: String, name: String = "nb.md") throws -> String {
        let path = try folder().appendingPathComponent(name).path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
}
