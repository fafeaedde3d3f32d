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
        ]
        for (name, text) in files {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
    }
}
