import ArrayIO
import ExperimentSpec
import Foundation
import GSLBridge
import Geometry

/// One finished cell of a convergence sweep: a regime, a sample size n_spl, a seed and its metrics.
/// A sweep writes one JSON file per cell (``write(into:)``) so that shards running on several machines
/// can later be merged into one table (``ConvergenceTable/build(cells:regimeOrder:)``).
public struct ConvergenceCell: Codable, Sendable, Equatable {
    public struct Key: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
        @SettingNamed public var regime: Regime
        public let nspl: Int
        public let seed: UInt64
        public init(regime: Regime, nspl: Int, seed: UInt64) { self.regime = regime; self.nspl = nspl; self.seed = seed }
        public static func < (a: Key, b: Key) -> Bool { (a.regime, a.nspl, a.seed) < (b.regime, b.nspl, b.seed) }
        public var description: String { "regime \(regime.settingName), n_spl \(nspl), seed \(seed)" }
        /// `<prefix><regime>-nspl<n>-seed<s><suffix>`: the file or folder name of this cell (ASCII).
        public func fileName(prefix: String = "", suffix: String = "") -> String {
            "\(prefix)\(regime.settingName)-nspl\(nspl)-seed\(seed)\(suffix)"
        }
    }

    @SettingNamed public var regime: Regime
    public var nspl: Int
    public var seed: UInt64
    /// Metric values by name (see ``CollapseMetrics/scalars``); non-finite values are kept here but
    /// skipped by the aggregation.
    public var metrics: [Metric: Double]
    /// Free provenance (spec name, host, elapsed time...), not aggregated.
    public var info: [String: String]
    /// SPEC 6's predicted mean of a metric for this cell (coefficient / N, N = K·n_spl), where P6 gives one
    /// (within-concept ratio and objective gap at a collapsed limit minimiser).
    public var predicted: [Metric: Double]

    public init(
        regime: Regime, nspl: Int, seed: UInt64, metrics: [Metric: Double], info: [String: String] = [:],
        predicted: [Metric: Double] = [:]
    ) {
        self.regime = regime; self.nspl = nspl; self.seed = seed; self.metrics = metrics; self.info = info
        self.predicted = predicted
    }

    /// A cell holding the scalar metrics of a trained network (``CollapseMetrics/scalars``).
    public init(regime: Regime, nspl: Int, seed: UInt64, metrics: CollapseMetrics, info: [String: String] = [:]) {
        self.init(regime: regime, nspl: nspl, seed: seed, metrics: metrics.scalars, info: info)
    }

    public var key: Key { Key(regime: regime, nspl: nspl, seed: seed) }

    /// `cell-<regime>-nspl<n>-seed<s>.json` (ASCII).
    public var fileName: String { key.fileName(prefix: "cell-", suffix: ".json") }

    /// Checks the fields: n_spl ≥ 1.
    public func validate() throws(ExperimentError) {
        guard nspl >= 1 else { throw ExperimentError(field: "cell.nspl", rule: "must be at least 1 (got \(nspl)) in \(key)") }
    }

    enum CodingKeys: String, CodingKey { case regime, nspl, seed, metrics, info, predicted }

    /// Reads cells written before the regime had one type: `regime` may be a setting name (`uniform`, `zipf`, `zipf-ln`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        _regime = try c.decode(SettingNamed.self, forKey: .regime)
        nspl = try c.decode(Int.self, forKey: .nspl)
        seed = try c.decode(UInt64.self, forKey: .seed)
        metrics = try c.decode([Metric: Double].self, forKey: .metrics)
        info = try c.decodeIfPresent([String: String].self, forKey: .info) ?? [:]
        predicted = try c.decodeIfPresent([Metric: Double].self, forKey: .predicted) ?? [:]
    }

    /// Writes the cell atomically as `folder/fileName`; returns the path.
    @discardableResult
    public func write(into folder: String) throws -> String {
        try validate()
        let path = URL(fileURLWithPath: folder).appendingPathComponent(fileName).path
        try AtomicFile.writeJSON(self, to: path)
        return path
    }

    public static func decode(_ data: Data, source: String) throws -> ConvergenceCell {
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let cell: ConvergenceCell
        do { cell = try dec.decode(ConvergenceCell.self, from: data) } catch {
            throw ExperimentError(field: source, rule: "is not a convergence cell: \(error)")
        }
        try cell.validate()
        return cell
    }

    /// Every `cell-*.json` file directly inside each folder, in folder order then file-name order.
    public static func load(folders: [String]) throws -> [ConvergenceCell] {
        var cells: [ConvergenceCell] = []
        for folder in folders {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
                throw ExperimentError(field: folder, rule: "cannot list the folder: \(error.localizedDescription)")
            }
            for name in names.sorted() where name.hasPrefix("cell-") && name.hasSuffix(".json") {
                let path = URL(fileURLWithPath: folder).appendingPathComponent(name).path
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ExperimentError(field: path, rule: "cannot be read")
                }
                cells.append(try decode(data, source: path))
            }
        }
        return cells
    }
}

/// Aggregated convergence table: one row per (regime, n_spl) with mean and spread over seeds, and a
/// fitted rate per (regime, metric). Built by a pure function of the set of cells.
public struct ConvergenceTable: Codable, Sendable, Equatable {
    /// Summary of one metric over the seeds of a row (finite values only).
    public struct Summary: Codable, Sendable, Equatable {
        public let count: Int
        public let mean: Double
        /// Sample standard deviation (n − 1 in the denominator; 0 for a single seed).
        public let sd: Double
        /// Standard error of the mean, sd/√count (0 for a single seed: no interval).
        public let se: Double
        public let min: Double
        public let max: Double
    }

    public struct Row: Codable, Sendable, Equatable {
        @SettingNamed public var regime: Regime
        public let nspl: Int
        /// Seeds of the cells in this row, increasing.
        public let seeds: [UInt64]
        public let metrics: [Metric: Summary]
        /// SPEC 6's predicted mean, averaged over the row's cells (each seed has its own latent variables).
        public let predicted: [Metric: Double]
    }

    /// Least-squares fit of log|mean metric| against log n_spl over the rows of a regime: the metric
    /// behaves like C·n_spl^slope. Rows whose mean is zero or not finite are left out.
    public struct Rate: Codable, Sendable, Equatable {
        @SettingNamed public var regime: Regime
        public let metric: Metric
        public let slope: Double
        /// NaN with only two points.
        public let slopeStandardError: Double
        /// log C.
        public let intercept: Double
        public let points: Int

        enum CodingKeys: String, CodingKey {
            case regime, metric, slope, intercept, points
            case slopeStandardError = "slope_standard_error"
        }
    }

    /// Union of the metrics present, sorted by name.
    public let metrics: [Metric]
    /// Regimes in table order (written by their setting names).
    public var regimes: [Regime] { regimeNames.map(\.wrappedValue) }
    let regimeNames: [SettingNamed]

    enum CodingKeys: String, CodingKey {
        case metrics, rows, rates, cells, duplicates
        case regimeNames = "regimes"
    }
    /// Rows by regime (in `regimes` order), then n_spl increasing.
    public let rows: [Row]
    public let rates: [Rate]
    /// The cells the table was built from, sorted by key, without duplicates.
    public let cells: [ConvergenceCell]
    /// Keys that appeared more than once with identical contents (kept once).
    public let duplicates: [ConvergenceCell.Key]

    /// Union of cells (from any number of shards): identical cells with the same key are kept once and
    /// listed in `duplicates`; cells with the same key and different contents are an error.
    public static func union(_ cells: [ConvergenceCell]) throws -> (cells: [ConvergenceCell], duplicates: [ConvergenceCell.Key]) {
        var byKey: [ConvergenceCell.Key: (cell: ConvergenceCell, text: String)] = [:]
        var dups: [ConvergenceCell.Key] = []
        for c in cells {
            try c.validate()
            let text = try JSONOutput.string(c)
            if let seen = byKey[c.key] {
                guard seen.text == text else {
                    throw ExperimentError(field: "cells", rule: "two different results for \(c.key): remove one before merging")
                }
                dups.append(c.key)
            } else {
                byKey[c.key] = (c, text)
            }
        }
        return (byKey.keys.sorted().map { byKey[$0]!.cell }, dups.sorted())
    }

    /// The table of a set of cells. Order of the input does not matter.
    public static func build(cells input: [ConvergenceCell]) throws -> ConvergenceTable {
        let (cells, dups) = try union(input)
        let names = Set(cells.flatMap { $0.metrics.keys }).sorted()
        let present = Set(cells.map(\.regime))
        let regimes = present.sorted()
        var rows: [Row] = []
        var rates: [Rate] = []
        for regime in regimes {
            let mine = cells.filter { $0.regime == regime }
            let sizes = Set(mine.map(\.nspl)).sorted()
            var regimeRows: [Row] = []
            for n in sizes {
                let group = mine.filter { $0.nspl == n }  // sorted by seed (cells are sorted by key)
                var summaries: [Metric: Summary] = [:]
                for name in names {
                    let v = group.compactMap { $0.metrics[name] }.filter(\.isFinite)
                    if let s = summarise(v) { summaries[name] = s }
                }
                var predicted: [Metric: Double] = [:]
                for name in Set(group.flatMap { $0.predicted.keys }) {
                    let v = group.compactMap { $0.predicted[name] }.filter(\.isFinite)
                    if v.count == group.count { predicted[name] = v.reduce(0, +) / Double(v.count) }
                }
                regimeRows.append(Row(regime: regime, nspl: n, seeds: group.map(\.seed), metrics: summaries, predicted: predicted))
            }
            rows += regimeRows
            for name in names {
                let pts = regimeRows.compactMap { r -> (Double, Double)? in
                    guard let m = r.metrics[name]?.mean, m != 0, m.isFinite else { return nil }
                    return (log(Double(r.nspl)), log(abs(m)))
                }
                guard pts.count >= 2, let fit = try? LinearFit.fit(x: pts.map(\.0), y: pts.map(\.1)) else { continue }
                rates.append(
                    Rate(
                        regime: regime, metric: name, slope: fit.slope,
                        slopeStandardError: pts.count > 2 ? fit.slopeStandardError : .nan,
                        intercept: fit.intercept, points: pts.count))
            }
        }
        return ConvergenceTable(
            metrics: names, regimeNames: regimes.map(SettingNamed.init(wrappedValue:)), rows: rows, rates: rates, cells: cells,
            duplicates: dups)
    }

    /// The metrics that have a prediction in some row.
    public var predictedMetrics: Set<Metric> { Set(rows.flatMap { $0.predicted.keys }) }

    static func summarise(_ v: [Double]) -> Summary? {
        guard !v.isEmpty else { return nil }
        let mean = v.reduce(0, +) / Double(v.count)
        let sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot() : 0
        return Summary(count: v.count, mean: mean, sd: sd, se: sd / Double(v.count).squareRoot(), min: v.min()!, max: v.max()!)
    }

    /// The fitted rate of a metric in a regime, if any.
    public func rate(regime: Regime, metric: Metric) -> Rate? {
        rates.first { $0.regime == regime && $0.metric == metric }
    }

    // MARK: Output

    static func number(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.6g", x)
    }

    static func short(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "∞" : "−∞" }
        return String(format: "%.3g", x)
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Wide CSV: regime, nspl, seeds, then `<metric>_mean`, `<metric>_sd`, `<metric>_n` for every metric
    /// (empty when the metric is missing in that row).
    public var csv: String {
        var header = ["regime", "nspl", "seeds"]
        let withPrediction = predictedMetrics
        for m in metrics {
            header += ["\(m.rawValue)_mean", "\(m.rawValue)_sd", "\(m.rawValue)_se", "\(m.rawValue)_n"]
            if withPrediction.contains(m) { header.append("\(m.rawValue)_predicted") }
        }
        var lines = [header.map(Self.csvField).joined(separator: ",")]
        for r in rows {
            var f = [Self.csvField(r.regime.settingName), String(r.nspl), String(r.seeds.count)]
            for m in metrics {
                if let s = r.metrics[m] {
                    f += [Self.number(s.mean), Self.number(s.sd), Self.number(s.se), String(s.count)]
                } else {
                    f += ["", "", "", ""]
                }
                if withPrediction.contains(m) { f.append(r.predicted[m].map(Self.number) ?? "") }
            }
            lines.append(f.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Markdown: one table per regime, rows n_spl with "mean ± sd" cells, then the fitted rate row
    /// ("slope ± standard error" of log metric against log n_spl).
    public var markdown: String {
        var out = "# Convergence table\n\n"
        out += "Mean ± standard error of the mean over seeds (one seed: the value alone); where SPEC 6 predicts a metric's mean "
        out += "(coefficient / N, N = K·n_spl), the prediction follows in brackets. The last row of each table is the least-squares "
        out += "slope of log|mean| against log n_spl (± its standard error), i.e. the metric behaves like n_spl^slope.\n"
        for regime in regimes {
            let mine = rows.filter { $0.regime == regime }
            let cols = metrics.filter { m in mine.contains { $0.metrics[m] != nil } }
            out += "\n## \(regime.settingName)\n\n"
            out += "| n_spl | seeds | " + cols.map(\.rawValue).joined(separator: " | ") + " |\n"
            out += "|---:|---:|" + String(repeating: "---:|", count: cols.count) + "\n"
            for r in mine {
                let cells = cols.map { m -> String in
                    guard let s = r.metrics[m] else { return "" }
                    let value = s.count > 1 ? "\(Self.short(s.mean)) ± \(Self.short(s.se))" : Self.short(s.mean)
                    return value + (r.predicted[m].map { " [\(Self.short($0))]" } ?? "")
                }
                out += "| \(r.nspl) | \(r.seeds.count) | " + cells.joined(separator: " | ") + " |\n"
            }
            let rateCells = cols.map { m -> String in
                guard let r = rate(regime: regime, metric: m) else { return "" }
                return r.slopeStandardError.isNaN
                    ? String(format: "%.2f", r.slope)
                    : String(format: "%.3f ± %.2g", r.slope, r.slopeStandardError)
            }
            out += "| rate | | " + rateCells.joined(separator: " | ") + " |\n"
        }
        let checks = cells.compactMap { c in c.info["start_check"].map { (c, $0) } }
        if !checks.isEmpty {
            out += "\n## Start check (full batch: from θ* and from the reference initialisation, same training set)\n\n"
            for (c, verdict) in checks.sorted(by: { ($0.0.regime.rawValue, $0.0.nspl) < ($1.0.regime.rawValue, $1.0.nspl) }) {
                let ratio = c.info["reference_start_nc1_ratio"].flatMap(Double.init).map(Self.short) ?? "?"
                out +=
                    "- \(c.regime.settingName), n_spl \(c.nspl), seed \(c.seed): \(verdict) (from the reference start: nc1_ratio \(ratio), "
                out += "‖∇‖ \(c.info["reference_start_gradient_norm"].flatMap(Double.init).map(Self.short) ?? "?"))\n"
            }
        }
        let verdicts = finiteSampleVerdicts
        if !verdicts.isEmpty {
            out += "\n## P6: measured against predicted (SPEC 6)\n\n"
            out += "Criterion, fixed in code (`FiniteSampleCriterion`): the smallest n_spl calibrates the next term of the expansion; "
            out += "at every larger n_spl, |mean − predicted| ≤ 3 SE + B(N) with B(N) the calibration's discrepancy plus 2 SE, "
            out += "scaled by (N_cal/N)². Judged only with at least 3 seeds per n_spl.\n\n"
            for v in verdicts {
                out += "- \(v.regime.settingName), \(v.metric.rawValue): \(v.holds ? "holds" : "**does not hold**") — "
                out += v.judged.map { FiniteSampleCriterion.describe("", $0).trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
                out += "\n"
            }
        }
        if !duplicates.isEmpty {
            out += "\nDuplicate cells kept once: " + duplicates.map(\.description).joined(separator: "; ") + ".\n"
        }
        return out
    }

    /// SPEC 6's verdict for one (regime, metric) of the table.
    public struct FiniteSampleVerdict: Sendable {
        public var regime: Regime
        public var metric: Metric
        public var judged: [FiniteSampleCriterion.Judged]
        public var holds: Bool { judged.allSatisfy(\.holds) }
    }

    /// For every regime and metric with a predicted mean at every n_spl and at least 3 seeds per n_spl: the P6 criterion
    /// (``FiniteSampleCriterion``), the smallest n_spl calibrating the next term (K is fixed within a regime, so
    /// N_cal/N = n_spl,cal/n_spl).
    public var finiteSampleVerdicts: [FiniteSampleVerdict] {
        var out: [FiniteSampleVerdict] = []
        for regime in regimes {
            let mine = rows.filter { $0.regime == regime }.sorted { $0.nspl < $1.nspl }
            // At least 3 seeds per size: a standard error with at least 2 degrees of freedom behind each judged point (with 2
            // it rests on one difference); the count is fixed by the sweep's plan before the run.
            guard mine.count >= 2, mine.allSatisfy({ $0.seeds.count >= 3 }) else { continue }
            for m in metrics where mine.allSatisfy({ $0.predicted[m] != nil && $0.metrics[m] != nil }) {
                // Only the ratio N_cal/N enters the criterion, and it equals n_spl,cal/n_spl within a regime.
                let points = mine.map { r in
                    FiniteSampleCriterion.Point(
                        nspl: r.nspl, sentences: r.nspl, mean: r.metrics[m]!.mean, se: r.metrics[m]!.se, predicted: r.predicted[m]!)
                }
                out.append(
                    FiniteSampleVerdict(
                        regime: regime, metric: m, judged: FiniteSampleCriterion.judge(Array(points.dropFirst()), calibration: points[0])))
            }
        }
        return out
    }

    /// Writes convergence.csv, convergence.json and convergence.md into `folder`, each atomically.
    public func write(into folder: String) throws {
        let dir = URL(fileURLWithPath: folder)
        try AtomicFile.write(csv, to: dir.appendingPathComponent("convergence.csv").path)
        try AtomicFile.writeJSON(self, to: dir.appendingPathComponent("convergence.json").path)
        try AtomicFile.write(markdown, to: dir.appendingPathComponent("convergence.md").path)
    }
}
