import ArrayIO
import Foundation

/// A point of a plot series, with an optional symmetric vertical error bar.
public struct PlotPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var yError: Double?
    public init(x: Double, y: Double, yError: Double? = nil) { self.x = x; self.y = y; self.yError = yError }
}

/// A minimal hand-written SVG plot: one frame with axes, ticks, labels, a legend, and series drawn as
/// markers and/or lines, on linear or logarithmic axes. No dependency; the output opens in any browser.
public struct SVGPlot: Sendable {
    public enum Scale: Sendable { case linear, log }

    /// `band`: the area between y − yError and y + yError along the points, filled (translucent), e.g. a prediction's
    /// error band; points without an error are drawn with zero width.
    public enum Style: Sendable { case markers, line, lineAndMarkers, band }

    public struct Series: Sendable {
        public var name: String
        public var points: [PlotPoint]
        public var style: Style
        /// A CSS colour; nil picks the next one of the palette.
        public var colour: String?
        public var markerRadius: Double
        public var opacity: Double
        public var dashed: Bool

        public init(
            name: String, points: [PlotPoint], style: Style = .markers, colour: String? = nil,
            markerRadius: Double = 3, opacity: Double = 1, dashed: Bool = false
        ) {
            self.name = name; self.points = points; self.style = style; self.colour = colour
            self.markerRadius = markerRadius; self.opacity = opacity; self.dashed = dashed
        }
    }

    /// Tableau's ten categorical colours.
    public static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
    ]

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: Scale
    public var yScale: Scale
    public var series: [Series]
    public var width: Double = 760
    public var height: Double = 520
    /// Same data units per pixel on both axes (linear axes only), e.g. for PCA scatters.
    public var equalAspect: Bool = false

    public init(
        title: String, xLabel: String, yLabel: String, xScale: Scale = .linear, yScale: Scale = .linear,
        series: [Series] = [], equalAspect: Bool = false
    ) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.xScale = xScale; self.yScale = yScale; self.series = series; self.equalAspect = equalAspect
    }

    // MARK: Layout

    static let marginLeft = 86.0, marginTop = 46.0, marginBottom = 62.0, legendWidth = 190.0

    struct Axis {
        let scale: Scale
        /// Range in transformed units (log10 for a log axis).
        var lo: Double
        var hi: Double
        let pixelLo: Double
        let pixelHi: Double

        func t(_ v: Double) -> Double { scale == .log ? log10(v) : v }
        func pixel(_ v: Double) -> Double { pixelLo + (t(v) - lo) / (hi - lo) * (pixelHi - pixelLo) }
        func valid(_ v: Double) -> Bool { v.isFinite && (scale == .linear || v > 0) }
    }

    /// Data range in transformed units over every drawable value, padded by 5% (degenerate ranges widened).
    static func range(_ values: [Double], scale: Scale) -> (Double, Double) {
        let t = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }.map { scale == .log ? log10($0) : $0 }
        guard var lo = t.min(), var hi = t.max() else { return (0, 1) }
        if hi - lo < 1e-12 * max(1, abs(hi)) {
            let w = scale == .log ? 0.5 : (hi != 0 ? abs(hi) * 0.1 : 1)
            lo -= w; hi += w
        }
        let pad = 0.05 * (hi - lo)
        return (lo - pad, hi + pad)
    }

    /// Tick values (in data units) of an axis, with their labels.
    static func ticks(lo: Double, hi: Double, scale: Scale) -> [(value: Double, label: String)] {
        if scale == .log {
            let a = Int(floor(lo)), b = Int(ceil(hi))
            var out: [(Double, String)] = []
            let decades = hi - lo
            let mult: [Double] = decades < 1.2 ? [1, 1.5, 2, 3, 5, 7] : decades < 3.5 ? [1, 2, 5] : [1]
            let stride = decades > 12 ? Int(ceil(decades / 8)) : 1
            for k in a...b where (k - a) % stride == 0 {
                for m in mult {
                    let v = m * pow(10, Double(k))
                    let tv = log10(v)
                    if tv >= lo - 1e-9 && tv <= hi + 1e-9 { out.append((v, logLabel(v))) }
                }
            }
            return out
        }
        let span = hi - lo
        let raw = span / 6
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var out: [(Double, String)] = []
        var v = ceil(lo / step) * step
        while v <= hi + 1e-9 * step {
            let clean = abs(v) < 1e-9 * step ? 0 : v
            out.append((clean, linearLabel(clean, step: step)))
            v += step
        }
        return out
    }

    static func linearLabel(_ v: Double, step: Double) -> String {
        if v == 0 { return "0" }
        let e = floor(log10(step))
        if abs(v) >= 1e5 || abs(v) < 1e-3 { return String(format: "%.3g", v) }
        let decimals = max(0, Int(-e) + (step / pow(10, e) == 2.5 ? 1 : 0))
        return String(format: "%.\(decimals)f", v)
    }

    static func logLabel(_ v: Double) -> String {
        let e = log10(v)
        if abs(e - e.rounded()) < 1e-9 && abs(e) >= 4 { return "1e\(Int(e.rounded()))" }
        return String(format: "%g", v)
    }

    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&apos;"
            default: o.append(c)
            }
        }
        return o
    }

    /// A number in three significant digits for labels and legends (∞, −∞, nan spelled out).
    public static func short(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "∞" : "−∞" }
        return String(format: "%.3g", x)
    }

    static func f(_ x: Double) -> String { String(format: "%.2f", x) }

    // MARK: Rendering

    /// The complete SVG document.
    public func render() -> String {
        // `width` leaves legendWidth for the legend; longer series names widen the picture, not squeeze the plot.
        let longest = Double(series.map(\.name.count).max() ?? 0)
        let left = Self.marginLeft, right = width - Self.legendWidth, top = Self.marginTop, bottom = height - Self.marginBottom
        let W = max(width, right + 56 + 7.4 * longest), H = height
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite {
                xs.append(p.x); ys.append(p.y)
                if let e = p.yError, e.isFinite, e > 0 { ys.append(p.y + e); if yScale == .linear || p.y - e > 0 { ys.append(p.y - e) } }
            }
        }
        var (x0, x1) = Self.range(xs, scale: xScale)
        var (y0, y1) = Self.range(ys, scale: yScale)
        if equalAspect && xScale == .linear && yScale == .linear {
            let ux = (x1 - x0) / (right - left), uy = (y1 - y0) / (bottom - top)
            if ux > uy {
                let c = (y0 + y1) / 2, h = ux * (bottom - top) / 2; y0 = c - h; y1 = c + h
            } else {
                let c = (x0 + x1) / 2, h = uy * (right - left) / 2; x0 = c - h; x1 = c + h
            }
        }
        let xa = Axis(scale: xScale, lo: x0, hi: x1, pixelLo: left, pixelHi: right)
        let ya = Axis(scale: yScale, lo: y0, hi: y1, pixelLo: bottom, pixelHi: top)
        let f = Self.f, esc = Self.escape

        var o = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(W))" height="\(f(H))" viewBox="0 0 \(f(W)) \(f(H))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
            <rect x="0" y="0" width="\(f(W))" height="\(f(H))" fill="white"/>
            <defs><clipPath id="plot-area"><rect x="\(f(left))" y="\(f(top))" width="\(f(right - left))" height="\(f(bottom - top))"/></clipPath></defs>
            <text x="\(f((left + right) / 2))" y="\(f(top - 18))" text-anchor="middle" font-size="15" font-weight="bold">\(esc(title))</text>

            """
        // Grid, ticks and tick labels.
        o += "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n"
        let xt = Self.ticks(lo: x0, hi: x1, scale: xScale), yt = Self.ticks(lo: y0, hi: y1, scale: yScale)
        for t in xt { let px = xa.pixel(t.value); o += "<line x1=\"\(f(px))\" y1=\"\(f(top))\" x2=\"\(f(px))\" y2=\"\(f(bottom))\"/>\n" }
        for t in yt { let py = ya.pixel(t.value); o += "<line x1=\"\(f(left))\" y1=\"\(f(py))\" x2=\"\(f(right))\" y2=\"\(f(py))\"/>\n" }
        o += "</g>\n<g stroke=\"black\" stroke-width=\"1\">\n"
        for t in xt {
            let px = xa.pixel(t.value); o += "<line x1=\"\(f(px))\" y1=\"\(f(bottom))\" x2=\"\(f(px))\" y2=\"\(f(bottom + 5))\"/>\n"
        }
        for t in yt { let py = ya.pixel(t.value); o += "<line x1=\"\(f(left - 5))\" y1=\"\(f(py))\" x2=\"\(f(left))\" y2=\"\(f(py))\"/>\n" }
        o += "</g>\n<g font-size=\"11\">\n"
        for t in xt { o += "<text x=\"\(f(xa.pixel(t.value)))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(esc(t.label))</text>\n" }
        for t in yt { o += "<text x=\"\(f(left - 8))\" y=\"\(f(ya.pixel(t.value) + 4))\" text-anchor=\"end\">\(esc(t.label))</text>\n" }
        o += "</g>\n"
        // Axis labels.
        o += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(H - 16))\" text-anchor=\"middle\" font-size=\"13\">\(esc(xLabel))</text>\n"
        let yc = (top + bottom) / 2
        o +=
            "<text x=\"20\" y=\"\(f(yc))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 20 \(f(yc)))\">\(esc(yLabel))</text>\n"

        // Series.
        o += "<g clip-path=\"url(#plot-area)\">\n"
        let colours = series.enumerated().map { i, s in s.colour ?? Self.palette[i % Self.palette.count] }
        for (i, s) in series.enumerated() {
            let c = colours[i]
            let pts = s.points.filter { xa.valid($0.x) && ya.valid($0.y) }
            if s.style == .band {
                // Upper edge left to right, lower edge back; a lower value off a log axis is drawn at the bottom.
                let upper = pts.map { "\(f(xa.pixel($0.x))),\(f(ya.pixel($0.y + max(0, $0.yError ?? 0))))" }
                let lower = pts.reversed().map { p -> String in
                    let low = p.y - max(0, p.yError ?? 0)
                    return "\(f(xa.pixel(p.x))),\(f(ya.valid(low) ? ya.pixel(low) : bottom + 1))"
                }
                if pts.count > 1 {
                    o +=
                        "<polygon fill=\"\(c)\" fill-opacity=\"\(f(0.25 * s.opacity))\" stroke=\"none\" points=\"\((upper + lower).joined(separator: " "))\"/>\n"
                }
                continue
            }
            if s.style != .markers && pts.count > 1 {
                let path = pts.map { "\(f(xa.pixel($0.x))),\(f(ya.pixel($0.y)))" }.joined(separator: " ")
                o +=
                    "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\" stroke-opacity=\"\(f(s.opacity))\"\(s.dashed ? " stroke-dasharray=\"6,4\"" : "") points=\"\(path)\"/>\n"
            }
            for p in pts {
                guard let e = p.yError, e.isFinite, e > 0 else { continue }
                let px = xa.pixel(p.x)
                let lowValue = p.y - e
                let pLow = ya.valid(lowValue) ? ya.pixel(lowValue) : bottom + 1
                let pHigh = ya.pixel(p.y + e)
                o +=
                    "<path d=\"M\(f(px)) \(f(pLow))V\(f(pHigh))M\(f(px - 4)) \(f(pLow))h8M\(f(px - 4)) \(f(pHigh))h8\" stroke=\"\(c)\" stroke-width=\"1.3\" fill=\"none\"/>\n"
            }
            if s.style != .line {
                o += "<g fill=\"\(c)\" fill-opacity=\"\(f(s.opacity))\">\n"
                for p in pts { o += "<circle cx=\"\(f(xa.pixel(p.x)))\" cy=\"\(f(ya.pixel(p.y)))\" r=\"\(f(s.markerRadius))\"/>\n" }
                o += "</g>\n"
            }
        }
        o += "</g>\n"
        // Frame.
        o +=
            "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"black\" stroke-width=\"1\"/>\n"
        // Legend.
        let lx = right + 16
        for (i, s) in series.enumerated() {
            let ly = top + 10 + Double(i) * 20
            let c = colours[i]
            if s.style == .band {
                o +=
                    "<rect x=\"\(f(lx))\" y=\"\(f(ly - 6))\" width=\"24\" height=\"12\" fill=\"\(c)\" fill-opacity=\"\(f(0.25 * s.opacity))\"/>\n"
            } else if s.style != .markers {
                o +=
                    "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 24))\" y2=\"\(f(ly))\" stroke=\"\(c)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
            }
            if s.style != .line && s.style != .band {
                o += "<circle cx=\"\(f(lx + 12))\" cy=\"\(f(ly))\" r=\"\(f(max(3, s.markerRadius)))\" fill=\"\(c)\"/>\n"
            }
            o += "<text x=\"\(f(lx + 32))\" y=\"\(f(ly + 4))\">\(esc(s.name))</text>\n"
        }
        o += "</svg>\n"
        return o
    }

    /// Renders and writes the plot atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(render(), to: path)
    }
}
