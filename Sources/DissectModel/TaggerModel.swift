import DissectCore

/// A tagger's configuration and its parameters in one flat buffer, laid out
/// by `ParameterLayout` (PyTorch names and shapes).
public struct TaggerModel<T: Scalar>: Sendable {
    public var configuration: TaggerConfiguration
    public var layout: ParameterLayout
    public var offsets: ParameterOffsets
    public var parameters: [T]

    public init(configuration: TaggerConfiguration, parameters: [T]? = nil) {
        self.configuration = configuration
        layout = ParameterLayout(configuration: configuration)
        offsets = ParameterOffsets(layout: layout, configuration: configuration)
        self.parameters = parameters ?? Array(repeating: 0, count: layout.totalCount)
        precondition(self.parameters.count == layout.totalCount)
    }

    /// PyTorch's default initialisation, as NCRF++ uses it: word vectors as
    /// given (`[wordCount, Dw]`), char embeddings uniform ±sqrt(3/C), Conv1d,
    /// LSTM/GRU/RNN and Linear uniform ±1/sqrt(fan-in) (±1/sqrt(H) for recurrent cells).
    public static func initialized(
        configuration: TaggerConfiguration, wordVectors: [Float], rng: inout SplitMix64
    ) -> TaggerModel {
        var model = TaggerModel(configuration: configuration)
        let c = configuration
        precondition(wordVectors.count == c.wordCount * c.wordEmbeddingDim)
        for index in 0..<wordVectors.count { model.parameters[index] = T(wordVectors[index]) }
        func fill(_ name: String, bound: Double) {
            guard let entry = model.layout.entry(name) else { return }
            for index in entry.offset..<(entry.offset + entry.count) {
                model.parameters[index] = T(rng.uniform(-bound, bound))
            }
        }
        if c.charCNN {
            fill("char_embedding.weight", bound: (3.0 / Double(c.charEmbeddingDim)).squareRoot())
            let fanIn = Double(c.charEmbeddingDim * c.charWindow)
            fill("char_cnn.weight", bound: 1 / fanIn.squareRoot())
            fill("char_cnn.bias", bound: 1 / fanIn.squareRoot())
        }
        for layer in 0..<c.layers {
            let recurrentBound = 1 / Double(c.hiddenSize(layer: layer)).squareRoot()
            for direction in 0..<c.directionCount {
                let names = ParameterLayout.recurrentNames(cell: c.cell, layer: layer, direction: direction)
                for name in [names.inputWeight, names.hiddenWeight, names.inputBias, names.hiddenBias] {
                    fill(name, bound: recurrentBound)
                }
            }
        }
        let outputBound = 1 / Double(c.outputSize).squareRoot()
        fill("hidden2tag.weight", bound: outputBound)
        fill("hidden2tag.bias", bound: outputBound)
        if let transitions = model.offsets.transitions {
            // NCRF++ starts every transition at 0, and the ones that enter no path at −10000.
            model.parameters.withUnsafeMutableBufferPointer { buffer in
                LinearChainCRF.writeInitialTransitions(into: buffer.baseAddress! + transitions, labels: c.labelCount)
            }
        }
        return model
    }

    /// The values of one named tensor.
    public func tensor(_ name: String) -> ArraySlice<T>? {
        guard let entry = layout.entry(name) else { return nil }
        return parameters[entry.offset..<(entry.offset + entry.count)]
    }

    public func converted<U: Scalar>(to: U.Type) -> TaggerModel<U> {
        TaggerModel<U>(configuration: configuration, parameters: parameters.map { U($0) })
    }
}
