import DissectAnalysis
import DissectStudy
import Foundation

/// A table of plain-text cells, rendered both as HTML and as Markdown.
struct ReportTable {
    var header: [String]
    var rows: [[String]]
    /// Columns aligned right with tabular digits.
    var numeric: Set<Int> = []
    /// A column whose cells are verdicts, drawn as badges on the page.
    var verdictColumn: Int?
    /// A CSS class for the table ("f1", "compact": no wrapping inside cells).
    var tableClass: String?
    /// Columns shown in a monospace face (commands, paths).
    var code: Set<Int> = []
    /// A CSS class per row (e.g. "mean", "paper"); missing or nil means none.
    var rowClasses: [String?] = []
    /// Lines under the table.
    var notes: [String] = []

    var markdown: String {
        var text = MarkdownReport.table(
            header: header, rows: rows, alignments: header.indices.map { numeric.contains($0) ? .right : .left })
        for note in notes { text += "\n" + note + "\n" }
        return text
    }

    var html: String {
        // A table with an empty header is a key–value list: no header row.
        let keyValue = header.allSatisfy(\.isEmpty)
        let classes = ([keyValue ? "keys" : nil, tableClass].compactMap { $0 }).joined(separator: " ")
        var text = "<div class=\"table-wrap\"><table" + (classes.isEmpty ? "" : " class=\"\(classes)\"") + ">\n"
        if !keyValue { text += "<thead><tr>" }
        if !keyValue {
            for (index, cell) in header.enumerated() {
                text += numeric.contains(index) ? "<th class=\"num\">" : "<th>"
                text += ReproduceHTML.escape(cell) + "</th>"
            }
            text += "</tr></thead>\n"
        }
        text += "<tbody>\n"
        for (rowIndex, row) in rows.enumerated() {
            let rowClass = rowIndex < rowClasses.count ? rowClasses[rowIndex] : nil
            text += rowClass.map { "<tr class=\"\(ReproduceHTML.escape($0))\">" } ?? "<tr>"
            for (index, cell) in row.enumerated() {
                if index == verdictColumn, let verdict = Verdict(rawValue: cell) {
                    text += "<td>\(ReproduceHTML.badge(verdict))</td>"
                } else if code.contains(index) {
                    text += "<td><code>" + ReproduceHTML.escape(cell) + "</code></td>"
                } else {
                    text += numeric.contains(index) ? "<td class=\"num\">" : "<td>"
                    text += ReproduceHTML.escape(cell) + "</td>"
                }
            }
            text += "</tr>\n"
        }
        text += "</tbody>\n</table></div>\n"
        for note in notes { text += "<p class=\"note\">\(ReproduceHTML.escape(note))</p>\n" }
        return text
    }
}

enum ReproduceTables {
    typealias N = ReproduceNumbers

    static func claims(_ claims: [Claim]) -> ReportTable {
        ReportTable(
            header: ["Claim", "Evidence (this run)", "Verdict"],
            rows: claims.map { [$0.claim, $0.evidence, $0.verdict.rawValue] }, verdictColumn: 2)
    }

    /// F1 by both scorers: the paper's number, each seed, mean ± sd, and the reference rows.
    static func f1(_ summary: ReproduceSummary) -> ReportTable {
        let reported = summary.paper?.reportedF1 ?? 86.4
        var rows: [[String]] = [[
            "Paper (Xin, Lin & Yu 2019): LSTM + linear", N.fixed(reported, 1) + " †", "–", N.fixed(reported, 1) + " †", "–", "–", "–",
            "reported in Section 3.2, NCRF++'s scorer",
        ]]
        var classes: [String?] = ["paper"]
        for seed in summary.seeds {
            let record = seed.record
            rows.append([
                N.seedName(seed.seed) + (seed.reused ? " (reused)" : ""),
                N.fixed(N.percent(record.devF1NCRF)), N.fixed(N.percent(record.devF1)),
                N.fixed(N.percent(record.testF1NCRF)), N.fixed(N.percent(record.testF1)),
                "\(record.bestEpoch) of \(record.epochs)", N.fixed(record.seconds, 0), seed.directory,
            ])
            classes.append(nil)
        }
        if summary.seeds.count > 1 {
            func summary_(_ values: [Double?]) -> String {
                let defined = values.compactMap { N.percent($0) }
                guard let mean = N.mean(defined) else { return "–" }
                return N.fixed(mean) + (N.sd(defined).map { " ± " + N.fixed($0) } ?? "")
            }
            let records = summary.seeds.map(\.record)
            rows.append([
                "mean ± sd over \(summary.seeds.count) seeds",
                summary_(records.map(\.devF1NCRF)), summary_(records.map(\.devF1)),
                summary_(records.map(\.testF1NCRF)), summary_(records.map(\.testF1)),
                N.fixed(N.mean(records.map { Double($0.bestEpoch) }), 1),
                N.fixed(N.mean(records.map(\.seconds)), 0), "",
            ])
            classes.append("mean")
        }
        for reference in summary.references {
            rows.append([
                reference.name, N.fixed(N.percent(reference.devF1NCRF)), N.fixed(N.percent(reference.devF1)),
                N.fixed(N.percent(reference.testF1NCRF)), N.fixed(N.percent(reference.testF1)), "–", "–", reference.provenance,
            ])
            classes.append("reference")
        }
        return ReportTable(
            header: ["Model", "dev F1 (NCRF++)", "dev F1 (conlleval)", "test F1 (NCRF++)", "test F1 (conlleval)", "best epoch", "training s", "checkpoint / provenance"],
            rows: rows, numeric: [1, 2, 3, 4, 5, 6], tableClass: "f1", rowClasses: classes,
            notes: [
                "† The paper reports a single F1, 86.4, for the checkpoint chosen by dev F1, by NCRF++'s scorer, without saying whether it is on dev or test; it is shown under both. "
                    + "(The same toolkit's BiLSTM-CRF scores 89.5, Yang et al. 2018.) F1 is in percent; NCRF++'s scorer and conlleval differ in how they treat ill-formed I- chunks.",
            ])
    }

    /// The ablation numbers behind claims (b) and (c); `seedColumn` false for a single seed's table.
    static func ablation(_ rows: [ReproduceNumbers.AblationRow], seedColumn: Bool = true) -> ReportTable {
        let k = rows.map(\.k).min().map(String.init) ?? "k"
        let kMax = rows.map(\.kMax).max().map(String.init) ?? "K"
        var header = ["Mode", "Ranking", "ranked", "pair partner", "others", "random mean", "random worst 5%", "all tokens", "ranked drops most",
                      "ranked at \(kMax)", "random mean at \(kMax)", "all tokens at \(kMax)"]
        if seedColumn { header.insert("Seed", at: 0) }
        let offset = seedColumn ? 1 : 0
        return ReportTable(
            header: header,
            rows: rows.map { row in
                var cells = [
                    row.mode.rawValue, row.ranking, N.fixed(row.ranked, 1),
                    row.partners.map { "\($0.label) \(N.fixed($0.drop, 1))" }.joined(separator: ", "),
                    N.fixed(row.others, 1), N.fixed(row.randomMean, 1), N.fixed(row.randomWorst, 1), N.fixed(row.all, 2),
                    row.holds.map { $0 ? "yes" : "no" } ?? "–",
                    N.fixed(row.rankedAtMax, 1), N.fixed(row.randomMeanAtMax, 1), N.fixed(row.allAtMax, 2),
                ]
                if seedColumn { cells.insert(String(row.seed), at: 0) }
                return cells
            },
            numeric: Set([2, 4, 5, 6, 7, 9, 10, 11].map { $0 + offset }), tableClass: "compact",
            notes: ["Accuracy lost in points (accuracy at k = 0 minus accuracy at k, on test) after ablating the first \(k) neurons of a ranking, "
                + "and (last three columns) the first \(kMax). \"Random\" is the ranked label's loss when neurons are ablated in random order: "
                + "the mean over the orders, and the worst 5% of orders (the 5th percentile of accuracy: the far edge of the grey band). "
                + "\"Ranked drops most\": the ranked label loses more than its pair partner, \"others\" and the random mean."])
    }

    /// The correlation entries behind claims (d)–(g): per model, mean, and the paper's.
    static func patterns(_ document: CorrelationDocument) -> ReportTable {
        var rows: [[String]] = []
        for pattern in N.patterns {
            for pair in pattern.pairs {
                var row = ["(\(pattern.letter)) " + (pattern.positive ? "> 0" : "< 0"), "\(pair.0) / \(pair.1)"]
                row += document.models.map { N.signed(N.entry($0, pair.0, pair.1)) }
                row.append(N.signed(N.mean(document.models.compactMap { N.entry($0, pair.0, pair.1) })))
                if let reference = document.reference { row.append(N.signed(N.entry(reference, pair.0, pair.1))) }
                rows.append(row)
            }
        }
        var header = ["Pattern", "Labels"] + document.models.map(\.name) + ["mean"]
        if document.reference != nil { header.append("paper") }
        return ReportTable(header: header, rows: rows, numeric: Set(2..<header.count))
    }

    /// Mean pairwise similarity, each pair, and each model against the paper, dev and test side by side.
    static func similarity(_ summary: ReproduceSummary) -> ReportTable {
        let dev = summary.correlationDev.similarity, test = summary.correlationTest.similarity
        var rows: [[String]] = [["mean over model pairs", N.fixed(dev.meanPairwise), N.fixed(test.meanPairwise)]]
        var classes: [String?] = ["mean"]
        for pair in dev.pairs {
            let other = test.pairs.first { $0.first == pair.first && $0.second == pair.second }
            rows.append(["\(pair.first) vs \(pair.second)", N.fixed(pair.similarity), N.fixed(other?.similarity)])
            classes.append(nil)
        }
        for item in dev.againstReference {
            let other = test.againstReference.first { $0.model == item.model }
            rows.append(["\(item.model) vs the paper", N.fixed(item.similarity), N.fixed(other?.similarity)])
            classes.append("paper")
        }
        return ReportTable(
            header: ["Matrices compared", "dev", "test"], rows: rows, numeric: [1, 2], rowClasses: classes,
            notes: ["Similarity is Pearson's r between the off-diagonal entries of two label-correlation matrices (1: same pattern)."])
    }

    /// Dev-vs-test ranking agreement, label × model: Spearman's rho and top-10 overlap.
    static func agreement(_ agreements: [RankingAgreement], labels: [String]) -> ReportTable {
        var models: [String] = []
        for item in agreements where !models.contains(item.model) { models.append(item.model) }
        var order = labels.filter { label in agreements.contains { $0.label == label } }
        for item in agreements where !order.contains(item.label) { order.append(item.label) }
        var rows: [[String]] = order.map { label in
            [label] + models.map { model in
                guard let item = agreements.first(where: { $0.model == model && $0.label == label }) else { return "–" }
                return "\(N.fixed(item.spearman)) · \(item.topTenOverlap)/10"
            }
        }
        rows.append(["mean"] + models.map { model in
            let items = agreements.filter { $0.model == model }
            let rho = N.mean(items.compactMap(\.spearman))
            let overlap = N.mean(items.map { Double($0.topTenOverlap) })
            return "\(N.fixed(rho)) · \(N.fixed(overlap, 1))/10"
        })
        return ReportTable(
            header: ["Label"] + models, rows: rows, numeric: Set(1...max(1, models.count)),
            rowClasses: Array(repeating: nil, count: order.count) + ["mean"],
            notes: ["Each cell: Spearman's rho between the label's sensitivities on dev and on test · neurons shared by the two top-10 lists."])
    }

    static func run(_ summary: ReproduceSummary) -> ReportTable {
        let run = summary.run
        var rows: [[String]] = [
            ["Command", run.command],
            ["Seeds", summary.seeds.map { String($0.seed) + ($0.reused ? " (reused checkpoint)" : "") }.joined(separator: ", ")],
            ["dissect version", run.dissectVersion],
            ["Swift", run.swiftVersion],
            ["Date", run.date],
            ["Machine", run.machine],
            ["Training file", run.trainFile],
            ["Dev file", run.devFile],
            ["Test file", run.testFile],
            ["Embeddings", run.embeddingsFile ?? "none (random initialisation)"],
        ]
        for seed in summary.seeds { rows.append(["Checkpoint, \(N.seedName(seed.seed))", seed.directory]) }
        if let document = summary.correlationDev.referencePath { rows.append(["Paper's figures", document]) }
        return ReportTable(header: ["", ""], rows: rows, code: [1])
    }

    static func timings(_ run: RunInformation) -> ReportTable {
        var rows = run.timings.map { [$0.step, N.fixed($0.seconds, 1), durationText($0.seconds)] }
        rows.append(["total", N.fixed(run.totalSeconds, 1), durationText(run.totalSeconds)])
        return ReportTable(
            header: ["Step", "seconds", ""], rows: rows, numeric: [1, 2],
            rowClasses: Array(repeating: nil, count: run.timings.count) + ["mean"])
    }

    static func durationText(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "" }
        let total = Int(seconds.rounded())
        let hours = total / 3600, minutes = (total % 3600) / 60, rest = total % 60
        if hours > 0 { return "\(hours) h \(minutes) min" }
        if minutes > 0 { return "\(minutes) min \(rest) s" }
        return ""
    }
}
