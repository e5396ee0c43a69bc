/// What a resumed training run needs: the parameters, the epoch reached, the per-epoch history and the
/// wall-clock seconds spent so far. `Experiments.RunFolder` writes and reads it (the run-folder format has
/// one owner there); the trainer only produces and consumes it.
public struct TrainingState: Sendable, Equatable {
    public var parameters: Parameters
    public var epoch: Int
    public var history: [EpochRecord]
    public var seconds: Double
    public init(parameters: Parameters, epoch: Int, history: [EpochRecord], seconds: Double) {
        self.parameters = parameters; self.epoch = epoch; self.history = history; self.seconds = seconds
    }
}
