import Foundation
import Testing
@testable import DissectReport

/// Writes the sample figures, including hostile labels and gappy data, and
/// checks that every file written parses as one SVG document with its title.
/// They go to `$DISSECT_REPORT_SAMPLES` (a directory) when it is set, so a person
/// can render and look at them, and to a temporary directory otherwise.
@Suite struct SampleRenderTests {
    @Test func writeSamplesAndCheckThem() throws {
        let requested = ProcessInfo.processInfo.environment["DISSECT_REPORT_SAMPLES"]
        let directory = requested ?? NSTemporaryDirectory() + "dissect-report-samples-\(UUID().uuidString)"
        defer { if requested == nil { try? FileManager.default.removeItem(atPath: directory) } }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let correlations = (1...4).map { Samples.correlation(seed: UInt64($0), title: "Layer \($0) label correlation") }
        let files: [(String, String)] = [
            ("sensitivity.svg", SVGReport.heatmap(Samples.sensitivity())),
            ("correlation-4x1.svg", SVGReport.heatmaps(correlations, title: "Label correlations by layer", columns: 4)),
            ("correlation-2x2.svg", SVGReport.heatmaps(correlations, title: "Label correlations by layer", columns: 2)),
            ("ablation.svg", SVGReport.lineChart(Samples.ablation())),
            ("ablation-2.svg", SVGReport.lineCharts([Samples.ablation(), Samples.ablation()], title: "Ablation, two models", columns: 2)),
            ("edge-heatmap.svg", SVGReport.heatmap(Heatmap(
                title: "Long labels <&> \"quoted\"", rowLabels: ["neuron 1", "a much longer row label", "x"],
                columnLabels: ["PERSON-NAME", "LOCATION", "short", "ORGANIZATION & CO", "O"],
                values: [[0.5, -0.25, nil, 12.5, 0], [-3, 3, 1, nil, 0.001], [0.7, -0.7, 0.1, -0.1]],
                scale: 3, decimals: 3, caption: "Scale fixed at 3; 12.5 clamps. Third row is short."))),
            ("edge-chart.svg", SVGReport.lineChart(LineChart(
                title: "Gaps, a lone point and a fixed y range", xLabel: "step", yLabel: "F1 <&>",
                series: [
                    LineSeries(name: "gappy", x: [0, 1, 2, 3, 4, 5, 6], y: [0.2, 0.4, .nan, 0.5, .nan, 0.9, 1.3]),
                    LineSeries(name: "empty", x: [], y: []),
                    LineSeries(name: "thick", x: [0, 6], y: [0.05, 0.6], width: 4),
                ],
                bands: [Band(name: "split band", x: [0, 1, 2, 3, 4, 5, 6], lower: [0.1, 0.2, 0.25, .nan, 0.3, 0.35, 0.4],
                             upper: [0.3, 0.35, 0.4, 0.4, 0.5, 0.55, 0.6], color: "#0072b2")],
                yRange: 0...1, width: 420, height: 300))),
        ]
        let titles = ["Neuron sensitivity to each label (layer 1, forward)", "Label correlations by layer",
                      "Label correlations by layer", "Accuracy after ablating the top-k neurons", "Ablation, two models",
                      "Long labels <&> \"quoted\"", "Gaps, a lone point and a fixed y range"]
        #expect(files.count == titles.count)
        for ((name, text), title) in zip(files, titles) {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            let written = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            #expect(written == text, "\(name) was not written whole")
            let check = XMLCheck.parse(written)
            #expect(check.isValid, "\(name): \(check.errorDescription ?? "")")
            #expect(check.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg", "\(name) is an SVG document")
            #expect(check.rootAttributes["viewBox"] != nil, "\(name) has a viewBox")
            #expect(check.texts.contains(title), "\(name) shows its title \(title)")
            #expect(!written.contains("nan") && !written.contains("inf"), "\(name) spells no NaN or infinity")
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory)).isSuperset(of: files.map(\.0)))
    }
}
