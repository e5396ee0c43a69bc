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
