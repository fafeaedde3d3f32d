import DissectAnalysis
import DissectCore
import DissectStudy
import Foundation

/// The files each analysis command writes: JSON for programs, CSV for
/// spreadsheets, SVG for people. Each function returns (file name, contents)
/// pairs; the caller writes them atomically.
public enum AnalysisArtifacts {
    /// These renderers, for a study (`ReproducePipeline`) to write each analysis's files with.
    public static let renderers = AnalysisRenderers(
        sensitivity: { try sensitivityFiles($0) }, ablation: { try ablationFiles($0) }, correlation: { try correlationFiles($0) },
        comparison: { try ComparisonArtifacts.files($0) }, ranking: { try RankingArtifacts.files($0) },
        sizes: { try SizesArtifacts.files($0) })

    /// Pretty JSON through `JSONOutput` (non-finite numbers become `null`).
    public static func json<Value: Encodable>(_ value: Value) throws -> String {
        try JSONOutput.string(value, style: .pretty)
    }

    // MARK: Sensitivity

    /// The neurons whose largest sensitivity over labels is highest, in neuron order (a Figure 2 view).
    public static func topNeurons(_ values: [[Double?]], count: Int) -> [Int] {
        let strength = values.map { row in row.compactMap { $0 }.max() ?? -.infinity }
        let chosen = values.indices.sorted { strength[$0] != strength[$1] ? strength[$0] > strength[$1] : $0 < $1 }.prefix(count)
        return chosen.sorted()
    }

    /// The map of `document` (rows `rows`, default all). With findings, a dot marks every
    /// defined cell that is not one, and the caption states the rule.
    public static func sensitivityHeatmap(_ document: Sensitivity.Document, rows: [Int]? = nil, title: String, scale: Double? = nil) -> Heatmap {
        let chosen = rows ?? Array(document.sensitivity.indices)
        var caption = "s[i,j] = mean(W[i,j]·h_i | \(document.condition) = j) − mean(… | ≠ j) on \(document.data); red positive, blue negative"
        var marks: [[Bool]]? = nil
        if let findings = document.statistics?.findings {
            marks = chosen.map { row in
                row < findings.cells.count ? findings.cells[row].map { $0 == false } : []
            }
            caption += ". A dot marks a cell that is not a finding; \(findings.count) of the matrix's \(findings.defined) defined cells are findings. Rule: \(findings.rule)."
        }
        return Heatmap(
            title: title, rowLabels: chosen.map(String.init), columnLabels: document.labels,
            values: chosen.map { document.sensitivity[$0] }, scale: scale, decimals: 2, caption: caption,
            marks: marks, markLegend: marks == nil ? nil : "not a finding")
    }

    /// The first line of `sensitivity-cells.csv`: `# finding: <rule>` (a comment line, so
    /// the file states its rule; readers skip it, e.g. pandas `comment="#"`).
    public static func findingsComment(_ statistics: SensitivityStatistics) -> String {
        if let findings = statistics.findings { return "# finding: " + findings.rule + "\n" }
        return "# finding: not computed (it needs both the bootstrap and the permutation test); "
            + SensitivityStatistics.findingRule() + "\n"
    }

    /// `sensitivity-cells.csv`: one row per (neuron, label), in neuron then label order:
    /// `neuron,label,s,lower,upper,rank,rank_lower,rank_upper,p,q,finding`, blank where a value
    /// is undefined or was not computed; `finding` is `true` or `false`. Rank 1 is the most sensitive.
    public static func sensitivityCells(_ document: Sensitivity.Document, statistics: SensitivityStatistics) -> String {
        var rank: [String: [Int: Int]] = [:]
        for (label, ranking) in document.rankings {
            rank[label] = Dictionary(ranking.enumerated().map { ($1, $0 + 1) }, uniquingKeysWith: { first, _ in first })
        }
        func cell<Value>(_ matrix: [[Value?]]?, _ neuron: Int, _ label: Int, _ text: (Value) -> String) -> String {
            guard let matrix, neuron < matrix.count, label < matrix[neuron].count, let value = matrix[neuron][label] else { return "" }
            return text(value)
        }
        var rows: [[String]] = []
        for (neuron, values) in document.sensitivity.enumerated() {
            for (index, label) in document.labels.enumerated() {
                let value = index < values.count ? values[index] : nil
                let bootstrap = statistics.bootstrap, permutation = statistics.permutation
                rows.append([
                    String(neuron), label, CSVReport.number(value),
                    cell(bootstrap?.lower, neuron, index) { CSVReport.number($0) },
                    cell(bootstrap?.upper, neuron, index) { CSVReport.number($0) },
                    value == nil ? "" : rank[label]?[neuron].map(String.init) ?? "",
                    cell(bootstrap?.rankLower, neuron, index) { String($0) },
                    cell(bootstrap?.rankUpper, neuron, index) { String($0) },
                    cell(permutation?.p, neuron, index) { CSVReport.number($0, decimals: 8) },
                    cell(permutation?.q, neuron, index) { CSVReport.number($0, decimals: 8) },
                    cell(statistics.findings?.cells, neuron, index) { $0 ? "true" : "false" },
                ])
            }
        }
        return findingsComment(statistics) + CSVReport.table(
            header: ["neuron", "label", "s", "lower", "upper", "rank", "rank_lower", "rank_upper", "p", "q", "finding"], rows: rows)
    }

    /// `document` as it is given (`AnalysisDocuments.sensitivity` puts its columns in display order);
    /// with `statistics`, also `sensitivity-cells.csv`, and the heatmaps mark the cells that are not findings.
    public static func sensitivityFiles(_ document: Sensitivity.Document) throws -> [(String, String)] {
        let labels = document.labels
        let sensitivityCSV = CSVReport.table(
            header: ["neuron"] + labels,
            rows: document.sensitivity.enumerated().map { neuron, row in [String(neuron)] + row.map { CSVReport.number($0) } })
        let rankingRows = (0..<document.neurons).map { rank in
            [String(rank + 1)] + labels.map { label in
                let ranking = document.rankings[label] ?? []
                return rank < ranking.count ? String(ranking[rank]) : ""
            }
        }
        let rankingsCSV = CSVReport.table(header: ["rank"] + labels, rows: rankingRows)
        let all = SVGReport.heatmap(sensitivityHeatmap(document, title: "Sensitivity of every neuron to every label"))
        let top = SVGReport.heatmap(sensitivityHeatmap(
            document, rows: topNeurons(document.sensitivity, count: 10),
            title: "Sensitivity of the ten neurons most sensitive to some label"))
        var files = [
            ("sensitivity.json", try json(document)),
            ("sensitivity.csv", sensitivityCSV),
            ("rankings.csv", rankingsCSV),
            ("sensitivity.svg", all),
            ("sensitivity-top10.svg", top),
        ]
        if let statistics = document.statistics { files.append(("sensitivity-cells.csv", sensitivityCells(document, statistics: statistics))) }
        return files
    }

    // MARK: Ablation

    static func degradation(_ values: [Double]?) -> [Double] {
        guard let values, let first = values.first else { return [] }
        return values.map { $0 - first }
    }

    /// The paper's Figure 4/5 layout for one ranking: accuracy degradation
    /// of the ranked label, the other listed labels, "others" and "all", the
    /// reverse order, the random orders' 5th–95th percentile band (grey) and,
    /// when the document has one, the ranked curve's 95% sentence-bootstrap
    /// band (a light fill in its colour). Both bands are drawn relative to
    /// their own curve's k = 0 value, as the lines.
    public static func ablationChart(_ document: AblationDocument, ranking label: String) -> LineChart {
        guard let curve = document.curves[label] else {
            return LineChart(title: "No curve for \(label)", xLabel: "", yLabel: "", series: [])
        }
        let x = (0..<curve.f1.count).map(Double.init)
        let rankedColor = "#d55e00"
        var series: [LineSeries] = [
            LineSeries(name: "\(label) (ranked)", x: x, y: degradation(curve.accuracy[label]), color: rankedColor, width: 3)
        ]
        // As the paper: the other labels of the pair; with many labels listed only the summaries stay readable.
        let others = document.labels.filter { $0 != label }
        if others.count <= 3 {
            for (index, other) in others.enumerated() {
                series.append(LineSeries(
                    name: other, x: x, y: degradation(curve.accuracy[other]), color: ["#0072b2", "#009e73", "#cc79a7"][index]))
            }
        }
        if curve.accuracy["others"] != nil {
            series.append(LineSeries(name: "others", x: x, y: degradation(curve.accuracy["others"]), color: "#e69f00"))
        }
        series.append(LineSeries(name: "all tokens", x: x, y: degradation(curve.accuracy["all"]), color: "#000000"))
        if let reverse = document.controls.reverse[label] {
            series.append(LineSeries(
                name: "\(label), reverse order", x: x, y: degradation(reverse.accuracy[label]), color: rankedColor, dashed: true, width: 1.5))
        }
        var bands: [Band] = []
        if let random = document.controls.random, let low = random.p05.accuracy[label], let high = random.p95.accuracy[label],
           let mean = random.mean.accuracy[label], let start = mean.first {
            bands.append(Band(
                name: "\(label), \(random.count) random orders (5th–95th pct)", x: x,
                lower: low.map { $0 - start }, upper: high.map { $0 - start }, color: "#999999"))
            series.append(LineSeries(name: "\(label), random mean", x: x, y: mean.map { $0 - start }, color: "#777777", dashed: true, width: 1.5))
        }
        // Over the grey band, so the ranked curve's own uncertainty stays visible.
        if let band = curve.band, let low = band.lower[label], let high = band.upper[label],
           let start = curve.accuracy[label]?.first {
            bands.append(Band(
                name: "\(label) ranked, 95% band over \(band.resamples) sentence resamples", x: x,
                lower: low.map { $0 - start }, upper: high.map { $0 - start }, color: rankedColor, opacity: 0.15))
        }
        let value = document.value.map { $0 == .zero ? "" : ", \($0.rawValue) value" } ?? ""
        return LineChart(
            title: "Ablating by the \(label) ranking (\(document.mode.rawValue) mode\(value))",
            xLabel: "Number of ablated neurons", yLabel: "Accuracy degradation", series: series, bands: bands)
    }

    /// `ablation.json`, `ablation.csv` (long format: ranking, order, k, metric, value, degradation,
    /// and for a ranked curve's accuracies the band's lower and upper bound, empty elsewhere) and one SVG per ranking.
    public static func ablationFiles(_ document: AblationDocument) throws -> [(String, String)] {
        var rows: [[String]] = []
        func add(ranking: String, order: String, accuracy: [String: [Double]], f1: [Double], band: CurveBand? = nil) {
            for (k, value) in f1.enumerated() {
                for metric in accuracy.keys.sorted() {
                    guard let values = accuracy[metric], k < values.count else { continue }
                    var bounds = ["", ""]
                    if let band, let low = band.lower[metric], let high = band.upper[metric], k < low.count, k < high.count {
                        bounds = [CSVReport.number(low[k]), CSVReport.number(high[k])]
                    }
                    rows.append([ranking, order, String(k), "accuracy:" + metric, CSVReport.number(values[k]), CSVReport.number(values[k] - values[0])]
                        + bounds)
                }
                rows.append([ranking, order, String(k), "f1", CSVReport.number(value), CSVReport.number(value - f1[0]), "", ""])
            }
        }
        for label in document.labels {
            if let curve = document.curves[label] {
                add(ranking: label, order: "ranked", accuracy: curve.accuracy, f1: curve.f1, band: curve.band)
            }
            if let curve = document.controls.reverse[label] { add(ranking: label, order: "reverse", accuracy: curve.accuracy, f1: curve.f1) }
        }
        if let random = document.controls.random {
            add(ranking: "random", order: "mean", accuracy: random.mean.accuracy, f1: random.mean.f1)
            add(ranking: "random", order: "p05", accuracy: random.p05.accuracy, f1: random.p05.f1)
            add(ranking: "random", order: "p95", accuracy: random.p95.accuracy, f1: random.p95.f1)
        }
        var files: [(String, String)] = [
            ("ablation.json", try json(document)),
            ("ablation.csv", CSVReport.table(
                header: ["ranking", "order", "k", "metric", "value", "degradation", "band_lower", "band_upper"], rows: rows)),
        ]
        for label in document.labels {
            files.append(("ablation-\(FileNames.safe(label)).svg", SVGReport.lineChart(ablationChart(document, ranking: label))))
        }
        return files
    }

    // MARK: Correlation

    public static func correlationHeatmap(_ correlation: LabelCorrelation, title: String? = nil) -> Heatmap {
        Heatmap(
            title: title ?? correlation.name, rowLabels: correlation.labels, columnLabels: correlation.labels,
            values: correlation.matrix, scale: 1, decimals: 2)
    }

    public static func correlationFiles(_ document: CorrelationDocument) throws -> [(String, String)] {
        var rows: [[String]] = []
        for correlation in document.models + (document.reference.map { [$0] } ?? []) {
            for (a, first) in correlation.labels.enumerated() {
                for (b, second) in correlation.labels.enumerated() {
                    rows.append([correlation.name, first, second, CSVReport.number(correlation.matrix[a][b])])
                }
            }
        }
        var maps = document.models.map { correlationHeatmap($0) }
        if let reference = document.reference { maps.append(correlationHeatmap(reference, title: "\(reference.name) (reference)")) }
        var files: [(String, String)] = [
            ("correlation.json", try json(document)),
            ("correlation.csv", CSVReport.table(header: ["matrix", "label_a", "label_b", "pearson_r"], rows: rows)),
            ("correlation.svg", SVGReport.heatmaps(maps, title: "Label-by-label correlation of sensitivities across neurons", columns: 2)),
        ]
        if !document.agreement.isEmpty {
            files.append(("agreement.csv", CSVReport.table(
                header: ["model", "label", "spearman_rho", "top10_overlap"],
                rows: document.agreement.map { [$0.model, $0.label, CSVReport.number($0.spearman), String($0.topTenOverlap)] })))
        }
        return files
    }
}
