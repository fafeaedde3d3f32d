import Testing
import DissectCore
import DissectCorpus
import DissectModel
@testable import DissectAnalysis

@Suite struct HandWorkedTests {
    /// Two neurons, two labels, four tokens, worked by hand.
    ///   h = [[1, 0], [3, 2], [0, 4], [2, 2]], predicted z = [0, 0, 1, 1], W = hidden2tag.weightᵀ:
    ///   W[0] = [2, −1], W[1] = [0, 0.5]  (so hidden2tag.weight = [[2, 0], [−1, 0.5]]).
    ///   Neuron 0: mean h where z = 0 is 2, where z ≠ 0 is 1 → s[0][0] = 2·(2 − 1) = 2;
    ///             mean where z = 1 is 1, else 2 → s[0][1] = −1·(1 − 2) = 1.
    ///   Neuron 1: z = 0 → 1, else 3 → s[1][0] = 0·(…) = 0; z = 1 → 3, else 1 → s[1][1] = 0.5·2 = 1.
    @Test func sensitivityByHand() {
        let sensitivity = Sensitivity(
            labels: ["A", "B"], neuronCount: 2, tokenCount: 4, hidden: [1, 0, 3, 2, 0, 4, 2, 2],
            assignments: [0, 0, 1, 1], outputWeight: [2, 0, -1, 0.5], condition: .predicted)
        #expect(sensitivity.values == [[2, 1], [0, 1]])
        #expect(sensitivity.counts == [2, 2])
        #expect(sensitivity.ranking(label: 0) == [0, 1])
        // Tie on label B (both 1): the lower neuron first.
        #expect(sensitivity.ranking(label: 1) == [0, 1])
    }

    @Test func undefinedLabelsAreNilNotNaN() {
        let never = Sensitivity(
            labels: ["A", "B", "C"], neuronCount: 1, tokenCount: 3, hidden: [1, 2, 3],
            assignments: [0, 0, 1], outputWeight: [1, 1, 1], condition: .predicted)
        #expect(never.values[0][2] == nil)
        #expect(never.undefinedLabels == ["C"])
        #expect(never.ranking(label: 2).isEmpty)
        let always = Sensitivity(
            labels: ["A", "B"], neuronCount: 1, tokenCount: 2, hidden: [1, 2],
            assignments: [0, 0], outputWeight: [1, 1], condition: .predicted)
        #expect(always.values[0][0] == nil && always.values[0][1] == nil)
    }

    /// A trained-looking tiny model where neuron 0's output weights are zero:
    /// its sensitivity is 0 for every label and ablating it changes nothing, in both modes.
    @Test(arguments: AblationMode.allCases)
    func zeroWeightNeuronIsInert(mode: AblationMode) throws {
        let fixture = try AnalysisFixture.load("lstm")
        var checkpoint = try fixture.checkpoint()
        let entry = try #require(checkpoint.model.layout.entry("hidden2tag.weight"))
        let n = checkpoint.model.configuration.outputSize
        for label in 0..<checkpoint.model.configuration.labelCount { checkpoint.model.parameters[entry.offset + label * n] = 0 }
        if mode == .recurrent {
            // Recurrent ablation of neuron 0 does change later steps, unless nothing reads h_0:
            // zero its column in W_hh too.
            let hh = try #require(checkpoint.model.layout.entry("lstm.weight_hh_l0"))
            for gate in 0..<checkpoint.model.configuration.gateSize { checkpoint.model.parameters[hh.offset + gate * n] = 0 }
        }
        let base = try fixture.run()
        let run = ModelRun(
            checkpoint: checkpoint, encoded: fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) },
            goldLabels: base.goldLabels, dataPath: "fixture", keepProjections: true)
        let sensitivity = Sensitivity(run: run, condition: .predicted)
        #expect(sensitivity.values[0].contains { $0 != nil }, "some label is defined, so the zeros below are checked")
        for value in sensitivity.values[0] { #expect(value == nil || value == 0) }
        // The other neurons do matter (the check is not of an all-zero matrix).
        #expect(sensitivity.values.dropFirst().contains { $0.contains { ($0 ?? 0) != 0 } })
        let engine = AblationEngine(run: run, focusLabels: ["L0"], steps: 1)
        let predictions = engine.predictions(order: [0], mode: mode)
        #expect(predictions.count == 2)
        #expect(predictions[0] == predictions[1])
    }

    /// With zero recurrent weights nothing flows from h(t−1) to h(t), so
    /// zeroing h_i in the carried state changes nothing: the modes agree.
    @Test(arguments: ["lstm", "gru", "bilstm"])
    func modesAgreeWithoutRecurrentWeights(variant: String) throws {
        let fixture = try AnalysisFixture.load(variant)
        var checkpoint = try fixture.checkpoint()
        for entry in checkpoint.model.layout.entries where entry.name.contains(".weight_hh_") {
            for index in 0..<entry.count { checkpoint.model.parameters[entry.offset + index] = 0 }
        }
        let base = try fixture.run()
        let run = ModelRun(
            checkpoint: checkpoint, encoded: fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) },
            goldLabels: base.goldLabels, dataPath: "fixture", keepProjections: true)
        let engine = AblationEngine(run: run, focusLabels: ["L0"], steps: run.neuronCount)
        let order = Array((0..<run.neuronCount).reversed())
        let readout = engine.predictions(order: order, mode: .readout)
        #expect(readout == engine.predictions(order: order, mode: .recurrent))
        // Ablating does change the predictions, so the modes agree on something that moves.
        #expect(readout.count == run.neuronCount + 1 && readout.first != readout.last)
    }

    /// k = 0 is the model as `dissect evaluate` sees it: same accuracy, same F1.
    @Test func noAblationEqualsEvaluation() throws {
        let fixture = try AnalysisFixture.load("bilstm")
        let run = try fixture.run()
        let engine = AblationEngine(run: run, focusLabels: ["L1", "L2"], steps: 3)
        let predicted = run.predicted.map { run.labels[Int($0)] }
        var offset = 0
        let predictedSentences = run.goldLabels.map { sentence -> [String] in
            defer { offset += sentence.count }
            return Array(predicted[offset..<(offset + sentence.count)])
        }
        let report = Evaluator.evaluate(gold: run.goldLabels, predicted: predictedSentences)
        for mode in AblationMode.allCases {
            let curve = engine.curves(orders: [[0, 1, 2]], mode: mode)[0]
            #expect(curve.f1.count == 4)
            #expect(abs(curve.f1[0] - report.f1) < 1e-9)
            #expect(abs((curve.accuracy["all"]?[0] ?? -1) * 100 - report.accuracy) < 1e-9)
            for label in report.labelAccuracy where label.total > 0 {
                #expect(abs((curve.accuracy[label.label]?[0] ?? -1) * 100 - label.accuracy) < 1e-9)
            }
        }
    }
}

@Suite struct StatisticsTests {
    @Test func pearsonAndSpearmanKnownValues() {
        #expect(Statistics.pearson([1, 2, 3], [2, 4, 6]) == 1)
        #expect(Statistics.pearson([1, 2, 3], [3, 2, 1]) == -1)
        #expect(Statistics.pearson([1, 1, 1], [1, 2, 3]) == nil)
        // Spearman is rank-based: any monotone map gives 1.
        #expect(Statistics.spearman([1, 2, 3, 4], [1, 8, 27, 64]) == 1)
        #expect(Statistics.ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])
        // r of (1,2,3,4,5) and (2,1,4,3,5) = 0.8 (covariance 8 / variance 10).
        let r = Statistics.pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) ?? 0
        #expect(abs(r - 0.8) < 1e-12)
        #expect(Statistics.topOverlap([1, 2, 3, 4], [4, 3, 9, 8], k: 2) == 0)
        #expect(Statistics.topOverlap([1, 2, 3, 4], [2, 1, 9, 8], k: 2) == 2)
        #expect(Statistics.percentile([1, 2, 3, 4, 5], 50) == 3)
        #expect(abs(Statistics.percentile([1, 2, 3, 4], 5) - 1.15) < 1e-12)
    }

    /// The label-correlation matrix is symmetric, has a unit diagonal and stays in [−1, 1].
    @Test func correlationMatrixProperties() {
        var rng = SplitMix64(seed: 4)
        var matrix = (0..<50).map { _ in (0..<9).map { _ -> Double? in rng.uniform(-1, 2) } }
        for row in matrix.indices { matrix[row][8] = nil }
        let correlation = Statistics.columnCorrelation(matrix)
        for a in 0..<9 {
            for b in 0..<9 {
                #expect(correlation[a][b] == correlation[b][a])
                if a == 8 || b == 8 { #expect(correlation[a][b] == nil); continue }
                let value = correlation[a][b] ?? .nan
                #expect(value >= -1 && value <= 1)
                if a == b { #expect(value == 1) }
            }
        }
        #expect(Statistics.offDiagonalSimilarity(correlation, correlation) == 1)
    }
}
