import ArgumentParser

struct FullBatchBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fullbatch", abstract: "(not built yet)")
    func run() throws { throw ValidationError("'fullbatch' is not built yet") }
}
