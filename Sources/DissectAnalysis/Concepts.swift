import DissectCore
import DissectCorpus
import DissectModel

/// What each neuron detects: the paper's first open question ("we can only make speculations about
/// what the information is"), answered with token properties (`TokenProperties`).
///
/// For neuron i and a value v of a property (N tokens, n neurons):
/// - the activation difference `d[i, v] = E[h_i | v] − E[h_i | not v]` (`Sensitivity.value` with
///   weight 1), with a sentence-level bootstrap interval (`SensitivityResampling`, the sensitivity's own);
/// - `AUC[i, v]` = P(h_i(t) > h_i(t′)) + ½ P(h_i(t) = h_i(t′)) for t with v and t′ without: 1 or 0 when
///   h_i separates the value from the rest, ½ when it carries nothing about it.
///
/// Then, for each label's top neurons (by the paper's sensitivity on the same file): the neuron's best
/// description, the value with the largest |AUC − ½| among those at least `minimumTokens` tokens have
/// and do not have, against the AUC of the label itself (predicted = j); and the sensitivity left once
/// the best description's property is held fixed: s computed within each value's tokens, averaged with
/// weights = the tokens predicted j in that value (`within`). Near 0: the property explains the label's
/// sensitivity; near s: the neuron sees the label beyond the property.
public enum Concepts {
    /// A value must be had, and not had, by at least this many tokens to describe a neuron
    /// (an AUC over a handful of tokens reaches 0 or 1 by chance).
    public static let minimumTokens = 20
    /// How many of each label's most sensitive neurons are described, by default.
    public static let defaultTopCount = 10

    /// One property's measurements; matrices are `[n][values]`, nil where undefined
    /// (a value every token or no token has) or not computed (no bootstrap).
    public struct PropertyResult: Codable, Sendable, Equatable {
        public var name: String
        public var source: String
        public var values: [String]
        public var counts: [Int]
        public var difference: [[Double?]]
        public var lower: [[Double?]]?
        public var upper: [[Double?]]?
        public var auc: [[Double?]]
    }

    /// A property value that describes a neuron.
    public struct Description: Codable, Sendable, Equatable {
        public var property: String
        public var value: String
        public var auc: Double
        public var difference: Double
    }

    /// One of a label's top neurons, described.
    public struct TopNeuron: Codable, Sendable, Equatable {
        public var label: String
        /// 1 = the label's most sensitive neuron.
        public var rank: Int
        public var neuron: Int
        public var sensitivity: Double
        /// AUC of h_i for "predicted = label" against every other token.
        public var labelAUC: Double?
        public var best: Description?
        /// Whether the label separates h_i better than the best property does (|AUC − ½| larger).
        public var labelIsBest: Bool
        /// The sensitivity with the best description's property held fixed, and its ratio to `sensitivity`.
        public var within: Double?
        public var remaining: Double?
    }

    /// A neuron among the top neurons of several labels, and the property value their tokens share.
    public struct SharedNeuron: Codable, Sendable, Equatable {
        public var neuron: Int
        public var labels: [String]
        public var best: Description?
        /// The value most over-represented in every one of the labels' tokens: the largest
        /// min over labels of (share of the label's tokens with it − share of all tokens); nil when none is.
        public var shared: Description?
        /// Per label (in `labels` order): the share of its predicted tokens with the shared value.
        public var coverage: [Double]
        /// The share of all tokens with the shared value.
        public var baseRate: Double?
    }

    public struct Document: Codable, Sendable {
        public var data: String
        /// 1-based.
        public var layer: Int
        public var neurons: Int
        public var tokens: Int
        public var labels: [String]
        public var bootstrap: Int
        public var seed: UInt64
        public var level: Double
        public var top: Int
        public var minimumTokens: Int
        /// Where the training frequencies come from, when they were computed.
        public var frequencyFile: String?
        public var properties: [PropertyResult]
        /// `[n][m]`: AUC of h_i for predicted = j.
        public var labelAUC: [[Double?]]
        public var topNeurons: [TopNeuron]
        public var sharedNeurons: [SharedNeuron]
    }

    /// Describes every neuron of `run` by `properties` (each with one value per token of the run)
    /// and each label's `top` most sensitive neurons (predicted condition) by their best property.
    /// - Parameters:
    ///   - bootstrap: sentence-level resamples for the intervals, 0 (none) to `SensitivityStatistics.largestCount`.
    ///   - top: 1 ... n.
    public static func analyse(
        run: ModelRun, properties: [TokenProperty], top: Int, bootstrap: Int, seed: UInt64, frequencyFile: String? = nil
    ) -> Document {
        let n = run.neuronCount, N = run.tokenCount, m = run.labels.count
        precondition(properties.allSatisfy { $0.assignments.count == N }, "every property needs one value per token")
        let labelProperty = TokenProperty(name: "label", source: "predicted", values: run.labels, assignments: run.predicted)
        let areas = areaUnderCurve(hidden: run.hidden, neurons: n, properties: properties + [labelProperty])
        var results: [PropertyResult] = []
        for (index, property) in properties.enumerated() {
            let resampling = SensitivityResampling(
                labels: property.values, neuronCount: n, hidden: run.hidden, assignments: property.assignments,
                sentenceStarts: run.sentenceStarts, outputWeight: nil)
            let intervals = bootstrap > 0 ? resampling.bootstrap(resamples: bootstrap, seed: seed) : nil
            results.append(PropertyResult(
                name: property.name, source: property.source, values: property.values, counts: property.counts,
                difference: resampling.sensitivity.values, lower: intervals?.lower, upper: intervals?.upper, auc: areas[index]))
        }
        let labelAUC = areas[properties.count]
        let best = (0..<n).map { bestDescription(neuron: $0, results: results, tokens: N) }
        let sensitivity = Sensitivity(run: run, condition: .predicted)
        let weights = Sensitivity.inputs(run: run, condition: .predicted).outputWeight
        var withinCache: [String: [[Double?]]] = [:]
        var topNeurons: [TopNeuron] = []
        var topSets = [[Int]](repeating: [], count: m)
        for label in 0..<m {
            let ranking = sensitivity.ranking(label: label).prefix(top)
            topSets[label] = Array(ranking)
            for (rank, neuron) in ranking.enumerated() {
                guard let s = sensitivity.values[neuron][label] else { continue }
                var within: Double?
                if let description = best[neuron], let property = properties.first(where: { $0.name == description.property }) {
                    if withinCache[property.name] == nil {
                        withinCache[property.name] = withinProperty(
                            hidden: run.hidden, neurons: n, labels: run.labels, predicted: run.predicted, property: property,
                            outputWeight: weights)
                    }
                    within = withinCache[property.name]?[neuron][label]
                }
                let area = labelAUC[neuron][label]
                let labelIsBest = area.map { abs($0 - 0.5) > abs((best[neuron]?.auc ?? 0.5) - 0.5) } ?? false
                topNeurons.append(TopNeuron(
                    label: run.labels[label], rank: rank + 1, neuron: neuron, sensitivity: s, labelAUC: area,
                    best: best[neuron], labelIsBest: labelIsBest, within: within,
                    remaining: within.flatMap { s != 0 ? $0 / s : nil }))
            }
        }
        var shared: [SharedNeuron] = []
        for neuron in 0..<n {
            let labels = (0..<m).filter { topSets[$0].contains(neuron) }
            guard labels.count >= 2 else { continue }
            let common = sharedValue(neuron: neuron, labels: labels, predicted: run.predicted, properties: properties, results: results)
            shared.append(SharedNeuron(
                neuron: neuron, labels: labels.map { run.labels[$0] }, best: best[neuron], shared: common?.description,
                coverage: common?.coverage ?? [], baseRate: common?.baseRate))
        }
        return Document(
            data: run.dataPath, layer: run.layer + 1, neurons: n, tokens: N, labels: run.labels, bootstrap: bootstrap, seed: seed,
            level: SensitivityStatistics.level, top: top, minimumTokens: minimumTokens, frequencyFile: frequencyFile,
            properties: results, labelAUC: labelAUC, topNeurons: topNeurons, sharedNeurons: shared)
    }

    /// Whether `count` of `tokens` tokens having a value leaves enough on both sides to describe a neuron.
    static func describable(count: Int, tokens: Int) -> Bool {
        count >= minimumTokens && tokens - count >= minimumTokens
    }

    /// The describable value with the largest |AUC − ½| for `neuron` (ties: the earlier property, then value).
    static func bestDescription(neuron: Int, results: [PropertyResult], tokens: Int) -> Description? {
        var best: Description?
        for result in results {
            for (value, name) in result.values.enumerated() where describable(count: result.counts[value], tokens: tokens) {
                guard let area = result.auc[neuron][value], let difference = result.difference[neuron][value] else { continue }
                if best.map({ abs(area - 0.5) > abs($0.auc - 0.5) }) ?? true {
                    best = Description(property: result.name, value: name, auc: area, difference: difference)
                }
            }
        }
        return best
    }

    /// The sensitivity `[n][m]` within the values of `property`: per value v, s_v = the sensitivity over v's
    /// tokens alone (`Sensitivity`, predicted condition); the result is Σ_v c_v[j] s_v[i, j] / Σ_v c_v[j] over the
    /// values where s_v[·, j] is defined, c_v[j] = tokens of v predicted j; nil where no value defines it.
    /// - Parameters: hidden `[N, n]` token-major; predicted: N label indices into `labels`; outputWeight `[m, n]` or nil.
    static func withinProperty(
        hidden: [Float], neurons n: Int, labels: [String], predicted: [Int32], property: TokenProperty, outputWeight: [Float]?
    ) -> [[Double?]] {
        let m = labels.count
        var sums = [[Double]](repeating: [Double](repeating: 0, count: m), count: n)
        var weights = [Double](repeating: 0, count: m)
        for value in property.values.indices {
            let tokens = property.assignments.indices.filter { property.assignments[$0] == Int32(value) }
            guard !tokens.isEmpty else { continue }
            var states = [Float](); states.reserveCapacity(tokens.count * n)
            for token in tokens { states += hidden[(token * n)..<(token * n + n)] }
            let stratum = Sensitivity(
                labels: labels, neuronCount: n, tokenCount: tokens.count, hidden: states,
                assignments: tokens.map { predicted[$0] }, outputWeight: outputWeight, condition: .predicted)
            for label in 0..<m where stratum.values.first?[label] != nil {
                let count = Double(stratum.counts[label])
                weights[label] += count
                for neuron in 0..<n { sums[neuron][label] += count * (stratum.values[neuron][label] ?? 0) }
            }
        }
        return (0..<n).map { neuron in (0..<m).map { weights[$0] > 0 ? sums[neuron][$0] / weights[$0] : nil } }
    }

    /// The value over-represented in all of `labels`' predicted tokens (see `SharedNeuron.shared`).
    static func sharedValue(
        neuron: Int, labels: [Int], predicted: [Int32], properties: [TokenProperty], results: [PropertyResult]
    ) -> (description: Description, coverage: [Double], baseRate: Double)? {
        let N = predicted.count
        var labelTotals = [Double](repeating: 0, count: labels.count)
        for label in predicted { if let index = labels.firstIndex(of: Int(label)) { labelTotals[index] += 1 } }
        var best: (lift: Double, description: Description, coverage: [Double], baseRate: Double)?
        for (property, result) in zip(properties, results) {
            var counts = [[Double]](repeating: [Double](repeating: 0, count: property.values.count), count: labels.count)
            for (token, label) in predicted.enumerated() {
                if let index = labels.firstIndex(of: Int(label)) { counts[index][Int(property.assignments[token])] += 1 }
            }
            for (value, name) in property.values.enumerated() where describable(count: result.counts[value], tokens: N) {
                guard let area = result.auc[neuron][value], let difference = result.difference[neuron][value] else { continue }
                let baseRate = Double(result.counts[value]) / Double(N)
                let coverage = labels.indices.map { labelTotals[$0] > 0 ? counts[$0][value] / labelTotals[$0] : 0 }
                let lift = (coverage.min() ?? 0) - baseRate
                guard lift > 0 else { continue }
                if best.map({ lift > $0.lift }) ?? true {
                    best = (lift, Description(property: result.name, value: name, auc: area, difference: difference), coverage, baseRate)
                }
            }
        }
        return best.map { ($0.description, $0.coverage, $0.baseRate) }
    }

    /// `[property][n][values]`: the AUC of every neuron for every value of every property, nil for a value
    /// no token or every token has. Per neuron the tokens are ranked once (ties get their mean rank) and a
    /// value's AUC is the Mann–Whitney U of its rank sum R: (R − c(c + 1)/2) / (c (N − c)) for c tokens.
    /// - Parameter hidden: `[N, n]` token-major; every property has N assignments.
    public static func areaUnderCurve(hidden: [Float], neurons n: Int, properties: [TokenProperty]) -> [[[Double?]]] {
        let N = n > 0 ? hidden.count / n : 0
        var result = properties.map { [[Double?]](repeating: [Double?](repeating: nil, count: $0.values.count), count: n) }
        let counts = properties.map(\.counts)
        var perNeuron = [[[Double?]]](repeating: [], count: n)
        perNeuron.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            parallelFor(n) { neuron in
                let order = (0..<N).sorted { a, b in
                    let x = hidden[a * n + neuron], y = hidden[b * n + neuron]
                    return x != y ? x < y : a < b
                }
                var ranks = [Double](repeating: 0, count: N)
                var start = 0
                while start < N {
                    var end = start + 1
                    while end < N && hidden[order[end] * n + neuron] == hidden[order[start] * n + neuron] { end += 1 }
                    let mean = Double(start + 1 + end) / 2   // ranks start + 1 ... end, 1-based
                    for position in start..<end { ranks[order[position]] = mean }
                    start = end
                }
                var areas: [[Double?]] = []
                for (property, valueCounts) in zip(properties, counts) {
                    var rankSums = [Double](repeating: 0, count: property.values.count)
                    for token in 0..<N { rankSums[Int(property.assignments[token])] += ranks[token] }
                    areas.append(valueCounts.indices.map { value in
                        let c = Double(valueCounts[value])
                        guard valueCounts[value] > 0 && valueCounts[value] < N else { return nil }
                        return (rankSums[value] - c * (c + 1) / 2) / (c * (Double(N) - c))
                    })
                }
                outBase[neuron] = areas   // distinct elements per thread
            }
        }
        for neuron in 0..<n {
            for property in properties.indices { result[property][neuron] = perNeuron[neuron][property] }
        }
        return result
    }

    /// The naive reference: P(score of a positive > score of a negative) + ½ P(equal), over every pair.
    public static func areaUnderCurveNaive(scores: [Double], positive: [Bool]) -> Double? {
        let positives = zip(scores, positive).filter { $0.1 }.map(\.0), negatives = zip(scores, positive).filter { !$0.1 }.map(\.0)
        guard !positives.isEmpty && !negatives.isEmpty else { return nil }
        var total = 0.0
        for p in positives {
            for q in negatives { total += p > q ? 1 : p == q ? 0.5 : 0 }
        }
        return total / Double(positives.count * negatives.count)
    }
}
