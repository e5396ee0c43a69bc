import ArgumentParser

struct EpochBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "epoch", abstract: "(not built yet)")
    func run() throws { throw ValidationError("'epoch' is not built yet") }
}
