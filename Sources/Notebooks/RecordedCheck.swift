import Foundation

/// The verdict on one assertion (or on a command cell's recorded exit status) of `check --recorded`.
public struct RecordedVerdict: Sendable, CustomStringConvertible {
    public enum State: Sendable, Equatable {
        case holds
        case fails(String)
        /// Not a failure, but listed: the record does not hold what the assertion needs.
        case cannotBeChecked(String)
    }

    public let file: String
    /// The assertion's line, or the command cell's opening line for a verdict on the cell itself.
    public let line: Int
    public let cell: Int
    public let cellLine: Int
    /// The filter as written (nil for a verdict on the cell's exit status).
    public let assertion: String?
    public let mode: Assertion.Mode?
    public let state: State

    public var description: String {
        let what = assertion.map { "assertion `\(mode.map { $0 == .always ? "" : $0.rawValue + ": " } ?? "")\($0)`" } ?? "the command"
        let head = "\(file):\(line): cell \(cell) (line \(cellLine)): \(what)"
        switch state {
        case .holds: return head + ": holds"
        case .fails(let why): return head + ": FAILS: " + why
        case .cannotBeChecked(let why): return head + ": cannot be checked: " + why
        }
    }
}

/// What `check --recorded` found in one notebook.
public struct RecordedCheck: Sendable {
    public let path: String
    public let verdicts: [RecordedVerdict]
    public var failures: [RecordedVerdict] { verdicts.filter { if case .fails = $0.state { true } else { false } } }
    public var unchecked: [RecordedVerdict] { verdicts.filter { if case .cannotBeChecked = $0.state { true } else { false } } }
    public var holding: [RecordedVerdict] { verdicts.filter { $0.state == .holds } }
}

extension NotebookRunner {
    /// Checks the assertions against the outputs recorded in the notebook, running nothing.
    ///
    /// Each command cell's record is its output cell (exit status, scale, text), or the whole output
    /// that its marker line names (`WholeOutput`). A full-scale record is checked with the
    /// assertions that apply at full scale (those without a prefix and the `full:` ones), a quick
    /// record with the quick ones; the `full:` assertions of a quick record are listed as not
    /// checkable. The filters read `.` from the JSON of the recorded text (both streams together:
    /// the record does not keep them apart), `$output` and `$exit`; those reading `$stdout` or
    /// `$stderr` cannot be checked. An output cell that is only an excerpt (a marker line naming no
    /// file: recorded before whole outputs were kept) cannot be checked either; that is listed, not
    /// counted as a failure. A missing or inconsistent whole-output file, a recorded non-zero exit
    /// that no assertion expects and a timed-out record are failures.
    public static func checkRecorded(_ nb: Notebook) throws -> RecordedCheck {
        var verdicts: [RecordedVerdict] = []
        var jq: String?
        for cell in nb.cells {
            func verdict(_ a: Assertion?, _ s: RecordedVerdict.State) -> RecordedVerdict {
                RecordedVerdict(
                    file: nb.path, line: a?.line ?? cell.openLine, cell: cell.index, cellLine: cell.openLine,
                    assertion: a?.text, mode: a?.mode, state: s)
            }
            guard let o = cell.output else {
                for a in cell.assertions where a.mode != .quick {
                    verdicts.append(verdict(a, .cannotBeChecked("the cell has no recorded output")))
                }
                continue
            }
            let active = cell.assertions.filter { $0.applies(quick: o.quick) }
            if o.quick {
                for a in cell.assertions where a.mode == .full {
                    verdicts.append(verdict(a, .cannotBeChecked("the recorded output comes from a quick run")))
                }
            }

            // The recorded text: the output cell, or the whole output its marker names.
            var lines = splitLines(o.text)
            var excerpt: String?
            var broken: String?
            if let marker = lines.lazy.compactMap(WholeOutput.parseMarker).first {
                if let f = marker.file {
                    let url = WholeOutput.url(f, notebook: nb.path)
                    do {
                        let (h, whole) = try WholeOutput.read(url)
                        if h.exitCode != o.exitCode || h.quick != o.quick || h.timedOut != o.timedOut || h.lineCount != marker.total {
                            broken =
                                "the whole output \(f) (exit \(h.exitCode)\(h.quick ? ", quick" : ""), \(h.lineCount) lines) does not match "
                                + "its output cell (exit \(o.exitCode.map(String.init) ?? "?")\(o.quick ? ", quick" : ""), \(marker.total) lines): a stale file?"
                        }
                        lines = whole
                    } catch {
                        broken = "the output cell refers to \(f), which cannot be read: \(error)"
                    }
                } else {
                    excerpt =
                        "the recorded output is an excerpt (\(lines.count - 1) of \(marker.total) lines; it was stored before whole outputs were kept)"
                }
            }
            if let b = broken {
                verdicts.append(verdict(nil, .fails(b)))
                for a in active { verdicts.append(verdict(a, .cannotBeChecked(b))) }
                continue
            }
            if o.timedOut {
                verdicts.append(verdict(nil, .fails("the recorded run was stopped at its timeout")))
            } else if let code = o.exitCode, code != 0, !active.contains(where: \.readsExit) {
                verdicts.append(verdict(nil, .fails("the recorded exit status is \(code) and no assertion reads `$exit`")))
            }
            if let e = excerpt {
                for a in active { verdicts.append(verdict(a, .cannotBeChecked(e))) }
                continue
            }
            let text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
            var check: JQCheck?
            for a in active {
                if a.readsStreams {
                    verdicts.append(verdict(a, .cannotBeChecked("it reads $stdout or $stderr, which the record does not keep apart")))
                    continue
                }
                if a.readsExit && o.exitCode == nil {
                    verdicts.append(verdict(a, .cannotBeChecked("the output cell does not record the exit status (exit=N)")))
                    continue
                }
                if check == nil {
                    if jq == nil {
                        do { jq = try JQ.locate() } catch { throw NotebookError(file: nb.path, line: 0, message: "\(error)") }
                    }
                    let recorded = CellOutput(exitCode: o.exitCode ?? 0, output: text, stdout: text, stderr: "")
                    check = try JQCheck(recorded, json: JSONExtraction.json(in: text), jq: jq!)
                }
                if let why = try check!.failure(of: a) {
                    verdicts.append(verdict(a, .fails(why)))
                } else {
                    verdicts.append(verdict(a, .holds))
                }
            }
        }
        return RecordedCheck(path: nb.path, verdicts: verdicts)
    }
}
