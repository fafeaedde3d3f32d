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

    /// Every claim with its rule, evidence and verdict; robustness rows marked (class "robustness").
    static func claims(_ claims: [Claim]) -> ReportTable {
        ReportTable(
            header: ["Claim", "Rule (fixed before the data)", "Evidence (this run)", "Verdict"],
            rows: claims.map { [($0.robustness ? "↳ " : "") + $0.claim, $0.rule, $0.evidence, $0.verdict.rawValue] }, verdictColumn: 3,
            rowClasses: claims.map { $0.robustness ? "robustness" : nil },
            notes: claims.contains(where: \.robustness)
                ? ["↳ Robustness rows judge claim (b) by the same rule with another ablation value; they are not claims of the paper and are not counted among them."]
                : [])
    }

    /// F1 by both scorers: the paper's number, each seed, mean ± sd, and the reference rows.
    static func f1(_ summary: ReproduceSummary) -> ReportTable {
        let reported = summary.paper?.reportedF1 ?? N.paperF1
        // study runs on another corpus: the paper's F1 is no reference there.
        let withPaper = summary.task?.kind != .study
        var rows: [[String]] = withPaper ? [[
            "Paper (Xin, Lin & Yu 2019): LSTM + linear", N.fixed(reported, 1) + " †", "–", N.fixed(reported, 1) + " †", "–", "–", "–",
            "reported in Section 3.2, NCRF++'s scorer",
        ]] : []
        var classes: [String?] = withPaper ? ["paper"] : []
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
            notes: !withPaper ? ["F1 is in percent; NCRF++'s scorer and conlleval differ in how they treat ill-formed I- chunks."] : [
                "† The paper reports a single F1, 86.4, for the checkpoint chosen by dev F1, by NCRF++'s scorer, without saying whether it is on dev or test; it is shown under both. "
                    + "(The same toolkit's BiLSTM-CRF scores 89.5, Yang et al. 2018.) F1 is in percent; NCRF++'s scorer and conlleval differ in how they treat ill-formed I- chunks.",
            ])
    }

    /// The ablation numbers behind claims (b) and (c), case by case; `seedColumn` false for a single seed's table.
    static func ablation(_ rows: [ReproduceNumbers.AblationRow], seedColumn: Bool = true) -> ReportTable {
        let k = rows.map(\.k).min().map(String.init) ?? "k"
        let kMax = rows.map(\.kMax).max().map(String.init) ?? "K"
        let showValue = rows.contains { $0.value != .zero }
        var header = ["Mode", "Ranking", "ranked", "pair partner", "others", "random mean", "random bar", "(b) passes",
                      "all tokens", "share of test %", "(c) bar", "(c) passes", "ranked at \(kMax)", "random mean at \(kMax)", "all tokens at \(kMax)"]
        var numeric = Set([2, 4, 5, 6, 8, 9, 10, 12, 13, 14])
        func yesNo(_ value: Bool?) -> String { value.map { $0 ? "yes" : "no" } ?? "–" }
        var prefix = 0
        if showValue { header.insert("Value", at: 1) }
        if seedColumn { header.insert("Seed", at: 0) }
        prefix = (showValue ? 1 : 0) + (seedColumn ? 1 : 0)
        numeric = Set(numeric.map { $0 + prefix })
        return ReportTable(
            header: header,
            rows: rows.map { row in
                var cells = [
                    row.mode.rawValue, row.ranking, N.fixed(row.ranked, 1),
                    row.partners.map { "\($0.label) \(N.fixed($0.drop, 1))" }.joined(separator: ", "),
                    N.fixed(row.others, 1), N.fixed(row.randomMean, 1),
                    N.fixed(row.randomBar, 1) + (row.bar.map { $0 == .percentile95 ? " (p95)" : " (max)" } ?? ""),
                    yesNo(row.passesB),
                    N.fixed(row.all, 2), N.fixed(row.share.map { $0 * 100 }, 1), N.fixed(row.overallBound, 2), yesNo(row.passesC),
                    N.fixed(row.rankedAtMax, 1), N.fixed(row.randomMeanAtMax, 1), N.fixed(row.allAtMax, 2),
                ]
                if showValue { cells.insert(row.value.rawValue, at: 1) }
                if seedColumn { cells.insert(String(row.seed), at: 0) }
                return cells
            },
            numeric: numeric, tableClass: "compact",
            rowClasses: rows.map { $0.value == .zero ? nil : "robustness" },
            notes: ["Accuracy lost in points (accuracy at k = 0 minus accuracy at k, on test) after ablating the first \(k) neurons of a ranking, "
                + "and (last three columns) the first \(kMax). \"Random bar\" is the ranked label's drop that the random orders reach: "
                + "their 95th percentile (p95, with at least \(N.percentileOrders) orders) or their largest (max, with fewer). "
                + "\"(b) passes\": the ranked label loses more than the random bar and than each pair partner. "
                + "\"(c) bar\": the ranked label's share of the test tokens × its drop + the random orders' overall loss (same statistic); "
                + "\"(c) passes\": the loss over all tokens stays within it."])
    }

    /// "+0.60 [+0.41, +0.77]", or the value alone without an interval.
    static func withInterval(_ r: Double?, _ lower: Double?, _ upper: Double?) -> String {
        guard let lower, let upper else { return N.signed(r) }
        return "\(N.signed(r)) [\(N.signed(lower)), \(N.signed(upper))]"
    }

    /// The correlation entries behind claims (d)–(g): per model with its bootstrap interval over
    /// neurons, the mean with its interval across seeds, whether the pair agrees, and the paper's.
    static func patterns(_ document: CorrelationDocument) -> ReportTable {
        var rows: [[String]] = []
        let patterns = N.patterns(labels: document.labels)
        for pattern in patterns where pattern.untestable == nil {
            let result = N.evaluate(pattern, document.models)
            for item in result.pairs {
                let pair = item.pair
                var row = ["(\(pattern.letter)) " + (pattern.positive ? "> 0" : "< 0"), "\(pair.0) / \(pair.1)"]
                row += document.models.map { model in
                    let interval = N.bootstrapInterval(model, pair.0, pair.1)
                    return withInterval(N.entry(model, pair.0, pair.1), interval?.lower, interval?.upper)
                }
                row.append(withInterval(item.r, item.lower, item.upper))
                row.append(item.agrees.map { $0 ? "yes" : "no" } ?? "–")
                if let reference = document.reference { row.append(N.signed(N.entry(reference, pair.0, pair.1))) }
                rows.append(row)
            }
        }
        let across = document.models.count >= 2
        var header = ["Pattern", "Labels"] + document.models.map(\.name) + [across ? "mean [across seeds]" : "r [bootstrap]", "agrees"]
        if document.reference != nil { header.append("paper") }
        var notes = ["Each model's r with its \(N.fixed(N.intervalLevel * 100, 0)) % bootstrap interval over neurons (rows of its sensitivity matrix resampled"
            + (document.models.first?.bootstrap.map { ", \($0.resamples) resamples" } ?? "; none in this summary") + "); "
            + (across ? "the mean over the \(document.models.count) models with mean ± t(0.975, \(document.models.count - 1)) · sd / √\(document.models.count). "
                      : "with one model, its bootstrap interval is the one judged. ")
            + "A pair agrees when the judged interval lies wholly on the expected side of 0 and |r| ≥ \(N.fixed(N.clearCorrelation))."]
        if let reason = patterns.compactMap(\.untestable).first, rows.isEmpty { notes = [reason.prefix(1).uppercased() + reason.dropFirst() + "."] }
        return ReportTable(header: header, rows: rows, numeric: Set(2..<header.count).subtracting([header.count - (document.reference != nil ? 2 : 1)]),
                           notes: notes)
    }

    /// Per seed: the share of sensitivity cells that are findings, and each label's top-10 stability.
    static func confidence(_ rows: [ReproduceNumbers.Confidence], labels: [String]) -> ReportTable {
        ReportTable(
            header: ["Model", "findings", "resamples", "permutations"] + labels.map { "\($0) top 10" },
            rows: rows.map { row in
                let findings = row.findings.map { count in
                    "\(count) of \(row.defined ?? 0) (\(N.fixed(row.findingShare.map { $0 * 100 }, 1)) %)"
                } ?? "–"
                return [row.name, findings, row.resamples.map(String.init) ?? "–", row.permutations.map(String.init) ?? "–"]
                    + labels.map { label in N.fixed(row.stability.first { $0.label == label }?.value ?? nil, 2) }
            },
            numeric: Set(1..<(4 + labels.count)), tableClass: "compact",
            notes: (rows.compactMap(\.rule).first.map { ["A cell is a finding when: " + $0 + "."] } ?? [])
                + ["Top 10: the mean Jaccard overlap of each bootstrap resample's top 10 neurons for the label with the full sample's (1: always the same ten)."])
    }

    /// The real models beside the control-task models, and selectivity = real − control.
    static func controls(_ rows: [ReproduceNumbers.ControlRow]) -> ReportTable {
        ReportTable(
            header: ["Measure", "Label", "real models", "control models", "selectivity (real − control)"],
            rows: rows.map { [$0.measure, $0.label, N.fixed($0.real, 1), N.fixed($0.control, 1), N.signed($0.selectivity, 1)] },
            numeric: [2, 3, 4], tableClass: "compact",
            notes: ["Means over seeds. Findings: as in \"How sure\". " + N.concentrationDefinition.prefix(1).uppercased()
                + N.concentrationDefinition.dropFirst() + ". Ranked drop: the ranked label's accuracy lost at k = \(N.ablationK) with zero-value ablation (test). "
                + "A control model learns each word type's fixed random label (Hewitt & Liang 2019); structure it shows too is not evidence about the task."])
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

    /// Each pair of seeds: CKA, SVCCA and the quality of its one-to-one neuron matching, with the mean first.
    static func seedPairs(_ similarity: N.SeedSimilarity) -> ReportTable {
        let closeShare = similarity.closeShare.map { N.fixed($0 * 100, 0) + " %" } ?? "–"
        var rows: [[String]] = [[
            "mean over pairs", N.fixed(similarity.cka?.mean, 3), N.fixed(similarity.svcca?.mean, 3), N.fixed(similarity.meanMatch?.mean, 3), closeShare,
        ]]
        var classes: [String?] = ["mean"]
        for pair in similarity.pairs {
            rows.append([
                "\(pair.modelA) vs \(pair.modelB)", N.fixed(pair.cka, 3), N.fixed(pair.svcca, 3), N.fixed(pair.meanMatch, 3),
                "\(pair.closeMatches) of \(pair.matches)",
            ])
            classes.append(nil)
        }
        return ReportTable(
            header: ["Seeds compared", "linear CKA", "SVCCA", "mean |r| of matched neurons", "matches with |r| ≥ \(N.fixed(N.closeMatch, 1))"],
            rows: rows, numeric: [1, 2, 3, 4], tableClass: "compact", rowClasses: classes,
            notes: ["Over every dev token's hidden state of the top layer. Linear CKA (Kornblith et al. 2019) is 1 for the same representation up to rotation and scale; "
                + "SVCCA (Raghu et al. 2017) keeps the top directions explaining 99 % of each model's variance (\(similarity.kept.map(String.init).joined(separator: ", ")) "
                + "of \(similarity.neurons.map(String.init).joined(separator: ", "))) and averages their canonical correlations. "
                + "Matching: the Hungarian assignment maximising the total |Pearson r| between neurons (Li et al. 2016)."])
    }

    /// Per label: its top-10 recurrence across seeds against the random expectation.
    static func recurrence(_ similarity: N.SeedSimilarity) -> ReportTable {
        ReportTable(
            header: ["Label", "top-10 neurons matched into the other seed's top 10", "by chance", "ratio", "ordered pairs"],
            rows: similarity.recurrence.map { row in
                let ratio = row.expected > 0 ? row.mean.map { $0 / row.expected } : nil
                return [row.label, N.fixed(row.mean, 1), N.fixed(row.expected, 1), ratio.map { N.fixed($0, 1) + "×" } ?? "–", String(row.pairs)]
            },
            numeric: [1, 2, 3, 4], tableClass: "compact",
            notes: ["For each ordered pair of seeds (A, B): how many of A's 10 most sensitive neurons for the label are matched to one of B's 10, "
                + "mean over the pairs; a random one-to-one matching gives 10 · 10 / n_B."])
    }

    /// One row per ranking method: its ablation score and its agreement with sensitivity.
    static func rankers(_ document: RankingDocument) -> ReportTable {
        let rows = N.rankerRows(document)
        return ReportTable(
            header: ["Ranking", "mean drop at k = \(document.dropK) (points)", "mean area (points)", "labels where largest",
                     "top-10 overlap with sensitivity", "Spearman with sensitivity"],
            rows: rows.map {
                [$0.method.rawValue + ($0.probeAccuracy.map { " (probe accuracy \(N.fixed($0 * 100, 1)) %)" } ?? ""),
                 N.fixed($0.meanDrop, 1), N.fixed($0.meanArea, 1), "\($0.wins) of \(document.labels.count)",
                 $0.method == .sensitivity ? "–" : N.fixed($0.meanOverlap, 1), $0.method == .sensitivity ? "–" : N.fixed($0.meanSpearman, 2)]
            },
            numeric: [1, 2, 3, 4, 5],
            notes: document.methods.map { "\($0.method.rawValue): \($0.methodDescription)." }
                + ["Scoring, the same for every ranking: \(document.scoring) (\(document.mode.rawValue) mode, ranked on \(document.rankOn), scored on \(document.data))."])
    }

    /// Label × method: the drop at k = 10 of each ranking.
    static func rankerDrops(_ document: RankingDocument) -> ReportTable {
        ReportTable(
            header: ["Label"] + document.methods.map(\.method.rawValue),
            rows: document.labels.map { label in [label] + document.methods.map { N.fixed($0.labels[label]?.dropAt10, 1) } },
            numeric: Set(1...max(1, document.methods.count)), tableClass: "compact")
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
