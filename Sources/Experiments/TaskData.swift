import ArrayIO
import ExperimentSpec
import Foundation
import TaskModel

/// The data of a spec as NumPy arrays, exactly the sentences `train` draws for that spec and seed, so that a
/// network trained elsewhere (PyTorch, ...) sees the same training set:
///
/// - `train_words.npy`: N x L int32, N = K·n_spl, the vocabulary index α·s_c + β of every word (class by class:
///   rows k·n_spl ..< (k+1)·n_spl are the sentences of class k);
/// - `train_labels.npy`: N int32, the class of every sentence;
/// - `test_words.npy`, `test_labels.npy`: the same for the test set (n_test per class);
/// - `latent.npy`: K x L int32, the concept z_{k,ℓ} of every class and position;
/// - `spec.json`: the spec they were drawn from.
public enum TaskData {
    public static let files = ["train_words.npy", "train_labels.npy", "test_words.npy", "test_labels.npy", "latent.npy", "spec.json"]

    /// Writes the arrays of `spec` into `folder` (each atomically).
    public static func write(spec: Spec, to folder: String) throws {
        let task = spec.task()
        let train = task.sample(perClass: spec.nspl, seed: spec.seed(for: .train))
        let test = task.sample(perClass: spec.nTest, seed: spec.seed(for: .test))
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        for (prefix, set) in [("train", train), ("test", test)] {
            try NPY.write(NPY.Array(shape: [set.count, spec.L], values: .int32(set.words)), to: path("\(prefix)_words.npy"))
            try NPY.write(NPY.Array(shape: [set.count], values: .int32(set.labels)), to: path("\(prefix)_labels.npy"))
        }
        try NPY.write(NPY.Array(shape: [spec.K, spec.L], values: .int32(task.latents.storage)), to: path("latent.npy"))
        try AtomicFile.write(spec.jsonText, to: path("spec.json"))
    }

    /// Reads the training and test sets back, checking shapes, types and ranges against the spec.
    public static func read(from folder: String, spec: Spec) throws -> (train: SentenceSet, test: SentenceSet) {
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func ints(_ name: String, shape: [Int], below bound: Int) throws -> [Int32] {
            let a = try NPY.read(path(name))
            guard a.shape == shape else { throw ExperimentError(field: path(name), rule: "has shape \(a.shape); expected \(shape)") }
            guard case .int32(let v) = a.values else { throw ExperimentError(field: path(name), rule: "must hold int32 values (<i4)") }
            guard v.allSatisfy({ $0 >= 0 && Int($0) < bound }) else {
                throw ExperimentError(field: path(name), rule: "values must lie in 0..<\(bound)")
            }
            return v
        }
        func set(_ prefix: String, perClass: Int) throws -> SentenceSet {
            let n = spec.K * perClass
            return SentenceSet(
                length: spec.L, words: try ints("\(prefix)_words.npy", shape: [n, spec.L], below: spec.nw),
                labels: try ints("\(prefix)_labels.npy", shape: [n], below: spec.K))
        }
        return (try set("train", perClass: spec.nspl), try set("test", perClass: spec.nTest))
    }
}
