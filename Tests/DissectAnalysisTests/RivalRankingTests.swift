import Foundation
import Testing
import DissectCore
@testable import DissectAnalysis

struct ProbeFixture: Decodable {
    var tokens: Int, neurons: Int, labels: Int
    var l1: Double, l2: Double, iterations: Int, step: Double
    var hidden: [Double], y: [Int], weight: [Double], bias: [Double]
    var training_accuracy: Double
    var probe_rankings: [[Int]], probe_overall_ranking: [Int]
    var probeless_scores: [[Double]], probeless_rankings: [[Int]]
    /// scikit-learn's elastic-net fit of the same objective, run to convergence (written when the script had sklearn).
    var sklearn_rankings: [[Int]]?

    static func load() throws -> ProbeFixture {
        guard let url = Bundle.module.url(forResource: "probe_reference", withExtension: "json", subdirectory: "Fixtures")
            ?? Bundle.module.url(forResource: "probe_reference", withExtension: "json")
        else { throw DissectError(problem: "fixture probe_reference.json missing", fix: "run tools/probe_reference.py") }
        return try JSONDecoder().decode(ProbeFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct RivalRankingTests {
    /// Rows t0 [1, 0], t1 [3, 2] (label 0: mean [2, 1]), t2 [0, 1], t3 [2, 5] (label 1: mean [1, 3]),
    /// t4 [4, 4] (label 2), t5 [9, 9] (no label, left out); label 3 has no token and is left out of every sum.
    /// label 0: [|2 − 1| + |2 − 4|, |1 − 3| + |1 − 4|] = [3, 5]; label 1: [1 + 3, 2 + 1] = [4, 3]; label 2: [2 + 3, 3 + 1] = [5, 4].
    @Test func probelessByHand() {
        let hidden: [Float] = [1, 0, 3, 2, 0, 1, 2, 5, 4, 4, 9, 9]
        let scores = RivalRankings.probeless(hidden: hidden, tokens: 6, neurons: 2, labels: 4, assignments: [0, 0, 1, 1, 2, -1])
        #expect(scores[0] == [3, 5])
        #expect(scores[1] == [4, 3])
        #expect(scores[2] == [5, 4])
        #expect(scores[3] == nil)
        #expect(rankDescending(scores[0] ?? []) == [1, 0])
        #expect(rankDescending(scores[1] ?? []) == [0, 1])
        #expect(rankDescending([1, 2, 2, 0, 1]) == [1, 2, 0, 4, 3])
    }

    /// Two classes told apart by neuron 1 alone; neurons 0 and 2 are noise.
    static func separable(tokens: Int = 200) -> (x: [Double], y: [Int]) {
        var rng = SplitMix64(seed: 7, stream: 1)
        var raw: [Double] = [], y: [Int] = []
        for t in 0..<tokens {
            let label = t % 2
            let noise = { Double(rng.next() >> 11) / Double(1 << 53) }
            raw += [noise() * 2 - 1, (label == 0 ? -1 : 1) * (1 + noise()), noise() * 2 - 1]
            y.append(label)
        }
        return (LinearProbe.standardise(raw, tokens: tokens, neurons: 3), y)
    }

    @Test func theProbeSeparatesAndRanksTheInformativeNeuronFirst() {
        let (x, y) = Self.separable()
        let probe = LinearProbe(x: x, y: y, labels: 2, neurons: 3)
        #expect(probe.trainingAccuracy == 1)
        #expect(rankDescending(probe.scores(label: 0)).first == 1)
        #expect(rankDescending(probe.scores(label: 1)).first == 1)
        #expect(rankDescending(probe.overallScores).first == 1)
    }

    @Test func anL1HeavyProbeZeroesTheUninformativeWeights() {
        let (x, y) = Self.separable()
        let plain = LinearProbe(x: x, y: y, labels: 2, neurons: 3, parameters: .init(l1: 0, l2: 0, iterations: 500))
        #expect(plain.weight.filter { $0 == 0 }.count == 0)
        let sparse = LinearProbe(x: x, y: y, labels: 2, neurons: 3, parameters: .init(l1: 0.1, l2: 1e-3, iterations: 500))
        for j in 0..<2 {
            #expect(sparse.weight[j * 3 + 0] == 0)
            #expect(sparse.weight[j * 3 + 2] == 0)
            #expect(sparse.weight[j * 3 + 1] != 0)
        }
        #expect(sparse.trainingAccuracy == 1)
    }

    static func gradientCase() -> (w: [Double], b: [Double], x: [Double], y: [Int]) {
        var rng = SplitMix64(seed: 3, stream: 2)
        let u = { Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1 }
        let m = 3, n = 4, T = 7
        return ((0..<(m * n)).map { _ in u() }, (0..<m).map { _ in u() }, (0..<(T * n)).map { _ in u() * 2 }, (0..<T).map { $0 % m })
    }

    @Test func theProbeGradientMatchesFiniteDifferences() {
        let (w, b, x, y) = Self.gradientCase()
        let l2 = 0.3
        let g = LinearProbe.smoothLossAndGradient(weight: w, bias: b, x: x, y: y, labels: 3, neurons: 4, l2: l2)
        let weightMismatches = GradientChecker().mismatches(parameters: w, analytic: g.weight) {
            LinearProbe.smoothLossAndGradient(weight: $0, bias: b, x: x, y: y, labels: 3, neurons: 4, l2: l2).loss
        }
        let biasMismatches = GradientChecker().mismatches(parameters: b, analytic: g.bias) {
            LinearProbe.smoothLossAndGradient(weight: w, bias: $0, x: x, y: y, labels: 3, neurons: 4, l2: l2).loss
        }
        #expect(weightMismatches.isEmpty)
        #expect(biasMismatches.isEmpty)
    }

    @Test func theCheckerCatchesAWrongGradient() {
        let (w, b, x, y) = Self.gradientCase()
        // The gradient without its L2 term is wrong for l2 = 0.3.
        let wrong = LinearProbe.smoothLossAndGradient(weight: w, bias: b, x: x, y: y, labels: 3, neurons: 4, l2: 0)
        let mismatches = GradientChecker().mismatches(parameters: w, analytic: wrong.weight) {
            LinearProbe.smoothLossAndGradient(weight: $0, bias: b, x: x, y: y, labels: 3, neurons: 4, l2: 0.3).loss
        }
        #expect(mismatches.count == w.count)
    }

    @Test func theProbeMatchesTheNumpyReference() throws {
        let fixture = try ProbeFixture.load()
        let x = LinearProbe.standardise(fixture.hidden, tokens: fixture.tokens, neurons: fixture.neurons)
        let probe = LinearProbe(
            x: x, y: fixture.y, labels: fixture.labels, neurons: fixture.neurons,
            parameters: .init(l1: fixture.l1, l2: fixture.l2, iterations: fixture.iterations))
        #expect(abs(probe.step - fixture.step) < 1e-12)
        #expect(probe.weight.count == fixture.weight.count)
        for (ours, theirs) in zip(probe.weight, fixture.weight) { #expect(abs(ours - theirs) < 1e-5) }
        for (ours, theirs) in zip(probe.bias, fixture.bias) { #expect(abs(ours - theirs) < 1e-5) }
        #expect(probe.trainingAccuracy == fixture.training_accuracy)
        for j in 0..<fixture.labels { #expect(rankDescending(probe.scores(label: j)) == fixture.probe_rankings[j]) }
        #expect(rankDescending(probe.overallScores) == fixture.probe_overall_ranking)
        // scikit-learn agrees on each class's top neuron (neuron 1 carries the class).
        let sklearn = try #require(fixture.sklearn_rankings, "the fixture was written without scikit-learn")
        for j in 0..<fixture.labels { #expect(rankDescending(probe.scores(label: j)).first == sklearn[j].first) }
    }

    @Test func probelessMatchesTheNumpyReference() throws {
        let fixture = try ProbeFixture.load()
        let scores = RivalRankings.probeless(
            hidden: fixture.hidden.map(Float.init), tokens: fixture.tokens, neurons: fixture.neurons, labels: fixture.labels,
            assignments: fixture.y.map(Int32.init))
        for j in 0..<fixture.labels {
            let ours = scores[j] ?? []
            #expect(ours.count == fixture.neurons)
            for (a, b) in zip(ours, fixture.probeless_scores[j]) { #expect(abs(a - b) < 1e-5) }
            #expect(rankDescending(ours) == fixture.probeless_rankings[j])
        }
    }

    @Test(arguments: ["lstm", "bilstm", "gru"], [AblationMode.readout, .recurrent])
    func singleEqualsADirectOneNeuronAblation(variant: String, mode: AblationMode) throws {
        let run = try AnalysisFixture.load(variant).run()
        let scores = RivalRankings.single(run: run, mode: mode)
        let engine = AblationEngine(run: run, focusSets: [run.labels], steps: 1)
        for (j, _) in run.labels.enumerated() {
            let goldTokens = run.gold.indices.filter { run.gold[$0] == Int32(j) }
            guard !goldTokens.isEmpty else { #expect(scores[j] == nil); continue }
            let own = try #require(scores[j])
            for neuron in 0..<run.neuronCount {
                let predictions = engine.predictions(order: [neuron], mode: mode)
                let before = Double(goldTokens.filter { predictions[0][$0] == Int32(j) }.count) / Double(goldTokens.count)
                let after = Double(goldTokens.filter { predictions[1][$0] == Int32(j) }.count) / Double(goldTokens.count)
                #expect(abs(own[neuron] - (before - after) * 100) < 1e-9)
            }
        }
    }

    @Test(arguments: ["lstm", "bilstm"])
    func scoringASensitivityRankingReproducesTheAblationStudy(variant: String) throws {
        let run = try AnalysisFixture.load(variant).run()
        let sensitivity = Sensitivity(run: run, condition: .predicted)
        let present = Set(run.gold.filter { $0 >= 0 }.map { run.labels[Int($0)] })
        let labels = run.labels.indices.filter { !sensitivity.ranking(label: $0).isEmpty && present.contains(run.labels[$0]) }.map { run.labels[$0] }
        try #require(!labels.isEmpty)
        let document = RankingStudy.run(
            model: "fixture", rankRun: run, dataRun: run, methods: [.sensitivity, .probeless], labels: labels, steps: 3, mode: .readout)
        let study = AblationStudy.run(rankRun: run, dataRun: run, labels: labels, steps: 3, mode: .readout, randomCount: 0, seed: 1, reverse: false)
        let ranked = try #require(document.methods.first)
        #expect(ranked.method == .sensitivity)
        for label in labels {
            let entry = try #require(ranked.labels[label])
            let expected = try #require(study.curves[label]?.accuracy[label])
            #expect(entry.accuracy == expected)
            #expect(entry.ranking == Array(sensitivity.ranking(label: run.labels.firstIndex(of: label) ?? 0)))
            #expect(entry.top10OverlapWithSensitivity == min(10, run.neuronCount))
            let drops = expected.map { (expected[0] - $0) * 100 }
            #expect(abs(entry.dropAt10 - drops[3]) < 1e-12)
            #expect(abs(entry.area - (drops[1] + drops[2] + drops[3]) / 3) < 1e-12)
        }
    }
}
