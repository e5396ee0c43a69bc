/// Errors of training runs, each saying what to change.
public enum TrainingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The loss became NaN or infinite.
    case diverged(epoch: Int, minibatch: Int, lr: Double, lastGoodEpoch: Int)
    /// A run folder cannot be resumed or loaded.
    case badRunFolder(path: String, reason: String)

    public var description: String {
        switch self {
        case let .diverged(epoch, minibatch, lr, lastGood):
            let kept = lastGood > 0 ? "the last good checkpoint (epoch \(lastGood)) is kept" : "no checkpoint had been written yet"
            return "training diverged at epoch \(epoch), minibatch \(minibatch): the loss became NaN or infinite. "
                + "Lower the learning rate (lr = \(lr); try \(lr / 10)) or the weight decay; \(kept)."
        case let .badRunFolder(path, reason):
            return "\(path): \(reason)"
        }
    }
}
