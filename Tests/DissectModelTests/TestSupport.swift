import DissectCore
@testable import DissectModel

/// A tiny random tagger and corpus for tests.
func tinyConfiguration(cell: CellKind, bidirectional: Bool, charCNN: Bool, layers: Int = 1, crf: Bool = false) -> TaggerConfiguration {
    var c = TaggerConfiguration()
    c.cell = cell
    c.layers = layers
    c.crf = crf
    c.bidirectional = bidirectional
    c.charCNN = charCNN
    c.hiddenSize = 3
    c.wordEmbeddingDim = 4
    c.charEmbeddingDim = 3
    c.charFilters = 4
    c.wordCount = 9
    c.charCount = 7
    c.labelCount = 5
    c.dropout = 0.5
    return c
}

func tinySentences(seed: UInt64, configuration c: TaggerConfiguration, lengths: [Int] = [4, 1, 6]) -> [EncodedSentence] {
    var rng = SplitMix64(seed: seed)
    return lengths.map { length in
        let words = (0..<length).map { _ in Int32(rng.nextIndex(below: c.wordCount)) }
        let chars = (0..<length).map { _ in
            (0..<(1 + rng.nextIndex(below: 5))).map { _ in Int32(rng.nextIndex(below: max(1, c.charCount))) }
        }
        let labels = (0..<length).map { _ in Int32(rng.nextIndex(below: c.labelCount)) }
        return EncodedSentence(words: words, characters: chars, labels: labels)
    }
}

func randomModel<T: Scalar>(_ c: TaggerConfiguration, seed: UInt64) -> TaggerModel<T> {
    var rng = SplitMix64(seed: seed)
    var model = TaggerModel<T>(configuration: c)
    for index in 0..<model.parameters.count { model.parameters[index] = T(rng.uniform(-0.5, 0.5)) }
    return model
}

/// Loss and full analytic gradient of a model on sentences; with
/// `dropoutSeed` the same masks are drawn on every call. `kernel` overrides the configuration's recurrence kernel.
func lossAndGradient<T: Scalar>(
    _ model: TaggerModel<T>, _ sentences: [EncodedSentence], dropoutSeed: UInt64? = nil, kernel: RecurrenceKernel? = nil
) -> (loss: Double, gradient: [T]) {
    lossGradientAndHidden(model, sentences, dropoutSeed: dropoutSeed, kernel: kernel).lossAndGradient
}

/// `lossAndGradient` and every layer's output `[N, O]` from the same forward pass.
func lossGradientAndHidden<T: Scalar>(
    _ model: TaggerModel<T>, _ sentences: [EncodedSentence], dropoutSeed: UInt64? = nil, kernel: RecurrenceKernel? = nil
) -> (lossAndGradient: (loss: Double, gradient: [T]), hidden: [[T]]) {
    let shard = TaggerShard<T>(configuration: model.configuration)
    if let kernel { shard.recurrenceKernel = kernel }
    var gradient = [T](repeating: 0, count: model.parameters.count)
    var rng = SplitMix64(seed: dropoutSeed ?? 0)
    let loss = model.parameters.withUnsafeBufferPointer { p in
        withUnsafeMutablePointer(to: &rng) { rngPointer in
            shard.forward(
                parameters: p.baseAddress!, sentences: sentences, range: 0..<sentences.count,
                dropoutRNG: dropoutSeed == nil ? nil : rngPointer, withLoss: true)
        }
    }
    let c = model.configuration
    let hidden = (0..<c.layers).map { layer in
        Array(UnsafeBufferPointer(start: shard.hidden(layer: layer), count: shard.tokenCount * c.outputSize(layer: layer)))
    }
    model.parameters.withUnsafeBufferPointer { p in shard.backward(parameters: p.baseAddress!) }
    gradient.withUnsafeMutableBufferPointer { shard.addGradient(into: $0.baseAddress!) }
    return ((loss, gradient), hidden)
}
