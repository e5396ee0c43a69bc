import Foundation
import Testing

/// `--help` texts are wrapped by ArgumentParser to the terminal: a discussion must not carry its own
/// line breaks in the middle of a sentence, or the terminal shows ragged lines.
@Suite struct HelpTextTests {
    static let commands: [[String]] = [
        ["report"], ["spec"], ["sample"], ["predict"], ["verify"], ["train"], ["compare"], ["converge"], ["merge"],
        ["notebook"], ["notebook", "run"], ["notebook", "check"]
    ]

    @Test(arguments: HelpTextTests.commands)
    func discussionLinesEndSentences(_ command: [String]) throws {
        let r = try CLIRunner.run(command + ["--help"])
        #expect(r.status == 0)
        // The discussion is the text between the abstract and "USAGE:"; a line of prose that stops before
        // the terminal width (80 columns without a TTY) must end a sentence or a clause.
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let usage = lines.firstIndex(where: { $0.hasPrefix("USAGE:") }) else { Issue.record("no USAGE"); return }
        let prose = lines[..<usage].dropFirst().filter { !$0.hasPrefix(" ") && !$0.isEmpty }
        for (line, next) in zip(prose, prose.dropFirst()) where line.count < 60 {
            let ends = [".", ":", ";", ")", "`"].contains { line.hasSuffix($0) }
            #expect(ends, "`\(command.joined(separator: " ")) --help`: line ends mid-sentence: \"\(line)\" (next: \"\(next)\")")
        }
    }
}
