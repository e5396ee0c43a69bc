import Foundation
import Testing

/// Networks trained elsewhere: a folder written by numpy (float64 arrays, as `np.save` writes by default)
/// compares exactly as the toolkit's own run of the same weights. Runs in CI always: `./dev` installs numpy
/// when python3 lacks it.
@Suite struct NumpyFolderTests {
    @Test func aNumpyWrittenFolderComparesLikeTheToolkitsOwnRun() throws {
        let root = CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let own = root.appendingPathComponent("own").path, other = root.appendingPathComponent("numpy").path
        let t = try CLIRunner.run(["train", "--preset", "quick", "--epochs", "20", "--out", own])
        #expect(t.status == 0, "\(t.stderr)")
        // numpy reads the toolkit's float32 arrays and writes them back as float64 into a new folder with
        // only spec.json, W.npy and U.npy (the folder contract of `compare`).
        let script = """
            import json, shutil, sys, numpy as np
            src, dst = sys.argv[1], sys.argv[2]
            import os; os.makedirs(dst)
            shutil.copy(src + "/spec.json", dst + "/spec.json")
            for name in ("W", "U"):
                a = np.load(src + "/" + name + ".npy")
                np.save(dst + "/" + name + ".npy", a.astype(np.float64))
            print(np.load(dst + "/U.npy").dtype)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, own, other]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "python3 with numpy is needed (./dev installs it)")
        #expect(printed.contains("float64"))

        func comparison(_ dir: String) throws -> String {
            let c = try CLIRunner.run(["compare", dir, "--json", "--no-figures"])
            #expect(c.status == 0, "\(c.stderr)")
            return c.stdout
        }
        let a = try comparison(own), b = try comparison(other)
        // float32 → float64 is exact and the metrics are computed in double from the same values: the two
        // comparisons are the same computation, so their JSON is identical, byte for byte.
        #expect(a.contains("\"nc1\""))
        #expect(a == b)
        // A transposed U from elsewhere is refused, naming the file and the expected shape.
        let bad = """
            import numpy as np, sys
            d = sys.argv[1]
            np.save(d + "/U.npy", np.load(d + "/U.npy").T.copy())
            """
        let q = Process()
        q.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        q.arguments = ["python3", "-c", bad, other]
        try q.run()
        q.waitUntilExit()
        let r = try CLIRunner.run(["compare", other, "--json", "--no-figures"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("U.npy") && r.stderr.contains("[50, 48]"), "\(r.stderr)")
    }
}
