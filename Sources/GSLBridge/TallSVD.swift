import CGSLBridge

extension LinearAlgebra {
    /// Singular values (decreasing) and right singular vectors V (columns, n x n) of a matrix, without
    /// forming U: A = Q·R by GSL's recursive blocked QR (gsl_linalg_QR_decomp_r), then the SVD of the
    /// n x n factor R, which has the same singular values and right vectors as A. Much faster than
    /// ``svd(_:)`` when rows ≫ columns (e.g. the 15000 x 100 classifier blocks), where U is not needed.
    /// A wide matrix is decomposed directly with ``svd(_:)``.
    public static func singularValuesAndRightVectors(_ a: Matrix) throws(GSLError) -> (s: [Double], v: Matrix) {
        GSL.initialise()
        let m = a.rows, n = a.cols
        if m < 2 * n {
            let r = try svd(a)
            return (r.s, r.v)
        }
        guard let A = gsl_matrix_alloc(m, n), let T = gsl_matrix_alloc(n, n)
        else { throw GSLError(status: Int32(GSL_ENOMEM), context: "QR of \(m)x\(n)") }
        defer { gsl_matrix_free(A); gsl_matrix_free(T) }
        copy(a, into: A)
        try GSL.check(gsl_linalg_QR_decomp_r(A, T), "gsl_linalg_QR_decomp_r (\(m)x\(n))")
        var r = Matrix(rows: n, cols: n)
        for i in 0..<n { for j in i..<n { r.data[i * n + j] = gsl_matrix_get(A, i, j) } }
        let d = try svd(r)
        return (d.s, d.v)
    }
}
