/// Every tuple of word ranks (β_1..β_L) with positive probability under μ^{⊗L}, in lexicographic
/// order, with its probability: the exact β-expectation of the limit risk as a finite sum.
/// `tuples` holds the ranks tuple-major (count·L values); the caller bounds s_c^L beforehand.
func enumerateRankTuples(mu: [Double], length L: Int) -> (tuples: [Int32], weights: [Double]) {
    let sc = mu.count
    var tuples: [Int32] = [], weights: [Double] = []
    var beta = [Int](repeating: 0, count: L)
    while true {
        var p = 1.0
        for l in 0..<L { p *= mu[beta[l]] }
        if p > 0 { tuples += beta.map(Int32.init); weights.append(p) }
        var l = L - 1
        while l >= 0 { beta[l] += 1; if beta[l] < sc { break }; beta[l] = 0; l -= 1 }
        if l < 0 { return (tuples, weights) }
    }
}
