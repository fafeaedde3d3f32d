import DissectAnalysis
import DissectCore

/// The files `dissect compare` writes.
public enum ComparisonArtifacts {
    /// `compare.json`, `cka.csv`, `svcca.csv`, `matches.csv`, `recurrence.csv`, `cka.svg`, `matches.svg`.
    public static func files(_ document: Comparison) throws -> [(String, String)] {
        func matrixCSV(_ matrix: [[Double?]], extra: [String] = [], extraValues: (Int) -> [String] = { _ in [] }) -> String {
            CSVReport.table(
                header: ["model"] + extra + document.models,
                rows: document.models.indices.map { [document.models[$0]] + extraValues($0) + matrix[$0].map { CSVReport.number($0) } })
        }
        let matchRows = document.pairs.flatMap { pair in
            pair.matches.map { [pair.modelA, pair.modelB, String($0.neuronA), String($0.neuronB), CSVReport.number($0.correlation)] }
        }
        let recurrenceRows = document.recurrence.map {
            [$0.label, $0.modelA, $0.modelB, $0.count.map(String.init) ?? "", CSVReport.number($0.expected)]
        }
        return [
            ("compare.json", try AnalysisArtifacts.json(document)),
            ("cka.csv", matrixCSV(document.cka)),
            ("svcca.csv", "# " + document.svccaRule + "\n"
                + matrixCSV(document.svcca, extra: ["kept_directions"], extraValues: { [String(document.svccaKept[$0])] })),
            ("matches.csv", CSVReport.table(header: ["model_a", "model_b", "neuron_a", "neuron_b", "correlation"], rows: matchRows)),
            ("recurrence.csv", "# " + document.recurrenceRule + "\n"
                + CSVReport.table(header: ["label", "model_a", "model_b", "top10_recurrence", "random_expectation"], rows: recurrenceRows)),
            ("cka.svg", SVGReport.heatmap(ckaHeatmap(document))),
            ("matches.svg", standalone(matchHistogram(document), title: matchHistogramTitle)),
        ]
    }

    /// The CKA matrix as a heatmap, models numbered in the caption.
    static func ckaHeatmap(_ document: Comparison) -> Heatmap {
        let names = document.models.indices.map { "model \($0 + 1)" }
        return Heatmap(
            title: "Linear CKA between models (layer \(document.layer.map(String.init) ?? "top"))", rowLabels: names, columnLabels: names,
            values: document.cka, scale: 1, decimals: 3,
            caption: "CKA = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) over \(document.tokens) tokens of \(document.data). "
                + document.models.enumerated().map { "model \($0.offset + 1) = \($0.element)" }.joined(separator: "; "))
    }

    static let matchHistogramTitle = "|r| of the Hungarian neuron matches (all pairs)"

    /// The match-quality histogram: |r| of every matched pair, ten bins.
    static func matchHistogram(_ document: Comparison) -> SVGPanel {
        histogramPanel(
            document.pairs.flatMap { $0.matches.map { abs($0.correlation) } }, bins: 10,
            title: matchHistogramTitle, axis: "|r| of a matched pair")
    }

    /// One panel as a standalone SVG document.
    static func standalone(_ panel: SVGPanel, title: String) -> String {
        SVGText.document(width: panel.width, height: panel.height, title: title, body: panel.body)
    }

    /// A histogram of values in [0, 1] as an SVG bar chart panel (`bins` equal bins, the last closed).
    static func histogramPanel(_ values: [Double], bins: Int, title: String, axis: String) -> SVGPanel {
        var counts = [Int](repeating: 0, count: bins)
        for value in values where value.isFinite {
            counts[min(bins - 1, max(0, Int(value * Double(bins))))] += 1
        }
        let left = 50.0, top = 40.0, plotWidth = 400.0, plotHeight = 200.0
        let largest = max(1, counts.max() ?? 1)
        let barWidth = plotWidth / Double(bins)
        var body = SVGText.text(title, x: left, y: 22, attributes: "font-weight=\"bold\" font-size=\"13\"")
        for (index, count) in counts.enumerated() {
            let height = plotHeight * Double(count) / Double(largest)
            let x = left + Double(index) * barWidth
            body += "<rect x=\"\(SVGText.coordinate(x + 1))\" y=\"\(SVGText.coordinate(top + plotHeight - height))\" "
                + "width=\"\(SVGText.coordinate(barWidth - 2))\" height=\"\(SVGText.coordinate(height))\" fill=\"#2166ac\"/>\n"
            if count > 0 {
                body += SVGText.text(String(count), x: x + barWidth / 2, y: top + plotHeight - height - 3, attributes: "text-anchor=\"middle\" font-size=\"9\"")
            }
        }
        body += "<line x1=\"\(SVGText.coordinate(left))\" y1=\"\(SVGText.coordinate(top + plotHeight))\" x2=\"\(SVGText.coordinate(left + plotWidth))\" y2=\"\(SVGText.coordinate(top + plotHeight))\" stroke=\"#222222\"/>\n"
        for tick in 0...bins where tick % 2 == 0 {
            body += SVGText.text(format(Double(tick) / Double(bins)), x: left + Double(tick) * barWidth, y: top + plotHeight + 14, attributes: "text-anchor=\"middle\"")
        }
        body += SVGText.text(axis + " (\(values.count) matches)", x: left + plotWidth / 2, y: top + plotHeight + 32, attributes: "text-anchor=\"middle\"")
        return SVGPanel(width: left + plotWidth + 20, height: top + plotHeight + 45, body: body)
    }

    static func format(_ value: Double) -> String {
        CSVReport.number(value, decimals: 1)
    }
}
