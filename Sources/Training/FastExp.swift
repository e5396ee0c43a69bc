/// A vectorised exp for double-precision SIMD vectors (Cody–Waite reduction by ln 2 and a degree-11
/// Taylor polynomial on |r| ≤ ln2/2: relative error below 1e-14), for the full-batch risk where
/// hundreds of millions of exponentials are taken per evaluation. Arguments are clamped to
/// [−700, 700]; below −700 the result (≈ 1e-304) stands in for 0.
@usableFromInline
enum FastExp {
    @inline(__always) @usableFromInline
    static func exp(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let xc = x.clamped(lowerBound: SIMD8(repeating: -700), upperBound: SIMD8(repeating: 700))
        // Round x·log2(e) to an integer n with the 1.5·2^52 trick: the integer sits in the low bits.
        let magic = SIMD8<Double>(repeating: 6755399441055744.0)
        let t = xc * 1.4426950408889634 + magic
        let n = t - magic
        let r = (xc - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10
        var p = SIMD8<Double>(repeating: 1.0 / 39916800.0)
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        let bits = unsafeBitCast(t, to: SIMD8<Int64>.self) &- 0x4338_0000_0000_0000
        let scale = unsafeBitCast((bits &+ 1023) &<< 52, to: SIMD8<Double>.self)
        return p * scale
    }
}
