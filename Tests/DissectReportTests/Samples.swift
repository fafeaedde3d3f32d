import Foundation
@testable import DissectReport

/// Deterministic sample figures shaped like the paper's, shared by the tests
/// and by the render check (see `SampleRenderTests`).
enum Samples {
    static let labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]

    /// 50 neurons × 9 labels with values in [−1.5, 2.5] and one label never predicted.
    static func sensitivity() -> Heatmap {
        var stream = SampleStream(state: 1)
        var values: [[Double?]] = []
        for _ in 0..<50 {
            values.append(labels.indices.map { column -> Double? in
                column == 8 ? nil : -1.5 + 4 * stream.next()
            })
        }
        return Heatmap(title: "Neuron sensitivity to each label (layer 1, forward)",
                       rowLabels: (0..<50).map { "\($0)" }, columnLabels: labels, values: values,
                       caption: "Change in the label's logit when the neuron is zeroed, averaged over the test set. "
                           + "Grey cells: the model never predicts I-MISC.")
    }

    /// A 9 × 9 label-correlation map in [−1, 1].
    static func correlation(seed: UInt64, title: String) -> Heatmap {
        var stream = SampleStream(state: seed)
        var values = [[Double?]](repeating: [Double?](repeating: 0, count: 9), count: 9)
        for row in 0..<9 {
            values[row][row] = 1
            for column in (row + 1)..<9 where column < 9 {
                let value = -1 + 2 * stream.next()
                values[row][column] = value
                values[column][row] = value
            }
        }
        return Heatmap(title: title, rowLabels: labels, columnLabels: labels, values: values, scale: 1)
    }

    static func ablation() -> LineChart {
        let x = (0...25).map(Double.init)
        func curve(_ rate: Double, _ floor: Double) -> [Double] {
            x.map { floor + (0.91 - floor) * exp(-rate * $0) }
        }
        var stream = SampleStream(state: 9)
        let center = x.map { 0.91 - 0.004 * $0 }
        let lower = center.map { $0 - 0.01 - 0.02 * stream.next() }
        let upper = center.map { $0 + 0.01 + 0.01 * stream.next() }
        return LineChart(
            title: "Accuracy after ablating the top-k neurons",
            xLabel: "Neurons ablated", yLabel: "Accuracy",
            series: [
                LineSeries(name: "Sensitivity ranking", x: x, y: curve(0.15, 0.35)),
                LineSeries(name: "Correlation ranking", x: x, y: curve(0.09, 0.45)),
                LineSeries(name: "Weight-magnitude ranking", x: x, y: curve(0.05, 0.55)),
                LineSeries(name: "Random order (median)", x: x, y: center, color: "#555555", dashed: true, width: 1.5),
            ],
            bands: [Band(name: "Random order, 5th–95th percentile", x: x, lower: lower, upper: upper)])
    }
}
