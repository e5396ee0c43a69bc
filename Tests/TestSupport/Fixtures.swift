import GSLBridge
import Geometry
import TaskModel

/// Synthetic configurations with known geometry.
public enum Fixtures {
    /// Unit vectors f_α of a simplex equiangular tight frame (⟨f_α, f_α'⟩ = −1/(n_c − 1)) in R^d, d ≥ n_c:
    /// e_α − 1/n_c·(1,..,1,0,..) normalised. They are not centred in the coordinate sense (see `centredSimplex`).
    public static func simplex(concepts nc: Int, dimension d: Int) -> Matrix {
        var f = Matrix(rows: nc, cols: d)
        let norm = (1 - 1 / Double(nc)).squareRoot()
        for a in 0..<nc { for j in 0..<nc { f[a, j] = ((a == j ? 1 : 0) - 1 / Double(nc)) / norm } }
        return f
    }

    /// Words w_{α,β} = ρ_β·f_α (rows α·s_c + β).
    public static func words(_ f: Matrix, rho: [Double]) -> Matrix {
        let sc = rho.count
        var w = Matrix(rows: f.rows * sc, cols: f.cols)
        for a in 0..<f.rows { for b in 0..<sc { for j in 0..<f.cols { w[a * sc + b, j] = rho[b] * f[a, j] } } }
        return w
    }

    /// Classifier with blocks u_{k,ℓ} = b·f_{z_kℓ}.
    public static func classifier(_ f: Matrix, latents: LatentVariables, b: Double) -> Matrix {
        let d = f.cols, L = latents.length
        var u = Matrix(rows: latents.count, cols: L * d)
        for k in 0..<latents.count { for l in 0..<L { for j in 0..<d { u[k, l * d + j] = b * f[latents[k, l], j] } } }
        return u
    }

    public static func gaussian(rows: Int, cols: Int, seed: UInt64, scale: Double = 1) -> Matrix {
        let rng = RandomGenerator(seed: seed)
        return Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in scale * rng.gaussian() })
    }

    /// A random orthogonal d x d matrix (U·Vᵀ of the SVD of a Gaussian matrix).
    public static func rotation(dimension d: Int, seed: UInt64) throws -> Matrix {
        Matrix(rows: d, cols: d, data: Rotations.random(d, RandomGenerator(seed: seed)))
    }

    /// A random orthogonal d x d matrix with Q·1 = 1, built inside 1^⊥.
    public static func rotationFixingOnes(dimension d: Int, seed: UInt64) throws -> Matrix {
        Matrix(rows: d, cols: d, data: Rotations.fixingOnes(d, RandomGenerator(seed: seed)))
    }

    public static func identityDistance(_ q: Matrix) -> Double {
        var e = q.transposed * q
        for i in 0..<e.rows { e[i, i] -= 1 }
        return e.frobeniusNorm
    }

    public static func plus(_ a: Matrix, _ b: Matrix) -> Matrix {
        Matrix(rows: a.rows, cols: a.cols, data: zip(a.data, b.data).map { $0 + $1 })
    }

    /// The classifier-block layout of latent variables, for the geometry metrics.
    public static func blocks(_ z: LatentVariables) -> BlockLayout {
        try! BlockLayout(concepts: z.concepts, length: z.length, storage: z.storage)
    }

    /// The largest |a_i − b_i| (∞ for empty arrays).
    public static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }
}
