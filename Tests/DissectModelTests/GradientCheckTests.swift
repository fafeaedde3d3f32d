import Testing
import DissectCore
@testable import DissectModel

/// Every backward pass (word embedding, char CNN, LSTM, GRU, both directions,
/// linear, softmax cross-entropy, dropout with a fixed mask) against central
/// finite differences in Double, on every parameter.
@Suite struct GradientCheckTests {
    static let variants: [(CellKind, Bool, Bool)] = [
        (.lstm, false, true), (.lstm, true, true), (.gru, false, true), (.gru, true, true), (.lstm, false, false),
    ]

    @Test(arguments: variants.indices)
    func modelGradientMatchesFiniteDifferences(variant: Int) {
        let (cell, bidirectional, charCNN) = Self.variants[variant]
        let c = tinyConfiguration(cell: cell, bidirectional: bidirectional, charCNN: charCNN)
        let model: TaggerModel<Double> = randomModel(c, seed: 3)
        let sentences = tinySentences(seed: 5, configuration: c)
        let analytic = lossAndGradient(model, sentences).gradient
        let mismatches = GradientChecker().mismatches(parameters: model.parameters, analytic: analytic) { values in
            lossAndGradient(TaggerModel(configuration: c, parameters: values), sentences).loss
        }
        #expect(mismatches.isEmpty, "\(cell) bi=\(bidirectional) chars=\(charCNN): \(mismatches.prefix(5))")
        // Every parameter tensor takes part (no silently dead gradient).
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
        let target = model.offsets.directions[0].hiddenWeight + 2
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
