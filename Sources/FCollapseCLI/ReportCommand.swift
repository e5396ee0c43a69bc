import ArgumentParser
import ExperimentSpec
import Foundation
import TaskModel

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The toolkit's main job: a summary of an experiment (for now: the spec, its task and its regime)."
    )

    @Option(help: "Preset to report on.") var preset = "quick"

    func run() throws {
        guard let spec = Spec.preset(preset) else {
            throw ValidationError("unknown preset '\(preset)'; the presets are \(Spec.presetNames.joined(separator: ", "))")
        }
        let task = spec.task()
        print("fcollapse report — preset \(preset)")
        print(spec.jsonText, terminator: "")
        print("regime: \(spec.regime.rawValue); s_c = \(spec.sc); N = K·nspl = \(spec.K * spec.nspl) training sentences")
        print("duplicate latent variables: \(task.latents.duplicateGroups().count) group(s)")
        print("Hamming distances between classes: \(Hamming.pairHistogram(task.latents))")
    }
}
