import DissectCore
import Foundation

/// A figure of line charts described in JSON, drawn by the report's own `LineChart`
/// (`dissect chart`; the README's cost curve is one):
///
///     {"title": "…", "columns": 2,
///      "charts": [{"title": "…", "x_label": "…", "y_label": "…", "y_range": [0, 100],
///                  "series": [{"name": "…", "x": [50, 100], "y": [13000, 9000], "dashed": false}]}]}
///
/// `title`, `columns` (1–8, default 2), `y_range` and `dashed` are optional.
public struct ChartSpecification: Codable, Sendable {
    public struct Series: Codable, Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var dashed: Bool?
    }

    public struct Chart: Codable, Sendable {
        public var title: String
        public var xLabel: String
        public var yLabel: String
        public var yRange: [Double]?
        public var series: [Series]

        enum CodingKeys: String, CodingKey {
            case title, series
            case xLabel = "x_label", yLabel = "y_label", yRange = "y_range"
        }
    }

    public var title: String?
    public var columns: Int?
    public var charts: [Chart]

    /// Bounds on what a file may ask for, checked before anything is drawn.
    public static let largestFileBytes = 16 << 20
    public static let mostCharts = 16, mostSeries = 32, mostPoints = 100_000, columnRange = 1...8

    static let fix = "write the chart file as README's `chart` section describes"

    /// Reads and checks the specification at `path`.
    public static func read(path: String) throws -> ChartSpecification {
        let data = try JSONInput.read(path: path, limit: largestFileBytes, fix: fix)
        let specification = try JSONInput.decode(ChartSpecification.self, from: data, path: path, what: "chart file", fix: fix)
        try specification.check(path: path)
        return specification
    }

    /// Every count within its bound, every series' x and y of one length, every range increasing.
    public func check(path: String) throws {
        func fail(_ problem: String) -> DissectError { DissectError(.input, file: path, problem: problem, fix: Self.fix) }
        guard !charts.isEmpty, charts.count <= Self.mostCharts else {
            throw fail("has \(charts.count) charts; a chart file holds 1 to \(Self.mostCharts)")
        }
        if let columns, !Self.columnRange.contains(columns) {
            throw fail("asks for \(columns) columns; use \(Self.columnRange.lowerBound) to \(Self.columnRange.upperBound)")
        }
        for (chartIndex, chart) in charts.enumerated() {
            let place = "charts[\(chartIndex)]"
            guard !chart.series.isEmpty, chart.series.count <= Self.mostSeries else {
                throw fail("\(place) has \(chart.series.count) series; a chart holds 1 to \(Self.mostSeries)")
            }
            if let range = chart.yRange, range.count != 2 || !(range[0] < range[1]) {
                throw fail("\(place).y_range is \(range); it must be two numbers, the lower first")
            }
            for (seriesIndex, series) in chart.series.enumerated() {
                let name = "\(place).series[\(seriesIndex)]"
                guard series.x.count == series.y.count else {
                    throw fail("\(name) has \(series.x.count) x values and \(series.y.count) y values; give one y per x")
                }
                guard series.x.count <= Self.mostPoints else {
                    throw fail("\(name) has \(series.x.count) points, above the \(Self.mostPoints) a series may have")
                }
            }
        }
    }

    /// The figure as one SVG document.
    public func svg() -> String {
        let lineCharts = charts.map { chart in
            LineChart(
                title: chart.title, xLabel: chart.xLabel, yLabel: chart.yLabel,
                series: chart.series.map { LineSeries(name: $0.name, x: $0.x, y: $0.y, dashed: $0.dashed ?? false) },
                yRange: chart.yRange.map { $0[0]...$0[1] })
        }
        return SVGReport.lineCharts(lineCharts, title: title, columns: columns ?? 2)
    }
}
