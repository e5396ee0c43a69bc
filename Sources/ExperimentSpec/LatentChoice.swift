/// How a spec chooses its latent variables (spec key `latent`).
public enum LatentChoice: Sendable, Equatable, Hashable {
    /// K sequences drawn uniformly with replacement from a stream derived from `seed`.
    case random
    /// The full latent space: K = n_c^L, every sequence once.
    case full
    /// Exactly these K sequences.
    case explicit([[Int]])

    public var name: String {
        switch self {
        case .random: return "random"
        case .full: return "full"
        case .explicit: return "explicit"
        }
    }
}
