import Foundation

extension Spec {
    /// What a command will hold in memory, so that an impossible request is refused up front.
    public enum Workload: Sendable {
        /// Materialising the latent variables and sampling a few sentences.
        case sample
        /// The limit-theory prediction (latent variables, Hamming histograms, U and its gradient).
        case predict
        /// SGD training (training and test sets, W, U, gradients, a minibatch of logits).
        case train
        /// Full-batch empirical risk (all logits of the N training sentences in one pass, by blocks).
        case fullBatch
    }

    /// Estimated peak bytes of a workload (an estimate: the order of magnitude is what matters).
    public func memoryNeeded(for w: Workload) -> Double {
        let K = Double(self.K), L = Double(self.L), d = Double(self.d), nw = Double(self.nw)
        let latents = K * L * 4
        let N = K * Double(nspl)
        let params = (nw * d + K * L * d) * 4
        switch w {
        case .sample:
            return latents + 10 * L * 4
        case .predict:
            // Histograms K·(L+1), U in double with gradient and BFGS state (about 6 copies), L products K·n_c.
            return latents + K * (L + 1) * 8 + 6 * K * L * d * 8 + 2 * L * K * Double(nc) * 8
        case .train:
            return latents + (N + K * Double(nTest)) * (L + 1) * 4 + 3 * params + 4 * Double(bsz) * K * 4
        case .fullBatch:
            // Per-position word scores L·K·n_w (and their residual sums), plus the data, plus (in
            // single precision, at most 4 GiB) the exponentials that pass 1 saves for pass 2.
            let savedExponentials = min(((K / 32).rounded(.up) * 32) * N * 4, Spec.savedExponentialsLimit)
            return latents + N * (L + 1) * 4 + 3 * params + 3 * L * K * nw * 8 + savedExponentials
        }
    }

    /// The most memory the single-precision full-batch risk spends on keeping its first pass's
    /// exponentials for the second (4 GiB; `Training.EmpiricalRisk.savesExponentials`).
    public static let savedExponentialsLimit: Double = 4 * 1024 * 1024 * 1024

    /// Bytes this machine can give one process (80% of physical memory).
    public static var usableMemory: Double { Double(ProcessInfo.processInfo.physicalMemory) * 0.8 }

    /// Throws ``MemoryError`` when the workload would not fit in memory.
    public func checkMemory(for w: Workload, available: Double = Spec.usableMemory) throws(MemoryError) {
        let need = memoryNeeded(for: w)
        if need > available {
            throw MemoryError(
                what: "this spec (\(name ?? "unnamed"), K = \(K), nspl = \(nspl), nw = \(nw), L = \(L), d = \(d)) for \(w)",
                neededBytes: need, availableBytes: available)
        }
    }
}
