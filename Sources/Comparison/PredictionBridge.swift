import ExperimentSpec
import GSLBridge
import Geometry
import LimitTheory
import TaskModel

extension PredictedConfiguration {
    /// The predicted configuration of a limit-theory prediction, in the conventions of the metrics:
    /// word features after ψ (n_w x d) and, when the prediction has one, the classifier (K x L·d).
    ///
    /// Word (α, β) gets concept vector α when the predicted feature norms do not depend on β (type I,
    /// idealised LayerNorm, restricted problems); otherwise the direction of concept α scaled to the
    /// predicted norm of rank β (type II, LayerNorm with ε > 0). A family prediction without a
    /// classifier gets u_{k,ℓ} = b·f_{z_kℓ} with f the unit concept directions.
    public static func from(_ p: Prediction, spec: Spec, latents: LatentVariables) throws -> PredictedConfiguration {
        let layout = try ConceptLayout(concepts: spec.nc, wordsPerConcept: spec.sc)
        guard let concepts = p.concepts, concepts.count == spec.nc, concepts.allSatisfy({ $0.count == spec.d }) else {
            // No configuration: only the scalar predictions can be compared.
            return PredictedConfiguration(rho: p.wordNorms, objective: p.objective)
        }
        let d = spec.d, sc = spec.sc
        let unit: [[Double]] = concepts.map { v in
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return n > 0 ? v.map { $0 / n } : v
        }
        let norms = p.wordNorms
        let rankDependent = norms.count == sc && (norms.max()! - norms.min()!) > 1e-9 * max(1, norms.max()!)
        var words = Matrix(rows: spec.nw, cols: d)
        for a in 0..<spec.nc {
            for b in 0..<sc {
                let row = rankDependent ? unit[a].map { $0 * norms[b] } : concepts[a]
                for j in 0..<d { words[a * sc + b, j] = row[j] }
            }
        }
        var classifier: Matrix? = nil
        if let u = p.classifier, u.count == latents.count, u.allSatisfy({ $0.count == spec.L * d }) {
            classifier = Matrix(rows: u.count, cols: spec.L * d, data: u.flatMap { $0 })
        } else if let b = p.b, !p.trivial {
            var m = Matrix(rows: latents.count, cols: spec.L * d)
            for k in 0..<latents.count {
                for l in 0..<spec.L {
                    let f = unit[latents[k, l]]
                    for j in 0..<d { m[k, l * d + j] = b * f[j] }
                }
            }
            classifier = m
        }
        // The trivial prediction W = 0 has no geometry to compare with.
        if p.trivial { return PredictedConfiguration(rho: norms, objective: p.objective) }
        return try configuration(
            words: words, classifier: classifier, latents: BlockLayout(latents), layout: layout,
            rho: norms.count == sc ? norms : nil, objective: p.objective)
    }
}
