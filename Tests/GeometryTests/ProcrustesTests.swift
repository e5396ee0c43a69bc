import Geometry
import TestSupport
import GSLBridge
import TaskModel
import Testing

@Suite struct ProcrustesTests {
    @Test func rotatedCopyHasZeroDistanceAndPerturbedCopyDoesNot() throws {
        let y = Fixtures.gaussian(rows: 30, cols: 5, seed: 1)
        let q = try Fixtures.rotation(dimension: 5, seed: 2)
        let a = try Procrustes.align(y * q, to: y)
        // Exact rotation: residual is rounding only (~1e-15 relative).
        #expect(a.distance < 1e-12)
        #expect(Fixtures.identityDistance(a.rotation) < 1e-12)
        // The alignment undoes q: (y·q)·Q = y, so q·Q = I.
        #expect(Fixtures.identityDistance(q * a.rotation) < 1e-10)

        let noise = Fixtures.gaussian(rows: 30, cols: 5, seed: 3, scale: 0.05)
        let b = try Procrustes.align(Fixtures.plus(y * q, noise), to: y)
        let bound = noise.frobeniusNorm / y.frobeniusNorm
        // Qᵀ is a feasible alignment with distance exactly `bound`, so the optimum is at most that; noise
        // in 30x5 random directions cannot be rotated away, so the optimum stays well above zero.
        #expect(b.distance <= bound + 1e-12)
        #expect(b.distance > 0.3 * bound)
    }

    @Test func rankDeficientConfigurationsStillGiveAnOrthogonalQ() throws {
        // A collapsed simplex spans 2 of 6 dimensions: XᵀY has rank 2.
        let f = Fixtures.simplex(concepts: 3, dimension: 6)
        let y = Fixtures.words(f, rho: [1, 1, 1, 1])
        let q = try Fixtures.rotation(dimension: 6, seed: 8)
        let a = try Procrustes.align(y * q, to: y)
        #expect(a.distance < 1e-12)
        #expect(Fixtures.identityDistance(a.rotation) < 1e-10)
    }

    @Test func layerNormVariantAlignsOnlyRotationsFixingOnes() throws {
        let d = 6
        // LayerNorm features lie in 1^⊥.
        let y = Procrustes.projectOutOnes(Fixtures.gaussian(rows: 20, cols: d, seed: 4))
        let qFix = try Fixtures.rotationFixingOnes(dimension: d, seed: 5)
        let ones = Matrix(rows: 1, cols: d, repeating: 1)
        #expect((ones * qFix - ones).frobeniusNorm < 1e-12)  // the fixture really fixes 1
        let a = try Procrustes.align(y * qFix, to: y, fixingOnes: true)
        #expect(a.distance < 1e-12)
        // The returned Q is orthogonal and fixes 1 on both sides.
        #expect(Fixtures.identityDistance(a.rotation) < 1e-10)
        #expect((ones * a.rotation - ones).frobeniusNorm < 1e-10)
        #expect((a.rotation * ones.transposed - ones.transposed).frobeniusNorm < 1e-10)

        // A generic rotation moves features out of 1^⊥: allowed in the plain variant, not here.
        let qAny = try Fixtures.rotation(dimension: d, seed: 6)
        #expect(try Procrustes.align(y * qAny, to: y).distance < 1e-12)
        #expect(try Procrustes.align(y * qAny, to: y, fixingOnes: true).distance > 1e-2)
    }

    @Test func jointAlignmentNeedsOneCommonRotation() throws {
        let yw = Fixtures.gaussian(rows: 15, cols: 5, seed: 1, scale: 10)
        let yu = Fixtures.gaussian(rows: 40, cols: 5, seed: 2, scale: 0.1)
        let q = try Fixtures.rotation(dimension: 5, seed: 3)
        let same = try Procrustes.alignJointly(words: yw * q, to: yw, blocks: yu * q, to: yu)
        #expect(same.words < 1e-12 && same.blocks < 1e-12 && same.combined < 1e-12)
        // Blocks rotated differently: each part alone aligns perfectly, jointly they cannot.
        let other = try Fixtures.rotation(dimension: 5, seed: 4)
        let mixed = try Procrustes.alignJointly(words: yw * q, to: yw, blocks: yu * other, to: yu)
        #expect(try Procrustes.align(yu * other, to: yu).distance < 1e-12)
        #expect(mixed.combined > 0.05)
        // The small-scale blocks are not swamped by the 100x larger words: both parts carry error.
        #expect(mixed.blocks > 0.01 && mixed.words > 0.01)
        #expect(throws: GeometryError.self) { try Procrustes.align(yw, to: yu) }
    }
}
