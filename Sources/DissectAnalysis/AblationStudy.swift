import Foundation
import DissectCore
import DissectModel

/// Mean and 5th/95th percentiles of the random-order curves, per k.
public struct CurveSummary: Codable, Sendable, Equatable {
    public var accuracy: [String: [Double]]
    public var f1: [Double]
}

public struct RandomControl: Codable, Sendable, Equatable {
    public var count: Int
    public var seed: UInt64
    public var orders: [[Int]]
    public var mean: CurveSummary
    public var p05: CurveSummary
    public var p95: CurveSummary
    /// The lowest and highest value over the orders, per k; nil in older files.
    public var minimum: CurveSummary?
    public var maximum: CurveSummary?
}

public struct AblationControls: Codable, Sendable, Equatable {
    /// Each listed label's ranking read backwards: least sensitive first.
    public var reverse: [String: AblationCurve]
    /// Random orders, shared by every ranking (they do not depend on the label).
    public var random: RandomControl?
}

/// `ablation.json`: the paper's Section 4.2 with controls.
public struct AblationDocument: Codable, Sendable {
    public var mode: AblationMode
    /// What an ablated h_i is replaced by; nil in older files (zero).
    public var value: AblationValue?
    /// The ablated layer, 1-based; nil in files written before layers existed (the only layer).
    public var layer: Int?
    /// How the rankings were measured (`SensitivityMeasure`): a contribution on the top layer, an activation difference below it.
    public var measure: SensitivityMeasure?
    /// How every prediction was decoded: `viterbi` (a CRF) or `argmax`; nil in older files (argmax).
    public var decoding: Decoding?
    public var rankOn: String
    public var data: String
    public var labels: [String]
    public var steps: Int
    public var condition: Condition
    public var neurons: Int
    public var curves: [String: AblationCurve]
    public var controls: AblationControls
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case mode, value, layer, measure, decoding, data, labels, steps, condition, neurons, curves, controls, seconds
        case rankOn = "rank_on"
    }
}

public enum AblationStudy {
    /// The random orders for a seed: reproducible permutations of 0..<n.
    public static func randomOrders(count: Int, neurons: Int, seed: UInt64) -> [[Int]] {
        (0..<count).map { index in
            var rng = SplitMix64(seed: seed, stream: 0x5241_4E44, UInt64(index))
            var order = Array(0..<neurons)
            rng.shuffle(&order)
            return order
        }
    }

    /// Ranks neurons on `rankRun` (the dev set), ablates them on `dataRun`
    /// (the test set) for k = 0 … steps, with the reverse and random controls.
    /// - Parameter labels: labels whose rankings to ablate; each must have a defined ranking.
    public static func run(
        rankRun: ModelRun, dataRun: ModelRun, labels: [String], steps: Int, mode: AblationMode,
        randomCount: Int, seed: UInt64, condition: Condition = .predicted, reverse: Bool = true,
        value: AblationValue = .zero, bandResamples: Int = 0
    ) -> AblationDocument {
        run(rankRun: rankRun, dataRun: dataRun, groups: [labels], steps: steps, mode: mode, randomCount: randomCount,
            seed: seed, condition: condition, reverse: reverse, value: value, bandResamples: bandResamples)[0]
    }

    /// The same for several groups of labels (the paper's two pairs) at once:
    /// the random orders do not depend on the labels, so each is ablated once
    /// and measured for every group. One document per group.
    /// - Parameters:
    ///   - seed: seeds the random orders, the resample draws (`AblationReplacement`) and the band's
    ///     sentence resamples (`CurveBootstrap`), each from its own stream.
    ///   - value: what an ablated h_i becomes (`AblationReplacement`), in the rankings and both controls alike.
    ///   - bandResamples: B ≥ 0, the sentence resamples of the band around each ranked curve (`AblationCurve.band`;
    ///     the reverse and random curves get none); 0 gives none.
    public static func run(
        rankRun: ModelRun, dataRun: ModelRun, groups: [[String]], steps: Int, mode: AblationMode,
        randomCount: Int, seed: UInt64, condition: Condition = .predicted, reverse: Bool = true,
        value: AblationValue = .zero, bandResamples: Int = 0
    ) -> [AblationDocument] {
        let started = DispatchClock.now()
        let sensitivity = Sensitivity(run: rankRun, condition: condition)
        func ranking(_ label: String) -> [Int] {
            guard let index = rankRun.labels.firstIndex(of: label) else { return [] }
            return sensitivity.ranking(label: index)
        }
        let replacement = value == .zero ? AblationReplacement.zero : AblationReplacement(value: value, rankRun: rankRun, seed: seed)
        let engine = AblationEngine(run: dataRun, focusSets: groups, steps: steps, replacement: replacement)
        let random = randomOrders(count: randomCount, neurons: dataRun.neuronCount, seed: seed)
        var jobs: [AblationJob] = []
        for (group, labels) in groups.enumerated() {
            for label in labels { jobs.append(AblationJob(order: ranking(label), focusSets: [group], band: true)) }
            if reverse { for label in labels { jobs.append(AblationJob(order: Array(ranking(label).reversed()), focusSets: [group])) } }
        }
        let allGroups = Array(groups.indices)
        for order in random { jobs.append(AblationJob(order: order, focusSets: allGroups)) }
        let results = engine.curves(jobs: jobs, mode: mode, bandResamples: max(0, bandResamples), bandSeed: seed)
        let seconds = DispatchClock.now() - started
        var documents: [AblationDocument] = []
        var cursor = 0
        for (group, labels) in groups.enumerated() {
            var ranked: [String: AblationCurve] = [:], reversed: [String: AblationCurve] = [:]
            for label in labels { ranked[label] = results[cursor][0]; cursor += 1 }
            if reverse { for label in labels { reversed[label] = results[cursor][0]; cursor += 1 } }
            let randomCurves = results.suffix(randomCount).map { $0[group] }
            let control = randomCount > 0
                ? RandomControl(
                    count: randomCount, seed: seed, orders: random,
                    mean: summarize(randomCurves) { values in values.reduce(0, +) / Double(values.count) },
                    p05: summarize(randomCurves) { Statistics.percentile($0, 5) },
                    p95: summarize(randomCurves) { Statistics.percentile($0, 95) },
                    minimum: summarize(randomCurves) { $0.min() ?? .nan },
                    maximum: summarize(randomCurves) { $0.max() ?? .nan })
                : nil
            documents.append(AblationDocument(
                mode: mode, value: value, layer: dataRun.layer + 1, measure: sensitivity.measure, decoding: dataRun.decoding,
                rankOn: rankRun.dataPath, data: dataRun.dataPath, labels: labels,
                steps: min(steps, dataRun.neuronCount), condition: condition, neurons: dataRun.neuronCount, curves: ranked,
                controls: AblationControls(reverse: reversed, random: control), seconds: seconds))
        }
        return documents
    }

    static func summarize(_ curves: [AblationCurve], _ reduce: ([Double]) -> Double) -> CurveSummary {
        guard let first = curves.first else { return CurveSummary(accuracy: [:], f1: []) }
        var accuracy: [String: [Double]] = [:]
        for key in first.accuracy.keys {
            let length = first.accuracy[key]?.count ?? 0
            accuracy[key] = (0..<length).map { k in reduce(curves.compactMap { $0.accuracy[key]?[k] }) }
        }
        let f1 = (0..<first.f1.count).map { k in reduce(curves.map { $0.f1[k] }) }
        return CurveSummary(accuracy: accuracy, f1: f1)
    }
}

/// Wall-clock seconds for timings in documents.
enum DispatchClock {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
