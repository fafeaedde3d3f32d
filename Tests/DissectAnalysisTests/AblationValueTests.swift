import Foundation
import Testing
import DissectCore
import DissectModel
@testable import DissectAnalysis

/// A plain RNN of two units, worked by hand: W_ih = I, W_hh = 0, no biases, so
/// h(t) = tanh(e_word), and e is chosen so that h is a round pair per word:
///
///     word   h0     h1
///     w0     0.5    0.1
///     w1    −0.4    0.2
///     w2     0.3    0.35
///     w3     0.6   −0.2
///
/// hidden2tag = I, no bias: logit_j = h_j, so a token is labelled O (0) when
/// h0 > h1 and B-X (1) otherwise. Ablating neuron 0 with value v leaves
/// logit_0 = v: O exactly when v > h1(t).
enum TinyModel {
    static let states: [[Double]] = [[0.5, 0.1], [-0.4, 0.2], [0.3, 0.35], [0.6, -0.2]]
    static let labels = ["O", "B-X"]

    static func checkpoint() throws -> Checkpoint {
        var c = TaggerConfiguration()
        c.cell = .rnn
        c.hiddenSize = 2
        c.wordEmbeddingDim = 2
        c.charCNN = false
        c.wordCount = states.count
        c.charCount = 1
        c.labelCount = 2
        var model = TaggerModel<Float>(configuration: c)
        func set(_ name: String, _ values: [Float]) throws {
            let entry = try #require(model.layout.entry(name), "\(name) in the layout")
            #expect(entry.count == values.count, "\(name) size")
            for (index, value) in values.enumerated() { model.parameters[entry.offset + index] = value }
        }
        try set("word_embedding.weight", states.flatMap { $0.map { Float(atanh($0)) } })
        let names = ParameterLayout.recurrentNames(cell: .rnn, layer: 0, direction: 0)
        try set(names.inputWeight, [1, 0, 0, 1])
        try set(names.hiddenWeight, [0, 0, 0, 0])
        try set(names.inputBias, [0, 0])
        try set(names.hiddenBias, [0, 0])
        try set("hidden2tag.weight", [1, 0, 0, 1])
        try set("hidden2tag.bias", [0, 0])
        let metadata = CheckpointMetadata(
            configuration: c, vocabulary: VocabularyLists(words: ["w0", "w1", "w2", "w3"], chars: ["a"], labels: labels),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil)
        return Checkpoint(metadata: metadata, model: model)
    }

    /// A run over sentences of word indices with gold label indices.
    static func run(_ checkpoint: Checkpoint, words: [[Int32]], gold: [[Int32]]) -> ModelRun {
        let encoded = zip(words, gold).map { EncodedSentence(words: $0, characters: $0.map { _ in [0] }, labels: $1) }
        return ModelRun(
            checkpoint: checkpoint, encoded: encoded, goldLabels: gold.map { $0.map { labels[Int($0)] } }, dataPath: "tiny",
            keepProjections: true)
    }
}

@Suite struct AblationValueTests {
    /// Rank-on: "w0 w1", "w3", so neuron 0's values there are 0.5, −0.4, 0.6 (mean 0.7 / 3).
    /// Data: "w0 w2", "w1 w3 w0" with gold O, B-X | B-X, O, O; h1 = 0.1, 0.35 | 0.2, −0.2, 0.1.
    /// The model gets every token right. Ablating neuron 0:
    ///   zero      v = 0:     O only where h1 < 0 (t3)            → O B-X | B-X O B-X … [1,1,1,0,1]: all 3/5, O 1/3, B-X 2/2
    ///   mean      v = 0.233: O where h1 < 0.233 (all but t1)     → [0,1,0,0,0]: all 4/5, O 3/3, B-X 1/2
    ///   resample  v = h0(u) ∈ {0.5, −0.4, 0.6}: O unless u is rank-on token 1 (w1, −0.4, below every h1)
    /// With W_hh = 0 the recurrent mode agrees with the readout.
    static func tiny() throws -> (rank: ModelRun, data: ModelRun) {
        let checkpoint = try TinyModel.checkpoint()
        let rank = TinyModel.run(checkpoint, words: [[0, 1], [3]], gold: [[0, 1], [0]])
        let data = TinyModel.run(checkpoint, words: [[0, 2], [1, 3, 0]], gold: [[0, 1], [1, 0, 0]])
        return (rank, data)
    }

    @Test(arguments: AblationMode.allCases)
    func zeroAndMeanByHand(mode: AblationMode) throws {
        let (rank, data) = try Self.tiny()
        #expect(data.predicted == [0, 1, 1, 0, 0], "the model gets every token right")
        let zero = AblationEngine(run: data, focusLabels: ["O"], steps: 1).curves(orders: [[0]], mode: mode)[0]
        #expect(zero.accuracy["all"] == [1, 0.6])
        #expect(zero.accuracy["O"] == [1, 1.0 / 3])
        #expect(zero.accuracy["B-X"] == [1, 1])
        let replacement = AblationReplacement(value: .mean, rankRun: rank, seed: 1)
        #expect(abs(Double(replacement.means[0]) - 0.7 / 3) < 1e-6)
        #expect(abs(Double(replacement.means[1]) - 0.1 / 3) < 1e-6)
        let mean = AblationEngine(run: data, focusLabels: ["O"], steps: 1, replacement: replacement).curves(orders: [[0]], mode: mode)[0]
        #expect(mean.accuracy["all"] == [1, 0.8])
        #expect(mean.accuracy["O"] == [1, 1])
        #expect(mean.accuracy["B-X"] == [1, 0.5])
        #expect(mean.band == nil, "no band unless asked for")
    }

    @Test(arguments: AblationMode.allCases)
    func resampleByHand(mode: AblationMode) throws {
        let (rank, data) = try Self.tiny()
        // Seed 3 draws rank-on token 1 (w1) at some data tokens and not at others.
        let replacement = AblationReplacement(value: .resample, rankRun: rank, seed: 3)
        let drawn = (0..<data.tokenCount).map { replacement.sourceToken(neuron: 0, token: $0) }
        #expect(drawn.contains(1) && drawn.contains { $0 != 1 }, "both cases are exercised: \(drawn)")
        let expected: [Int32] = drawn.map { $0 == 1 ? 1 : 0 }
        let engine = AblationEngine(run: data, focusLabels: ["O"], steps: 1, replacement: replacement)
        let predictions = engine.predictions(order: [0], mode: mode)
        #expect(predictions == [data.predicted, expected])
        let gold = data.gold
        let correct = zip(expected, gold).filter { $0 == $1 }.count
        let curve = engine.curves(orders: [[0]], mode: mode)[0]
        #expect(curve.accuracy["all"] == [1, Double(correct) / 5])
    }

    /// A neuron that is constant over both runs is its own mean and its own resample,
    /// so those ablations change nothing, while zeroing it does.
    @Test(arguments: ["lstm", "bilstm"], AblationMode.allCases)
    func aValueEqualToHChangesNothing(variant: String, mode: AblationMode) throws {
        let fixture = try AnalysisFixture.load(variant)
        var checkpoint = try fixture.checkpoint()
        let c = checkpoint.model.configuration
        let H = c.hiddenSize
        // Unit 0 of the forward direction: no input or recurrent weights, so its gates are
        // their biases at every step: i = σ(20) = 1, f = σ(−20) ≈ 0, g = tanh(0.8), o = σ(1),
        // c(t) = g, h(t) = o·tanh(g) at every token.
        let names = ParameterLayout.recurrentNames(cell: .lstm, layer: 0, direction: 0)
        let layout = checkpoint.model.layout
        let inputWeight = try #require(layout.entry(names.inputWeight)), hiddenWeight = try #require(layout.entry(names.hiddenWeight))
        let inputBias = try #require(layout.entry(names.inputBias)), hiddenBias = try #require(layout.entry(names.hiddenBias))
        let width = inputWeight.count / c.gateSize
        for (gate, bias) in [(0, Float(20)), (1, -20), (2, 0.8), (3, 1)] {
            let row = gate * H
            for column in 0..<width { checkpoint.model.parameters[inputWeight.offset + row * width + column] = 0 }
            for column in 0..<H { checkpoint.model.parameters[hiddenWeight.offset + row * H + column] = 0 }
            checkpoint.model.parameters[inputBias.offset + row] = bias
            checkpoint.model.parameters[hiddenBias.offset + row] = 0
        }
        // A strong readout of unit 0 towards label 0, so zeroing it moves predictions.
        let output = try #require(layout.entry("hidden2tag.weight"))
        checkpoint.model.parameters[output.offset] = 6
        let encoded = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let names0 = fixture.labelNames
        let gold = fixture.sentences.map { $0.labels.map { names0[Int($0)] } }
        let data = ModelRun(checkpoint: checkpoint, encoded: encoded, goldLabels: gold, dataPath: "data", keepProjections: true)
        let rank = ModelRun(
            checkpoint: checkpoint, encoded: Array(encoded.prefix(3)), goldLabels: Array(gold.prefix(3)), dataPath: "rank")
        let constant = data.hidden[0]
        for token in 0..<data.tokenCount { #expect(data.hidden[token * data.neuronCount] == constant, "h_0 is constant") }
        let zero = AblationEngine(run: data, focusLabels: ["L0"], steps: 1).predictions(order: [0], mode: mode)
        #expect(zero[0] != zero[1], "zeroing the unit does change predictions")
        for value in [AblationValue.mean, .resample] {
            let replacement = AblationReplacement(value: value, rankRun: rank, seed: 5)
            for token in 0..<data.tokenCount { #expect(replacement.value(neuron: 0, token: token) == constant) }
            let engine = AblationEngine(run: data, focusLabels: ["L0"], steps: 1, replacement: replacement)
            let predictions = engine.predictions(order: [0], mode: mode)
            #expect(predictions.count == 2 && predictions[0] == predictions[1], "\(value) \(mode): nothing changes")
            let curve = engine.curves(orders: [[0]], mode: mode)[0]
            for (key, values) in curve.accuracy { #expect(values[0] == values[1], "\(value) \(key)") }
            #expect(curve.f1[0] == curve.f1[1])
        }
    }

    /// `value: .zero` is the paper's path: the same predictions as PyTorch's zeroed
    /// model, whatever replacement object carries it, and the same documents as before.
    @Test(arguments: ["lstm", "bilstm", "gru"], AblationMode.allCases)
    func zeroIsThePapersAblation(variant: String, mode: AblationMode) throws {
        let fixture = try AnalysisFixture.load(variant)
        let run = try fixture.run()
        let expected = mode == .readout ? fixture.ablation_readout : fixture.ablation_recurrent
        for replacement in [AblationReplacement.zero, AblationReplacement(value: .zero, rankRun: run, seed: 7)] {
            let engine = AblationEngine(run: run, focusLabels: ["L0"], steps: fixture.order.count, replacement: replacement)
            #expect(engine.predictions(order: fixture.order, mode: mode) == expected)
        }
        let plain = AblationStudy.run(rankRun: run, dataRun: run, labels: ["L0", "L1"], steps: 3, mode: mode, randomCount: 2, seed: 4)
        let zero = AblationStudy.run(
            rankRun: run, dataRun: run, labels: ["L0", "L1"], steps: 3, mode: mode, randomCount: 2, seed: 4, value: .zero)
        #expect(zero.value == .zero && plain.value == .zero)
        #expect(zero.curves == plain.curves && zero.controls == plain.controls)
        let mean = AblationStudy.run(
            rankRun: run, dataRun: run, labels: ["L0", "L1"], steps: 3, mode: mode, randomCount: 2, seed: 4, value: .mean)
        #expect(mean.value == .mean)
        #expect(mean.curves != zero.curves, "another value moves some curve")
    }

    /// Resample draws come only from the rank-on run: v_i(t) = h_i(u) of a rank-on
    /// token u, a pure function of (seed, neuron, token), so the fast table agrees.
    @Test func resampleDrawsComeFromTheRankOnRun() throws {
        let fixture = try AnalysisFixture.load("bilstm")
        let data = try fixture.run()
        let encoded = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let rank = ModelRun(
            checkpoint: data.checkpoint, encoded: Array(encoded.suffix(2)), goldLabels: Array(data.goldLabels.suffix(2)), dataPath: "rank")
        let n = data.neuronCount, N = data.tokenCount, sourceTokens = rank.tokenCount
        #expect(sourceTokens < N, "the rank-on run is another, smaller file")
        let replacement = AblationReplacement(value: .resample, rankRun: rank, seed: 11)
        let table = replacement.table(tokens: N)
        var used = Set<Int>()
        for neuron in 0..<n {
            let rankValues = Set((0..<sourceTokens).map { rank.hidden[$0 * n + neuron] })
            for token in 0..<N {
                let source = replacement.sourceToken(neuron: neuron, token: token)
                #expect((0..<sourceTokens).contains(source))
                used.insert(source)
                let value = replacement.value(neuron: neuron, token: token)
                #expect(value == rank.hidden[source * n + neuron])
                #expect(rankValues.contains(value))
                #expect(table[neuron * N + token] == value, "table[\(neuron)][\(token)]")
                var generator = SplitMix64(seed: 11, stream: AblationReplacement.resampleStream, UInt64(neuron), UInt64(token))
                #expect(source == generator.nextIndex(below: sourceTokens), "a pure function of (seed, neuron, token)")
            }
        }
        #expect(used.count > sourceTokens / 2, "the draws spread over the rank-on tokens: \(used.count) of \(sourceTokens)")
        let other = AblationReplacement(value: .resample, rankRun: rank, seed: 12)
        #expect((0..<N).contains { other.sourceToken(neuron: 0, token: $0) != replacement.sourceToken(neuron: 0, token: $0) })
        // The engine hands these very values to both modes.
        let engine = AblationEngine(run: data, focusLabels: ["L0"], steps: 3, replacement: replacement)
        guard case .perToken(let values) = engine.recurrentReplacement else {
            Issue.record("resample gives per-token values")
            return
        }
        #expect(values == table)
        for index in 0..<(n * N) {
            let neuron = index / N, token = index % N
            #expect(engine.readoutChange[index] == data.hidden[token * n + neuron] - table[index])
        }
        let mean = AblationEngine(run: data, focusLabels: ["L0"], steps: 3, replacement: AblationReplacement(value: .mean, rankRun: rank, seed: 1))
        guard case .constant(let means) = mean.recurrentReplacement else {
            Issue.record("mean gives one value per unit")
            return
        }
        for neuron in 0..<n {
            let sum = (0..<sourceTokens).reduce(0.0) { $0 + Double(rank.hidden[$1 * n + neuron]) }
            #expect(means[neuron] == Float(sum / Double(sourceTokens)))
        }
    }

    /// The same neuron at the same token gets the same value in every curve: in recurrent
    /// mode the ablated set, not the order, decides the result, and engines with other
    /// K or focus sets agree at equal k.
    @Test(arguments: ["bilstm", "gru"])
    func resampleIsTheSameInEveryCurve(variant: String) throws {
        let fixture = try AnalysisFixture.load(variant)
        let run = try fixture.run()
        let replacement = AblationReplacement(value: .resample, rankRun: run, seed: 21)
        let engine = AblationEngine(run: run, focusLabels: ["L0"], steps: 3, replacement: replacement)
        let other = AblationEngine(run: run, focusSets: [["L1"], ["L0", "L2"]], steps: 1, replacement: replacement)
        let a = engine.predictions(order: [2, 0, 3], mode: .recurrent)
        let b = engine.predictions(order: [3, 2, 0], mode: .recurrent)
        let c = engine.predictions(order: [0, 3, 2], mode: .recurrent)
        #expect(a[3] == b[3] && b[3] == c[3], "the same three neurons give the same predictions in any order")
        #expect(a[1] != a[0] || a[2] != a[0] || a[3] != a[0], "the ablation moves something")
        #expect(other.predictions(order: [2, 1], mode: .recurrent)[1] == a[1])
        #expect(other.predictions(order: [2], mode: .readout)[1] == engine.predictions(order: [2, 0, 3], mode: .readout)[1])
        // The documents: a random order and a ranking agree wherever they have ablated the same set.
        let study = AblationStudy.run(
            rankRun: run, dataRun: run, labels: ["L0"], steps: 2, mode: .recurrent, randomCount: 0, seed: 21, value: .resample)
        let ranked = try #require(study.curves["L0"])
        let again = engine.curves(orders: [Array(ranked.neurons.reversed())], mode: .recurrent)[0]
        for (key, values) in ranked.accuracy { #expect(values[2] == again.accuracy[key]?[2], "\(key) at k = 2") }
    }
}

/// Several recurrent orders run one per core, each rerun on one core; a single order runs each
/// rerun on both. Both paths give the same curves, bit for bit, for every cell and value.
@Suite struct RecurrentOrdersInParallelTests {
    @Test(arguments: ["lstm", "bilstm", "gru"], AblationValue.allCases)
    func ordersSplitAcrossCoresEqualEachOrderAlone(variant: String, value: AblationValue) throws {
        let fixture = try AnalysisFixture.load(variant)
        let run = try fixture.run()
        let replacement = AblationReplacement(value: value, rankRun: run, seed: 5)
        let engine = AblationEngine(run: run, focusSets: [["L0"], ["L1", "L2"]], steps: 3, replacement: replacement)
        let n = run.neuronCount
        let orders = [[0, 1, 2], [2, 0, 1], [1, 2, 0], Array((0..<n).reversed())]
        let jobs = orders.map { AblationJob(order: $0, focusSets: [0, 1]) }
        let together = engine.curves(jobs: jobs, mode: .recurrent)
        #expect(together.count == orders.count)
        var moved = false
        for (index, job) in jobs.enumerated() {
            let alone = engine.curves(jobs: [job], mode: .recurrent)[0]
            #expect(together[index] == alone, "order \(index)")
            moved = moved || alone[0].accuracy["all"].map { Set($0).count > 1 } == true
        }
        #expect(moved, "some order changes the accuracy, so equality says something")
    }
}

@Suite struct CurveBandTests {
    /// When every sentence has the same accuracy, every resample has it too: the band is the curve.
    @Test func aConstantPerSentenceAccuracyCollapsesTheBand() {
        let bootstrap = CurveBootstrap(resamples: 50, sentences: 4, seed: 3)
        // Two keys, three points; sentences of 2, 4, 6, 8 tokens; key "a" half right at k = 0,
        // all right at k = 1, none at k = 2; key "all" a quarter right throughout.
        let totals: [Double] = [2, 4, 6, 8, 4, 8, 12, 16]
        var correct: [Double] = []
        for fraction in [0.5, 1, 0] { correct += [2, 4, 6, 8].map { $0 * fraction } + [1, 2, 3, 4] }
        let band = bootstrap.band(keys: ["a", "all"], correct: correct, totals: totals)
        #expect(band.resamples == 50 && band.level == 0.95)
        #expect(band.lower["a"] == [0.5, 1, 0] && band.upper["a"] == [0.5, 1, 0])
        #expect(band.lower["all"] == [0.25, 0.25, 0.25] && band.upper["all"] == [0.25, 0.25, 0.25])
    }

    /// Each resample draws S sentences; the bounds agree with a naive loop over resamples.
    @Test func theBandMatchesANaiveBootstrap() {
        let S = 7, B = 40
        let bootstrap = CurveBootstrap(resamples: B, sentences: S, seed: 9)
        for resample in 0..<B { #expect(bootstrap.weights[(resample * S)..<((resample + 1) * S)].reduce(0, +) == Double(S)) }
        #expect(bootstrap.weights != CurveBootstrap(resamples: B, sentences: S, seed: 10).weights, "the seed matters")
        var rng = SplitMix64(seed: 2)
        let keys = ["x", "y"], points = 3
        // Key x: 0–5 tokens per sentence (some none); y: 3 each.
        let totals: [Double] = (0..<S).map { _ in Double(rng.nextIndex(below: 6)) } + [Double](repeating: 3, count: S)
        var correct: [Double] = []
        for _ in 0..<points {
            for key in 0..<2 { for s in 0..<S { correct.append(Double(rng.nextIndex(below: Int(totals[key * S + s]) + 1))) } }
        }
        let band = bootstrap.band(keys: keys, correct: correct, totals: totals)
        for k in 0..<points {
            for (index, key) in keys.enumerated() {
                var values: [Double] = []
                for resample in 0..<B {
                    var numerator = 0.0, denominator = 0.0
                    for s in 0..<S {
                        let w = bootstrap.weights[resample * S + s]
                        numerator += w * correct[(k * 2 + index) * S + s]
                        denominator += w * totals[index * S + s]
                    }
                    if denominator > 0 { values.append(numerator / denominator) }
                }
                #expect(band.lower[key]?[k] == Statistics.percentile(values, 2.5), "\(key) k = \(k)")
                #expect(band.upper[key]?[k] == Statistics.percentile(values, 97.5), "\(key) k = \(k)")
            }
        }
    }

    /// The per-sentence counts add up to the curve: Σ_s correct_s / Σ_s total_s is each key's accuracy.
    @Test func sentenceCountsAddUpToTheCurve() throws {
        let fixture = try AnalysisFixture.load("bilstm")
        let run = try fixture.run()
        let engine = AblationEngine(run: run, focusSets: [["L1"], ["L0", "L2"]], steps: 2)
        let S = run.sentenceStarts.count - 1
        for focus in 0..<2 {
            let keys = engine.accuracyKeys(focus: focus)
            let totals = engine.sentenceTotals(focus: focus)
            var curve = AblationCurve(neurons: [], accuracy: [:], f1: [])
            var counts: SentenceCounts? = SentenceCounts(keys: keys.count, points: 3, sentences: S)
            for predicted in engine.predictions(order: [4, 1], mode: .readout) {
                predicted.withUnsafeBufferPointer { engine.measure($0.baseAddress!, focus: focus, into: &curve, counts: &counts) }
            }
            #expect(Set(keys) == Set(curve.accuracy.keys))
            let correct = try #require(counts?.correct)
            #expect(correct.count == 3 * keys.count * S)
            for (index, key) in keys.enumerated() {
                let total = totals[(index * S)..<((index + 1) * S)].reduce(0, +)
                for k in 0..<3 {
                    let right = correct[((k * keys.count + index) * S)..<((k * keys.count + index + 1) * S)].reduce(0, +)
                    #expect(right / total == curve.accuracy[key]?[k], "focus \(focus) \(key) k = \(k)")
                }
            }
        }
    }

    /// On a model: the ranked curves get a band that contains the curve at every k, the
    /// controls get none, and 0 resamples gives none.
    @Test(arguments: [AblationMode.readout, .recurrent], [AblationValue.zero, .resample])
    func rankedCurvesGetABandAroundThem(mode: AblationMode, value: AblationValue) throws {
        let fixture = try AnalysisFixture.load("bilstm")
        let run = try fixture.run()
        let document = AblationStudy.run(
            rankRun: run, dataRun: run, labels: ["L1", "L2"], steps: 4, mode: mode, randomCount: 2, seed: 6, value: value,
            bandResamples: 200)
        #expect(document.value == value)
        for label in ["L1", "L2"] {
            let curve = try #require(document.curves[label])
            let band = try #require(curve.band, "\(label) has a band")
            #expect(band.resamples == 200)
            #expect(Set(band.lower.keys) == Set(curve.accuracy.keys) && Set(band.upper.keys) == Set(curve.accuracy.keys))
            for (key, values) in curve.accuracy {
                let lower = try #require(band.lower[key]), upper = try #require(band.upper[key])
                #expect(lower.count == values.count && upper.count == values.count)
                for k in values.indices where k < lower.count && k < upper.count {
                    #expect(lower[k] <= values[k] && values[k] <= upper[k], "\(label) \(key) k = \(k): \(lower[k]) ≤ \(values[k]) ≤ \(upper[k])")
                }
            }
            #expect(band.lower["all"] != band.upper["all"], "six sentences of different accuracy give a band of some width")
            #expect(document.controls.reverse[label]?.band == nil)
        }
        let none = AblationStudy.run(
            rankRun: run, dataRun: run, labels: ["L1"], steps: 2, mode: mode, randomCount: 0, seed: 6, value: value)
        #expect(none.curves["L1"]?.band == nil)
    }
}
