import TaskModel
import Testing

@Suite struct LatentSpaceTests {
    @Test(arguments: [(2, 1), (3, 4), (4, 3), (5, 2)])
    func fullSpaceIndexingRoundTrips(_ nc: Int, _ L: Int) throws {
        let space = FullLatentSpace(concepts: nc, length: L)
        let K = try #require(space.count)
        var seen = Set<[Int]>()
        for k in 0..<K {
            let z = space.sequence(at: k)
            #expect(space.index(of: z) == k)
            seen.insert(z)
        }
        #expect(seen.count == K)  // every sequence once
    }

    @Test func paperScaleSpaceIsIndexedWithoutMaterialising() throws {
        let space = FullLatentSpace(concepts: 3, length: 15)
        #expect(space.count == 14_348_907)
        let z = [2, 1, 0, 0, 2, 1, 1, 1, 0, 2, 2, 2, 0, 1, 0]
        #expect(space.sequence(at: space.index(of: z)) == z)
        // Hamming histogram sums to the size of the space.
        let total = space.hammingHistogram.reduce(0, +)
        #expect(abs(total - 14_348_907) < 0.5)
        // An astronomically large space is refused rather than overflowing.
        #expect(FullLatentSpace(concepts: 3, length: 60).count == nil)
    }

    @Test(arguments: [(3, 4), (2, 6), (4, 3)])
    func closedFormHammingHistogramMatchesBruteForce(_ nc: Int, _ L: Int) {
        let space = FullLatentSpace(concepts: nc, length: L)
        let z = LatentVariables.full(space)
        let hist = Hamming.histograms(z)
        let closed = space.hammingHistogram
        for row in hist {
            for h in 0...L { #expect(Double(row[h]) == closed[h]) }  // integers stored exactly in Double
        }
    }

    @Test func histogramsMatchPairwiseDistances() {
        let z = LatentVariables.random(concepts: 3, length: 7, count: 60, seed: 9)
        let hist = Hamming.histograms(z)
        for k in 0..<z.count {
            var row = [Int](repeating: 0, count: 8)
            for j in 0..<z.count { row[Hamming.distance(z.sequence(j), z.sequence(k))] += 1 }
            #expect(row == hist[k])
        }
        let pairs = Hamming.pairHistogram(z)
        #expect(pairs.reduce(0, +) == 60 * 59)
    }

    @Test func duplicatesAreReported() {
        let z = LatentVariables(concepts: 3, sequences: [[0, 1], [2, 2], [0, 1], [1, 0], [2, 2], [0, 1]])
        #expect(z.duplicateGroups() == [[0, 2, 5], [1, 4]])
    }

    @Test func paperScaleDrawHasFewDuplicates() {
        // K = 1000 draws from 3^15 sequences: the expected number of colliding pairs is
        // C(1000, 2)/3^15 ≈ 0.035, so most draws have none and none has many.
        var withDup = 0
        for seed in 0..<20 {
            let z = LatentVariables.random(concepts: 3, length: 15, count: 1000, seed: UInt64(seed))
            let g = z.duplicateGroups()
            #expect(g.count <= 2)
            if !g.isEmpty { withDup += 1 }
        }
        #expect(withDup <= 5)
    }

    @Test func binomialCoefficients() {
        #expect(binomial(15, 7) == 6435)
        #expect(binomial(5, 0) == 1 && binomial(5, 6) == 0)
    }
}
