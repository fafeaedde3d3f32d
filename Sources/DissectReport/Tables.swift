import DissectCore
import Foundation

/// Comma-separated tables for spreadsheets and downstream scripts.
public enum CSVReport {
    /// A CSV document: the header line, then one line per row, each ending in
    /// "\n" (including the last). Fields containing a comma, double quote,
    /// carriage return or line feed are quoted per RFC 4180, with embedded
    /// quotes doubled; other fields are written as is.
    public static func table(header: [String], rows: [[String]]) -> String {
        var text = line(header)
        for row in rows { text += line(row) }
        return text
    }

    /// `value` with exactly `decimals` digits after the point, locale-free;
    /// "" for `nil`; "-0.000000" becomes "0.000000" so equal numbers compare
    /// equal as text. NaN and infinities are written "NaN", "inf", "-inf".
    public static func number(_ value: Double?, decimals: Int = 6) -> String {
        guard let value else { return "" }
        return DecimalText.fixed(value, decimals: decimals)
    }

    static func line(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\n"
    }

    static func quoted(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// GitHub-flavoured Markdown tables for READMEs and run summaries.
public enum MarkdownReport {
    /// How a column's cells line up.
    public enum Alignment: Sendable {
        case left, center, right
    }

    /// A pipe table with cells padded so the source lines up in a monospace
    /// editor. Rows shorter than the widest row are padded with empty cells.
    /// `|` in cells is escaped and line breaks become `<br>` so a cell can never
    /// break the table. `alignments` defaults to left for every column.
    public static func table(header: [String], rows: [[String]], alignments: [Alignment]? = nil) -> String {
        let columnCount = max(header.count, rows.map(\.count).max() ?? 0)
        guard columnCount > 0 else { return "" }
        func cells(_ row: [String]) -> [String] {
            (0..<columnCount).map { index in index < row.count ? escape(row[index]) : "" }
        }
        let headerCells = cells(header)
        let bodyCells = rows.map(cells)
        let alignment = (0..<columnCount).map { index -> Alignment in
            guard let alignments, index < alignments.count else { return .left }
            return alignments[index]
        }
        // Markdown needs at least three dashes in the delimiter row.
        var widths = [Int](repeating: 3, count: columnCount)
        for row in [headerCells] + bodyCells {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func pad(_ cell: String, _ index: Int) -> String {
            let missing = widths[index] - cell.count
            switch alignment[index] {
            case .left: return cell + String(repeating: " ", count: missing)
            case .right: return String(repeating: " ", count: missing) + cell
            case .center:
                let before = missing / 2
                return String(repeating: " ", count: before) + cell + String(repeating: " ", count: missing - before)
            }
        }
        func line(_ row: [String]) -> String {
            "| " + row.enumerated().map { pad($1, $0) }.joined(separator: " | ") + " |\n"
        }
        let delimiter = (0..<columnCount).map { index -> String in
            let width = widths[index]
            switch alignment[index] {
            case .left: return String(repeating: "-", count: width)
            case .right: return String(repeating: "-", count: width - 1) + ":"
            case .center: return ":" + String(repeating: "-", count: width - 2) + ":"
            }
        }
        var text = line(headerCells)
        text += "| " + delimiter.joined(separator: " | ") + " |\n"
        for row in bodyCells { text += line(row) }
        return text
    }

    static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r\n", with: "<br>")
            .replacingOccurrences(of: "\n", with: "<br>")
            .replacingOccurrences(of: "\r", with: "<br>")
    }
}
