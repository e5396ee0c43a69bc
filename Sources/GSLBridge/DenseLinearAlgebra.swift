import CGSLBridge

/// A dense row-major matrix of doubles, the exchange format of the GSL linear-algebra wrappers.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public var data: [Double]

    public init(rows: Int, cols: Int, data: [Double]) {
        precondition(data.count == rows * cols, "Matrix: \(data.count) values for \(rows) x \(cols)")
        self.rows = rows; self.cols = cols; self.data = data
    }

    public init(rows: Int, cols: Int, repeating v: Double = 0) {
        self.init(rows: rows, cols: cols, data: [Double](repeating: v, count: rows * cols))
    }

    public subscript(i: Int, j: Int) -> Double {
        get { data[i * cols + j] }
        set { data[i * cols + j] = newValue }
    }

    public func row(_ i: Int) -> ArraySlice<Double> { data[(i * cols)..<((i + 1) * cols)] }

    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.data[j * rows + i] = data[i * cols + j] } }
        return t
    }

    /// Frobenius norm.
    public var frobeniusNorm: Double { data.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// Matrix product through CBLAS dgemm.
    public static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.cols == b.rows, "Matrix product: \(a.rows)x\(a.cols) times \(b.rows)x\(b.cols)")
        var c = Matrix(rows: a.rows, cols: b.cols)
        if a.rows == 0 || b.cols == 0 { return c }
        if a.cols == 0 { return c }
        BLAS.dgemm(
            transA: false, transB: false, m: a.rows, n: b.cols, k: a.cols, alpha: 1,
            a: a.data, lda: a.cols, b: b.data, ldb: b.cols, beta: 0, c: &c.data, ldc: c.cols)
        return c
    }

    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols)
        return Matrix(rows: a.rows, cols: a.cols, data: zip(a.data, b.data).map { $0 - $1 })
    }
}

/// GSL's dense linear algebra: singular values and vectors, symmetric eigenproblems, pseudo-inverses.
public enum LinearAlgebra {
    /// Thin singular value decomposition A = U·diag(S)·Vᵀ with singular values in decreasing order.
    /// Uses gsl_linalg_SV_decomp (one-sided Jacobi for tall matrices is not needed at these sizes);
    /// a wide matrix is decomposed through its transpose.
    public static func svd(_ a: Matrix) throws(GSLError) -> (u: Matrix, s: [Double], v: Matrix) {
        GSL.initialise()
        if a.rows < a.cols {
            let t = try svd(a.transposed)
            return (t.v, t.s, t.u)
        }
        let m = a.rows, n = a.cols
        if n == 0 { return (Matrix(rows: m, cols: 0), [], Matrix(rows: 0, cols: 0)) }
        guard let A = gsl_matrix_alloc(m, n), let V = gsl_matrix_alloc(n, n), let S = gsl_vector_alloc(n),
            let work = gsl_vector_alloc(n)
        else { throw GSLError(status: Int32(GSL_ENOMEM), context: "SVD of \(m)x\(n)") }
        defer { gsl_matrix_free(A); gsl_matrix_free(V); gsl_vector_free(S); gsl_vector_free(work) }
        copy(a, into: A)
        try GSL.check(gsl_linalg_SV_decomp(A, V, S, work), "gsl_linalg_SV_decomp (\(m)x\(n))")
        return (matrix(A), vector(S), matrix(V))
    }

    /// Singular values only, in decreasing order.
    public static func singularValues(_ a: Matrix) throws(GSLError) -> [Double] { try svd(a).s }

    /// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix (gsl_eigen_symmv).
    public static func symmetricEigen(_ a: Matrix) throws(GSLError) -> (values: [Double], vectors: Matrix) {
        GSL.initialise()
        precondition(a.rows == a.cols)
        let n = a.rows
        guard let A = gsl_matrix_alloc(n, n), let evec = gsl_matrix_alloc(n, n), let eval = gsl_vector_alloc(n),
            let w = gsl_eigen_symmv_alloc(n)
        else { throw GSLError(status: Int32(GSL_ENOMEM), context: "eigen \(n)x\(n)") }
        defer { gsl_matrix_free(A); gsl_matrix_free(evec); gsl_vector_free(eval); gsl_eigen_symmv_free(w) }
        copy(a, into: A)
        try GSL.check(gsl_eigen_symmv(A, eval, evec, w), "gsl_eigen_symmv (\(n)x\(n))")
        try GSL.check(gsl_eigen_symmv_sort(eval, evec, GSL_EIGEN_SORT_VAL_ASC), "gsl_eigen_symmv_sort")
        return (vector(eval), matrix(evec))
    }

    /// Moore–Penrose pseudo-inverse of a symmetric positive semi-definite matrix, dropping
    /// eigenvalues below `relativeTolerance` times the largest.
    public static func pseudoInverseSymmetric(_ a: Matrix, relativeTolerance: Double = 1e-10) throws(GSLError) -> Matrix {
        let (vals, vecs) = try symmetricEigen(a)
        let n = a.rows
        let top = vals.map(abs).max() ?? 0
        var out = Matrix(rows: n, cols: n)
        for k in 0..<n where abs(vals[k]) > relativeTolerance * top && top > 0 {
            let inv = 1 / vals[k]
            for i in 0..<n { for j in 0..<n { out[i, j] += inv * vecs[i, k] * vecs[j, k] } }
        }
        return out
    }

    static func copy(_ a: Matrix, into m: UnsafeMutablePointer<gsl_matrix>) {
        for i in 0..<a.rows { for j in 0..<a.cols { gsl_matrix_set(m, i, j, a.data[i * a.cols + j]) } }
    }

    static func matrix(_ m: UnsafeMutablePointer<gsl_matrix>) -> Matrix {
        let r = m.pointee.size1, c = m.pointee.size2
        var out = Matrix(rows: r, cols: c)
        for i in 0..<r { for j in 0..<c { out.data[i * c + j] = gsl_matrix_get(m, i, j) } }
        return out
    }

    static func vector(_ v: UnsafeMutablePointer<gsl_vector>) -> [Double] {
        (0..<v.pointee.size).map { gsl_vector_get(v, $0) }
    }
}
