import DissectCore
import DissectModel

/// Which label a token is counted under when averaging contributions.
public enum Condition: String, Codable, Sendable, CaseIterable {
    /// The model's prediction z̃(t), as the paper.
    case predicted
    /// The gold label.
    case gold
}

/// What a sensitivity value measures.
public enum SensitivityMeasure: String, Codable, Sendable, CaseIterable {
    /// The paper's, on the top layer: the contribution u = W[i, j] · h_i(t) to label j's score.
    case contribution
    /// On a lower layer, which has no output weight: the activation itself, E[h_i | ŷ = j] − E[h_i | ŷ ≠ j].
    case activationDifference = "activation_difference"
}

/// The paper's neuron–label sensitivity (Section 4.1).
///
/// Contribution of neuron i to label j at token t: u = W[i, j] · h_i(t), with
/// W = `hidden2tag.weight`ᵀ (n × m). Sensitivity
///
///     s[i, j] = mean_t(u | z(t) = j) − mean_t(u | z(t) ≠ j)
///             = W[i, j] · (mean of h_i where z = j − mean of h_i where z ≠ j),
///
/// over every token of the file. A label that no token (or every token) has
/// gets `nil`: either mean is undefined. On a layer below the top there is no
/// output weight, and the value is the activation difference
/// `mean(h_i | z = j) − mean(h_i | z ≠ j)` (`SensitivityMeasure.activationDifference`).
/// With a CRF, W is the emission layer's and z the Viterbi path: the model's real output.
public struct Sensitivity: Sendable {
    public let labels: [String]
    public let neuronCount: Int
    public let condition: Condition
    public let measure: SensitivityMeasure
    /// The analysed layer, 0-based.
    public let layer: Int
    /// How the predictions conditioned on were decoded: Viterbi for a CRF, else arg-max.
    public let decoding: Decoding
    /// `[n][m]`, nil for an undefined column.
    public let values: [[Double?]]
    /// Tokens per label under the condition.
    public let counts: [Int]

    public init(run: ModelRun, condition: Condition) {
        let inputs = Self.inputs(run: run, condition: condition)
        self.init(
            labels: run.labels, neuronCount: run.neuronCount, tokenCount: run.tokenCount, hidden: run.hidden,
            assignments: inputs.assignments, outputWeight: inputs.outputWeight, condition: condition, layer: run.layer,
            decoding: run.decoding)
    }

    /// What a run's sensitivity is computed from: the labels tokens are counted under
    /// (the predictions or the gold labels) and W, the top layer's output weight
    /// (`[m, n]`; nil below the top, where the value is the activation difference).
    public static func inputs(run: ModelRun, condition: Condition) -> (assignments: [Int32], outputWeight: [Float]?) {
        (condition == .predicted ? run.predicted : run.gold, run.isTopLayer ? Array(run.outputWeight) : nil)
    }

    /// The one formula, from sums: `weight · (sum / count − (total − sum) / (tokenCount − count))`,
    /// with `sum` = Σ h_i over the tokens of label j (`count` of them), `total` = Σ h_i over all
    /// `tokenCount` tokens. Defined for 0 < count < tokenCount.
    @inlinable @inline(__always)
    public static func value(sum: Double, count: Double, total: Double, tokenCount: Double, weight: Double) -> Double {
        weight * (sum / count - (total - sum) / (tokenCount - count))
    }

    /// Whether neuron `a` (value `va`) ranks before neuron `b` (value `vb`): the larger value
    /// first, ties to the lower index. Every ranking of a sensitivity column uses it.
    @inlinable @inline(__always)
    public static func ranksBefore(_ a: Int, _ va: Double, _ b: Int, _ vb: Double) -> Bool {
        va != vb ? va > vb : a < b
    }

    /// - Parameters:
    ///   - hidden: `[N, n]`; assignments: N label indices (−1: counted under no label).
    ///   - outputWeight: `hidden2tag.weight`, `[m, n]`; nil for a lower layer (the activation difference).
    ///   - layer: the layer `hidden` comes from, 0-based (recorded in the document).
    public init(
        labels: [String], neuronCount n: Int, tokenCount N: Int, hidden: [Float], assignments: [Int32],
        outputWeight: [Float]?, condition: Condition, layer: Int = 0, decoding: Decoding = .argmax
    ) {
        self.labels = labels
        self.layer = layer
        self.decoding = decoding
        neuronCount = n
        self.condition = condition
        measure = outputWeight == nil ? .activationDifference : .contribution
        let m = labels.count
        var sums = [Double](repeating: 0, count: m * n)
        var total = [Double](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: m)
        for token in 0..<N {
            let row = token * n
            let label = Int(assignments[token])
            for neuron in 0..<n { total[neuron] += Double(hidden[row + neuron]) }
            guard label >= 0 && label < m else { continue }
            counts[label] += 1
            for neuron in 0..<n { sums[label * n + neuron] += Double(hidden[row + neuron]) }
        }
        var values = [[Double?]](repeating: [Double?](repeating: nil, count: m), count: n)
        for label in 0..<m where counts[label] > 0 && counts[label] < N {
            for neuron in 0..<n {
                values[neuron][label] = Self.value(
                    sum: sums[label * n + neuron], count: Double(counts[label]), total: total[neuron], tokenCount: Double(N),
                    weight: outputWeight.map { Double($0[label * n + neuron]) } ?? 1)
            }
        }
        self.values = values
        self.counts = counts
    }

    /// Neurons of one label, most sensitive first (ties: lower index first);
    /// empty when the label's sensitivity is undefined.
    public func ranking(label: Int) -> [Int] {
        guard values.first?[label] != nil else { return [] }
        return (0..<neuronCount).sorted { a, b in Self.ranksBefore(a, values[a][label] ?? 0, b, values[b][label] ?? 0) }
    }

    /// Per neuron, its largest |s[i, j]| over the labels with a defined value (0 when none is): how
    /// `prune --by sensitivity` scores a neuron.
    public var largestMagnitudes: [Double] {
        values.map { row in row.compactMap { $0.map(abs) }.max() ?? 0 }
    }

    public var undefinedLabels: [String] {
        labels.indices.filter { values.first?[$0] == nil }.map { labels[$0] }
    }

    /// The file layout: `{"labels", "neurons", "layer", "measure", "decoding", "condition", "data", "sensitivity", "rankings",
    /// "predicted_counts", "condition_counts"}`; `layer` is 1-based, `measure` says what a value is.
    public struct Document: Codable, Sendable {
        public var labels: [String]
        public var neurons: Int
        /// 1-based; nil in files written before layers existed (the only layer).
        public var layer: Int?
        /// `contribution` or `activation_difference`; nil in older files (a contribution).
        public var measure: SensitivityMeasure?
        /// How the model's predictions were decoded: `viterbi` (a CRF) or `argmax`; nil in older files (argmax).
        public var decoding: Decoding?
        public var condition: String
        public var data: String
        public var sensitivity: [[Double?]]
        public var rankings: [String: [Int]]
        public var predictedCounts: [String: Int]
        public var conditionCounts: [String: Int]
        /// Intervals, p and q, and findings, columns in `labels` order; nil when none were computed.
        public var statistics: SensitivityStatistics?

        enum CodingKeys: String, CodingKey {
            case labels, neurons, layer, measure, decoding, condition, data, sensitivity, rankings, statistics
            case predictedCounts = "predicted_counts"
            case conditionCounts = "condition_counts"
        }
    }

    public func document(data: String, predictedCounts: [Int]) -> Document {
        var rankings: [String: [Int]] = [:]
        for (index, label) in labels.enumerated() { rankings[label] = ranking(label: index) }
        return Document(
            labels: labels, neurons: neuronCount, layer: layer + 1, measure: measure, decoding: decoding,
            condition: condition.rawValue, data: data, sensitivity: values,
            rankings: rankings,
            // Checkpoints never repeat a label (Checkpoint.validate); should one, the first count wins instead of a trap.
            predictedCounts: Dictionary(zip(labels, predictedCounts), uniquingKeysWith: { first, _ in first }),
            conditionCounts: Dictionary(zip(labels, counts), uniquingKeysWith: { first, _ in first }))
    }
}

extension ModelRun {
    /// Tokens predicted as each label.
    public var predictedCounts: [Int] {
        var counts = [Int](repeating: 0, count: labels.count)
        for label in predicted { counts[Int(label)] += 1 }
        return counts
    }
}
