import CGSLBridge

/// A GSL Mersenne Twister (mt19937). Same seed, same stream, on every machine.
///
/// Not thread-safe: give each task its own generator (see ``RandomGenerator/derive(_:stream:)``).
public final class RandomGenerator {
    let rng: UnsafeMutablePointer<gsl_rng>
    /// The seed this generator was created with.
    public let seed: UInt64

    public init(seed: UInt64) {
        GSL.initialise()
        guard let r = gsl_rng_alloc(fc_rng_mt19937()) else { fatalError("gsl_rng_alloc failed: out of memory") }
        rng = r
        self.seed = seed
        // gsl_rng_set takes an unsigned long; mt19937 uses its low 32 bits. Fold the 64-bit seed.
        gsl_rng_set(rng, UInt(truncatingIfNeeded: (seed ^ (seed >> 32)) & 0xFFFF_FFFF))
    }

    deinit { gsl_rng_free(rng) }

    /// A seed for an independent stream derived from a base seed (SplitMix64 finaliser), so that the
    /// latent variables, the training set, the test set and the initialisation each have their own stream.
    public static func derive(_ seed: UInt64, stream: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform double in [0, 1).
    @inline(__always) public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// Uniform double in (0, 1).
    @inline(__always) public func uniformPositive() -> Double { gsl_rng_uniform_pos(rng) }

    /// Uniform integer in 0..<n (n ≥ 1).
    @inline(__always) public func uniformInt(_ n: Int) -> Int {
        precondition(n >= 1 && n <= Int(UInt32.max), "uniformInt: n out of range")
        return Int(gsl_rng_uniform_int(rng, UInt(n)))
    }

    /// Standard normal deviate times sigma (GSL's ziggurat method).
    @inline(__always) public func gaussian(sigma: Double = 1) -> Double { gsl_ran_gaussian_ziggurat(rng, sigma) }

    /// Uniform double in [a, b).
    @inline(__always) public func flat(_ a: Double, _ b: Double) -> Double { gsl_ran_flat(rng, a, b) }

    /// In-place uniform random permutation of 0..<n (GSL's gsl_ran_shuffle).
    public func shuffle(_ array: inout [Int32]) {
        array.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress, buf.count > 1 else { return }
            gsl_ran_shuffle(rng, base, buf.count, MemoryLayout<Int32>.stride)
        }
    }

    /// A random permutation of 0..<n.
    public func permutation(_ n: Int) -> [Int32] {
        var p = (0..<n).map { Int32($0) }
        shuffle(&p)
        return p
    }
}

/// Sampling from a finite distribution with GSL's Walker alias tables (gsl_ran_discrete).
public final class DiscreteSampler {
    let table: UnsafeMutablePointer<gsl_ran_discrete_t>
    /// The normalised probabilities.
    public let probabilities: [Double]

    /// `weights` must be non-negative with a positive sum.
    public init(weights: [Double]) throws(GSLError) {
        GSL.initialise()
        guard !weights.isEmpty, let t = weights.withUnsafeBufferPointer({ gsl_ran_discrete_preproc($0.count, $0.baseAddress) }) else {
            throw GSLError(status: Int32(GSL_EINVAL), context: "gsl_ran_discrete_preproc")
        }
        table = t
        let s = weights.reduce(0, +)
        probabilities = weights.map { $0 / s }
    }

    deinit { gsl_ran_discrete_free(table) }

    @inline(__always) public func sample(_ rng: RandomGenerator) -> Int {
        Int(gsl_ran_discrete(rng.rng, table))
    }
}
