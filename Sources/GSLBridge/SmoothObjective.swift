/// A smooth objective in the form ``MultiMinimizer`` consumes: the value at x, and the gradient
/// written into a buffer when one is given. The array conveniences come with the conformance.
public protocol SmoothObjective {
    func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double
}

extension SmoothObjective {
    /// The value at x.
    public func value(_ x: [Double]) -> Double {
        x.withUnsafeBufferPointer { evaluate($0, gradient: nil) }
    }

    /// The gradient at x.
    public func gradient(_ x: [Double]) -> [Double] {
        var g = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xb in g.withUnsafeMutableBufferPointer { _ = evaluate(xb, gradient: $0) } }
        return g
    }

    /// Value and gradient at x.
    public func valueAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        var g = [Double](repeating: 0, count: x.count)
        let v = x.withUnsafeBufferPointer { xb in g.withUnsafeMutableBufferPointer { evaluate(xb, gradient: $0) } }
        return (v, g)
    }
}
