import GSLBridge

/// Principal components of a set of vectors (rows): singular values of the centred matrix and the
/// coordinates of every row on the first two principal axes (SPEC §3 convention).
public struct PCA: Sendable, Equatable, Codable {
    /// Singular values of the centred matrix, decreasing (min(rows, cols) of them).
    public let singularValues: [Double]
    /// Coordinate of every row on the first principal axis.
    public let x: [Double]
    /// Coordinate of every row on the second principal axis (0 when there is only one axis).
    public let y: [Double]

    enum CodingKeys: String, CodingKey {
        case x, y
        case singularValues = "singular_values"
    }

    public init(singularValues: [Double], x: [Double], y: [Double]) {
        self.singularValues = singularValues
        self.x = x
        self.y = y
    }

    /// PCA of the rows of `m` after subtracting their mean. Each axis is oriented so that its largest
    /// component (in absolute value) is positive, which makes the coordinates deterministic.
    public static func compute(_ m: Matrix) throws -> PCA {
        guard m.rows >= 1, m.cols >= 1 else { throw GeometryError(field: "PCA input", rule: "must have at least one row and one column") }
        guard m.data.allSatisfy(\.isFinite) else { throw GeometryError(field: "PCA input", rule: "must be finite") }
        let c = Vectors.subtractingFromRows(m, Vectors.columnMeans(m))
        let (s, v) = try LinearAlgebra.singularValuesAndRightVectors(c)
        var coords: [[Double]] = []
        for k in 0..<min(2, v.cols) {
            var axis = (0..<v.rows).map { v[$0, k] }
            if let big = axis.max(by: { abs($0) < abs($1) }), big < 0 { axis = axis.map { -$0 } }
            coords.append((0..<c.rows).map { Vectors.dot(c.row($0), axis[...]) })
        }
        let zeros = [Double](repeating: 0, count: m.rows)
        return PCA(singularValues: s, x: coords.first ?? zeros, y: coords.count > 1 ? coords[1] : zeros)
    }

    /// PCA of the K·L classifier blocks u_{k,ℓ} (rows of ``ClassifierBlocks/blocks(_:length:)``).
    public static func ofClassifierBlocks(_ u: Matrix, length L: Int) throws -> PCA {
        guard L >= 1, u.cols % L == 0 else {
            throw GeometryError(field: "U", rule: "has \(u.cols) columns, not a multiple of L = \(L)")
        }
        return try compute(ClassifierBlocks.blocks(u, length: L))
    }
}
