import DissectAnalysis
import DissectStudy
import Foundation

/// One figure of the report: one SVG file made of panels. The page shows the
/// panels as separate inline SVGs in a CSS grid so they reflow on narrow
/// screens; the file lays the same panels out in `columns`.
struct ReproduceFigure {
    var name: String
    var title: String
    var panels: [SVGPanel]
    var panelTitles: [String]
    var columns: Int

    /// The figure file: one panel stands alone, several share a figure title.
    var svg: String {
        if panels.count == 1 { return SVGGrid.compose(panels, title: nil, columns: 1, accessibleTitle: title) }
        return SVGGrid.compose(panels, title: title, columns: columns)
    }

    /// Each panel as its own SVG element for inlining (no XML declaration).
    var inlinePanels: [String] {
        zip(panels, panelTitles).map { panel, title in
            ReproduceFigure.inline(SVGGrid.compose([panel], title: nil, columns: 1, accessibleTitle: title, margin: 4))
        }
    }

    static func inline(_ svg: String) -> String {
        guard svg.hasPrefix("<?xml"), let end = svg.range(of: "?>\n") else { return svg }
        return String(svg[end.upperBound...])
    }
}

enum ReproduceFigures {
    typealias N = ReproduceNumbers

    /// The colour scale of Figures 2, 3, 7 and 8: the largest |s| of our first seed (dev) and of the paper.
    static func sensitivityScale(_ summary: ReproduceSummary) -> Double {
        var scale = summary.sensitivityDev.first.map { N.largest($0.sensitivity) } ?? 0
        if let paper = summary.paper { scale = max(scale, N.largest(paper.sensitivity)) }
        return max(scale, 1e-12)
    }

    static func firstSeedName(_ summary: ReproduceSummary) -> String {
        summary.seeds.first.map { N.seedName($0.seed) } ?? "first model"
    }

    // MARK: Sensitivity (Figures 2 and 7) and rankings (Figures 3 and 8)

    static func sensitivityFigures(_ summary: ReproduceSummary) -> [ReproduceFigure] {
        let scale = sensitivityScale(summary)
        let seed = firstSeedName(summary)
        var figures: [ReproduceFigure] = []
        let ours = summary.sensitivityDev.first
        let order = ours?.labels ?? summary.paper.map { CorrelationAnalysis.displayOrder($0.labels) } ?? []
        let paperValues = summary.paper.map { N.paperSensitivity($0, order: order) }
        let caption = "Red positive, blue negative, deeper for larger |s|; one colour scale (±\(N.fixed(scale))) for ours and the paper's."
        // Our maps carry a dot on each cell that is not a finding (AnalysisArtifacts.sensitivityHeatmap); say what it means.
        let oursCaption = caption + (ours?.statistics?.findings.map { " A dot marks a cell that is not a finding (\($0.rule))." } ?? "")

        func single(_ name: String, _ title: String, _ panel: SVGPanel) -> ReproduceFigure {
            ReproduceFigure(name: name, title: title, panels: [panel], panelTitles: [title], columns: 1)
        }

        if let ours {
            let rows = AnalysisArtifacts.topNeurons(ours.sensitivity, count: 10)
            let title = "Ours (\(seed), dev): the ten neurons most sensitive to some label"
            var map = AnalysisArtifacts.sensitivityHeatmap(ours, rows: rows, title: title, scale: scale)
            map.caption = oursCaption
            figures.append(single("figure2-ours.svg", title, SVGReport.heatmapPanel(map)))
        }
        if let paperValues {
            let rows = N.paperFigure2Neurons.filter { $0 < paperValues.count }
            let title = "Paper, Figure 2: its ten example neurons"
            let map = Heatmap(title: title, rowLabels: rows.map(String.init), columnLabels: order,
                              values: rows.map { paperValues[$0] }, scale: scale, decimals: 2, caption: caption)
            figures.append(single("figure2-paper.svg", title, SVGReport.heatmapPanel(map)))
        }
        if let ours {
            let title = "Ours (\(seed), dev): sensitivity of every neuron"
            var map = AnalysisArtifacts.sensitivityHeatmap(ours, title: title, scale: scale)
            map.caption = oursCaption
            figures.append(single("figure7-ours.svg", title, SVGReport.heatmapPanel(map)))
        }
        if let paperValues {
            let title = "Paper, Figure 7: sensitivity of every neuron"
            let map = Heatmap(title: title, rowLabels: paperValues.indices.map(String.init), columnLabels: order,
                              values: paperValues, scale: scale, decimals: 2, caption: caption)
            figures.append(single("figure7-paper.svg", title, SVGReport.heatmapPanel(map)))
        }
        let rankingCaption = "Each cell is a neuron number, coloured by that neuron's sensitivity to the column's label (scale ±\(N.fixed(scale)))."
        for (figure, rows) in [("figure3", 10), ("figure8", Int.max)] {
            if let ours {
                let count = min(rows, ours.neurons)
                let title = rows == 10 ? "Ours (\(seed), dev): top ten neurons per label" : "Ours (\(seed), dev): importance rankings"
                figures.append(single("\(figure)-ours.svg", title, rankingPanel(
                    title: title, labels: ours.labels, rankings: ours.rankings, rows: count,
                    sensitivity: ours.sensitivity, scale: scale, caption: rankingCaption)))
            }
            if let paper = summary.paper, let paperValues {
                let count = min(rows, paper.rankings.values.map(\.count).max() ?? 0)
                let title = rows == 10 ? "Paper, Figure 3: top ten neurons per label" : "Paper, Figure 8: importance rankings"
                figures.append(single("\(figure)-paper.svg", title, rankingPanel(
                    title: title, labels: order, rankings: paper.rankings, rows: count,
                    sensitivity: paperValues, scale: scale, caption: rankingCaption)))
            }
        }
        return figures
    }

    /// A rank × label table of neuron numbers, each cell coloured by that neuron's sensitivity to the label.
    static func rankingPanel(
        title: String, labels: [String], rankings: [String: [Int]], rows: Int, sensitivity: [[Double?]], scale: Double, caption: String?
    ) -> SVGPanel {
        let cellWidth = 44.0
        let cellHeight: Double = rows > 24 ? 14 : 18
        let labelFont = 10.0, valueFont: Double = rows > 24 ? 9.5 : 10, titleFont = 13.0
        let widestColumnLabel = labels.map { SVGText.estimatedWidth($0, fontSize: labelFont) }.max() ?? 0
        let rotate = widestColumnLabel > cellWidth - 4
        let columnLabelHeight = rotate ? (widestColumnLabel * 0.7072 + labelFont + 4).rounded(.up) : labelFont + 8
        let gridX = (SVGText.estimatedWidth(String(rows), fontSize: labelFont) + 30).rounded(.up)
        let titleHeight = titleFont + 10
        let gridY = titleHeight + columnLabelHeight
        let gridWidth = cellWidth * Double(labels.count)
        let gridHeight = cellHeight * Double(rows)

        var body = SVGText.text(title, x: 0, y: titleFont, attributes: "font-size=\"\(SVGText.coordinate(titleFont))\" font-weight=\"600\"")
        body += SVGText.text("rank", x: gridX - 6, y: gridY - 6, attributes: "font-size=\"\(SVGText.coordinate(labelFont))\" text-anchor=\"end\" fill=\"#555555\"")
        for (column, label) in labels.enumerated() {
            let centerX = gridX + cellWidth * (Double(column) + 0.5)
            if rotate {
                let x = centerX - 2, y = gridY - 5
                body += SVGText.text(label, x: x, y: y, attributes:
                    "font-size=\"\(SVGText.coordinate(labelFont))\" transform=\"rotate(-45 \(SVGText.coordinate(x)) \(SVGText.coordinate(y)))\"")
            } else {
                body += SVGText.text(label, x: centerX, y: gridY - 6, attributes: "font-size=\"\(SVGText.coordinate(labelFont))\" text-anchor=\"middle\"")
            }
        }
        for rank in 0..<rows {
            let y = gridY + cellHeight * (Double(rank) + 0.5) + labelFont * 0.35
            body += SVGText.text(String(rank + 1), x: gridX - 6, y: y, attributes: "font-size=\"\(SVGText.coordinate(labelFont))\" text-anchor=\"end\"")
        }
        for (column, label) in labels.enumerated() {
            let ranking = rankings[label] ?? []
            for rank in 0..<rows {
                let x = gridX + cellWidth * Double(column), y = gridY + cellHeight * Double(rank)
                guard rank < ranking.count else { continue }
                let neuron = ranking[rank]
                let value: Double? = neuron >= 0 && neuron < sensitivity.count && column < sensitivity[neuron].count ? sensitivity[neuron][column] : nil
                let fill = SVGReport.color(value: value, scale: scale)
                body += "<rect class=\"cell\" x=\"\(SVGText.coordinate(x))\" y=\"\(SVGText.coordinate(y))\" "
                body += "width=\"\(SVGText.coordinate(cellWidth))\" height=\"\(SVGText.coordinate(cellHeight))\" fill=\"\(fill)\" stroke=\"#ffffff\" stroke-width=\"1\">"
                body += "<title>\(SVGText.escape("\(label) rank \(rank + 1): neuron \(neuron), s = \(N.fixed(value))"))</title></rect>\n"
                let ink = SVGReport.needsLightText(on: fill) ? "#ffffff" : "#222222"
                body += SVGText.text(String(neuron), x: x + cellWidth / 2, y: y + cellHeight / 2 + valueFont * 0.35, attributes:
                    "font-size=\"\(SVGText.coordinate(valueFont))\" text-anchor=\"middle\" fill=\"\(ink)\"")
            }
        }
        let legend = legendBar(x: gridX + gridWidth + 18, top: gridY, height: max(60, min(160, gridHeight)), scale: scale)
        body += legend.body
        var width = max(legend.right, gridX + gridWidth + labelFont, SVGText.estimatedWidth(title, fontSize: titleFont) * 1.05)
        var height = max(gridY + gridHeight, legend.bottom)
        if let caption, !caption.isEmpty {
            var y = height + 8
            for line in SVGText.wrap(caption, width: max(width, 320), fontSize: 10) {
                y += 13
                body += SVGText.text(line, x: 0, y: y, attributes: "font-size=\"10\" fill=\"#555555\"")
                width = max(width, SVGText.estimatedWidth(line, fontSize: 10))
            }
            height = y + 4
        }
        return SVGPanel(width: width, height: height, body: body)
    }

    /// A stepped colour bar from +scale (top) to −scale (bottom), as the heatmaps draw it.
    static func legendBar(x: Double, top: Double, height: Double, scale: Double) -> (body: String, right: Double, bottom: Double) {
        let steps = max(30, Int(height / 2))
        let stepHeight = height / Double(steps)
        var body = ""
        for step in 0..<steps {
            let fraction = 1 - 2 * (Double(step) + 0.5) / Double(steps)
            body += "<rect class=\"legend\" x=\"\(SVGText.coordinate(x))\" y=\"\(SVGText.coordinate(top + stepHeight * Double(step)))\" "
            body += "width=\"12\" height=\"\(SVGText.coordinate(stepHeight + 0.5))\" fill=\"\(SVGReport.color(value: fraction * scale, scale: scale))\"/>\n"
        }
        body += "<rect x=\"\(SVGText.coordinate(x))\" y=\"\(SVGText.coordinate(top))\" width=\"12\" height=\"\(SVGText.coordinate(height))\" "
        body += "fill=\"none\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n"
        var widest = 0.0
        for (label, y) in [("+" + N.fixed(scale), top), ("0", top + height / 2), ("-" + N.fixed(scale), top + height)] {
            body += SVGText.text(label, x: x + 17, y: y + 3.5, attributes: "font-size=\"9.5\" fill=\"#444444\"")
            widest = max(widest, SVGText.estimatedWidth(label, fontSize: 9.5))
        }
        return (body, x + 17 + widest, top + height + 6)
    }

    // MARK: Ablation (Figures 4 and 5)

    struct AblationFigureKey {
        var number: String
        var pair: [String]
        var mode: AblationMode
    }

    /// The figure file name for a pair: 4 and 5 for the paper's pairs, else a name from the labels.
    static func ablationFigureNumber(_ pair: [String]) -> String {
        if let index = N.paperPairs.firstIndex(where: { Set($0) == Set(pair) }) { return "figure\(index + 4)" }
        return "figure-ablation-" + pair.map(FileNames.safe).joined(separator: "-")
    }

    /// The first seed's zero-value ablation studies (the paper's; mean and resample are the tables'
    /// robustness rows), the paper's pairs first.
    static func firstSeedAblations(_ summary: ReproduceSummary) -> [AblationEntry] {
        guard let seed = summary.seeds.first?.seed ?? summary.ablations.first?.seed else { return [] }
        let entries = summary.ablations.filter { $0.seed == seed && ($0.document.value ?? .zero) == .zero }
        func order(_ entry: AblationEntry) -> (Int, Int) {
            let pairIndex = N.paperPairs.firstIndex { Set($0) == Set(entry.pair) } ?? N.paperPairs.count
            return (pairIndex, AblationMode.allCases.firstIndex(of: entry.document.mode) ?? 0)
        }
        return entries.enumerated().sorted { a, b in
            let x = order(a.element), y = order(b.element)
            return x != y ? (x < y) : a.offset < b.offset
        }.map(\.element)
    }

    static func ablationFigures(_ summary: ReproduceSummary) -> [ReproduceFigure] {
        let entries = firstSeedAblations(summary)
        // One y range for every chart, so the panels compare at a glance.
        var low = 0.0, high = 0.0
        var chartsByEntry: [[LineChart]] = []
        for entry in entries {
            var charts: [LineChart] = []
            for label in entry.pair where entry.document.curves[label] != nil {
                var chart = AnalysisArtifacts.ablationChart(entry.document, ranking: label)
                chart.width = 520
                chart.height = 380
                for series in chart.series { for value in series.y where value.isFinite { low = min(low, value); high = max(high, value) } }
                for band in chart.bands {
                    for value in band.lower + band.upper where value.isFinite { low = min(low, value); high = max(high, value) }
                }
                charts.append(chart)
            }
            chartsByEntry.append(charts)
        }
        let lower = (low * 10 - 1e-9).rounded(.down) / 10
        let upper = max(0.05, (high * 20 + 1e-9).rounded(.up) / 20)
        let seed = firstSeedName(summary)
        return zip(entries, chartsByEntry).compactMap { entry, charts -> ReproduceFigure? in
            guard !charts.isEmpty else { return nil }
            let ranged = charts.map { chart -> LineChart in
                var chart = chart
                chart.yRange = lower...upper
                return chart
            }
            let mode = entry.document.mode.rawValue
            let name = "\(ablationFigureNumber(entry.pair))-\(mode).svg"
            let number = ablationFigureNumber(entry.pair)
            let prefix = number.hasPrefix("figure-") ? "" : "Figure \(number.dropFirst(6)), \(mode) mode: "
            let title = prefix + "ablating by the \(entry.pair.joined(separator: " and ")) rankings (\(seed), test)"
            return ReproduceFigure(
                name: name, title: title, panels: ranged.map(SVGReport.lineChartPanel), panelTitles: ranged.map(\.title), columns: 2)
        }
    }

    // MARK: Correlation (Figure 6)

    static func correlationFigures(_ summary: ReproduceSummary) -> [ReproduceFigure] {
        var figures: [ReproduceFigure] = []
        for (document, set) in [(summary.correlationDev, "dev"), (summary.correlationTest, "test")] {
            var maps = document.models.map { AnalysisArtifacts.correlationHeatmap($0, title: "\($0.name) (\(set))") }
            if let reference = document.reference {
                maps.append(AnalysisArtifacts.correlationHeatmap(reference, title: "The paper's matrix (from its Figure 7)"))
            }
            guard !maps.isEmpty else { continue }
            figures.append(ReproduceFigure(
                name: "figure6-\(set).svg", title: "Label-by-label correlation of sensitivities across neurons (\(set))",
                panels: maps.map(SVGReport.heatmapPanel), panelTitles: maps.map(\.title), columns: 3))
        }
        return figures
    }

    // MARK: Seeds and rankers

    /// `seeds-cka.svg` and `seeds-matches.svg` from the comparison across seeds.
    static func seedFigures(_ summary: ReproduceSummary) -> [ReproduceFigure] {
        guard let comparison = summary.seedComparison else { return [] }
        var map = ComparisonArtifacts.ckaHeatmap(comparison)
        map.title = "Linear CKA between the seeds (dev, layer \(comparison.layer.map(String.init) ?? "top"))"
        let histogram = ComparisonArtifacts.matchHistogram(comparison)
        return [
            ReproduceFigure(name: "seeds-cka.svg", title: map.title, panels: [SVGReport.heatmapPanel(map)], panelTitles: [map.title], columns: 1),
            ReproduceFigure(
                name: "seeds-matches.svg", title: ComparisonArtifacts.matchHistogramTitle, panels: [histogram],
                panelTitles: [ComparisonArtifacts.matchHistogramTitle], columns: 1),
        ]
    }

    /// `rankers-drops.svg`: each method's drop at k = 10 per label.
    static func rankerFigures(_ summary: ReproduceSummary) -> [ReproduceFigure] {
        guard let rankings = summary.rankings else { return [] }
        let map = RankingArtifacts.dropHeatmap(rankings)
        return [ReproduceFigure(name: "rankers-drops.svg", title: map.title, panels: [SVGReport.heatmapPanel(map)], panelTitles: [map.title], columns: 1)]
    }

    /// `sizes.svg`: the hidden-size study's test F1 against hidden size (`--all`).
    static func sizeFigures(_ summary: ReproduceSummary) -> [ReproduceFigure] {
        guard let sizes = summary.sizes else { return [] }
        let chart = SizesArtifacts.chart(sizes)
        return [ReproduceFigure(name: "sizes.svg", title: chart.title, panels: [SVGReport.lineChartPanel(chart)], panelTitles: [chart.title], columns: 1)]
    }

    static func all(_ summary: ReproduceSummary) -> [ReproduceFigure] {
        sensitivityFigures(summary) + ablationFigures(summary) + correlationFigures(summary) + seedFigures(summary) + rankerFigures(summary)
            + sizeFigures(summary)
    }
}
