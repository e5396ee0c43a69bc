import ArgumentParser
import ExperimentSpec
import Foundation

/// The spec every command runs on: a JSON file, or a built-in preset.
struct SpecSource: ParsableArguments {
    @Argument(help: "An experiment spec (JSON file). See `fcollapse spec show quick`.")
    var spec: String?

    @Option(name: .long, help: "A built-in preset instead of a file: \(Spec.presetNames.joined(separator: ", ")).")
    var preset: String?

    func validate() throws {
        if spec != nil && preset != nil { throw ValidationError("give either a spec file or --preset, not both") }
        if spec == nil && preset == nil {
            throw ValidationError("give a spec file or --preset NAME (\(Spec.presetNames.joined(separator: ", ")))")
        }
    }

    /// The validated spec.
    func load() throws -> Spec {
        if let p = preset {
            guard let s = Spec.preset(p) else {
                throw ValidationError("unknown preset '\(p)'; the presets are \(Spec.presetNames.joined(separator: ", "))")
            }
            return s
        }
        return try Spec.load(path: spec!)
    }
}

/// Writes to standard error.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// True when standard error is a terminal (for live progress bars).
var stderrIsTerminal: Bool { isatty(2) != 0 }

extension Optimizer: ExpressibleByArgument {}
