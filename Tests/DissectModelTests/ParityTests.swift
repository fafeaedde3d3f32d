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
    }
    struct Fixture: Decodable {
        var variant: String
        var config: ConfigJSON
        var sentences: [SentenceJSON]
        var parameters: [String: TensorJSON]
        var logits: TensorJSON
        var hidden: TensorJSON
        var loss: Double
        var gradients: [String: TensorJSON]
    }

    static func load(_ variant: String) throws -> Fixture {
        guard let url = Bundle.module.url(forResource: "parity_\(variant)", withExtension: "json", subdirectory: "Fixtures")
            ?? Bundle.module.url(forResource: "parity_\(variant)", withExtension: "json")
        else { throw DissectError(problem: "fixture parity_\(variant).json missing", fix: "run tools/make_parity_fixtures.py") }
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test(arguments: ["lstm", "bilstm", "gru", "bigru", "lstm_nochars"])
    func matchesPyTorchElementByElement(variant: String) throws {
        let fixture = try Self.load(variant)
        var c = TaggerConfiguration()
        c.cell = CellKind(rawValue: fixture.config.cell) ?? .lstm
        c.bidirectional = fixture.config.bidirectional
        c.charCNN = fixture.config.use_chars
        c.hiddenSize = fixture.config.hidden_size
        c.wordEmbeddingDim = fixture.config.word_dim
        c.charEmbeddingDim = fixture.config.char_dim
        c.charFilters = fixture.config.char_filters
        c.labelCount = fixture.config.labels
        c.wordCount = fixture.config.words
        c.charCount = fixture.config.chars
        var model = TaggerModel<Double>(configuration: c)
        #expect(Set(fixture.parameters.keys) == Set(model.layout.entries.map(\.name)))
        for entry in model.layout.entries {
            let tensor = try #require(fixture.parameters[entry.name], "\(entry.name) missing from the fixture")
            #expect(tensor.shape == entry.shape, "\(entry.name) shape")
            for index in 0..<entry.count { model.parameters[entry.offset + index] = tensor.data[index] }
        }
        let sentences = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let shard = TaggerShard<Double>(configuration: c)
        let loss = model.parameters.withUnsafeBufferPointer {
            shard.forward(parameters: $0.baseAddress!, sentences: sentences, range: 0..<sentences.count, dropoutRNG: nil, withLoss: true)
        }
        #expect(abs(loss - fixture.loss) < 1e-10 * max(1, abs(fixture.loss)), "loss \(loss) vs \(fixture.loss)")
        let hidden = shard.hidden.array(shard.tokenCount * c.outputSize)
        #expect(fixture.hidden.shape == [shard.tokenCount, c.outputSize])
        for index in hidden.indices { #expect(abs(hidden[index] - fixture.hidden.data[index]) < 1e-12, "hidden[\(index)]") }
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
