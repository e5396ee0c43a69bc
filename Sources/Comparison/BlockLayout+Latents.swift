import Geometry
import TaskModel

extension BlockLayout {
    /// The concepts the classifier blocks read, from the task's latent variables.
    public init(_ latents: LatentVariables) throws(GeometryError) {
        try self.init(concepts: latents.concepts, length: latents.length, storage: latents.storage)
    }
}
