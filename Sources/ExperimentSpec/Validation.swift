import Foundation
import TaskModel

extension Spec {
    /// Checks every rule of the spec format; the error names the field and the rule.
    public func validate() throws(SpecError) {
        if nc < 2 { throw SpecError(field: "nc", "must be at least 2 (got \(nc)): collapse needs two concepts to separate") }
        if nw <= 0 { throw SpecError(field: "nw", "must be positive (got \(nw))") }
        if nw % nc != 0 { throw SpecError(field: "nw", "must be a multiple of nc = \(nc) (got \(nw)); s_c = nw / nc words per concept") }
        if L <= 0 { throw SpecError(field: "L", "must be positive (got \(L))") }
        if d <= 0 { throw SpecError(field: "d", "must be positive (got \(d))") }
        if layerNorm && d < nc {
            throw SpecError(field: "d", "must be at least nc = \(nc) with layer_norm (got \(d)): the centred simplex needs nc dimensions")
        }
        if d < nc - 1 {
            throw SpecError(field: "d", "must be at least nc − 1 = \(nc - 1) (got \(d)): a simplex of nc points spans nc − 1 dimensions")
        }
        if case .weights(let w) = wordFreq {
            if w.count != sc {
                throw SpecError(field: "word_freq", "must list s_c = nw / nc = \(sc) weights (got \(w.count))")
            }
            if let i = w.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw SpecError(field: "word_freq[\(i)]", "weights must be finite and non-negative (got \(w[i]))")
            }
            if w.allSatisfy({ $0 == 0 }) { throw SpecError(field: "word_freq", "weights must not all be zero") }
        }
        if !layerNormEps.isFinite || layerNormEps < 0 {
            throw SpecError(field: "layer_norm_eps", "must be a finite number ≥ 0 (got \(layerNormEps))")
        }
        for (key, v) in [("weight_decay_W", weightDecayW), ("weight_decay_U", weightDecayU)] where !v.isFinite || v < 0 {
            throw SpecError(field: key, "must be a finite number ≥ 0 (got \(v))")
        }
        if !lr.isFinite || lr <= 0 { throw SpecError(field: "lr", "must be a positive number (got \(lr))") }
        for (key, v) in [("bsz", bsz), ("num_epochs", numEpochs), ("nspl", nspl), ("n_test", nTest), ("report", report)] where v <= 0 {
            throw SpecError(field: key, "must be positive (got \(v))")
        }
        switch latent {
        case .random:
            if K <= 0 { throw SpecError(field: "K", "must be positive (got \(K))") }
        case .full:
            let space = fullLatentSpace
            guard let n = space.count else {
                throw SpecError(
                    field: "K",
                    "the full latent space has nc^L = \(nc)^\(L) ≈ \(String(format: "%.3g", space.countAsDouble)) sequences, more than can be counted"
                )
            }
            if K != n { throw SpecError(field: "K", "with latent \"full\", K must be nc^L = \(n) or left out (got \(K))") }
        case .explicit(let z):
            if z.isEmpty { throw SpecError(field: "latent", "an explicit list needs at least one latent variable") }
            if K != z.count { throw SpecError(field: "K", "must equal the number of explicit latent variables, \(z.count) (got \(K))") }
            for (k, seq) in z.enumerated() {
                if seq.count != L { throw SpecError(field: "latent[\(k)]", "must have L = \(L) concepts (got \(seq.count))") }
                if let l = seq.firstIndex(where: { $0 < 0 || $0 >= nc }) {
                    throw SpecError(field: "latent[\(k)][\(l)]", "concept must be in 0..<nc = 0...\(nc - 1) (got \(seq[l]))")
                }
            }
        }
    }
}
