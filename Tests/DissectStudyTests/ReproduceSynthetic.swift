import Foundation
@testable import DissectAnalysis
@testable import DissectModel
@testable import DissectStudy

// Shared by DissectStudyTests (the claims) and DissectReportTests (the page):
// Tests/DissectReportTests/ReproduceSynthetic.swift is a link to this file.

/// A cheap deterministic pseudo-random stream, so samples are identical on every run.
struct SampleStream {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}

/// Plausible `ReproduceSummary` values built in memory: 4 seeds, 50 neurons,
/// the nine CoNLL labels, ablation of (B-PER, B-MISC) and (B-LOC, I-ORG) in
/// both modes with K = 25 and a random control, label correlations on dev and
/// test against a paper matrix.
enum ReproduceSynthetic {
    static let labels = CorrelationAnalysis.paperLabelOrder

    /// A deterministic sensitivity matrix: each neuron cares strongly about a
    /// few labels (B-x and I-x of one type together, so the paper's
    /// correlation patterns appear), with small noise elsewhere.
    static func sensitivity(seed: UInt64, neurons: Int = 50) -> [[Double?]] {
        var stream = SampleStream(state: seed &* 7919 &+ 17)
        return (0..<neurons).map { neuron in
            var row = labels.map { _ in (stream.next() - 0.5) * 0.12 }
            let type = Int(stream.next() * 5)  // 0…3 an entity type, 4 the O label
            let strength = 0.3 + 1.6 * stream.next()
            if type < 4 {
                row[2 * type] += strength * (0.6 + 0.4 * stream.next())
                row[2 * type + 1] += strength * (0.5 + 0.5 * stream.next())
                // Inside labels share some neurons; O and other types' I- pull the other way.
                if type > 0 { for other in 1..<4 where other != type { row[2 * other + 1] += 0.15 * strength } }
                for other in 0..<4 where other != type { row[2 * other + 1] -= 0.3 * strength * stream.next() }
                row[8] -= 0.3 * strength * stream.next()
            } else {
                row[8] += strength
                for other in 0..<4 { row[2 * other + 1] -= 0.4 * strength * stream.next() }
            }
            if neuron % 11 == 3 { row = row.map { $0 * 0.05 } }  // a few neurons sensitive to nothing
            return row.map { Optional(($0 * 100).rounded() / 100) }
        }
    }

    static func rankings(_ values: [[Double?]]) -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for (column, label) in labels.enumerated() {
            result[label] = values.indices.sorted { a, b in
                let x = values[a][column] ?? 0, y = values[b][column] ?? 0
                return x != y ? x > y : a < b
            }
        }
        return result
    }

    static func document(_ values: [[Double?]], data: String) -> Sensitivity.Document {
        Sensitivity.Document(
            labels: labels, neurons: values.count, condition: "predicted", data: data, sensitivity: values,
            rankings: rankings(values), predictedCounts: Dictionary(uniqueKeysWithValues: labels.map { ($0, 1000) }),
            conditionCounts: Dictionary(uniqueKeysWithValues: labels.map { ($0, 1000) }))
    }

    /// A curve k = 0…K: `label` decays at `rate`, partners at `partnerRate`, the rest nearly flat.
    static func curve(pair: [String], ranked: String, steps: Int, rate: Double, partnerRate: Double, allRate: Double, order: [Int]) -> AblationCurve {
        var accuracy: [String: [Double]] = [:]
        for label in labels + ["others", "all"] {
            let start = label == "O" ? 0.99 : label == "all" ? 0.95 : 0.85
            let r = label == ranked ? rate : pair.contains(label) ? partnerRate : label == "all" ? allRate : 0.002
            accuracy[label] = (0...steps).map { k in start * exp(-r * Double(k)) }
        }
        return AblationCurve(
            neurons: Array(order.prefix(steps)), accuracy: accuracy,
            f1: (0...steps).map { 80 * exp(-allRate * 3 * Double($0)) })
    }

    /// Random orders as `RandomControl` summarises them, with `randomCount` orders: the mean decays at 0.008 per step,
    /// the 5th percentile at 0.016, the lowest at 0.02 (so the bar is 12.6 points at k = 10 with ≥ 100 orders, 15.4 with fewer).
    static func ablation(seed: UInt64, pair: [String], mode: AblationMode, steps: Int = 25, values: [[Double?]],
                         rate: Double = 0.06, partnerRate: Double = 0.01, allRate: Double = 0.0008, randomCount: Int = 20,
                         value: AblationValue? = nil) -> AblationEntry {
        let ranking = rankings(values)
        var curves: [String: AblationCurve] = [:], reverse: [String: AblationCurve] = [:]
        let slower = mode == .recurrent ? 1.3 : 1
        for label in pair {
            curves[label] = curve(pair: pair, ranked: label, steps: steps, rate: rate * slower, partnerRate: partnerRate,
                                  allRate: allRate, order: ranking[label] ?? [])
            reverse[label] = curve(pair: pair, ranked: label, steps: steps, rate: 0.001, partnerRate: 0.001,
                                   allRate: 0.0002, order: (ranking[label] ?? []).reversed())
        }
        func summary(_ rate: Double) -> CurveSummary {
            let c = curve(pair: [], ranked: "", steps: steps, rate: rate, partnerRate: rate, allRate: rate / 4, order: [])
            var accuracy = c.accuracy
            for label in labels { accuracy[label] = (0...steps).map { k in 0.85 * exp(-rate * Double(k)) } }
            return CurveSummary(accuracy: accuracy, f1: c.f1)
        }
        let random = RandomControl(
            count: randomCount, seed: seed, orders: [], mean: summary(0.008), p05: summary(0.016), p95: summary(0.003),
            minimum: summary(0.02), maximum: summary(0.002))
        let document = AblationDocument(
            mode: mode, value: value, rankOn: "dev.txt", data: "test.txt", labels: pair, steps: steps, condition: .predicted,
            neurons: values.count, curves: curves, controls: AblationControls(reverse: reverse, random: random), seconds: 3.5)
        return AblationEntry(seed: seed, pair: pair, document: document)
    }

    static func record(seed: UInt64, devF1: Double, testF1: Double) -> TrainingRecord {
        var record = TrainingRecord(
            seed: seed, epochs: 10, bestEpoch: 7 + Int(seed % 3), selectionMetric: "f1", seconds: 412 + Double(seed) * 13,
            options: TrainingOptions(), vocabularyRule: "train")
        record.devF1NCRF = devF1
        record.devF1 = devF1 - 0.3
        record.testF1NCRF = testF1
        record.testF1 = testF1 - 0.4
        return record
    }

    static func run() -> RunInformation {
        RunInformation(
            command: "dissect reproduce --train data/eng.train --dev data/eng.testa --test data/eng.testb --embeddings glove.6B.100d.txt --out runs/reproduce",
            dissectVersion: "0.9.0", swiftVersion: "6.3.1", date: "2025-01-01T12:00:00Z", machine: "Linux x86_64, 2 cores",
            trainFile: "data/eng.train", devFile: "data/eng.testa", testFile: "data/eng.testb", embeddingsFile: "glove.6B.100d.txt",
            timings: [StepTiming(step: "train 4 seeds", seconds: 1720), StepTiming(step: "sensitivity", seconds: 31.2),
                      StepTiming(step: "ablation", seconds: 96.4), StepTiming(step: "correlation", seconds: 0.4)],
            totalSeconds: 1848)
    }

    /// Gold tokens per label of a CoNLL-2003-sized test file (46,435 tokens; B-PER 3.4 %).
    static let testCounts = [
        "O": 38_323, "B-PER": 1_617, "I-PER": 1_156, "B-LOC": 1_668, "I-LOC": 257, "B-ORG": 1_661, "I-ORG": 835,
        "B-MISC": 702, "I-MISC": 216,
    ]

    /// The whole summary; `paperValues` nil leaves the paper out.
    static func summary(seeds: [UInt64] = [1, 2, 3, 4], withPaper: Bool = true) -> ReproduceSummary {
        let dev = seeds.map { sensitivity(seed: $0) }
        let test = seeds.map { seed in sensitivity(seed: seed).map { row in row.map { $0.map { $0 * 0.95 + 0.01 } } } }
        let paperValues = sensitivity(seed: 99)
        let paper = withPaper ? PaperFigures(labels: labels, sensitivity: paperValues, rankings: rankings(paperValues), reportedF1: 86.4) : nil
        var ablations: [AblationEntry] = []
        for (index, seed) in seeds.enumerated() {
            for pair in [["B-PER", "B-MISC"], ["B-LOC", "I-ORG"]] {
                for mode in AblationMode.allCases {
                    ablations.append(ablation(seed: seed, pair: pair, mode: mode, values: dev[index]))
                }
            }
        }
        func correlation(_ matrices: [[[Double?]]], data: String, agreements: [RankingAgreement]) -> CorrelationDocument {
            CorrelationStudy.make(
                data: data, agreementData: agreements.isEmpty ? nil : "eng.testb",
                models: zip(seeds, matrices).map { ("seed \($0)", labels, $1) },
                reference: withPaper ? ("Xin et al. 2019, Figure 7", labels, paperValues) : nil,
                referencePath: withPaper ? "../shared/paper/figure7_sensitivity.csv" : nil, agreements: agreements,
                bootstrap: (resamples: 200, seed: 5))
        }
        var agreements: [RankingAgreement] = []
        for (index, seed) in seeds.enumerated() {
            for (column, label) in labels.enumerated() {
                let a = dev[index].map { $0[column] ?? 0 }, b = test[index].map { $0[column] ?? 0 }
                agreements.append(RankingAgreement(
                    model: "seed \(seed)", label: label, spearman: Statistics.spearman(a, b),
                    topTenOverlap: Statistics.topOverlap(rankings(dev[index])[label]!, rankings(test[index])[label]!, k: 10)))
            }
        }
        return ReproduceSummary(
            seeds: seeds.enumerated().map { index, seed in
                SeedResult(seed: seed, directory: "runs/reproduce/seed-\(seed)", reused: index == 0,
                           record: record(seed: seed, devF1: 86.9 + Double(index) * 0.3, testF1: 82.1 + Double(index) * 0.2))
            },
            references: [ReferenceScore(
                name: "NCRF++ (LSTM, no CRF) on this machine", devF1NCRF: 87.31, devF1: 87.02, testF1NCRF: 83.05, testF1: 82.8,
                provenance: "NCRF++ commit abc123, demo.train.config with use_crf=False, hidden 50; see notes/ncrfpp.md")],
            sensitivityDev: dev.map { document($0, data: "eng.testa") },
            sensitivityTest: test.map { document($0, data: "eng.testb") },
            paper: paper, ablations: ablations,
            correlationDev: correlation(dev, data: "eng.testa", agreements: agreements),
            correlationTest: correlation(test, data: "eng.testb", agreements: []),
            run: run(),
            task: StudyTask(
                kind: .paper, pairs: ReproduceNumbers.paperPairs, pairRule: "the paper's pairs (Figures 4 and 5)",
                trainLabelCounts: testCounts.mapValues { $0 * 4 }, testLabelCounts: testCounts),
            seedComparison: seeds.count >= 2 ? comparison(seeds: seeds) : nil, rankings: rankings())
    }

    /// A comparison of the seeds' 50-neuron layers: every pair has CKA `cka` and SVCCA `svcca`, `closeNeurons`
    /// of its 50 matches have |r| 0.8 (the rest 0.2), and every label's top-10 recurrence is `recurrence`
    /// (random expectation 10 · 10 / 50 = 2).
    static func comparison(seeds: [UInt64], cka: Double = 0.95, svcca: Double = 0.53, closeNeurons: Int = 30, recurrence: Int = 5) -> Comparison {
        let names = seeds.map { "seed \($0)" }
        var pairs: [PairComparison] = [], rows: [Recurrence] = []
        for a in names.indices {
            for b in names.indices where b > a {
                let matches = (0..<50).map { NeuronMatch(neuronA: $0, neuronB: 49 - $0, correlation: $0 < closeNeurons ? -0.8 : 0.2) }
                pairs.append(PairComparison(
                    modelA: names[a], modelB: names[b], cka: cka, svcca: svcca, matches: matches,
                    meanMatchCorrelation: matches.map { abs($0.correlation) }.reduce(0, +) / 50, constantNeuronsA: [], constantNeuronsB: []))
                for label in labels {
                    rows.append(Recurrence(label: label, modelA: names[a], modelB: names[b], count: recurrence, expected: 2))
                    rows.append(Recurrence(label: label, modelA: names[b], modelB: names[a], count: recurrence, expected: 2))
                }
            }
        }
        let matrix = names.indices.map { a in names.indices.map { b in Double?(a == b ? 1 : cka) } }
        return Comparison(
            data: "eng.testa", models: names, layer: 1, tokens: 51_362, neurons: names.map { _ in 50 }, labels: labels,
            cka: matrix, svcca: matrix.map { $0.map { $0 == 1 ? 1 : svcca } }, svccaKept: names.map { _ in 42 }, svccaRule: Similarity.svccaRule,
            pairs: pairs, maxCorrelation: [], recurrence: rows, recurrenceRule: NeuronMatching.recurrenceRule)
    }

    /// Rival rankings of one seed: each method's drop at k = 10 is `drops[method]` points on every label (area half of it),
    /// and each rival shares `overlap` of sensitivity's top 10.
    static func rankings(drops: [RankMethod: Double] = [.sensitivity: 12, .probeless: 8, .probe: 6, .single: 14], overlap: Int = 6) -> RankingDocument {
        let methods = RankMethod.allCases.filter { drops[$0] != nil }.map { method -> MethodRankings in
            let drop = drops[method] ?? 0
            var byLabel: [String: LabelRanking] = [:]
            for label in labels {
                byLabel[label] = LabelRanking(
                    ranking: Array(0..<50), scores: (0..<50).map { Double(50 - $0) }, accuracy: [0.9, 0.9 - drop / 100],
                    dropAt10: drop, area: drop / 2, top10OverlapWithSensitivity: method == .sensitivity ? 10 : overlap,
                    spearmanWithSensitivity: method == .sensitivity ? 1 : 0.4)
            }
            return MethodRankings(
                method: method, methodDescription: method.formula, parameters: [:], probeTrainingAccuracy: method == .probe ? 0.91 : nil,
                overallRanking: nil, overallScores: nil, labels: byLabel, meanDropAt10: drop)
        }
        return RankingDocument(
            model: "runs/reproduce/seed-1", layer: 1, mode: .readout, rankOn: "eng.testa", data: "eng.testb", neurons: 50, steps: 25, dropK: 10,
            labels: labels, scoring: RankingStudy.scoringRule, methods: methods, seconds: 1.2)
    }

    /// Statistics for a sensitivity matrix with the given findings and top-10 stability (intervals and p left undefined).
    static func statistics(findings: [[Bool?]], stability: [Double?]) -> SensitivityStatistics {
        let count = findings.flatMap { $0 }.filter { $0 == true }.count
        let defined = findings.flatMap { $0 }.filter { $0 != nil }.count
        let empty = findings.map { $0.map { _ in Double?.none } }
        return SensitivityStatistics(
            bootstrap: .init(resamples: 50, seed: 1, level: 0.95, lower: empty, upper: empty, rankLower: [], rankUpper: [], topTenStability: stability),
            permutation: .init(permutations: 40, seed: 1, scheme: "sentences", p: empty, q: empty),
            findings: .init(rule: "q < 0.05 and the interval excludes ±10 % of the largest |s|", qThreshold: 0.05, marginFraction: 0.1, margin: 0.2,
                            cells: findings, count: count, defined: defined))
    }
}
