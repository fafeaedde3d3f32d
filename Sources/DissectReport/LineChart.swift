import DissectCore
import Foundation

/// One line on a `LineChart`, e.g. accuracy after ablating the top-k neurons
/// in one ranking order. Points whose x or y is not finite break the line.
public struct LineSeries: Sendable {
    /// Shown in the legend.
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Any SVG colour ("#rrggbb", "teal"); `nil` picks the next palette colour.
    public var color: String?
    /// Draws the line dashed (e.g. a baseline or reference order).
    public var dashed: Bool
    /// Stroke width in pixels.
    public var width: Double

    public init(name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false, width: Double = 2) {
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.dashed = dashed
        self.width = width
    }
}

/// A shaded area between two curves on a `LineChart`, e.g. the 5th–95th
/// percentile of accuracy over random ablation orders. Drawn under the lines
/// at `opacity` (25% unless given); points with a non-finite x, lower or upper split the area.
public struct Band: Sendable {
    /// Shown in the legend.
    public var name: String
    public var x: [Double]
    public var lower: [Double]
    public var upper: [Double]
    /// Any SVG colour; `nil` is grey for the first band, then palette colours.
    public var color: String?
    /// Fill opacity in (0, 1]; a non-finite or out-of-range value draws at 0.25.
    public var opacity: Double

    public init(name: String, x: [Double], lower: [Double], upper: [Double], color: String? = nil, opacity: Double = 0.25) {
        self.name = name
        self.x = x
        self.lower = lower
        self.upper = upper
        self.color = color
        self.opacity = opacity
    }

    /// `opacity` where it is usable, else 0.25.
    var fillOpacity: Double { opacity.isFinite && opacity > 0 && opacity <= 1 ? opacity : 0.25 }
}

/// An x–y line chart with grid lines, 1/2/5 ticks, shaded bands and a
/// legend under the plot (the paper's Figures 4–5: accuracy vs. number of
/// ablated neurons). `width` × `height` is the whole chart including the legend.
public struct LineChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [LineSeries]
    public var bands: [Band]
    /// Fixed y-axis range; `nil` fits the data and rounds out to whole ticks.
    /// Lines outside a fixed range are clipped at the plot edge.
    public var yRange: ClosedRange<Double>?
    public var width: Double
    public var height: Double

    public init(title: String, xLabel: String, yLabel: String, series: [LineSeries], bands: [Band] = [],
                yRange: ClosedRange<Double>? = nil, width: Double = 560, height: Double = 360) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.bands = bands
        self.yRange = yRange
        self.width = width
        self.height = height
    }
}

/// Evenly spaced axis ticks at 1, 2 or 5 × 10^k.
struct AxisTicks: Equatable {
    var lower: Double
    var upper: Double
    var step: Double
    var values: [Double]
    /// Digits after the point that show every tick exactly.
    var decimals: Int

    /// The 1/2/5 step that gives about `target` intervals over `span`.
    static func niceStep(span: Double, target: Int) -> Double {
        let raw = span / Double(max(target, 1))
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double
        if fraction < 1.5 { nice = 1 } else if fraction < 3 { nice = 2 } else if fraction < 7 { nice = 5 } else { nice = 10 }
        return nice * magnitude
    }

    /// Ticks for the data range `low...high`. With `expand`, the axis grows to
    /// the enclosing ticks so the data never touches the frame between ticks;
    /// otherwise the axis is exactly `low...high` and ticks fall inside it.
    init(low: Double, high: Double, target: Int, expand: Bool) {
        var low = low, high = high
        if !(low.isFinite && high.isFinite) { low = 0; high = 1 }
        if low > high { swap(&low, &high) }
        if high - low < 1e-12 * max(1, abs(low)) {
            // A flat line still needs a visible axis around it.
            let pad = abs(low) > 1e-12 ? abs(low) * 0.1 : 1
            low -= pad
            high += pad
        }
        let step = AxisTicks.niceStep(span: high - low, target: target)
        if expand {
            // min/max guard against k × step rounding to just inside the data.
            low = min(low, floor(low / step + 1e-9) * step)
            high = max(high, ceil(high / step - 1e-9) * step)
        }
        let first = ceil(low / step - 1e-9)
        let last = floor(high / step + 1e-9)
        var values: [Double] = []
        if last >= first && last - first < 1000 {
            for index in Int(first)...Int(last) {
                let value = Double(index) * step
                values.append(abs(value) < step * 1e-9 ? 0 : value)
            }
        }
        self.lower = low
        self.upper = high
        self.step = step
        self.values = values
        self.decimals = max(0, Int(-floor(log10(step) + 1e-9)))
    }

    func label(_ value: Double) -> String {
        DecimalText.fixed(value, decimals: decimals)
    }
}

extension SVGReport {
    /// Line colours for series without one: Okabe–Ito, distinguishable with
    /// the common colour-vision deficiencies and on white.
    static let palette = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#8c6d31"]
    /// Band colours without one: neutral grey first, as bands are usually a
    /// random baseline, then palette colours.
    static let bandPalette = ["#7f7f7f", "#0072b2", "#d55e00", "#009e73", "#cc79a7"]

    /// One line chart as a standalone SVG document: title, y axis on the left
    /// and x axis below with 1/2/5 ticks and light grid lines, shaded bands
    /// under the lines, and a legend of every series and band under the plot.
    public static func lineChart(_ chart: LineChart) -> String {
        SVGGrid.compose([lineChartPanel(chart)], title: nil, columns: 1, accessibleTitle: chart.title)
    }

    /// Several line charts in one SVG document, wrapping to a new row after
    /// `columns` charts, under an optional figure title.
    public static func lineCharts(_ charts: [LineChart], title: String?, columns: Int) -> String {
        SVGGrid.compose(charts.map(lineChartPanel), title: title, columns: columns)
    }

    /// Consecutive runs of finite points; each run becomes one subpath.
    static func finiteRuns(count: Int, isFinite: (Int) -> Bool) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start: Int?
        for index in 0..<count {
            if isFinite(index) {
                if start == nil { start = index }
            } else if let runStart = start {
                runs.append(runStart..<index)
                start = nil
            }
        }
        if let runStart = start { runs.append(runStart..<count) }
        return runs
    }

    struct LegendEntry {
        var name: String
        /// Drawn with its left end at the origin, centred on y = 0; empty for
        /// an entry with no data, whose colour would point at nothing.
        var swatch: String
        var width: Double
    }

    static func lineChartPanel(_ chart: LineChart) -> SVGPanel {
        let width = chart.width.isFinite ? max(chart.width, 200) : 560
        let height = chart.height.isFinite ? max(chart.height, 160) : 360
        let titleFont = 13.0, axisLabelFont = 11.0, tickFont = 10.0, legendFont = 10.5

        // Data extent over everything drawn, ignoring non-finite points.
        var xLow = Double.infinity, xHigh = -Double.infinity
        var yLow = Double.infinity, yHigh = -Double.infinity
        func include(x: Double, y: Double) {
            guard x.isFinite, y.isFinite else { return }
            xLow = min(xLow, x); xHigh = max(xHigh, x)
            yLow = min(yLow, y); yHigh = max(yHigh, y)
        }
        for series in chart.series {
            for index in 0..<min(series.x.count, series.y.count) { include(x: series.x[index], y: series.y[index]) }
        }
        for band in chart.bands {
            for index in 0..<min(band.x.count, band.lower.count, band.upper.count) {
                guard band.lower[index].isFinite, band.upper[index].isFinite else { continue }
                include(x: band.x[index], y: band.lower[index])
                include(x: band.x[index], y: band.upper[index])
            }
        }
        let hasData = xLow <= xHigh
        if !hasData { xLow = 0; xHigh = 1; yLow = 0; yHigh = 1 }

        // Series and bands with at least one finite point get drawn; the others
        // still appear in the legend, marked, so a missing run is noticed.
        struct DrawnSeries { var series: LineSeries; var color: String; var runs: [Range<Int>] }
        struct DrawnBand { var band: Band; var color: String; var runs: [Range<Int>] }
        let drawnSeries = chart.series.enumerated().map { index, series -> DrawnSeries in
            let count = min(series.x.count, series.y.count)
            let runs = finiteRuns(count: count) { series.x[$0].isFinite && series.y[$0].isFinite }
            return DrawnSeries(series: series, color: series.color ?? palette[index % palette.count], runs: runs)
        }
        let drawnBands = chart.bands.enumerated().map { index, band -> DrawnBand in
            let count = min(band.x.count, band.lower.count, band.upper.count)
            let runs = finiteRuns(count: count) {
                band.x[$0].isFinite && band.lower[$0].isFinite && band.upper[$0].isFinite
            }
            return DrawnBand(band: band, color: band.color ?? bandPalette[index % bandPalette.count], runs: runs)
        }

        // Legend entries, laid out in rows under the plot.
        let swatchWidth = 22.0
        var entries: [LegendEntry] = []
        for drawn in drawnSeries {
            let series = drawn.series
            let strokeWidth = series.width.isFinite ? max(0.5, min(series.width, 6)) : 2
            let dash = series.dashed ? " stroke-dasharray=\"5 3\"" : ""
            let swatch = "<line x1=\"0\" y1=\"0\" x2=\"\(SVGText.coordinate(swatchWidth))\" y2=\"0\" "
                + "stroke=\"\(SVGText.escape(drawn.color))\" stroke-width=\"\(SVGText.coordinate(strokeWidth))\"\(dash)/>"
            let name = drawn.runs.isEmpty ? series.name + " (no data)" : series.name
            entries.append(LegendEntry(name: name, swatch: drawn.runs.isEmpty ? "" : swatch,
                                       width: swatchWidth + 6 + SVGText.estimatedWidth(name, fontSize: legendFont)))
        }
        for drawn in drawnBands {
            let swatch = "<rect x=\"0\" y=\"-5\" width=\"\(SVGText.coordinate(swatchWidth))\" height=\"10\" "
                + "fill=\"\(SVGText.escape(drawn.color))\" fill-opacity=\"\(SVGText.coordinate(drawn.band.fillOpacity))\"/>"
            let name = drawn.runs.isEmpty ? drawn.band.name + " (no data)" : drawn.band.name
            entries.append(LegendEntry(name: name, swatch: drawn.runs.isEmpty ? "" : swatch,
                                       width: swatchWidth + 6 + SVGText.estimatedWidth(name, fontSize: legendFont)))
        }

        // Vertical layout, top to bottom: title, plot, tick labels, x label, legend.
        let titleHeight = chart.title.isEmpty ? 4 : titleFont + 14
        let entryGap = 18.0
        var legendRows: [[Int]] = []
        var rowWidth = 0.0
        let legendAvailable = width - 8
        for (index, entry) in entries.enumerated() {
            if legendRows.isEmpty || rowWidth + entryGap + entry.width > legendAvailable {
                legendRows.append([index])
                rowWidth = entry.width
            } else {
                legendRows[legendRows.count - 1].append(index)
                rowWidth += entryGap + entry.width
            }
        }
        let legendRowHeight = 17.0
        let legendHeight = legendRows.isEmpty ? 0 : Double(legendRows.count) * legendRowHeight + 8
        let xLabelHeight = chart.xLabel.isEmpty ? 0 : axisLabelFont + 8
        let bottomArea = tickFont + 10 + xLabelHeight + legendHeight
        let plotTop = titleHeight
        let plotHeight = max(60, height - plotTop - bottomArea - 4)

        let yTicks: AxisTicks
        let yTickTarget = max(3, min(8, Int(plotHeight / 45)))
        if let range = chart.yRange, range.lowerBound.isFinite, range.upperBound.isFinite,
           range.upperBound > range.lowerBound {
            yTicks = AxisTicks(low: range.lowerBound, high: range.upperBound, target: yTickTarget, expand: false)
        } else {
            yTicks = AxisTicks(low: yLow, high: yHigh, target: yTickTarget, expand: true)
        }
        let widestYTick = yTicks.values.map { SVGText.estimatedWidth(yTicks.label($0), fontSize: tickFont) }.max() ?? 10
        let yLabelWidth = chart.yLabel.isEmpty ? 0 : axisLabelFont + 8
        let plotLeft = (yLabelWidth + widestYTick + 8).rounded(.up)
        // Room on the right for the last x tick label, which is centred on the edge.
        let plotRight = width - 14
        let plotWidth = max(60, plotRight - plotLeft)

        let xTickTarget = max(3, min(10, Int(plotWidth / 70)))
        let xTicks = AxisTicks(low: xLow, high: xHigh, target: xTickTarget, expand: false)

        func screenX(_ value: Double) -> Double {
            (value - xTicks.lower) / (xTicks.upper - xTicks.lower) * plotWidth
        }
        func screenY(_ value: Double) -> Double {
            plotHeight - (value - yTicks.lower) / (yTicks.upper - yTicks.lower) * plotHeight
        }
        func point(_ x: Double, _ y: Double) -> String {
            SVGText.coordinate(screenX(x)) + "," + SVGText.coordinate(screenY(y))
        }

        var body = ""
        if !chart.title.isEmpty {
            body += SVGText.text(chart.title, x: 0, y: titleFont,
                                 attributes: "font-size=\"\(SVGText.coordinate(titleFont))\" font-weight=\"600\"")
        }

        // Grid and tick labels.
        let plotBottom = plotTop + plotHeight
        for value in yTicks.values {
            let y = plotTop + screenY(value)
            body += "<line x1=\"\(SVGText.coordinate(plotLeft))\" y1=\"\(SVGText.coordinate(y))\" "
            body += "x2=\"\(SVGText.coordinate(plotLeft + plotWidth))\" y2=\"\(SVGText.coordinate(y))\" stroke=\"#e6e6e6\" stroke-width=\"1\"/>\n"
            body += SVGText.text(yTicks.label(value), x: plotLeft - 6, y: y + tickFont * 0.35,
                                 attributes: "font-size=\"\(SVGText.coordinate(tickFont))\" text-anchor=\"end\" fill=\"#555555\"")
        }
        for value in xTicks.values {
            let x = plotLeft + screenX(value)
            body += "<line x1=\"\(SVGText.coordinate(x))\" y1=\"\(SVGText.coordinate(plotTop))\" "
            body += "x2=\"\(SVGText.coordinate(x))\" y2=\"\(SVGText.coordinate(plotBottom))\" stroke=\"#e6e6e6\" stroke-width=\"1\"/>\n"
            body += SVGText.text(xTicks.label(value), x: x, y: plotBottom + tickFont + 5,
                                 attributes: "font-size=\"\(SVGText.coordinate(tickFont))\" text-anchor=\"middle\" fill=\"#555555\"")
        }

        // Plot content lives in a nested <svg>, which clips to its box without
        // needing a clipPath id (ids clash when figures are inlined together).
        body += "<svg x=\"\(SVGText.coordinate(plotLeft))\" y=\"\(SVGText.coordinate(plotTop))\" "
        body += "width=\"\(SVGText.coordinate(plotWidth))\" height=\"\(SVGText.coordinate(plotHeight))\" overflow=\"hidden\">\n"
        for drawn in drawnBands where !drawn.runs.isEmpty {
            let band = drawn.band
            var path = ""
            for run in drawn.runs {
                path += "M" + run.map { point(band.x[$0], band.upper[$0]) }.joined(separator: " L")
                path += " L" + run.reversed().map { point(band.x[$0], band.lower[$0]) }.joined(separator: " L") + " Z "
            }
            body += "<path class=\"band\" d=\"\(path.trimmingCharacters(in: .whitespaces))\" "
            body += "fill=\"\(SVGText.escape(drawn.color))\" fill-opacity=\"\(SVGText.coordinate(band.fillOpacity))\" stroke=\"none\"><title>\(SVGText.escape(band.name))</title></path>\n"
        }
        for drawn in drawnSeries where !drawn.runs.isEmpty {
            let series = drawn.series
            let strokeWidth = series.width.isFinite ? max(0.5, min(series.width, 6)) : 2
            var path = ""
            var isolated: [Int] = []
            for run in drawn.runs {
                if run.count == 1 { isolated.append(run.lowerBound) }
                path += "M" + run.map { point(series.x[$0], series.y[$0]) }.joined(separator: " L") + " "
            }
            let dash = series.dashed ? " stroke-dasharray=\"6 4\"" : ""
            body += "<path class=\"series\" d=\"\(path.trimmingCharacters(in: .whitespaces))\" fill=\"none\" "
            body += "stroke=\"\(SVGText.escape(drawn.color))\" stroke-width=\"\(SVGText.coordinate(strokeWidth))\"\(dash) "
            body += "stroke-linejoin=\"round\" stroke-linecap=\"round\"><title>\(SVGText.escape(series.name))</title></path>\n"
            // A lone point between gaps has no segment to stroke; mark it.
            for index in isolated {
                body += "<circle cx=\"\(SVGText.coordinate(screenX(series.x[index])))\" cy=\"\(SVGText.coordinate(screenY(series.y[index])))\" "
                body += "r=\"\(SVGText.coordinate(strokeWidth + 1))\" fill=\"\(SVGText.escape(drawn.color))\"/>\n"
            }
        }
        if !hasData {
            body += SVGText.text("no data", x: plotWidth / 2, y: plotHeight / 2,
                                 attributes: "font-size=\"12\" text-anchor=\"middle\" fill=\"#888888\"")
        }
        body += "</svg>\n"

        // Axes on top of the grid: left and bottom frame lines.
        body += "<path d=\"M\(SVGText.coordinate(plotLeft)),\(SVGText.coordinate(plotTop)) V\(SVGText.coordinate(plotBottom)) "
        body += "H\(SVGText.coordinate(plotLeft + plotWidth))\" fill=\"none\" stroke=\"#888888\" stroke-width=\"1\"/>\n"

        if !chart.yLabel.isEmpty {
            let x = axisLabelFont
            let y = plotTop + plotHeight / 2
            body += SVGText.text(chart.yLabel, x: x, y: y, attributes:
                "font-size=\"\(SVGText.coordinate(axisLabelFont))\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 \(SVGText.coordinate(x)) \(SVGText.coordinate(y)))\"")
        }
        var cursorY = plotBottom + tickFont + 8
        if !chart.xLabel.isEmpty {
            cursorY += axisLabelFont + 6
            body += SVGText.text(chart.xLabel, x: plotLeft + plotWidth / 2, y: cursorY,
                                 attributes: "font-size=\"\(SVGText.coordinate(axisLabelFont))\" text-anchor=\"middle\"")
        }

        // Legend rows, left-aligned with the plot's left edge.
        cursorY += 8
        for row in legendRows {
            cursorY += legendRowHeight
            var x = min(plotLeft, max(0, width - 8 - row.map { entries[$0].width }.reduce(0, +) - entryGap * Double(row.count - 1)))
            for index in row {
                let entry = entries[index]
                let swatchY = cursorY - legendFont * 0.35
                if !entry.swatch.isEmpty {
                    body += "<g transform=\"translate(\(SVGText.coordinate(x)),\(SVGText.coordinate(swatchY)))\">\(entry.swatch)</g>\n"
                }
                let ink = entry.swatch.isEmpty ? " fill=\"#888888\"" : ""
                body += SVGText.text(entry.name, x: x + swatchWidth + 6, y: cursorY,
                                     attributes: "font-size=\"\(SVGText.coordinate(legendFont))\"\(ink)")
                x += entry.width + entryGap
            }
        }
        let usedHeight = max(height, cursorY + 6)
        let titleWidth = SVGText.estimatedWidth(chart.title, fontSize: titleFont) * 1.05
        return SVGPanel(width: max(width, titleWidth), height: usedHeight, body: body)
    }
}
