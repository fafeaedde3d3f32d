import Testing
import DissectCore
@testable import DissectModel

/// Every backward pass (word embedding, char CNN, LSTM, GRU, RNN, both
/// directions, stacked layers, linear, softmax cross-entropy, the CRF, dropout
/// with a fixed mask) against central finite differences in Double, on every parameter.
@Suite struct GradientCheckTests {
    struct Variant: CustomStringConvertible, Sendable {
        var cell: CellKind, bidirectional: Bool, charCNN = true, layers = 1, crf = false
        var description: String { "\(cell) bi=\(bidirectional) chars=\(charCNN) layers=\(layers) crf=\(crf)" }
    }

    static let variants: [Variant] = [
        Variant(cell: .lstm, bidirectional: false), Variant(cell: .lstm, bidirectional: true),
        Variant(cell: .gru, bidirectional: false), Variant(cell: .gru, bidirectional: true),
        Variant(cell: .rnn, bidirectional: false), Variant(cell: .rnn, bidirectional: true),
        Variant(cell: .lstm, bidirectional: false, charCNN: false),
        Variant(cell: .lstm, bidirectional: false, layers: 2), Variant(cell: .lstm, bidirectional: true, layers: 2),
        Variant(cell: .gru, bidirectional: false, layers: 2), Variant(cell: .gru, bidirectional: true, layers: 2),
        Variant(cell: .rnn, bidirectional: false, layers: 2), Variant(cell: .rnn, bidirectional: true, layers: 2),
        Variant(cell: .lstm, bidirectional: true, crf: true), Variant(cell: .lstm, bidirectional: true, layers: 2, crf: true),
        Variant(cell: .gru, bidirectional: false, crf: true),
    ]

    @Test(arguments: variants)
    func modelGradientMatchesFiniteDifferences(variant: Variant) {
        let c = tinyConfiguration(
            cell: variant.cell, bidirectional: variant.bidirectional, charCNN: variant.charCNN, layers: variant.layers, crf: variant.crf)
        let model: TaggerModel<Double> = randomModel(c, seed: 3)
        let sentences = tinySentences(seed: 5, configuration: c)
        let analytic = lossAndGradient(model, sentences).gradient
        let mismatches = GradientChecker().mismatches(parameters: model.parameters, analytic: analytic) { values in
            lossAndGradient(TaggerModel(configuration: c, parameters: values), sentences).loss
        }
        #expect(mismatches.isEmpty, "\(variant): \(mismatches.prefix(5))")
        // Every parameter tensor takes part (no silently dead gradient).
        for entry in model.layout.entries {
            let slice = analytic[entry.offset..<(entry.offset + entry.count)]
            #expect(slice.contains { $0 != 0 }, "\(entry.name) has an all-zero gradient")
        }
    }

    /// Dropout between stacked layers (and on the input and output) with the same masks on every call.
    @Test(arguments: [CellKind.lstm, .gru, .rnn])
    func layerDropoutGradientMatchesWithFixedMasks(cell: CellKind) {
        var c = tinyConfiguration(cell: cell, bidirectional: true, charCNN: true, layers: 3)
        c.layerDropout = 0.4
        let model: TaggerModel<Double> = randomModel(c, seed: 18)
        let sentences = tinySentences(seed: 19, configuration: c)
        let analytic = lossAndGradient(model, sentences, dropoutSeed: 71).gradient
        let mismatches = GradientChecker().mismatches(parameters: model.parameters, analytic: analytic) { values in
            lossAndGradient(TaggerModel(configuration: c, parameters: values), sentences, dropoutSeed: 71).loss
        }
        #expect(mismatches.isEmpty, "\(cell): \(mismatches.prefix(5))")
        // The masks differ from no dropout at all, so the check covers them.
        let plain = lossAndGradient(model, sentences).loss
        #expect(abs(plain - lossAndGradient(model, sentences, dropoutSeed: 71).loss) > 1e-6)
    }

    /// Layers of different widths (a stacked model pruned below its top, `layer_hidden_sizes`), with layer
    /// dropout, through both kernels: each layer reads the one below at that layer's width.
    @Test(arguments: [CellKind.lstm, .gru, .rnn], RecurrenceKernel.allCases)
    func layersOfDifferentWidthsGradientMatches(cell: CellKind, kernel: RecurrenceKernel) {
        var c = tinyConfiguration(cell: cell, bidirectional: true, charCNN: true, layers: 3)
        c.layerHiddenSizes = [4, 2, c.hiddenSize]
        c.layerDropout = 0.3
        #expect(ParameterLayout(configuration: c).entry(ParameterLayout.recurrentNames(cell: cell, layer: 2, direction: 1).inputWeight)?.shape
            == [cell.gateCount * 3, 4])
        let model: TaggerModel<Double> = randomModel(c, seed: 28)
        let sentences = tinySentences(seed: 29, configuration: c)
        let analytic = lossAndGradient(model, sentences, dropoutSeed: 73, kernel: kernel).gradient
        let mismatches = GradientChecker().mismatches(parameters: model.parameters, analytic: analytic) { values in
            lossAndGradient(TaggerModel(configuration: c, parameters: values), sentences, dropoutSeed: 73, kernel: kernel).loss
        }
        #expect(mismatches.isEmpty, "\(cell) \(kernel): \(mismatches.prefix(5))")
        for entry in model.layout.entries {
            let slice = analytic[entry.offset..<(entry.offset + entry.count)]
            #expect(slice.contains { $0 != 0 }, "\(entry.name) has an all-zero gradient")
        }
    }

    @Test func dropoutGradientMatchesWithFixedMasks() {
        let c = tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: true)
        let model: TaggerModel<Double> = randomModel(c, seed: 8)
        let sentences = tinySentences(seed: 9, configuration: c)
        let analytic = lossAndGradient(model, sentences, dropoutSeed: 77).gradient
        let mismatches = GradientChecker().mismatches(parameters: model.parameters, analytic: analytic) { values in
            lossAndGradient(TaggerModel(configuration: c, parameters: values), sentences, dropoutSeed: 77).loss
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// The checker itself must catch a wrong gradient: here one element of a
    /// correct LSTM gradient is off by 1%, and one gradient is for the wrong function.
    @Test func checkerRejectsWrongGradients() {
        let c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true)
        let model: TaggerModel<Double> = randomModel(c, seed: 3)
        let sentences = tinySentences(seed: 5, configuration: c)
        var analytic = lossAndGradient(model, sentences).gradient
        let target = model.offsets.recurrent[0][0].hiddenWeight + 2
        analytic[target] *= 1.01
        let mismatches = GradientChecker().mismatches(parameters: model.parameters, analytic: analytic) { values in
            lossAndGradient(TaggerModel(configuration: c, parameters: values), sentences).loss
        }
        #expect(mismatches.map(\.index) == [target])

        // d/dx x² given as x: every element is flagged.
        let point = [0.3, -1.2, 2.0]
        let wrong = GradientChecker().mismatches(parameters: point, analytic: point) { $0.reduce(0) { $0 + $1 * $1 } }
        #expect(wrong.count == 3)
    }
}
