import ArgumentParser

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "(not built yet)")
    func run() throws { throw ValidationError("'verify' is not built yet") }
}
