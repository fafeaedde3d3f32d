import Foundation
import Testing
import DissectCore
@testable import DissectModel

/// Parity with PyTorch: `tools/make_parity_fixtures.py` builds the same model
/// from torch.nn modules in float64, and records weights, inputs, the hidden
/// states, logits, the summed loss and every parameter's gradient. We load
/// the same weights and compare every element.
@Suite struct ParityTests {
    struct TensorJSON: Decodable { var shape: [Int]; var data: [Double] }
    struct SentenceJSON: Decodable { var words: [Int32]; var chars: [[Int32]]; var labels: [Int32] }
    struct ConfigJSON: Decodable {
        var cell: String; var bidirectional: Bool; var use_chars: Bool; var hidden_size: Int; var word_dim: Int
        var char_dim: Int; var char_filters: Int; var labels: Int; var words: Int; var chars: Int
        var layers: Int; var crf: Bool
    }
    struct AblationJSON: Decodable {
        /// 1-based layer and the zeroed neurons in it ([forward; backward]).
        var layer: Int
        var neurons: [Int]
        var layer_hidden: [TensorJSON]
        var logits: TensorJSON
    }
    struct Fixture: Decodable {
        var variant: String
        var config: ConfigJSON
        var sentences: [SentenceJSON]
        var parameters: [String: TensorJSON]
        var logits: TensorJSON
        var hidden: TensorJSON
        var layer_hidden: [TensorJSON]
        var loss: Double
        var gradients: [String: TensorJSON]
        var viterbi: [Int32]?
        var ablations: [AblationJSON]?
    }

    static let variants = [
        "lstm", "bilstm", "gru", "bigru", "lstm_nochars", "rnn", "birnn", "lstm2", "bilstm2", "gru2", "bigru2", "rnn2",
        "birnn2", "bilstm_crf", "bilstm2_crf",
    ]

    static func configuration(_ fixture: Fixture) throws -> TaggerConfiguration {
        var c = TaggerConfiguration()
        c.cell = try #require(CellKind(rawValue: fixture.config.cell), "unknown cell \(fixture.config.cell)")
        c.layers = fixture.config.layers
        c.crf = fixture.config.crf
        c.bidirectional = fixture.config.bidirectional
        c.charCNN = fixture.config.use_chars
        c.hiddenSize = fixture.config.hidden_size
        c.wordEmbeddingDim = fixture.config.word_dim
        c.charEmbeddingDim = fixture.config.char_dim
        c.charFilters = fixture.config.char_filters
        c.labelCount = fixture.config.labels
        c.wordCount = fixture.config.words
        c.charCount = fixture.config.chars
        return c
    }

    static func model<T: Scalar>(_ fixture: Fixture, _ c: TaggerConfiguration) throws -> TaggerModel<T> {
        var model = TaggerModel<T>(configuration: c)
        #expect(Set(fixture.parameters.keys) == Set(model.layout.entries.map(\.name)))
        for entry in model.layout.entries {
            let tensor = try #require(fixture.parameters[entry.name], "\(entry.name) missing from the fixture")
            #expect(tensor.shape == entry.shape, "\(entry.name) shape")
            for index in 0..<entry.count { model.parameters[entry.offset + index] = T(tensor.data[index]) }
        }
        return model
    }

    static func load(_ variant: String) throws -> Fixture {
        guard let url = Bundle.module.url(forResource: "parity_\(variant)", withExtension: "json", subdirectory: "Fixtures")
            ?? Bundle.module.url(forResource: "parity_\(variant)", withExtension: "json")
        else { throw DissectError(problem: "fixture parity_\(variant).json missing", fix: "run tools/make_parity_fixtures.py") }
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test(arguments: variants)
    func matchesPyTorchElementByElement(variant: String) throws {
        let fixture = try Self.load(variant)
        let c = try Self.configuration(fixture)
        let model: TaggerModel<Double> = try Self.model(fixture, c)
        let sentences = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let shard = TaggerShard<Double>(configuration: c)
        let loss = model.parameters.withUnsafeBufferPointer {
            shard.forward(parameters: $0.baseAddress!, sentences: sentences, range: 0..<sentences.count, dropoutRNG: nil, withLoss: true)
        }
        #expect(abs(loss - fixture.loss) < 1e-10 * max(1, abs(fixture.loss)), "loss \(loss) vs \(fixture.loss)")
        let hidden = shard.hidden.array(shard.tokenCount * c.outputSize)
        #expect(fixture.hidden.shape == [shard.tokenCount, c.outputSize])
        for index in hidden.indices { #expect(abs(hidden[index] - fixture.hidden.data[index]) < 1e-12, "hidden[\(index)]") }
        #expect(fixture.layer_hidden.count == c.layers)
        for (layer, expected) in fixture.layer_hidden.enumerated() {
            let ours = UnsafeBufferPointer(start: shard.hidden(layer: layer), count: shard.tokenCount * c.outputSize(layer: layer))
            for index in ours.indices { #expect(abs(ours[index] - expected.data[index]) < 1e-12, "layer \(layer + 1) hidden[\(index)]") }
        }
        #expect((fixture.viterbi != nil) == c.crf, "a CRF variant carries its Viterbi paths, and only a CRF variant")
        if let viterbi = fixture.viterbi {
            var decoded: [Int32] = []
            for sentence in 0..<sentences.count {
                var path = [Int32](repeating: -1, count: sentences[sentence].count)
                model.parameters.withUnsafeBufferPointer { p in
                    path.withUnsafeMutableBufferPointer { shard.decode(parameters: p.baseAddress!, sentence: sentence, into: $0.baseAddress!) }
                }
                decoded += path
            }
            #expect(decoded == viterbi)
        }
        let logits = shard.logits.array(shard.tokenCount * c.labelCount)
        for index in logits.indices { #expect(abs(logits[index] - fixture.logits.data[index]) < 1e-12, "logits[\(index)]") }

        var gradient = [Double](repeating: 0, count: model.parameters.count)
        model.parameters.withUnsafeBufferPointer { shard.backward(parameters: $0.baseAddress!) }
        gradient.withUnsafeMutableBufferPointer { shard.addGradient(into: $0.baseAddress!) }
        for entry in model.layout.entries {
            let expected = try #require(fixture.gradients[entry.name])
            for index in 0..<entry.count {
                let ours = gradient[entry.offset + index], theirs = expected.data[index]
                #expect(abs(ours - theirs) < 1e-10 * max(1, abs(theirs)), "\(variant) d\(entry.name)[\(index)]: \(ours) vs \(theirs)")
            }
        }
    }
}

extension ParityTests {
    /// Recurrent ablation in the lower and the top layer of 2-layer models
    /// against PyTorch's step-by-step run with the same units zeroed after
    /// every step: the top layer's states and the logits, element by element
    /// (`MaskedRecurrence` runs in Float).
    @Test(arguments: ["bilstm2", "gru2", "birnn2"])
    func recurrentAblationMatchesPyTorch(variant: String) throws {
        let fixture = try Self.load(variant)
        let ablations = try #require(fixture.ablations)
        #expect(Set(ablations.map(\.layer)) == [1, 2])
        let c = try Self.configuration(fixture)
        let model: TaggerModel<Float> = try Self.model(fixture, c)
        let sentences = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        var starts = [0]
        for sentence in sentences { starts.append(starts[starts.count - 1] + sentence.count) }
        let N = starts[starts.count - 1], O = c.outputSize, m = c.labelCount
        for ablation in ablations {
            let layer = ablation.layer - 1
            let shard = TaggerShard<Float>(configuration: c)
            model.parameters.withUnsafeBufferPointer { p in
                _ = shard.forward(parameters: p.baseAddress!, sentences: sentences, range: 0..<sentences.count, dropoutRNG: nil, withLoss: false)
            }
            let projected = (0..<c.directionCount).map { direction in
                Array(UnsafeBufferPointer(start: shard.projectedInput(layer: layer, direction: direction), count: N * c.gateSize))
            }
            let recurrence = MaskedRecurrence(
                configuration: c, parameters: model.parameters, layer: layer, projected: projected, sentenceStarts: starts)
            var keep = [Float](repeating: 1, count: O)
            for neuron in ablation.neurons { keep[neuron] = 0 }
            var hidden = [Float](repeating: .nan, count: N * O)
            hidden.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, into: $0.baseAddress!) }
            let top = try #require(ablation.layer_hidden.last)
            for index in hidden.indices {
                #expect(abs(Double(hidden[index]) - top.data[index]) < 1e-5, "\(variant) layer \(ablation.layer) top hidden[\(index)]")
            }
            // The ablation moved something, so the comparison is not of an unablated run.
            #expect(zip(top.data, fixture.hidden.data).contains { abs($0 - $1) > 1e-3 })
            let weight = try #require(model.tensor("hidden2tag.weight")), bias = try #require(model.tensor("hidden2tag.bias"))
            for token in 0..<N {
                for label in 0..<m {
                    var logit = Double(bias[bias.startIndex + label])
                    for neuron in 0..<O { logit += Double(weight[weight.startIndex + label * O + neuron]) * Double(hidden[token * O + neuron]) }
                    #expect(abs(logit - ablation.logits.data[token * m + label]) < 1e-5, "\(variant) logits[\(token), \(label)]")
                }
            }
        }
    }
}
