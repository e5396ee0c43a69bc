import ArgumentParser
import ArrayIO
import ExperimentSpec
import Experiments
import Foundation
import TaskModel

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Show latent variables and sentences drawn from them, as the reference notebook does.",
        discussion: """
            With --out DIR, writes the whole data of the spec as NumPy arrays, exactly the sentences `train` draws: \
            train_words.npy (N x L int32 vocabulary indices α·s_c + β, N = K·n_spl, class by class), train_labels.npy \
            (N int32), test_words.npy and test_labels.npy (n_test per class), latent.npy (K x L int32 concepts) and spec.json.
            """
    )

    @OptionGroup var source: SpecSource
    @Option(help: "Number of classes to show.") var classes = 3
    @Option(help: "Sentences to show per class.") var sentences = 4
    @Flag(help: "Print JSON instead of text.") var json = false
    @Option(help: "Write the training set, test set and latent variables as .npy arrays into this folder.") var out: String?

    struct Output: Encodable {
        struct ClassSample: Encodable {
            let `class`: Int
            let latent: [Int]
            let sentences: [[[Int]]]  // [sentence][position] = [concept, rank]
            let word_indices: [[Int]]
        }
        let spec: String?
        let nc: Int, sc: Int, L: Int, K: Int
        let mu: [Double]
        let duplicate_latent_groups: [[Int]]
        let pair_hamming_histogram: [Int]
        let classes: [ClassSample]
    }

    func run() throws {
        let spec = try source.load()
        try spec.checkMemory(for: .sample)
        if let out {
            try spec.checkMemory(for: .train)
            try TaskData.write(spec: spec, to: out)
            printError(
                "wrote \(TaskData.files.joined(separator: ", ")) into \(out) (N = K·n_spl = \(spec.K * spec.nspl) training sentences)")
            return
        }
        let task = spec.task()
        let shown = min(classes, spec.K)
        // Sentences are drawn from the training stream, so these are the first training sentences.
        let sub = ConceptTask(
            vocabulary: task.vocabulary, mu: task.mu,
            latents: LatentVariables(
                concepts: spec.nc, length: spec.L,
                storage: Array(task.latents.storage.prefix(shown * spec.L))))
        let set = sub.sample(perClass: sentences, seed: spec.seed(for: .train))
        let voc = task.vocabulary
        var out: [Output.ClassSample] = []
        for k in 0..<shown {
            var ss: [[[Int]]] = [], idx: [[Int]] = []
            for s in 0..<sentences {
                let row = set.sentence(k * sentences + s).map(Int.init)
                idx.append(row)
                ss.append(
                    row.map {
                        let w = voc.word(at: $0); return [w.concept, w.rank]
                    })
            }
            out.append(.init(class: k, latent: task.latents.sequence(k), sentences: ss, word_indices: idx))
        }
        let dups = task.latents.duplicateGroups()
        let hist = spec.K <= 20_000 ? Hamming.pairHistogram(task.latents) : []
        if json {
            let o = Output(
                spec: spec.name, nc: spec.nc, sc: spec.sc, L: spec.L, K: spec.K, mu: spec.mu,
                duplicate_latent_groups: dups, pair_hamming_histogram: hist, classes: out)
            print(try JSONOutput.string(o), terminator: "")
            return
        }
        print("task: n_c = \(spec.nc) concepts of s_c = \(spec.sc) words, L = \(spec.L), K = \(spec.K) classes, μ = \(spec.wordFreq.name)")
        print("word (α, β) = concept α, rank β; vocabulary index α·s_c + β")
        if dups.isEmpty {
            print("latent variables: all \(spec.K) distinct")
        } else {
            let n = dups.reduce(0) { $0 + $1.count - 1 }
            print(
                "latent variables: \(dups.count) group(s) of classes share a latent variable (\(n) classes indistinguishable, \(String(format: "%.1f", 100 * Double(n) / Double(spec.K)))%): first \(dups.prefix(3).map { "\($0)" }.joined(separator: ", "))"
            )
        }
        if !hist.isEmpty {
            print(
                "Hamming distances between classes (h: ordered pairs j ≠ k): "
                    + hist.enumerated().map { "\($0.offset): \($0.element)" }.joined(separator: ", "))
        }
        for c in out {
            print("\nclass \(c.class): latent variable z = \(c.latent.map(String.init).joined(separator: " "))")
            for s in c.sentences { print("  " + s.map { "(\($0[0]),\($0[1]))" }.joined(separator: " ")) }
        }
    }
}
