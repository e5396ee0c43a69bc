import Foundation

/// Runs the `fcollapse` executable built beside the test bundle and captures what it prints.
struct CLIRunner {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The binary: same folder as the running test bundle (.build/<triple>/<config>/).
    static var binary: URL {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = me.deletingLastPathComponent()
        // On Linux the bundle is an executable `fcollapsePackageTests.xctest` directly in the build folder.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("fcollapse")
    }

    static func run(_ args: [String], cwd: URL? = nil) throws -> Run { try run(executable: binary, args, cwd: cwd) }

    /// Runs any program with the arguments and captures both streams.
    static func run(executable: URL, _ args: [String], cwd: URL? = nil) throws -> Run {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// A fresh temporary folder, removed by the caller.
    static func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("fc-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}
