import DissectCore
import Foundation

/// A way of ranking neurons per label (`dissect rank --methods`).
public enum RankMethod: String, Codable, Sendable, CaseIterable {
    /// The paper's sensitivity (`Sensitivity`, condition predicted).
    case sensitivity
    /// NeuroX's probeless ranking (Antverg & Belinkov 2022), one-vs-rest on the activations.
    case probeless
    /// Dalvi et al. (2019)'s elastic-net linear probe (`LinearProbe`), |W[j, i]|.
    case probe
    /// The drop in label j's accuracy on --rank-on when neuron i alone is zero-ablated.
    case single

    public var formula: String {
        switch self {
        case .sensitivity:
            return "s[i,j] = mean(W[i,j]·h_i | predicted = j) − mean(W[i,j]·h_i | predicted ≠ j) on the top layer "
                + "(mean(h_i | predicted = j) − mean(h_i | predicted ≠ j) below it), ranked by s descending"
        case .probeless:
            return "score[i,j] = Σ_{c ≠ j} |mean(h_i | gold = j) − mean(h_i | gold = c)| over the labels c present, "
                + "on the activations, ranked descending (NeuroX's tag-wise probeless ranking)"
        case .probe:
            return "softmax regression on z-scored h with gold labels, loss (1/T)Σ −log p(y_t) + λ2·‖W‖₂² + λ1·‖W‖₁, "
                + "trained by proximal gradient descent from W = 0 (full batch, fixed iterations); score[i,j] = |W[j,i]|, ranked descending"
        case .single:
            return "score[i,j] = accuracy of label j − its accuracy with neuron i alone zero-ablated (readout on the top layer, "
                + "recurrent below), in points, ranked descending"
        }
    }
}

/// Every ranking breaks ties by the lower neuron index.
public func rankDescending(_ scores: [Double]) -> [Int] {
    scores.indices.sorted { Sensitivity.ranksBefore($0, scores[$0], $1, scores[$1]) }
}

/// The rivals of the paper's sensitivity ranking.
public enum RivalRankings {
    /// Probeless scores `[m][n]` (NeuroX's tag-wise ranking, Antverg & Belinkov 2022):
    ///
    ///     score[j][i] = Σ_{c ≠ j} |μ_j[i] − μ_c[i]|,   μ_c = mean of h over the tokens with a = c
    ///
    /// over the labels c that some token has. `hidden` is `[N][n]`, `assignments` `[N]` in −1 … m − 1
    /// (−1: no label, left out). Nil for a label no token has.
    public static func probeless(hidden: [Float], tokens N: Int, neurons n: Int, labels m: Int, assignments: [Int32]) -> [[Double]?] {
        precondition(hidden.count == N * n && assignments.count == N, "probeless: hidden is [N][n] and assignments [N]")
        var sums = [Double](repeating: 0, count: m * n)
        var counts = [Int](repeating: 0, count: m)
        for t in 0..<N {
            let c = Int(assignments[t])
            guard c >= 0 && c < m else { continue }
            counts[c] += 1
            for i in 0..<n { sums[c * n + i] += Double(hidden[t * n + i]) }
        }
        let present = (0..<m).filter { counts[$0] > 0 }
        let means = (0..<m).map { c in counts[c] == 0 ? [] : (0..<n).map { sums[c * n + $0] / Double(counts[c]) } }
        return (0..<m).map { j in
            guard counts[j] > 0 else { return nil }
            return (0..<n).map { i in present.reduce(0) { $1 == j ? $0 : $0 + abs(means[j][i] - means[$1][i]) } }
        }
    }

    /// Trains the probe on a run's activations against its gold labels (tokens of unknown gold left out).
    public static func probe(run: ModelRun, parameters: LinearProbe.Parameters) -> LinearProbe {
        let n = run.neuronCount
        var rows: [Double] = []
        var y: [Int] = []
        rows.reserveCapacity(run.tokenCount * n)
        for t in 0..<run.tokenCount where run.gold[t] >= 0 {
            y.append(Int(run.gold[t]))
            for i in 0..<n { rows.append(Double(run.hidden[t * n + i])) }
        }
        let x = LinearProbe.standardise(rows, tokens: y.count, neurons: n)
        return LinearProbe(x: x, y: y, labels: run.labels.count, neurons: n, parameters: parameters)
    }

    /// `single` scores `[m][n]` in points: label j's accuracy on `run` minus its accuracy with neuron i alone ablated
    /// (nil for a label no token of `run` has as gold).
    public static func single(run: ModelRun, mode: AblationMode) -> [[Double]?] {
        let engine = AblationEngine(run: run, focusSets: [run.labels], steps: 1)
        let curves = engine.curves(orders: (0..<run.neuronCount).map { [$0] }, mode: mode)
        return run.labels.map { label in
            guard curves.first?.accuracy[label] != nil else { return nil }
            return curves.map { curve in
                guard let accuracy = curve.accuracy[label], accuracy.count >= 2 else { return 0 }
                return (accuracy[0] - accuracy[1]) * 100
            }
        }
    }
}

/// One label's ranking by one method, and how it scores.
public struct LabelRanking: Codable, Sendable, Equatable {
    /// Neurons, most important first.
    public var ranking: [Int]
    /// The method's score per neuron, by neuron index.
    public var scores: [Double]
    /// Label j's accuracy on --data, in [0, 1], with the top k of `ranking` ablated, k = 0 … K.
    public var accuracy: [Double]
    /// accuracy[0] − accuracy[k] in points at k = `dropK` (10, or K when K < 10).
    public var dropAt10: Double
    /// The mean drop over k = 1 … K, in points.
    public var area: Double
    public var top10OverlapWithSensitivity: Int?
    public var spearmanWithSensitivity: Double?

    enum CodingKeys: String, CodingKey {
        case ranking, scores, accuracy, area
        case dropAt10 = "drop_at_10"
        case top10OverlapWithSensitivity = "top10_overlap_with_sensitivity"
        case spearmanWithSensitivity = "spearman_with_sensitivity"
    }
}

public struct MethodRankings: Codable, Sendable, Equatable {
    public var method: RankMethod
    public var methodDescription: String
    public var parameters: [String: Double]
    /// The probe's share of --rank-on tokens it classifies as their gold label.
    public var probeTrainingAccuracy: Double?
    /// The probe's overall ranking by Σ_j |W[j,i]|, and those sums.
    public var overallRanking: [Int]?
    public var overallScores: [Double]?
    public var labels: [String: LabelRanking]
    /// The mean of `drop_at_10` over the labels.
    public var meanDropAt10: Double
    enum CodingKeys: String, CodingKey {
        case method, parameters, labels
        case methodDescription = "method_description", probeTrainingAccuracy = "probe_training_accuracy"
        case overallRanking = "overall_ranking", overallScores = "overall_scores", meanDropAt10 = "mean_drop_at_10"
    }
}

/// `rankings.json`.
public struct RankingDocument: Codable, Sendable {
    public var model: String
    /// 1-based.
    public var layer: Int
    public var mode: AblationMode
    public var rankOn: String
    public var data: String
    public var neurons: Int
    public var steps: Int
    public var dropK: Int
    public var labels: [String]
    public var scoring: String
    public var methods: [MethodRankings]
    public var seconds: Double
    enum CodingKeys: String, CodingKey {
        case model, layer, mode, data, neurons, steps, labels, scoring, methods, seconds
        case rankOn = "rank_on", dropK = "drop_k"
    }
}

public enum RankingStudy {
    /// The probe's penalties and iterations for `dissect rank` and the report (`LinearProbe.Parameters`).
    public static let probeParameters = LinearProbe.Parameters(l1: 1e-3, l2: 1e-3, iterations: 200)

    public static let scoringRule = "on --data, zero-ablate the top k neurons of the label's ranking, k = 0 … K; "
        + "drop_at_10 = (accuracy at k = 0 − accuracy at k = min(10, K)) in points; area = the mean drop over k = 1 … K in points"

    /// The labels a ranking study can score: defined sensitivity on `rankRun` (predicted there and not on every
    /// token) and present as gold in `dataRun`; each other label with the reason it is left out.
    /// - Parameter sensitivity: `rankRun`'s sensitivity on predicted labels when the caller has it (else computed).
    public static func scorableLabels(
        rankRun: ModelRun, dataRun: ModelRun, sensitivity known: Sensitivity? = nil
    ) -> (labels: [String], skipped: [(label: String, reason: String)]) {
        let sensitivity = known ?? Sensitivity(run: rankRun, condition: .predicted)
        let goldInData = Set(dataRun.gold.filter { $0 >= 0 }.map { dataRun.labels[Int($0)] })
        var labels: [String] = [], skipped: [(label: String, reason: String)] = []
        for (index, label) in rankRun.labels.enumerated() {
            if sensitivity.ranking(label: index).isEmpty {
                skipped.append((label, "\(rankRun.dataPath): label \(label) is never predicted there (or is every token's), so it has no sensitivity to compare with; skipped"))
            } else if !goldInData.contains(label) {
                skipped.append((label, "\(dataRun.dataPath): no token has gold label \(label), so its accuracy cannot be measured; skipped"))
            } else {
                labels.append(label)
            }
        }
        return (labels, skipped)
    }

    /// Ranks with every method on `rankRun`, scores each ranking on `dataRun`.
    /// - Parameters:
    ///   - labels: labels with a defined sensitivity on `rankRun` that `dataRun`'s gold labels contain.
    ///   - sensitivity: `rankRun`'s sensitivity on predicted labels when the caller has it (else computed).
    public static func run(
        model: String, rankRun: ModelRun, dataRun: ModelRun, methods: [RankMethod], labels: [String], steps: Int,
        mode: AblationMode, probe parameters: LinearProbe.Parameters = LinearProbe.Parameters(), sensitivity known: Sensitivity? = nil
    ) -> RankingDocument {
        let started = DispatchClock.now()
        let n = rankRun.neuronCount, m = rankRun.labels.count
        let sensitivity = known ?? Sensitivity(run: rankRun, condition: .predicted)
        func sensitivityScores(_ j: Int) -> [Double] { (0..<n).map { sensitivity.values[$0][j] ?? 0 } }
        var perMethod: [(RankMethod, [[Double]?], LinearProbe?)] = []
        for method in methods {
            switch method {
            case .sensitivity:
                perMethod.append((method, (0..<m).map { sensitivity.values.first?[$0] == nil ? nil : sensitivityScores($0) }, nil))
            case .probeless:
                perMethod.append((method, RivalRankings.probeless(
                    hidden: rankRun.hidden, tokens: rankRun.tokenCount, neurons: n, labels: m, assignments: rankRun.gold), nil))
            case .probe:
                let probe = RivalRankings.probe(run: rankRun, parameters: parameters)
                perMethod.append((method, (0..<m).map { probe.scores(label: $0) }, probe))
            case .single:
                perMethod.append((method, RivalRankings.single(run: rankRun, mode: mode), nil))
            }
        }
        let K = min(steps, dataRun.neuronCount)
        let dropK = min(10, K)
        let engine = AblationEngine(run: dataRun, focusSets: [labels], steps: K)
        var jobs: [AblationJob] = []
        var rankings: [[[Int]]] = []
        for (_, scores, _) in perMethod {
            var perLabel: [[Int]] = []
            for label in labels {
                let j = rankRun.labels.firstIndex(of: label) ?? 0
                let order = rankDescending(scores[j] ?? [Double](repeating: 0, count: n))
                perLabel.append(order)
                jobs.append(AblationJob(order: order, focusSets: [0]))
            }
            rankings.append(perLabel)
        }
        let curves = engine.curves(jobs: jobs, mode: mode)
        var results: [MethodRankings] = []
        var cursor = 0
        for (index, (method, scores, probe)) in perMethod.enumerated() {
            var byLabel: [String: LabelRanking] = [:]
            for (slot, label) in labels.enumerated() {
                let j = rankRun.labels.firstIndex(of: label) ?? 0
                let accuracy = curves[cursor][0].accuracy[label] ?? []
                cursor += 1
                let drops = accuracy.map { ((accuracy.first ?? 0) - $0) * 100 }
                let area = K > 0 && drops.count > K ? drops[1...K].reduce(0, +) / Double(K) : 0
                let own = scores[j] ?? [Double](repeating: 0, count: n)
                let reference = sensitivity.values.first?[j] == nil ? nil : sensitivityScores(j)
                byLabel[label] = LabelRanking(
                    ranking: rankings[index][slot], scores: own, accuracy: accuracy,
                    dropAt10: drops.count > dropK ? drops[dropK] : .nan, area: area,
                    top10OverlapWithSensitivity: reference.map { Statistics.topOverlap(rankings[index][slot], rankDescending($0), k: 10) },
                    spearmanWithSensitivity: reference.flatMap { Statistics.spearman(own, $0) })
            }
            var parameters: [String: Double] = [:]
            if method == .probe {
                parameters = ["l1": probe?.parameters.l1 ?? 0, "l2": probe?.parameters.l2 ?? 0,
                              "iterations": Double(probe?.parameters.iterations ?? 0), "step": probe?.step ?? 0]
            }
            let drops = labels.compactMap { byLabel[$0]?.dropAt10 }
            results.append(MethodRankings(
                method: method, methodDescription: method.formula, parameters: parameters,
                probeTrainingAccuracy: probe?.trainingAccuracy, overallRanking: probe.map { rankDescending($0.overallScores) },
                overallScores: probe?.overallScores, labels: byLabel,
                meanDropAt10: drops.isEmpty ? .nan : drops.reduce(0, +) / Double(drops.count)))
        }
        return RankingDocument(
            model: model, layer: rankRun.layer + 1, mode: mode, rankOn: rankRun.dataPath, data: dataRun.dataPath,
            neurons: n, steps: K, dropK: dropK, labels: labels, scoring: scoringRule, methods: results,
            seconds: DispatchClock.now() - started)
    }
}
