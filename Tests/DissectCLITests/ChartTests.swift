import Foundation
import Testing

/// `dissect chart`: a JSON description becomes one SVG figure; every mistake is one error line and no file.
@Suite("dissect chart") struct ChartTests {
    static let good = """
        {"title": "Cost", "columns": 2, "charts": [
          {"title": "Speed", "x_label": "hidden", "y_label": "sentences/s",
           "series": [{"name": "dissect uni", "x": [50, 100, 200], "y": [13000, 8000, 2700]},
                      {"name": "PyTorch uni", "x": [50, 100, 200], "y": [480, 400, 310], "dashed": true}]},
          {"title": "Ratio", "x_label": "hidden", "y_label": "dissect / PyTorch", "y_range": [0, 40],
           "series": [{"name": "uni", "x": [50, 100, 200], "y": [27, 20, 8.7]}]}]}
        """

    @Test("a chart file becomes an SVG with every series in its legend")
    func drawsTheCharts() async throws {
        let sandbox = try Sandbox()
        let json = try sandbox.write("chart.json", Self.good)
        let result = try await sandbox.run(["chart", "--json", json, "--out", "cost.svg"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("wrote cost.svg: 2 charts"), "\(result.stdout)")
        let svg = try Files.text(sandbox.path("cost.svg"))
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"), "\(svg.prefix(80))")
        for text in ["Cost", "Speed", "Ratio", "dissect uni", "PyTorch uni", "sentences/s", "stroke-dasharray"] {
            #expect(svg.contains(text), "\(text) is drawn")
        }
        // The fixed y range reaches its upper tick.
        #expect(svg.contains(">40<"), "the ratio axis runs to 40")
    }

    @Test("every mistake in a chart file is one error line naming it, and nothing is written",
          arguments: [
              ("{\"charts\": []}", "has 0 charts; a chart file holds 1 to 16"),
              ("{\"charts\": [{\"title\": \"a\", \"x_label\": \"x\", \"y_label\": \"y\", \"series\": [{\"name\": \"s\", \"x\": [1, 2], \"y\": [1]}]}]}",
               "charts[0].series[0] has 2 x values and 1 y values"),
              ("{\"charts\": [{\"title\": \"a\", \"x_label\": \"x\", \"series\": []}]}", "charts[0].y_label is missing"),
              ("{\"charts\": [{\"title\": \"a\", \"x_label\": \"x\", \"y_label\": \"y\", \"series\": [{\"name\": \"s\", \"x\": [\"1\"], \"y\": [1]}]}]}",
               "charts[0].series[0].x[0] has the wrong type"),
              ("{\"columns\": 0, \"charts\": [{\"title\": \"a\", \"x_label\": \"x\", \"y_label\": \"y\", \"series\": [{\"name\": \"s\", \"x\": [1], \"y\": [1]}]}]}",
               "asks for 0 columns"),
              ("{\"charts\": [{\"title\": \"a\", \"x_label\": \"x\", \"y_label\": \"y\", \"y_range\": [5, 1], \"series\": [{\"name\": \"s\", \"x\": [1], \"y\": [1]}]}]}",
               "charts[0].y_range is [5.0, 1.0]"),
              ("not json", "is not a valid chart file: it is not JSON"),
          ])
    func mistakesAreOneLine(json: String, expected: String) async throws {
        let sandbox = try Sandbox()
        let path = try sandbox.write("chart.json", json)
        let result = try await sandbox.run(["chart", "--json", path, "--out", "out.svg"])
        #expect(result.status == 1, "\(result)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: ") && lines[0].contains(path) && lines[0].contains(expected), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.path("out.svg")))
    }

    @Test("a missing chart file is one error line")
    func missingFile() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["chart", "--json", "nowhere.json", "--out", "out.svg"])
        #expect(result.status == 1 && result.stderr.contains("nowhere.json") && result.stderr.contains("no such file"), "\(result)")
    }
}
