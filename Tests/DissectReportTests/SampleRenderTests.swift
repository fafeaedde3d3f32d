import Foundation
import Testing
@testable import DissectReport

/// Writes the sample figures to `$DISSECT_REPORT_SAMPLES` (a directory) so a
/// person can render and look at them; does nothing when the variable is unset.
@Suite struct SampleRenderTests {
    @Test func writeSamplesWhenAsked() throws {
        guard let directory = ProcessInfo.processInfo.environment["DISSECT_REPORT_SAMPLES"] else { return }
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
        for (name, text) in files {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
    }
}
