import Foundation

/// Runs `body(i)` for i in 0..<n on up to `ProcessInfo.activeProcessorCount` threads and waits.
/// The closure must only write to disjoint memory per index.
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { if n == 1 { body(0) }; return }
    withoutActuallyEscaping(body) { b in
        let box = UncheckedBox(b)
        DispatchQueue.concurrentPerform(iterations: n) { i in box.value(i) }
    }
}

/// Number of worker threads worth using.
var workerThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// A mutable buffer shared by workers that write disjoint parts.
final class SharedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
    func zero() { pointer.update(repeating: 0, count: count) }
}

/// Where a multi-start minimisation stopped, one per start (R_c in `RestrictedProblem`, the exact R in
/// `ExactRisk`): a local minimiser as far as BFGS can tell, with the gradient norm it reached.
public struct LocalMinimum: Sendable {
    public var x: [Double]
    public var value: Double
    public var crossEntropy: Double
    public var iterations: Int
    public var converged: Bool
    public var gradientNorm: Double
}

/// One result per start, filled from several threads (the multi-start minimisations).
final class ResultsBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<T, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<T, Error>) {
        lock.lock()
        values[i] = r
        lock.unlock()
    }
}
