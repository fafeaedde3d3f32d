import Foundation
import Testing
import DissectCore
import DissectCorpus
import DissectModel
@testable import DissectAnalysis

/// Hand-made tokens for the statistics: sentences of given lengths, labels drawn from
/// `labelCount` classes (−1 allowed), hidden states uniform in [−1, 1], an optional W.
struct StatisticsData {
    var labels: [String]
    var neuronCount: Int
    var hidden: [Float]
    var assignments: [Int32]
    var sentenceStarts: [Int]
    var outputWeight: [Float]?

    /// - Parameter wideRange: magnitudes from 10⁻⁶ to 10⁶, so that sums in different orders round differently.
    static func random(
        lengths: [Int], labelCount m: Int, neurons n: Int, withWeight: Bool, noLabelShare: Double = 0, wideRange: Bool = false, seed: UInt64
    ) -> StatisticsData {
        var generator = SplitMix64(seed: seed)
        var starts = [0]
        for length in lengths { starts.append(starts[starts.count - 1] + length) }
        let N = starts[starts.count - 1]
        let hidden = (0..<(N * n)).map { _ in
            Float(generator.uniform(-1, 1) * (wideRange ? Foundation.pow(10, generator.uniform(-6, 6)) : 1))
        }
        let assignments = (0..<N).map { _ -> Int32 in
            generator.nextUnit() < noLabelShare ? -1 : Int32(generator.nextIndex(below: m))
        }
        let weight = withWeight ? (0..<(m * n)).map { _ in Float(generator.uniform(-2, 2)) } : nil
        return StatisticsData(
            labels: (0..<m).map { "L\($0)" }, neuronCount: n, hidden: hidden, assignments: assignments, sentenceStarts: starts,
            outputWeight: weight)
    }

    var resampling: SensitivityResampling {
        SensitivityResampling(
            labels: labels, neuronCount: neuronCount, hidden: hidden, assignments: assignments, sentenceStarts: sentenceStarts,
            outputWeight: outputWeight)
    }

    func statistics(bootstrap: Int, permutations: Int, seed: UInt64) -> SensitivityStatistics {
        SensitivityStatistics(
            labels: labels, neuronCount: neuronCount, hidden: hidden, assignments: assignments, sentenceStarts: sentenceStarts,
            outputWeight: outputWeight, bootstrap: bootstrap, permutations: permutations, seed: seed)
    }
}

/// Equal up to `tolerance`, NaN only where the other is NaN.
func expectClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-9, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): sizes", sourceLocation: sourceLocation)
    for index in a.indices where index < b.count {
        if a[index].isNaN || b[index].isNaN {
            #expect(a[index].isNaN && b[index].isNaN, "\(what) cell \(index): \(a[index]) vs \(b[index])", sourceLocation: sourceLocation)
        } else {
            #expect(abs(a[index] - b[index]) <= tolerance, "\(what) cell \(index): \(a[index]) vs \(b[index])", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct BenjaminiHochbergTests {
    /// R: p.adjust(c(0.005, 0.011, 0.02, 0.04, 0.13), "BH") = 0.025 0.0275 0.03333333 0.05 0.13.
    @Test func matchesR() {
        let q = Statistics.benjaminiHochberg([0.005, 0.011, 0.02, 0.04, 0.13])
        let expected = [0.025, 0.0275, 0.02 * 5 / 3, 0.05, 0.13]
        for (a, b) in zip(q, expected) { #expect(abs(a - b) < 1e-15, "\(q)") }
    }

    /// By hand, unsorted input: sorted 0.01, 0.03, 0.04, 0.2 give k·p/i = 0.04, 0.06, 0.0533, 0.2;
    /// the step-up minimum from the right lowers 0.06 to 0.0533; q goes back to the input's order.
    @Test func stepUpByHand() {
        let q = Statistics.benjaminiHochberg([0.01, 0.04, 0.03, 0.2])
        let expected = [0.04, 4 * 0.04 / 3, 4 * 0.04 / 3, 0.2]
        for (a, b) in zip(q, expected) { #expect(abs(a - b) < 1e-15, "\(q)") }
        #expect(Statistics.benjaminiHochberg([]) == [])
        #expect(Statistics.benjaminiHochberg([0.3]) == [0.3])
    }

    /// q ≥ p, q ≤ 1, and q is monotone in p, on any input.
    @Test func identities() {
        var generator = SplitMix64(seed: 9)
        let p = (0..<200).map { _ in generator.nextUnit() } + [1, 1, 0.5, 0.5]
        let q = Statistics.benjaminiHochberg(p)
        for index in p.indices {
            #expect(q[index] >= p[index] && q[index] <= 1)
            for other in p.indices where p[other] <= p[index] { #expect(q[other] <= q[index]) }
        }
    }
}

@Suite struct SensitivityBootstrapTests {
    /// Every token of label A has h = a, of label B h = b (dyadic numbers, so every sum and mean
    /// is exact): any resample holding both labels has mean(h | A) = a and mean(h | ≠ A) = b, so
    /// s* = s exactly, the interval is the point, every rank interval is the full rank, and every
    /// resample's top 10 is the full sample's (stability 1).
    @Test(arguments: [false, true])
    func constantPerLabelCollapses(withWeight: Bool) throws {
        let n = 12
        let a = (0..<n).map { Float($0) / 4 }, b = (0..<n).map { Float(($0 * 7) % 5) / 2 - 1 }
        let lengths = [3, 5, 2, 4, 4, 6, 3, 2]
        var hidden: [Float] = [], assignments: [Int32] = [], starts = [0]
        for (sentence, length) in lengths.enumerated() {
            for position in 0..<length {
                // Both labels in every sentence, so every resample defines both columns.
                let label: Int32 = position == 0 ? 0 : position == 1 ? 1 : Int32((sentence + position) % 2)
                assignments.append(label)
                hidden += label == 0 ? a : b
            }
            starts.append(assignments.count)
        }
        let weight: [Float]? = withWeight ? (0..<(2 * n)).map { Float(($0 % 7) - 3) / 2 + 0.25 } : nil
        let data = StatisticsData(labels: ["A", "B"], neuronCount: n, hidden: hidden, assignments: assignments, sentenceStarts: starts, outputWeight: weight)
        let statistics = data.statistics(bootstrap: 200, permutations: 0, seed: 3)
        let sensitivity = data.resampling.sensitivity
        let bootstrap = try #require(statistics.bootstrap)
        #expect(bootstrap.resamples == 200 && bootstrap.level == 0.95)
        for label in 0..<2 {
            let ranking = sensitivity.ranking(label: label)
            #expect(ranking.count == n)
            for neuron in 0..<n {
                let value = try #require(sensitivity.values[neuron][label])
                #expect(bootstrap.lower[neuron][label] == value && bootstrap.upper[neuron][label] == value, "neuron \(neuron) label \(label)")
                let rank = (ranking.firstIndex(of: neuron) ?? -1) + 1
                #expect(bootstrap.rankLower[neuron][label] == rank && bootstrap.rankUpper[neuron][label] == rank)
            }
            #expect(bootstrap.topTenStability[label] == 1)
        }
        #expect(statistics.permutation == nil && statistics.findings == nil)
    }

    /// The fast path (per-sentence sums, a GEMM of multiplicities) gives, resample by resample,
    /// the matrix `Sensitivity` computes on the explicitly resampled tokens; the summaries of
    /// the two sets of matrices agree too.
    @Test(arguments: [false, true])
    func fastPathEqualsNaiveReference(withWeight: Bool) {
        let data = StatisticsData.random(
            lengths: [1, 3, 3, 5, 2, 7, 3, 4, 4, 6, 2, 1, 5, 3, 8, 2, 3, 4], labelCount: 4, neurons: 7, withWeight: withWeight,
            noLabelShare: 0.1, seed: 11)
        let resampling = data.resampling
        let resamples = 40, seed: UInt64 = 5
        let fast = resampling.bootstrapMatrices(resamples: resamples, seed: seed)
        let cells = 4 * 7
        var naive: [Double] = []
        for resample in 0..<resamples { naive += resampling.naiveBootstrapMatrix(resample: resample, seed: seed) }
        expectClose(fast, naive, "bootstrap matrices")
        // Resamples differ from each other and from the full sample (the check compares something that moves).
        #expect(Array(fast[0..<cells]) != Array(fast[cells..<(2 * cells)]))
        let fromFast = resampling.bootstrapSummary(matrices: fast, resamples: resamples, seed: seed)
        let fromNaive = resampling.bootstrapSummary(matrices: naive, resamples: resamples, seed: seed)
        expectClose(fromFast.lower.flatMap { $0.map { $0 ?? .nan } }, fromNaive.lower.flatMap { $0.map { $0 ?? .nan } }, "lower")
        expectClose(fromFast.upper.flatMap { $0.map { $0 ?? .nan } }, fromNaive.upper.flatMap { $0.map { $0 ?? .nan } }, "upper")
        #expect(fromFast.rankLower == fromNaive.rankLower && fromFast.rankUpper == fromNaive.rankUpper)
        #expect(fromFast.topTenStability == fromNaive.topTenStability)
        #expect(fromFast.lower != fromFast.upper)
    }

    /// A label in a single sentence is missing from about a third of the resamples: those are
    /// skipped for it, and its interval is the percentiles of the resamples that define it.
    @Test func undefinedResamplesAreSkipped() {
        var data = StatisticsData.random(lengths: Array(repeating: 3, count: 6), labelCount: 2, neurons: 3, withWeight: false, seed: 2)
        data.labels.append("rare")
        data.assignments[7] = 2  // sentence 2 only
        let resampling = data.resampling
        let resamples = 60, seed: UInt64 = 8
        let matrices = resampling.bootstrapMatrices(resamples: resamples, seed: seed)
        let cells = 3 * 3
        let defined = (0..<resamples).filter { !matrices[$0 * cells + 2 * 3].isNaN }
        #expect(defined.count > 0 && defined.count < resamples, "some resamples lack the rare label: \(defined.count)")
        let summary = resampling.bootstrapSummary(matrices: matrices, resamples: resamples, seed: seed)
        for neuron in 0..<3 {
            let sample = defined.map { matrices[$0 * cells + 2 * 3 + neuron] }
            #expect(summary.lower[neuron][2] == Statistics.percentile(sample, 2.5))
            #expect(summary.upper[neuron][2] == Statistics.percentile(sample, 97.5))
        }
        #expect(summary.topTenStability[2] != nil)
    }

    /// A label no token has stays undefined: nil intervals, ranks, p, q and finding.
    @Test func undefinedCellsStayNil() {
        var data = StatisticsData.random(lengths: [2, 3, 2, 3, 4], labelCount: 2, neurons: 3, withWeight: true, seed: 4)
        data.labels.append("absent")
        data.outputWeight = (data.outputWeight ?? []) + [1, 1, 1]
        let statistics = data.statistics(bootstrap: 20, permutations: 20, seed: 1)
        for neuron in 0..<3 {
            #expect(statistics.bootstrap?.lower[neuron][2] == nil && statistics.bootstrap?.rankUpper[neuron][2] == nil)
            #expect(statistics.permutation?.p[neuron][2] == nil && statistics.permutation?.q[neuron][2] == nil)
            #expect(statistics.findings?.cells[neuron][2] == nil)
            #expect(statistics.bootstrap?.lower[neuron][0] != nil && statistics.permutation?.p[neuron][0] != nil)
        }
        #expect(statistics.bootstrap?.topTenStability[2] == nil)
        #expect(statistics.findings?.defined == 6)
    }
}

@Suite struct SensitivityPermutationTests {
    /// Sentences of lengths 1…4 with repeats, so some strata move and two sentences (lengths 7, 9) cannot.
    static let lengths = [3, 2, 3, 4, 2, 7, 3, 4, 1, 1, 2, 9, 4, 3]

    /// The null moves whole label sequences between sentences of equal length, so per-label
    /// counts stay, every sentence's labels are some sentence's of its length, and a sentence
    /// of a length of its own keeps its labels.
    @Test func nullKeepsCountsAndLengths() {
        let data = StatisticsData.random(lengths: Self.lengths, labelCount: 3, neurons: 2, withWeight: false, noLabelShare: 0.2, seed: 6)
        let resampling = data.resampling
        let plan = resampling.permutationPlan()
        #expect(plan.fixedCount == 2)
        func count(_ labels: [Int32]) -> [Int32: Int] { labels.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
        let starts = data.sentenceStarts
        func labels(_ assignments: [Int32], _ sentence: Int) -> [Int32] { Array(assignments[starts[sentence]..<starts[sentence + 1]]) }
        var moved = 0
        for permutation in 0..<20 {
            let sources = resampling.permutationSources(plan: plan, permutation: permutation, seed: 1)
            #expect(sources.sorted() == Array(0..<Self.lengths.count), "a permutation of the sentences")
            let permuted = resampling.naivePermutedAssignments(plan: plan, permutation: permutation, seed: 1)
            #expect(count(permuted) == count(data.assignments))
            for (sentence, source) in sources.enumerated() {
                #expect(Self.lengths[source] == Self.lengths[sentence], "sentence \(sentence) takes labels of \(source)")
                #expect(labels(permuted, sentence) == labels(data.assignments, source))
                if source != sentence { moved += 1 }
            }
            #expect(sources[5] == 5 && sources[11] == 11, "lengths 7 and 9 are unique")
        }
        #expect(moved > 0, "the permutations do move sentences")
    }

    /// The fast path (sparse non-majority tokens, the majority's sums by subtraction) gives the
    /// matrix `Sensitivity` computes on the explicitly relabelled tokens, and the same counts of |s*| ≥ |s|.
    @Test(arguments: [false, true])
    func fastPathEqualsNaiveReference(withWeight: Bool) {
        let data = StatisticsData.random(lengths: Self.lengths + Self.lengths, labelCount: 4, neurons: 5, withWeight: withWeight, noLabelShare: 0.15, seed: 12)
        let resampling = data.resampling
        let plan = resampling.permutationPlan()
        let permutations = 70, seed: UInt64 = 3
        var naiveCounts = [Int](repeating: 0, count: 20)
        // Blocks as `exceedances` cuts them (32, 32, 6), and one of a single permutation.
        var fastMatrices: [Double] = []
        for first in stride(from: 0, to: permutations, by: SensitivityResampling.blockSize) {
            fastMatrices += resampling.permutedMatrices(
                plan: plan, first: first, count: min(SensitivityResampling.blockSize, permutations - first), seed: seed)
        }
        #expect(Array(fastMatrices[(33 * 20)..<(34 * 20)]) == resampling.permutedMatrices(plan: plan, first: 33, count: 1, seed: seed))
        for permutation in 0..<permutations {
            let fast = Array(fastMatrices[(permutation * 20)..<((permutation + 1) * 20)])
            let naive = resampling.naivePermutedMatrix(plan: plan, permutation: permutation, seed: seed)
            expectClose(fast, naive, "permutation \(permutation)")
            for cell in 0..<20 where SensitivityResampling.reaches(naive[cell], full: resampling.full[cell], tolerance: plan.tolerance[cell]) {
                naiveCounts[cell] += 1
            }
        }
        let fastCounts = resampling.exceedances(plan: plan, permutations: permutations, seed: seed)
        #expect(fastCounts == naiveCounts)
        #expect(fastCounts.contains { $0 > 0 && $0 < permutations }, "counts between 0 and all: \(fastCounts)")
    }

    /// Neuron 0 is label A's indicator (1 on A tokens, else 0): s = 1 for A and −1 for B, the
    /// largest |s| any relabelling can give, reached only when A lands on exactly the same
    /// tokens. The ten sentences (one length) have distinct A patterns, so only the identity
    /// (chance 1/10! per permutation) does: p = 1/(P + 1), the smallest possible.
    @Test func indicatorNeuronGetsTheSmallestP() throws {
        let patterns: [[Int32]] = [
            [0, 1, 1, 1, 1], [1, 0, 1, 1, 1], [1, 1, 0, 1, 1], [1, 1, 1, 0, 1], [1, 1, 1, 1, 0],
            [0, 0, 1, 1, 1], [1, 0, 0, 1, 1], [1, 1, 0, 0, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 0],
        ]
        var generator = SplitMix64(seed: 1)
        var hidden: [Float] = []
        for label in patterns.joined() { hidden += [label == 0 ? 1 : 0, Float(generator.uniform(-1, 1))] }
        let data = StatisticsData(
            labels: ["A", "B"], neuronCount: 2, hidden: hidden, assignments: Array(patterns.joined()),
            sentenceStarts: Array(stride(from: 0, through: 50, by: 5)), outputWeight: nil)
        let permutations = 300
        let statistics = data.statistics(bootstrap: 0, permutations: permutations, seed: 4)
        let permutation = try #require(statistics.permutation)
        #expect(data.resampling.sensitivity.values[0] == [1, -1])
        #expect(permutation.p[0][0] == 1 / Double(permutations + 1))
        #expect(permutation.p[0][1] == 1 / Double(permutations + 1))
        // The noise neuron is not significant at all.
        #expect((permutation.p[1][0] ?? 0) > 0.05)
        #expect(permutation.scheme.contains("same length"))
    }

    /// When every sentence's length is its own, no permutation moves a label: every |s*| is |s|
    /// up to the rounding of sums added in another order (values from 10⁻⁶ to 10⁶ make sure
    /// there is some), which the tolerance absorbs, so every p is 1.
    @Test func unmovableSentencesGiveOne() throws {
        let data = StatisticsData.random(
            lengths: Array(1...40), labelCount: 3, neurons: 6, withWeight: true, noLabelShare: 0.1, wideRange: true, seed: 21)
        let resampling = data.resampling, plan = resampling.permutationPlan()
        let permuted = resampling.permutedMatrices(plan: plan, first: 0, count: 1, seed: 2)
        #expect(permuted != resampling.full, "the fast path's rounding differs from Sensitivity's somewhere")
        expectClose(permuted, resampling.full, tolerance: 1e-3, "the identity")
        let statistics = data.statistics(bootstrap: 0, permutations: 50, seed: 2)
        let p = try #require(statistics.permutation?.p)
        #expect(p.allSatisfy { $0.allSatisfy { $0 == nil || $0 == 1 } })
        #expect(p.contains { $0.contains { $0 != nil } })
        #expect(statistics.permutation?.scheme.contains("here 40 of 40 sentences") == true)
    }
}

@Suite struct SensitivityStatisticsTests {
    /// The same seed gives the same statistics, another seed other ones.
    @Test func deterministicForASeed() {
        let data = StatisticsData.random(lengths: SensitivityPermutationTests.lengths, labelCount: 3, neurons: 4, withWeight: true, seed: 5)
        let first = data.statistics(bootstrap: 50, permutations: 50, seed: 7)
        #expect(first == data.statistics(bootstrap: 50, permutations: 50, seed: 7))
        let other = data.statistics(bootstrap: 50, permutations: 50, seed: 8)
        #expect(first.bootstrap?.lower != other.bootstrap?.lower)
        #expect(first.permutation?.p != other.permutation?.p)
        #expect(first.bootstrap?.seed == 7 && first.permutation?.seed == 7)
    }

    /// The rule on a hand-made matrix; largest |s| = 1, so the margin is 0.1:
    ///   (0, A) q 0.01, [0.5, 1.5]     → finding
    ///   (0, B) q 0.2,  [0.3, 0.7]     → fails only q
    ///   (1, A) q 0.001, [0.02, 0.08]  → fails only the margin (it excludes 0, not ±0.1)
    ///   (1, B) q 0.01, [−1, −0.2]     → finding (below −margin)
    ///   (2, A) undefined              → nil
    @Test func findingRuleByHand() {
        let values: [[Double?]] = [[1.0, 0.5], [0.05, -0.8], [nil, 0.3]]
        let bootstrap = SensitivityStatistics.Bootstrap(
            resamples: 10, seed: 1, level: 0.95,
            lower: [[0.5, 0.3], [0.02, -1], [nil, 0.2]], upper: [[1.5, 0.7], [0.08, -0.2], [nil, 0.4]],
            rankLower: [], rankUpper: [], topTenStability: [])
        let permutation = SensitivityStatistics.Permutation(
            permutations: 10, seed: 1, scheme: "", p: [], q: [[0.01, 0.2], [0.001, 0.01], [nil, 0.5]])
        let findings = SensitivityStatistics.Findings(values: values, bootstrap: bootstrap, permutation: permutation)
        #expect(findings.margin == 0.1)
        #expect(findings.cells == [[true, false], [false, true], [nil, false]])
        #expect(findings.count == 2 && findings.defined == 5)
        #expect(findings.qThreshold == 0.05 && findings.marginFraction == 0.1)
        #expect(findings.rule.contains("q < 0.05") && findings.rule.contains("excludes ±10 % of the matrix's largest |s|"))
        #expect(findings.rule.contains("±0.1000"))
    }

    /// Reordering moves every matrix's columns with the labels, and back again.
    @Test func reorderedFollowsTheLabels() throws {
        let data = StatisticsData.random(lengths: SensitivityPermutationTests.lengths, labelCount: 3, neurons: 12, withWeight: true, seed: 5)
        let statistics = data.statistics(bootstrap: 30, permutations: 30, seed: 1)
        let stability = try #require(statistics.bootstrap?.topTenStability)
        #expect(Set(stability).count == 3, "labels with different stabilities, so moving them shows: \(stability)")
        let order = ["L2", "L0", "L1"]
        let reordered = statistics.reordered(labels: data.labels, to: order)
        for neuron in 0..<12 {
            for (column, label) in order.enumerated() {
                let original = data.labels.firstIndex(of: label) ?? -1
                #expect(reordered.bootstrap?.lower[neuron][column] == statistics.bootstrap?.lower[neuron][original])
                #expect(reordered.bootstrap?.rankUpper[neuron][column] == statistics.bootstrap?.rankUpper[neuron][original])
                #expect(reordered.permutation?.q[neuron][column] == statistics.permutation?.q[neuron][original])
                #expect(reordered.findings?.cells[neuron][column] == statistics.findings?.cells[neuron][original])
            }
        }
        #expect(reordered.bootstrap?.topTenStability.first == statistics.bootstrap?.topTenStability[2])
        #expect(reordered.reordered(labels: order, to: data.labels) == statistics)
        #expect(reordered != statistics)
    }

    /// `init(run:sensitivity:…)` uses the tokens the sensitivity was computed from: the
    /// predictions, or under `--condition gold` the gold labels, and W on the top layer.
    @Test(arguments: Condition.allCases)
    func fromARunFollowsTheCondition(condition: Condition) throws {
        let run = try AnalysisFixture.load("bilstm").run(keepProjections: false)
        let sensitivity = Sensitivity(run: run, condition: condition)
        let statistics = SensitivityStatistics(run: run, sensitivity: sensitivity, bootstrap: 40, permutations: 40, seed: 2)
        let direct = SensitivityStatistics(
            labels: run.labels, neuronCount: run.neuronCount, hidden: run.hidden,
            assignments: condition == .gold ? run.gold : run.predicted, sentenceStarts: run.sentenceStarts,
            outputWeight: Array(run.outputWeight), bootstrap: 40, permutations: 40, seed: 2)
        #expect(statistics == direct)
        let other = SensitivityStatistics(
            run: run, sensitivity: Sensitivity(run: run, condition: condition == .gold ? .predicted : .gold),
            bootstrap: 40, permutations: 40, seed: 2)
        #expect(run.gold != run.predicted, "the fixture's predictions differ from its gold labels")
        #expect(other != statistics)
        // The full-sample values the findings are judged on are the sensitivity's own.
        let findings = try #require(statistics.findings)
        for (neuron, row) in sensitivity.values.enumerated() {
            for (label, value) in row.enumerated() { #expect((value == nil) == (findings.cells[neuron][label] == nil)) }
        }
    }
}
