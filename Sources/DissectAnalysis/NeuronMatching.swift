/// Neuron-to-neuron matching between two models (Li et al. 2016).
public enum NeuronMatching {
    /// |corr| is taken as 0 for a neuron whose centred sum of squares is at or below this (a constant neuron).
    public static let constantTolerance = 1e-12

    /// Pearson correlation of every neuron of A with every neuron of B over the same tokens:
    /// r[i][j] = Σ_t a_i(t) b_j(t) / √(Σ a_i² · Σ b_j²) on centred columns (the same value as
    /// `Statistics.pearson`, computed for all pairs at once with one dgemm), `[n_A][n_B]`, clamped to [−1, 1];
    /// 0 where either neuron is constant.
    public static func correlations(_ a: CentredActivations, _ b: CentredActivations) -> [[Double]] {
        let cross = a.crossProduct(b)
        let squaresA = a.columnSumsOfSquares, squaresB = b.columnSumsOfSquares
        return (0..<a.width).map { i in
            (0..<b.width).map { j in
                guard squaresA[i] > constantTolerance, squaresB[j] > constantTolerance else { return 0 }
                return max(-1, min(1, cross[i * b.width + j] / (squaresA[i] * squaresB[j]).squareRoot()))
            }
        }
    }

    /// The neurons of a set whose centred sum of squares is at or below `constantTolerance`.
    public static func constantNeurons(_ x: CentredActivations) -> [Int] {
        x.columnSumsOfSquares.enumerated().filter { $0.element <= constantTolerance }.map(\.offset)
    }

    /// The one-to-one assignment of rows to columns that maximises the total weight
    /// (Kuhn–Munkres with potentials, O(r² c) for r ≤ c), of a `[r][c]` matrix (r, c ≥ 0, finite entries).
    /// Rectangular matrices match every row when r ≤ c and every column when r > c.
    /// - Returns: for each row, its column, or nil when it is left unmatched (only when r > c).
    public static func hungarian(_ weights: [[Double]]) -> [Int?] {
        let rows = weights.count, columns = weights.first?.count ?? 0
        guard rows > 0, columns > 0 else { return [Int?](repeating: nil, count: rows) }
        if rows > columns {
            let transposed = (0..<columns).map { j in (0..<rows).map { i in weights[i][j] } }
            var result = [Int?](repeating: nil, count: rows)
            for (column, row) in hungarian(transposed).enumerated() { if let row { result[row] = column } }
            return result
        }
        // Minimise cost = −weight; 1-based arrays with a virtual column 0 (e-maxx formulation).
        let n = rows, m = columns
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: m + 1)
        var matchOfColumn = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
        for row in 1...n {
            matchOfColumn[0] = row
            var column0 = 0
            var minimum = [Double](repeating: .infinity, count: m + 1)
            var used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[column0] = true
                let row0 = matchOfColumn[column0]
                var delta = Double.infinity, column1 = 0
                for column in 1...m where !used[column] {
                    let current = -weights[row0 - 1][column - 1] - u[row0] - v[column]
                    if current < minimum[column] {
                        minimum[column] = current
                        way[column] = column0
                    }
                    if minimum[column] < delta {
                        delta = minimum[column]
                        column1 = column
                    }
                }
                for column in 0...m {
                    if used[column] {
                        u[matchOfColumn[column]] += delta
                        v[column] -= delta
                    } else {
                        minimum[column] -= delta
                    }
                }
                column0 = column1
            } while matchOfColumn[column0] != 0
            repeat {
                let column1 = way[column0]
                matchOfColumn[column0] = matchOfColumn[column1]
                column0 = column1
            } while column0 != 0
        }
        var result = [Int?](repeating: nil, count: rows)
        for column in 1...m where matchOfColumn[column] != 0 { result[matchOfColumn[column] - 1] = column - 1 }
        return result
    }

    /// MaxCorr: for every row neuron, its largest |r| over the columns of `correlations` (`[n_A][n_B]`); 0 with no columns.
    public static func maxCorrelation(_ correlations: [[Double]]) -> [Double] {
        correlations.map { row in row.map(abs).max() ?? 0 }
    }

    /// How many of A's top k for a label land in B's top k once mapped through the matching.
    /// - Parameters: rankingA, rankingB best first; mapping A's neuron → B's (nil: unmatched).
    public static func recurrence(rankingA: [Int], rankingB: [Int], mapping: [Int?], k: Int = 10) -> Int {
        let targets = Set(rankingB.prefix(k))
        return rankingA.prefix(k).filter { neuron in
            neuron < mapping.count && mapping[neuron].map(targets.contains) == true
        }.count
    }

    /// The expected recurrence under a uniformly random injective map of A's neurons into B's n_B:
    /// each of A's kA top neurons lands in B's top kB with probability kB / n_B, so E = kA·kB / n_B.
    public static func randomRecurrence(topA: Int, topB: Int, neuronsB: Int) -> Double {
        neuronsB > 0 ? Double(topA * topB) / Double(neuronsB) : 0
    }

    public static let recurrenceRule = "recurrence = how many of A's top 10 neurons for a label (by sensitivity) map, through the Hungarian matching, into B's top 10; random expectation E = kA·kB / n_B (kA, kB = min(10, width)) for a uniformly random one-to-one map"
}

/// One neuron match of a pair.
public struct NeuronMatch: Codable, Sendable, Equatable {
    public var neuronA: Int
    public var neuronB: Int
    /// Signed Pearson r of the two neurons.
    public var correlation: Double
    enum CodingKeys: String, CodingKey {
        case neuronA = "neuron_a", neuronB = "neuron_b", correlation
    }
    public init(neuronA: Int, neuronB: Int, correlation: Double) {
        self.neuronA = neuronA
        self.neuronB = neuronB
        self.correlation = correlation
    }
}

/// The comparison of one pair of models.
public struct PairComparison: Codable, Sendable {
    public var modelA: String
    public var modelB: String
    public var cka: Double?
    public var svcca: Double?
    /// Hungarian matches, by A's neuron.
    public var matches: [NeuronMatch]
    /// Mean |r| over the matches.
    public var meanMatchCorrelation: Double?
    public var constantNeuronsA: [Int]
    public var constantNeuronsB: [Int]
    enum CodingKeys: String, CodingKey {
        case modelA = "model_a", modelB = "model_b", cka, svcca, matches
        case meanMatchCorrelation = "mean_match_abs_correlation"
        case constantNeuronsA = "constant_neurons_a", constantNeuronsB = "constant_neurons_b"
    }
}

/// MaxCorr of every neuron of `model` in `other`.
public struct MaxCorrelation: Codable, Sendable {
    public var model: String
    public var other: String
    public var values: [Double]
}

/// One row of the recurrence table.
public struct Recurrence: Codable, Sendable {
    public var label: String
    public var modelA: String
    public var modelB: String
    /// nil when either model's ranking for the label is undefined.
    public var count: Int?
    public var expected: Double
    enum CodingKeys: String, CodingKey {
        case label, count, expected
        case modelA = "model_a", modelB = "model_b"
    }
}

/// `compare.json`: CKA, SVCCA, neuron matching and label–neuron recurrence of several models on one file.
public struct Comparison: Codable, Sendable {
    public var data: String
    public var models: [String]
    /// 1-based layer compared.
    public var layer: Int?
    public var tokens: Int
    public var neurons: [Int]
    public var labels: [String]
    /// `[models][models]`.
    public var cka: [[Double?]]
    public var svcca: [[Double?]]
    public var svccaKept: [Int]
    public var svccaRule: String
    public var pairs: [PairComparison]
    public var maxCorrelation: [MaxCorrelation]
    public var recurrence: [Recurrence]
    public var recurrenceRule: String
    enum CodingKeys: String, CodingKey {
        case data, models, layer, tokens, neurons, labels, cka, svcca, pairs, recurrence
        case svccaKept = "svcca_kept", svccaRule = "svcca_rule", maxCorrelation = "max_correlation"
        case recurrenceRule = "recurrence_rule"
    }

    /// What one model contributes: its name, centred activations and per-label rankings (best first, empty when undefined).
    public struct Input: Sendable {
        public var name: String
        public var activations: CentredActivations
        public var rankings: [[Int]]
        public init(name: String, activations: CentredActivations, rankings: [[Int]]) {
            self.name = name
            self.activations = activations
            self.rankings = rankings
        }

        /// A run's hidden states and its sensitivity's ranking of every label (what `compare` and `reproduce` compare).
        public init(name: String, run: ModelRun, sensitivity: Sensitivity) {
            self.init(
                name: name, activations: CentredActivations(run.hidden, tokens: run.tokenCount, width: run.neuronCount),
                rankings: run.labels.indices.map { sensitivity.ranking(label: $0) })
        }
    }

    /// Every pair of `inputs` (same tokens, same `labels` order) compared.
    public static func make(data: String, layer: Int?, labels: [String], inputs: [Input]) -> Comparison {
        let count = inputs.count
        let reductions = inputs.map { Similarity.reduction($0.activations) }
        var cka = [[Double?]](repeating: [Double?](repeating: nil, count: count), count: count)
        var svcca = cka
        var pairs: [PairComparison] = []
        var maxCorrelation: [MaxCorrelation] = []
        var recurrence: [Recurrence] = []
        let constant = inputs.map { NeuronMatching.constantNeurons($0.activations) }
        for a in 0..<count {
            cka[a][a] = Similarity.linearCKA(inputs[a].activations, inputs[a].activations)
            svcca[a][a] = Similarity.svcca(inputs[a].activations, reductions[a], inputs[a].activations, reductions[a])
            for b in (a + 1)..<max(a + 1, count) {
                let x = inputs[a].activations, y = inputs[b].activations
                let similarityCKA = Similarity.linearCKA(x, y)
                let similaritySVCCA = Similarity.svcca(x, reductions[a], y, reductions[b])
                cka[a][b] = similarityCKA; cka[b][a] = similarityCKA
                svcca[a][b] = similaritySVCCA; svcca[b][a] = similaritySVCCA
                let r = NeuronMatching.correlations(x, y)
                let assignment = NeuronMatching.hungarian(r.map { $0.map(abs) })
                let matches = assignment.enumerated().compactMap { i, j in j.map { NeuronMatch(neuronA: i, neuronB: $0, correlation: r[i][$0]) } }
                pairs.append(PairComparison(
                    modelA: inputs[a].name, modelB: inputs[b].name, cka: similarityCKA, svcca: similaritySVCCA, matches: matches,
                    meanMatchCorrelation: matches.isEmpty ? nil : matches.map { abs($0.correlation) }.reduce(0, +) / Double(matches.count),
                    constantNeuronsA: constant[a], constantNeuronsB: constant[b]))
                let transposed = (0..<y.width).map { j in (0..<x.width).map { i in r[i][j] } }
                maxCorrelation.append(MaxCorrelation(model: inputs[a].name, other: inputs[b].name, values: NeuronMatching.maxCorrelation(r)))
                maxCorrelation.append(MaxCorrelation(model: inputs[b].name, other: inputs[a].name, values: NeuronMatching.maxCorrelation(transposed)))
                var inverse = [Int?](repeating: nil, count: y.width)
                for (i, j) in assignment.enumerated() { if let j { inverse[j] = i } }
                for (label, name) in labels.enumerated() {
                    for (from, to, mapping) in [(a, b, assignment), (b, a, inverse)] {
                        let rankingA = inputs[from].rankings[label], rankingB = inputs[to].rankings[label]
                        let width = inputs[to].activations.width
                        recurrence.append(Recurrence(
                            label: name, modelA: inputs[from].name, modelB: inputs[to].name,
                            count: rankingA.isEmpty || rankingB.isEmpty ? nil
                                : NeuronMatching.recurrence(rankingA: rankingA, rankingB: rankingB, mapping: mapping),
                            expected: NeuronMatching.randomRecurrence(
                                topA: min(10, inputs[from].activations.width), topB: min(10, width), neuronsB: width)))
                    }
                }
            }
        }
        return Comparison(
            data: data, models: inputs.map(\.name), layer: layer, tokens: inputs.first?.activations.tokenCount ?? 0,
            neurons: inputs.map(\.activations.width), labels: labels, cka: cka, svcca: svcca,
            svccaKept: reductions.map(\.kept), svccaRule: Similarity.svccaRule, pairs: pairs,
            maxCorrelation: maxCorrelation, recurrence: recurrence, recurrenceRule: NeuronMatching.recurrenceRule)
    }
}
