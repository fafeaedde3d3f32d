import DissectCore
import Foundation

/// Small helpers shared by every SVG drawer: escaping, coordinates,
/// text-width estimates and the document wrapper.
enum SVGText {
    /// Font stack that needs no downloaded fonts and looks native on every desktop.
    static let fontFamily = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"

    /// Escapes text for use both as element content and inside double-quoted
    /// attributes. Characters that XML 1.0 forbids outright (most C0 controls,
    /// lone surrogates cannot occur in a Swift String) are dropped, because no
    /// escape makes them legal and a single one would make the whole file unparsable.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                let allowed = value >= 0x20 && value != 0xFFFE && value != 0xFFFF
                if allowed { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    /// Formats a coordinate or length with at most two decimals, trimming
    /// trailing zeros so the files stay small; non-finite input becomes 0 so a
    /// bad number can never produce an invalid attribute.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let text = DecimalText.fixed(value, decimals: 2)
        guard text.contains(".") else { return text }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return trimmed == "-0" ? "0" : String(trimmed)
    }

    /// Rough width in pixels of `text` at `fontSize` in a sans-serif face.
    /// Used only for layout (margins, whether labels need rotating), so it errs
    /// on the wide side: average sans-serif glyphs are about 0.55 em.
    static func estimatedWidth(_ text: String, fontSize: Double) -> Double {
        var ems = 0.0
        for character in text {
            if character == " " || character == "." || character == "," || character == "i"
                || character == "l" || character == "j" || character == "'" || character == "|"
                || character == "I" || character == ":" || character == "!" {
                ems += 0.3
            } else if character.isUppercase || character == "m" || character == "w" {
                ems += 0.68
            } else if character.isASCII {
                ems += 0.56
            } else {
                // CJK and other wide scripts.
                ems += character.unicodeScalars.first.map { $0.value >= 0x2E80 } == true ? 1.0 : 0.6
            }
        }
        return ems * fontSize
    }

    /// Splits `text` into lines no wider than `width` pixels at `fontSize`,
    /// breaking at spaces (a single over-long word stays on its own line).
    static func wrap(_ text: String, width: Double, fontSize: Double) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                let candidate = current.isEmpty ? String(word) : current + " " + word
                if current.isEmpty || estimatedWidth(candidate, fontSize: fontSize) <= width {
                    current = candidate
                } else {
                    lines.append(current)
                    current = String(word)
                }
            }
            lines.append(current)
        }
        return lines
    }

    /// Wraps drawn content in a standalone SVG document with a white background.
    static func document(width: Double, height: Double, title: String?, body: String) -> String {
        let w = coordinate(width.rounded(.up))
        let h = coordinate(height.rounded(.up))
        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" "
        svg += "font-family=\"\(fontFamily)\" font-size=\"11\" fill=\"#222222\">\n"
        if let title, !title.isEmpty {
            // <title> lets screen readers and browser tooltips name the figure.
            svg += "<title>\(escape(title))</title>\n"
        }
        svg += "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
        svg += body
        svg += "</svg>\n"
        return svg
    }

    /// A `<text>` element; `attributes` is inserted verbatim and must already be escaped.
    static func text(_ content: String, x: Double, y: Double, attributes: String = "") -> String {
        let extra = attributes.isEmpty ? "" : " " + attributes
        return "<text x=\"\(coordinate(x))\" y=\"\(coordinate(y))\"\(extra)>\(escape(content))</text>\n"
    }
}

/// A drawn figure piece with its own size, positioned by a grid layout.
struct SVGPanel {
    var width: Double
    var height: Double
    /// Elements in the panel's own coordinates (origin at its top-left).
    var body: String
}

enum SVGGrid {
    /// Lays panels out left to right, wrapping after `columns`, with an optional
    /// figure title on top. Each grid column is as wide as its widest panel and
    /// each grid row as tall as its tallest, so panels line up.
    /// `accessibleTitle` names the document when there is no drawn figure title
    /// (a single chart draws its own title inside its panel).
    static func compose(_ panels: [SVGPanel], title: String?, columns: Int, accessibleTitle: String? = nil,
                        gap: Double = 28, margin: Double = 12) -> String {
        let columnCount = max(1, min(columns, max(panels.count, 1)))
        var columnWidths = [Double](repeating: 0, count: columnCount)
        var rowHeights: [Double] = []
        for (index, panel) in panels.enumerated() {
            let column = index % columnCount
            let row = index / columnCount
            columnWidths[column] = max(columnWidths[column], panel.width)
            if row >= rowHeights.count { rowHeights.append(0) }
            rowHeights[row] = max(rowHeights[row], panel.height)
        }
        let titleFont = 16.0
        var top = margin
        var body = ""
        var titleWidth = 0.0
        if let title, !title.isEmpty {
            body += SVGText.text(title, x: margin, y: top + titleFont,
                                 attributes: "font-size=\"\(SVGText.coordinate(titleFont))\" font-weight=\"600\"")
            titleWidth = SVGText.estimatedWidth(title, fontSize: titleFont) * 1.1
            top += titleFont + 14
        }
        for (index, panel) in panels.enumerated() {
            let column = index % columnCount
            let row = index / columnCount
            let x = margin + columnWidths[..<column].reduce(0, +) + gap * Double(column)
            let y = top + rowHeights[..<row].reduce(0, +) + gap * Double(row)
            body += "<g transform=\"translate(\(SVGText.coordinate(x)),\(SVGText.coordinate(y)))\">\n"
            body += panel.body
            body += "</g>\n"
        }
        let gridWidth = columnWidths.reduce(0, +) + gap * Double(max(0, columnCount - 1))
        let gridHeight = rowHeights.reduce(0, +) + gap * Double(max(0, rowHeights.count - 1))
        let width = max(gridWidth, titleWidth) + 2 * margin
        let height = top + gridHeight + margin
        let documentTitle = (title?.isEmpty == false) ? title : accessibleTitle
        return SVGText.document(width: width, height: height, title: documentTitle, body: body)
    }
}
