import GSLBridge
import PropertyBased
import Testing
import TaskModel

// The data model of SPEC 1 is equivariant under relabelling the concepts: with the same seed, the task
// whose latent variables are relabelled (LatentVariables.relabellingConcepts) samples the same
// sentences with every word's concept relabelled and its rank unchanged, and the same labels.
// Integers only: compared exactly.

@Suite("The data model is equivariant")
struct DataModelEquivarianceTests {
    @Test(.shrinking)
    func relabellingConceptsRelabelsTheSentences() async {
        await forAllInstances("data-model/concepts", count: 300) { p in
            let b = Built(p)
            let sigma = randomPermutation(b.nc, b.rng)
            let seed = RandomGenerator.derive(p.seed, stream: 16)
            let vocabulary = Vocabulary(concepts: b.nc, wordsPerConcept: b.sc)
            let set = b.task.sample(perClass: 4, seed: seed)
            let relabelled = ConceptTask(vocabulary: vocabulary, mu: b.mu, latents: b.latents.relabellingConcepts(sigma))
            let set2 = relabelled.sample(perClass: 4, seed: seed)
            #expect(set.labels == set2.labels)
            #expect(set.words.count == set2.words.count)
            var mismatches = 0
            for (w, w2) in zip(set.words, set2.words) {
                let a = vocabulary.word(at: Int(w)), a2 = vocabulary.word(at: Int(w2))
                if a2.concept != sigma[a.concept] || a2.rank != a.rank { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(mismatches) of \(set.words.count) words not relabelled by \(sigma)")
            // Both samples follow their own task.
            #expect((0..<set2.count).allSatisfy { relabelled.follows(set2, $0) })
        }
    }
}
