import DissectCore
import Foundation

/// Everything the neuron explorer page (`dissect explore`) embeds for one model run over one file.
///
/// Shapes (N tokens, n neurons, m labels, S sentences):
///
///     words            distinct word forms, in order of first appearance
///     tokenWords       base64 of N little-endian UInt32: each token's index into `words`
///     sentenceStarts   S + 1 token offsets
///     gold, predicted  base64 of N Int8: label index per token (−1: a gold label the model does not know)
///     activations      base64 of N·n Int8, token-major: h_i(t) ≈ q · activationScale[i], |error| ≤ scale / 2
///     outputWeight     [n][m] W[i, j] of the output layer (emissions with a CRF); nil below the top layer
///     sensitivity      [n][m], with bootstrap intervals and findings when computed
///     single           [n][m] drop in label j's accuracy (points) with neuron i alone zero-ablated
///     topTokens        per neuron, the `topCount` tokens of largest h_i (ties: lower token first); bottomTokens the smallest
///     histograms       per neuron and label, counts of h_i over `histogramEdges` (bins of [−1, 1], clamped), by gold and by predicted label
public struct ExplorerData: Codable, Sendable {
    public var model: String
    public var data: String
    /// 1-based; `layers` is the model's count.
    public var layer: Int
    public var layers: Int
    public var neurons: Int
    public var labels: [String]
    public var decoding: String
    public var measure: String
    public var tokenCount: Int
    public var words: [String]
    public var tokenWords: String
    public var sentenceStarts: [Int]
    public var gold: String
    public var predicted: String
    public var activationScale: [Double]
    public var activations: String
    public var outputWeight: [[Double]]?
    public var sensitivity: [[Double?]]
    public var intervalLevel: Double?
    public var intervalLower: [[Double?]]?
    public var intervalUpper: [[Double?]]?
    public var findings: [[Bool?]]?
    public var findingRule: String?
    /// Method → label → neurons, best first (sensitivity always; rival methods when a ranking study was given).
    public var rankings: [String: [String: [Int]]]
    /// Method → label → (drop at 10, area) in points, when a ranking study was given.
    public var rankingScores: [String: [String: [Double]]]?
    public var single: [[Double?]]
    public var topTokens: [[Int]]
    public var bottomTokens: [[Int]]
    public var histogramEdges: [Double]
    public var goldHistograms: [[[Int]]]
    public var predictedHistograms: [[[Int]]]
    /// The other models of the run: their sensitivity and, per neuron of this model, its match there.
    public var seeds: [ExplorerSeed]
    /// The name this model has in the run (e.g. "seed 1"), when it was found there.
    public var name: String?
    /// What the page should say about where each part came from.
    public var notes: [String]
}

/// Another model of the run, as the explorer shows it beside this one.
public struct ExplorerSeed: Codable, Sendable, Equatable {
    public var name: String
    /// Its sensitivity `[n'][m]` on its own run's file (nil when the run has none), and that file.
    public var sensitivity: [[Double?]]?
    public var sensitivityData: String?
    /// Per neuron of this model: its Hungarian match in that model and the match's r (nil: unmatched).
    public var matches: [ExplorerMatch?]
    /// Per neuron of this model: its best |r| with any neuron of that model (MaxCorr), when the comparison has it.
    public var maxCorrelation: [Double]?

    public init(name: String, sensitivity: [[Double?]]?, sensitivityData: String?, matches: [ExplorerMatch?], maxCorrelation: [Double]?) {
        self.name = name
        self.sensitivity = sensitivity
        self.sensitivityData = sensitivityData
        self.matches = matches
        self.maxCorrelation = maxCorrelation
    }
}

public struct ExplorerMatch: Codable, Sendable, Equatable {
    public var neuron: Int
    public var correlation: Double

    public init(neuron: Int, correlation: Double) {
        self.neuron = neuron
        self.correlation = correlation
    }
}

public enum ExplorerBuilder {
    /// Tokens listed per neuron at each end of its activation range.
    public static let topCount = 20
    public static let histogramBins = 20
    public static let histogramEdges = (0...histogramBins).map { -1 + 2 * Double($0) / Double(histogramBins) }

    /// The per-neuron scale of the int8 quantisation: max_t |h_i(t)| / 127 (0 for a neuron that is 0 everywhere).
    public static func scales(hidden: [Float], tokens N: Int, neurons n: Int) -> [Double] {
        var largest = [Double](repeating: 0, count: n)
        for t in 0..<N { for i in 0..<n { largest[i] = max(largest[i], abs(Double(hidden[t * n + i]))) } }
        return largest.map { $0 / 127 }
    }

    /// q = round(h / scale), in −127 … 127 (0 where the scale is 0).
    public static func quantise(hidden: [Float], tokens N: Int, neurons n: Int, scales: [Double]) -> [Int8] {
        var out = [Int8](repeating: 0, count: N * n)
        for t in 0..<N {
            for i in 0..<n where scales[i] > 0 {
                let q = (Double(hidden[t * n + i]) / scales[i]).rounded()
                out[t * n + i] = Int8(max(-127, min(127, q)))
            }
        }
        return out
    }

    /// The `count` tokens of largest (`descending`) or smallest activation of neuron `i`, ties to the lower token.
    public static func extremeTokens(hidden: [Float], tokens N: Int, neurons n: Int, neuron i: Int, count: Int, descending: Bool) -> [Int] {
        let order = (0..<N).sorted { a, b in
            let x = hidden[a * n + i], y = hidden[b * n + i]
            if x != y { return descending ? x > y : x < y }
            return a < b
        }
        return Array(order.prefix(count))
    }

    /// Counts of h_i per label over `histogramEdges` (values outside [−1, 1] in the end bins); `assignments` −1 skipped.
    public static func histograms(hidden: [Float], tokens N: Int, neurons n: Int, labels m: Int, assignments: [Int32]) -> [[[Int]]] {
        let bins = histogramBins
        var counts = [[[Int]]](repeating: [[Int]](repeating: [Int](repeating: 0, count: bins), count: m), count: n)
        for t in 0..<N {
            let j = Int(assignments[t])
            guard j >= 0 && j < m else { continue }
            for i in 0..<n {
                let value = Double(hidden[t * n + i])
                let bin = value.isFinite ? min(bins - 1, max(0, Int(((value + 1) / 2 * Double(bins)).rounded(.down)))) : 0
                counts[i][j][bin] += 1
            }
        }
        return counts
    }

    static func base64<T>(_ values: [T]) -> String {
        values.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Builds the page's data from a run over `words` (the corpus's sentences, as the run read them).
    /// - Parameters:
    ///   - single: `RivalRankings.single` on this run (`[m][n]`, points).
    ///   - statistics: the run's sensitivity statistics, when computed.
    ///   - rivals: a ranking study of this model (its rankings and scores join the sensitivity ranking).
    public static func make(
        model: String, run: ModelRun, words sentences: [[String]], sensitivity: Sensitivity, statistics: SensitivityStatistics?,
        single: [[Double]?], rivals: RankingDocument?, seeds: [ExplorerSeed], name: String?, notes: [String]
    ) -> ExplorerData {
        let N = run.tokenCount, n = run.neuronCount, m = run.labels.count
        var index: [String: UInt32] = [:]
        var words: [String] = []
        var tokenWords: [UInt32] = []
        tokenWords.reserveCapacity(N)
        for sentence in sentences {
            for word in sentence {
                if let known = index[word] {
                    tokenWords.append(known)
                } else {
                    let next = UInt32(words.count)
                    index[word] = next
                    words.append(word)
                    tokenWords.append(next)
                }
            }
        }
        precondition(tokenWords.count == N, "explorer: the words do not match the run's tokens")
        let scales = scales(hidden: run.hidden, tokens: N, neurons: n)
        let quantised = quantise(hidden: run.hidden, tokens: N, neurons: n, scales: scales)
        func labelBytes(_ values: [Int32]) -> [Int8] { values.map { $0 >= 0 && $0 < 127 ? Int8($0) : -1 } }
        var rankings: [String: [String: [Int]]] = [RankMethod.sensitivity.rawValue: Dictionary(
            uniqueKeysWithValues: run.labels.enumerated().map { ($1, sensitivity.ranking(label: $0)) })]
        var scores: [String: [String: [Double]]]?
        if let rivals {
            var byMethod: [String: [String: [Double]]] = [:]
            for method in rivals.methods {
                rankings[method.method.rawValue] = method.labels.mapValues(\.ranking)
                byMethod[method.method.rawValue] = method.labels.mapValues { [$0.dropAt10, $0.area] }
            }
            scores = byMethod
        }
        let outputWeight: [[Double]]? = run.isTopLayer
            ? (0..<n).map { i in (0..<m).map { j in Double(run.outputWeight[run.outputWeight.startIndex + j * n + i]) } } : nil
        return ExplorerData(
            model: model, data: run.dataPath, layer: run.layer + 1, layers: run.checkpoint.model.configuration.layers, neurons: n,
            labels: run.labels, decoding: run.decoding.rawValue, measure: sensitivity.measure.rawValue, tokenCount: N,
            words: words, tokenWords: base64(tokenWords), sentenceStarts: run.sentenceStarts,
            gold: base64(labelBytes(run.gold)), predicted: base64(labelBytes(run.predicted)),
            activationScale: scales, activations: base64(quantised), outputWeight: outputWeight,
            sensitivity: sensitivity.values, intervalLevel: statistics?.bootstrap?.level,
            intervalLower: statistics?.bootstrap?.lower, intervalUpper: statistics?.bootstrap?.upper,
            findings: statistics?.findings?.cells, findingRule: statistics?.findings?.rule,
            rankings: rankings, rankingScores: scores,
            single: (0..<n).map { i in (0..<m).map { j in single[j]?[i] } },
            topTokens: (0..<n).map { extremeTokens(hidden: run.hidden, tokens: N, neurons: n, neuron: $0, count: topCount, descending: true) },
            bottomTokens: (0..<n).map { extremeTokens(hidden: run.hidden, tokens: N, neurons: n, neuron: $0, count: topCount, descending: false) },
            histogramEdges: histogramEdges,
            goldHistograms: histograms(hidden: run.hidden, tokens: N, neurons: n, labels: m, assignments: run.gold),
            predictedHistograms: histograms(hidden: run.hidden, tokens: N, neurons: n, labels: m, assignments: run.predicted),
            seeds: seeds, name: name, notes: notes)
    }

    /// This model's side of a comparison: for every other model, its match and MaxCorr per neuron of `ours`.
    public static func seeds(from comparison: Comparison, ours: String, neurons n: Int, sensitivity: [String: (values: [[Double?]], data: String)]) -> [ExplorerSeed] {
        var result: [ExplorerSeed] = []
        for other in comparison.models where other != ours {
            var matches = [ExplorerMatch?](repeating: nil, count: n)
            for pair in comparison.pairs {
                if pair.modelA == ours && pair.modelB == other {
                    for match in pair.matches where match.neuronA < n { matches[match.neuronA] = ExplorerMatch(neuron: match.neuronB, correlation: match.correlation) }
                } else if pair.modelB == ours && pair.modelA == other {
                    for match in pair.matches where match.neuronB < n { matches[match.neuronB] = ExplorerMatch(neuron: match.neuronA, correlation: match.correlation) }
                }
            }
            let maxCorrelation = comparison.maxCorrelation.first { $0.model == ours && $0.other == other }?.values
            result.append(ExplorerSeed(
                name: other, sensitivity: sensitivity[other]?.values, sensitivityData: sensitivity[other]?.data, matches: matches,
                maxCorrelation: maxCorrelation.map { Array($0.prefix(n)) }))
        }
        return result
    }
}
