import DissectCore
import DissectModel

/// Which label a token is counted under when averaging contributions.
public enum Condition: String, Codable, Sendable, CaseIterable {
    /// The model's prediction z̃(t), as the paper.
    case predicted
    /// The gold label.
    case gold
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
/// gets `nil`: either mean is undefined.
public struct Sensitivity: Sendable {
    public let labels: [String]
    public let neuronCount: Int
    public let condition: Condition
    /// `[n][m]`, nil for an undefined column.
    public let values: [[Double?]]
    /// Tokens per label under the condition.
    public let counts: [Int]

    public init(run: ModelRun, condition: Condition) {
        let labels = run.labels
        let n = run.neuronCount, N = run.tokenCount
        let z = condition == .predicted ? run.predicted : run.gold
        self.init(
            labels: labels, neuronCount: n, tokenCount: N, hidden: run.hidden, assignments: z,
            outputWeight: Array(run.outputWeight), condition: condition)
    }

    /// - Parameters:
    ///   - hidden: `[N, n]`; assignments: N label indices (−1: counted under no label).
    ///   - outputWeight: `hidden2tag.weight`, `[m, n]`.
    public init(
        labels: [String], neuronCount n: Int, tokenCount N: Int, hidden: [Float], assignments: [Int32],
        outputWeight: [Float], condition: Condition
    ) {
        self.labels = labels
        neuronCount = n
        self.condition = condition
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
                let inside = sums[label * n + neuron] / Double(counts[label])
                let outside = (total[neuron] - sums[label * n + neuron]) / Double(N - counts[label])
                values[neuron][label] = Double(outputWeight[label * n + neuron]) * (inside - outside)
            }
        }
        self.values = values
        self.counts = counts
    }

    /// Neurons of one label, most sensitive first (ties: lower index first);
    /// empty when the label's sensitivity is undefined.
    public func ranking(label: Int) -> [Int] {
        guard values.first?[label] != nil else { return [] }
        return (0..<neuronCount).sorted { a, b in
            let va = values[a][label] ?? 0, vb = values[b][label] ?? 0
            return va != vb ? va > vb : a < b
        }
    }

    public var undefinedLabels: [String] {
        labels.indices.filter { values.first?[$0] == nil }.map { labels[$0] }
    }

    /// The file layout: `{"labels", "neurons", "condition", "data", "sensitivity", "rankings", "predicted_counts"}`.
    public struct Document: Codable, Sendable {
        public var labels: [String]
        public var neurons: Int
        public var condition: String
        public var data: String
        public var sensitivity: [[Double?]]
        public var rankings: [String: [Int]]
        public var predictedCounts: [String: Int]
        public var conditionCounts: [String: Int]

        enum CodingKeys: String, CodingKey {
            case labels, neurons, condition, data, sensitivity, rankings
            case predictedCounts = "predicted_counts"
            case conditionCounts = "condition_counts"
        }
    }

    public func document(data: String, predictedCounts: [Int]) -> Document {
        var rankings: [String: [Int]] = [:]
        for (index, label) in labels.enumerated() { rankings[label] = ranking(label: index) }
        return Document(
            labels: labels, neurons: neuronCount, condition: condition.rawValue, data: data, sensitivity: values,
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
