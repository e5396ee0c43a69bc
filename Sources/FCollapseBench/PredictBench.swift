import ArgumentParser

struct PredictBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "(not built yet)")
    func run() throws { throw ValidationError("'predict' is not built yet") }
}
