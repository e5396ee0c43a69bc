import ArgumentParser
import ExperimentSpec
import Foundation

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec",
        abstract: "Show, list and check experiment specs.",
        subcommands: [Show.self, List.self, Check.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a preset as JSON, to start a spec from.")
        @Argument(help: "Preset name: \(Spec.presetNames.joined(separator: ", ")).")
        var preset: String

        func run() throws {
            guard let s = Spec.preset(preset) else {
                throw ValidationError("unknown preset '\(preset)'; the presets are \(Spec.presetNames.joined(separator: ", "))")
            }
            print(s.jsonText, terminator: "")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the built-in presets.")
        func run() {
            for n in Spec.presetNames { print("\(n.padding(toLength: 7, withPad: " ", startingAt: 0))  \(Spec.presetSummaries[n] ?? "")") }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a spec file and print it with defaults filled in.")
        @Argument(help: "A spec JSON file.")
        var file: String

        func run() throws {
            let s = try Spec.load(path: file)
            print(s.jsonText, terminator: "")
            print("ok: \(s.regime.rawValue), s_c = \(s.sc), K = \(s.K), N = K·nspl = \(s.K * s.nspl)")
        }
    }
}
