import DissectCore

/// A labelled grid of signed values drawn as coloured cells: red for positive,
/// blue for negative, white at zero (the paper's Figures 2, 6 and 7 —
/// neuron-by-label sensitivities and label-by-label correlations).
public struct Heatmap: Sendable {
    /// Bold text above the map.
    public var title: String
    /// Text left of each row, top to bottom (e.g. neuron numbers, or labels).
    public var rowLabels: [String]
    /// Text above each column, left to right (e.g. labels).
    public var columnLabels: [String]
    /// Rows × columns. `nil` is drawn grey with "–" (e.g. a label never predicted).
    /// Rows may be ragged; missing entries are left blank.
    public var values: [[Double?]]
    /// The |value| that gets the deepest colour; values beyond it are clamped.
    /// `nil` (or a non-positive / non-finite scale) means the largest finite
    /// |value| in the map, at least 1e-12.
    public var scale: Double?
    /// Whether to print each value inside its cell.
    public var showValues: Bool
    /// Digits after the point for printed values and legend labels.
    public var decimals: Int
    /// Small text under the map, wrapped to the map's width.
    public var caption: String?
    /// Rows × columns like `values`: a `true` cell gets a small grey dot in its top-right
    /// corner (e.g. a sensitivity that is not a finding). nil (or a missing entry): no mark.
    public var marks: [[Bool]]?
    /// What a dot means, shown beside one under the colour legend when any cell is marked.
    public var markLegend: String?

    public init(title: String, rowLabels: [String], columnLabels: [String], values: [[Double?]],
                scale: Double? = nil, showValues: Bool = true, decimals: Int = 2, caption: String? = nil,
                marks: [[Bool]]? = nil, markLegend: String? = nil) {
        self.title = title
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.scale = scale
        self.showValues = showValues
        self.decimals = decimals
        self.caption = caption
        self.marks = marks
        self.markLegend = markLegend
    }

    /// Whether cell (row, column) is marked.
    public func isMarked(row: Int, column: Int) -> Bool {
        guard let marks, row < marks.count, column < marks[row].count else { return false }
        return marks[row][column]
    }

    /// The scale actually used for colouring: the explicit one if usable,
    /// otherwise the largest finite |value|.
    public var effectiveScale: Double {
        if let scale, scale.isFinite, scale > 0 { return scale }
        var largest = 0.0
        for row in values {
            for case let value? in row where value.isFinite { largest = max(largest, abs(value)) }
        }
        return max(largest, 1e-12)
    }
}

/// Pure functions that turn report data into standalone SVG documents:
/// valid XML with the SVG namespace, every piece of text escaped, no scripts,
/// no external fonts or ids, and the same bytes for the same input.
///
///     let map = Heatmap(title: "Sensitivity", rowLabels: neurons, columnLabels: labels, values: values)
///     try AtomicFile.write(SVGReport.heatmap(map), to: outputDirectory + "/sensitivity.svg")
///
/// Four 9 × 9 maps fit a laptop screen at `columns: 2` (about 1,050 px wide);
/// a 50 × 9 map is about 500 × 800 px.
public enum SVGReport {
    static let positiveDeep: (red: Double, green: Double, blue: Double) = (0xb2, 0x18, 0x2b)
    static let negativeDeep: (red: Double, green: Double, blue: Double) = (0x21, 0x66, 0xac)
    static let missingColor = "#d9d9d9"
    static let markColor = "#4d4d4d"

    /// A mark's dot (class "mark"), centred at (x, y), grey with a white rim so it shows on deep cells too.
    static func markDot(x: Double, y: Double) -> String {
        "<circle class=\"mark\" cx=\"\(SVGText.coordinate(x))\" cy=\"\(SVGText.coordinate(y))\" r=\"2.2\" "
            + "fill=\"\(markColor)\" stroke=\"#ffffff\" stroke-width=\"0.6\"/>\n"
    }

    /// The fill for one heatmap cell as "#rrggbb": white at 0, shading linearly
    /// to #b2182b (positive) or #2166ac (negative) at |value| = `scale`, clamped
    /// beyond it. `nil` and NaN are grey #d9d9d9.
    public static func color(value: Double?, scale: Double) -> String {
        guard let value, !value.isNaN else { return missingColor }
        let usableScale = (scale.isFinite && scale > 0) ? scale : 1e-12
        let strength = min(abs(value) / usableScale, 1)
        let deep = value >= 0 ? positiveDeep : negativeDeep
        func channel(_ target: Double) -> Int {
            Int((255 + (target - 255) * strength).rounded())
        }
        return hex(channel(deep.red), channel(deep.green), channel(deep.blue))
    }

    static func hex(_ red: Int, _ green: Int, _ blue: Int) -> String {
        let digits = Array("0123456789abcdef")
        var text = "#"
        for component in [red, green, blue] {
            let clamped = max(0, min(255, component))
            text.append(digits[clamped / 16])
            text.append(digits[clamped % 16])
        }
        return text
    }

    /// Whether text on `fill` ("#rrggbb") should be white rather than dark,
    /// judged by perceived brightness so it stays readable on deep cells.
    static func needsLightText(on fill: String) -> Bool {
        let characters = Array(fill.utf8.dropFirst())
        guard characters.count == 6 else { return false }
        func component(_ offset: Int) -> Double {
            let text = String(decoding: characters[offset..<(offset + 2)], as: UTF8.self)
            return Double(Int(text, radix: 16) ?? 255)
        }
        let brightness = (0.299 * component(0) + 0.587 * component(2) + 0.114 * component(4)) / 255
        return brightness < 0.58
    }

    /// One heatmap as a standalone SVG document: title, column labels on top
    /// (rotated 45° when they do not fit a cell), row labels on the left, one
    /// coloured cell per value with the value printed in it, and a colour
    /// legend bar (−scale … 0 … +scale) on the right.
    public static func heatmap(_ map: Heatmap) -> String {
        SVGGrid.compose([heatmapPanel(map)], title: nil, columns: 1, accessibleTitle: map.title)
    }

    /// Several heatmaps side by side in one SVG document, wrapping to a new
    /// row after `columns` maps, under an optional figure title. Each map keeps
    /// its own labels and legend.
    public static func heatmaps(_ maps: [Heatmap], title: String?, columns: Int) -> String {
        SVGGrid.compose(maps.map(heatmapPanel), title: title, columns: columns)
    }

    static func heatmapPanel(_ map: Heatmap) -> SVGPanel {
        let rowCount = max(map.values.count, map.rowLabels.count)
        let columnCount = max(map.columnLabels.count, map.values.map(\.count).max() ?? 0)
        let scale = map.effectiveScale
        let decimals = max(0, min(map.decimals, 10))

        // Big maps (all 50 neurons) get short cells so they fit a laptop
        // screen; small ones get a little more air.
        let cellHeight: Double = rowCount > 24 ? 14 : 18
        let valueFont: Double = rowCount > 24 ? 9.5 : 10
        let labelFont = 10.0
        let titleFont = 13.0

        var cellTexts: [[String]] = []
        var widestValue = 0.0
        for row in map.values {
            let texts = row.map { value -> String in
                guard let value else { return "–" }
                return DecimalText.fixed(value, decimals: decimals)
            }
            if map.showValues {
                for text in texts { widestValue = max(widestValue, SVGText.estimatedWidth(text, fontSize: valueFont)) }
            }
            cellTexts.append(texts)
        }
        let cellWidth = max(44, (widestValue + 8).rounded(.up))

        let columnLabelWidths = (0..<columnCount).map { index in
            index < map.columnLabels.count ? SVGText.estimatedWidth(map.columnLabels[index], fontSize: labelFont) : 0
        }
        let widestColumnLabel = columnLabelWidths.max() ?? 0
        let rotateColumnLabels = widestColumnLabel > cellWidth - 4
        let diagonal = 0.7072
        let columnLabelHeight = rotateColumnLabels ? (widestColumnLabel * diagonal + labelFont + 4).rounded(.up) : labelFont + 8

        let widestRowLabel = map.rowLabels.map { SVGText.estimatedWidth($0, fontSize: labelFont) }.max() ?? 0
        let gridX = widestRowLabel > 0 ? (widestRowLabel + 8).rounded(.up) : 0
        let titleHeight = map.title.isEmpty ? 0 : titleFont + 10
        let gridY = titleHeight + columnLabelHeight
        let gridWidth = cellWidth * Double(columnCount)
        let gridHeight = cellHeight * Double(rowCount)

        var body = ""
        if !map.title.isEmpty {
            body += SVGText.text(map.title, x: 0, y: titleFont,
                                 attributes: "font-size=\"\(SVGText.coordinate(titleFont))\" font-weight=\"600\"")
        }

        // Column labels: centred over their column, or rotated so long ones
        // climb up and to the right without colliding with their neighbours.
        var rightmostInk = gridX + gridWidth
        for column in 0..<min(columnCount, map.columnLabels.count) {
            let centerX = gridX + cellWidth * (Double(column) + 0.5)
            let label = map.columnLabels[column]
            if rotateColumnLabels {
                let x = centerX - 2
                let y = gridY - 5
                body += SVGText.text(label, x: x, y: y, attributes:
                    "font-size=\"\(SVGText.coordinate(labelFont))\" transform=\"rotate(-45 \(SVGText.coordinate(x)) \(SVGText.coordinate(y)))\"")
                rightmostInk = max(rightmostInk, x + columnLabelWidths[column] * diagonal + labelFont * diagonal)
            } else {
                body += SVGText.text(label, x: centerX, y: gridY - 6, attributes:
                    "font-size=\"\(SVGText.coordinate(labelFont))\" text-anchor=\"middle\"")
            }
        }

        for row in 0..<min(rowCount, map.rowLabels.count) {
            let y = gridY + cellHeight * (Double(row) + 0.5) + labelFont * 0.35
            body += SVGText.text(map.rowLabels[row], x: gridX - 6, y: y, attributes:
                "font-size=\"\(SVGText.coordinate(labelFont))\" text-anchor=\"end\"")
        }

        // Cells: thin white gaps separate neighbours; a <title> gives a hover
        // tooltip in browsers (no scripting needed).
        var anyMissing = false, anyMarked = false
        for (rowIndex, row) in map.values.enumerated() {
            for (columnIndex, value) in row.enumerated() {
                let x = gridX + cellWidth * Double(columnIndex)
                let y = gridY + cellHeight * Double(rowIndex)
                let fill = color(value: value, scale: scale)
                if value == nil || value?.isNaN == true { anyMissing = true }
                let rowName = rowIndex < map.rowLabels.count ? map.rowLabels[rowIndex] : "row \(rowIndex + 1)"
                let columnName = columnIndex < map.columnLabels.count ? map.columnLabels[columnIndex] : "column \(columnIndex + 1)"
                let text = cellTexts[rowIndex][columnIndex]
                body += "<rect class=\"cell\" x=\"\(SVGText.coordinate(x))\" y=\"\(SVGText.coordinate(y))\" "
                body += "width=\"\(SVGText.coordinate(cellWidth))\" height=\"\(SVGText.coordinate(cellHeight))\" "
                body += "fill=\"\(fill)\" stroke=\"#ffffff\" stroke-width=\"1\">"
                body += "<title>\(SVGText.escape("\(rowName) · \(columnName): \(text)"))</title></rect>\n"
                if map.isMarked(row: rowIndex, column: columnIndex) {
                    anyMarked = true
                    body += markDot(x: x + cellWidth - 5, y: y + 5)
                }
                if map.showValues || value == nil {
                    let ink = needsLightText(on: fill) ? "#ffffff" : (value == nil ? "#666666" : "#222222")
                    body += SVGText.text(text, x: x + cellWidth / 2, y: y + cellHeight / 2 + valueFont * 0.35, attributes:
                        "font-size=\"\(SVGText.coordinate(valueFont))\" text-anchor=\"middle\" fill=\"\(ink)\"")
                }
            }
        }

        if rowCount == 0 || columnCount == 0 {
            body += SVGText.text("no data", x: gridX, y: gridY + 14, attributes: "font-size=\"11\" fill=\"#666666\"")
        }

        // Legend: a stepped bar from +scale (top) through 0 to −scale (bottom).
        // Discrete 2 px steps instead of a gradient avoid element ids, which
        // would clash when several figures are inlined into one HTML page.
        let legendX = gridX + gridWidth + 18
        let legendTop = gridY
        let stepCount = max(30, min(80, Int(gridHeight / 2)))
        let stepHeight = 2.0
        let barWidth = 12.0
        let barHeight = stepHeight * Double(stepCount)
        for step in 0..<stepCount {
            let fraction = 1 - 2 * (Double(step) + 0.5) / Double(stepCount)
            let y = legendTop + stepHeight * Double(step)
            // Slight overlap (+0.5) hides hairline seams from anti-aliasing.
            body += "<rect class=\"legend\" x=\"\(SVGText.coordinate(legendX))\" y=\"\(SVGText.coordinate(y))\" "
            body += "width=\"\(SVGText.coordinate(barWidth))\" height=\"\(SVGText.coordinate(stepHeight + 0.5))\" "
            body += "fill=\"\(color(value: fraction * scale, scale: scale))\"/>\n"
        }
        body += "<rect x=\"\(SVGText.coordinate(legendX))\" y=\"\(SVGText.coordinate(legendTop))\" "
        body += "width=\"\(SVGText.coordinate(barWidth))\" height=\"\(SVGText.coordinate(barHeight))\" "
        body += "fill=\"none\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n"
        let legendLabels = [
            ("+" + DecimalText.fixed(scale, decimals: decimals), legendTop),
            ("0", legendTop + barHeight / 2),
            ("-" + DecimalText.fixed(scale, decimals: decimals), legendTop + barHeight),
        ]
        var legendLabelWidth = 0.0
        let legendLabelX = legendX + barWidth + 5
        for (label, y) in legendLabels {
            body += "<line x1=\"\(SVGText.coordinate(legendX + barWidth))\" y1=\"\(SVGText.coordinate(y))\" "
            body += "x2=\"\(SVGText.coordinate(legendX + barWidth + 3))\" y2=\"\(SVGText.coordinate(y))\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n"
            body += SVGText.text(label, x: legendLabelX, y: y + 3.5, attributes: "font-size=\"9.5\" fill=\"#444444\"")
            legendLabelWidth = max(legendLabelWidth, SVGText.estimatedWidth(label, fontSize: 9.5))
        }
        var legendBottom = legendTop + barHeight + 6
        if anyMissing {
            let y = legendBottom + 8
            body += "<rect x=\"\(SVGText.coordinate(legendX))\" y=\"\(SVGText.coordinate(y))\" width=\"\(SVGText.coordinate(barWidth))\" "
            body += "height=\"10\" fill=\"\(missingColor)\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n"
            body += SVGText.text("none", x: legendLabelX, y: y + 8.5, attributes: "font-size=\"9.5\" fill=\"#444444\"")
            legendLabelWidth = max(legendLabelWidth, SVGText.estimatedWidth("none", fontSize: 9.5))
            legendBottom = y + 10
        }
        if anyMarked, let legend = map.markLegend, !legend.isEmpty {
            let y = legendBottom + 8
            body += markDot(x: legendX + barWidth / 2, y: y + 5)
            body += SVGText.text(legend, x: legendLabelX, y: y + 8.5, attributes: "font-size=\"9.5\" fill=\"#444444\"")
            legendLabelWidth = max(legendLabelWidth, SVGText.estimatedWidth(legend, fontSize: 9.5))
            legendBottom = y + 10
        }
        let legendRight = legendLabelX + legendLabelWidth

        var width = max(legendRight, rightmostInk)
        width = max(width, SVGText.estimatedWidth(map.title, fontSize: titleFont) * 1.05)
        var height = max(gridY + gridHeight, legendBottom)
        if let caption = map.caption, !caption.isEmpty {
            let captionFont = 10.0
            let lines = SVGText.wrap(caption, width: max(width, 320), fontSize: captionFont)
            var y = height + 8
            for line in lines {
                y += captionFont + 3
                body += SVGText.text(line, x: 0, y: y, attributes: "font-size=\"\(SVGText.coordinate(captionFont))\" fill=\"#555555\"")
                width = max(width, SVGText.estimatedWidth(line, fontSize: captionFont))
            }
            height = y + 4
        }
        return SVGPanel(width: width, height: height, body: body)
    }
}
