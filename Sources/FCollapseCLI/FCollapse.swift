import ArgumentParser

@main
struct FCollapse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fcollapse",
        abstract: "Numerical checks of the theory of \"Feature Collapse\" (Laurent, von Brecht, Bresson, ICLR 2024).",
        discussion: """
            One experiment spec (a JSON file, or --preset NAME) drives every command. Start from a preset:
              fcollapse spec show fig3 > my.json
            Presets: quick, fig3, fig4a, fig4b, fig4c.
            """,
        subcommands: [
            ReportCommand.self, SpecCommand.self, SampleCommand.self, PredictCommand.self, VerifyCommand.self,
            TrainCommand.self, CompareCommand.self, ConvergeCommand.self, MergeCommand.self,
            NotebookCommand.self
        ]
    )
}
