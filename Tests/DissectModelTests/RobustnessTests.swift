import Foundation
import Testing
import DissectCore
import DissectCorpus
@testable import DissectModel

/// Bad checkpoints and extreme inputs end in one clear error, never a trap.
@Suite struct RobustnessTests {
    static func header(_ json: String, data: [UInt8]) -> Data {
        var bytes: [UInt8] = []
        var length = UInt64(json.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(json.utf8))
        bytes.append(contentsOf: data)
        return Data(bytes)
    }

    static func decodeError(_ data: Data) -> String {
        do {
            _ = try SafeTensors.decode(data, path: "m.safetensors")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func safetensorsOffsetsOutsideTheDataAreRejected() {
        let message = Self.decodeError(Self.header(
            #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0, 0, 0, 0, 0]))
        #expect(message.hasPrefix("m.safetensors: tensor t has data offsets [0, 16] outside the 8-byte data section"), "\(message)")
        let negative = Self.decodeError(Self.header(#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: [0, 0, 0, 0]))
        #expect(negative.contains("outside"), "\(negative)")
        let huge = Self.decodeError(Self.header(
            #"{"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
        #expect(huge.hasPrefix("m.safetensors: "), "\(huge)")
    }

    @Test func safetensorsWrongDtypeIsRejected() {
        let message = Self.decodeError(Self.header(#"{"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
        #expect(message.contains("dtype F16"), "\(message)")
        #expect(message.contains("F32"), "\(message)")
    }

    func savedCheckpoint() throws -> String {
        let directory = FileManager.default.temporaryDirectory.path + "/dissect-robust-\(UUID().uuidString)"
        try CheckpointTests().sampleCheckpoint().save(to: directory)
        return directory
    }

    func editJSON(_ directory: String, _ edit: (inout [String: Any]) -> Void) throws {
        let path = directory + "/model.json"
        var object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    func loadError(_ directory: String) -> String {
        do {
            _ = try Checkpoint.load(from: directory)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func shapesThatDisagreeWithModelJSONAreRejected() throws {
        let directory = try savedCheckpoint()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try editJSON(directory) { object in
            var configuration = object["configuration"] as? [String: Any] ?? [:]
            configuration["hidden_size"] = 4
            configuration["output_size"] = nil
            object["configuration"] = configuration
        }
        let message = loadError(directory)
        #expect(message.hasPrefix(directory + "/model.safetensors: tensor lstm.weight_ih_l0 has shape"), "\(message)")
        #expect(message.contains("do not belong to this model.json"), "\(message)")
        // With output_size left in, model.json contradicts itself before any weight is read.
        try editJSON(directory) { object in
            var configuration = object["configuration"] as? [String: Any] ?? [:]
            configuration["output_size"] = 99
            object["configuration"] = configuration
        }
        let declared = loadError(directory)
        #expect(declared.hasPrefix(directory + "/model.json: output_size is 99 but hidden_size × directions gives"), "\(declared)")
    }

    /// `layer_hidden_sizes` (a stacked model pruned below its top) must name every layer, the top as hidden_size,
    /// each within bounds; a wrong one is one line naming model.json, before any weight is read.
    @Test func layerHiddenSizesAreChecked() throws {
        let directory = try savedCheckpoint()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hidden = try Checkpoint.load(from: directory).model.configuration.hiddenSize
        for (layers, sizes, mentions) in [
            (1, [hidden, hidden], "layer_hidden_sizes has 2 values"), (1, [hidden + 1], "the top has hidden_size"),
            (2, [0, hidden], "layer_hidden_sizes holds 0, outside 1 to"), (2, [Int.max, hidden], "holds \(Int.max), outside"),
        ] {
            try editJSON(directory) { object in
                object["format_version"] = 2
                var configuration = object["configuration"] as? [String: Any] ?? [:]
                configuration["layers"] = layers
                configuration["layer_hidden_sizes"] = sizes
                object["configuration"] = configuration
            }
            let message = loadError(directory)
            #expect(message.hasPrefix(directory + "/model.json: "), "\(message)")
            #expect(message.contains(mentions), "\(sizes): \(message)")
            #expect(!message.contains("\n"), "one line: \(message)")
        }
        // Sizes that only repeat hidden_size are the same model: it loads, equals one without them, and is saved without them.
        try editJSON(directory) { object in
            var configuration = object["configuration"] as? [String: Any] ?? [:]
            configuration["layers"] = 1
            configuration["layer_hidden_sizes"] = [hidden]
            object["configuration"] = configuration
        }
        let uniform = try Checkpoint.load(from: directory)
        var plain = uniform.model.configuration
        plain.layerHiddenSizes = nil
        #expect(uniform.model.configuration == plain && uniform.model.configuration.distinctLayerSizes == nil)
        try uniform.save(to: directory)
        let saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/model.json"))) as? [String: Any])
        #expect((saved["configuration"] as? [String: Any])?["layer_hidden_sizes"] == nil)
    }

    @Test func missingFieldsAndOtherVersionsAreRejected() throws {
        let directory = try savedCheckpoint()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try editJSON(directory) { $0["vocabulary"] = nil }
        let missing = loadError(directory)
        #expect(missing.hasPrefix(directory + "/model.json: "), "\(missing)")
        #expect(missing.contains("vocabulary is missing"), "\(missing)")
        try editJSON(directory) { $0["format_version"] = 7 }
        #expect(loadError(directory).contains("format_version 7"))
        try "{".write(toFile: directory + "/model.json", atomically: true, encoding: .utf8)
        #expect(loadError(directory).contains("not a valid checkpoint description"))
    }

    /// A single 5,000-token sentence (and unknown characters in it) trains and predicts.
    @Test func veryLongSentenceAndUnknownCharacters() {
        var c = tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: true)
        c.dropout = 0.5
        let long = tinySentences(seed: 3, configuration: c, lengths: [5000])
        let model: TaggerModel<Float> = randomModel(c, seed: 1)
        let trainer = Trainer(model: model, options: TrainingOptions())
        let result = trainer.runEpoch(0, sentences: long)
        #expect(result.tokens == 5000 && result.loss.isFinite)
        let predicted = Predictor<Float>(configuration: c).predict(parameters: trainer.model.parameters, sentences: long)
        #expect(predicted[0].count == 5000)

        let metadata = CheckpointMetadata(
            configuration: c, vocabulary: VocabularyLists(words: ["<unk>", "a"], chars: ["<unk>", "a"], labels: ["O"]),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil)
        let encoded = SentenceEncoder(metadata: metadata).encode(Sentence(words: ["ʕ•ᴥ•ʔ", "a", "😀"], labels: ["O", "O", "X"], line: 1))
        #expect(encoded.words == [0, 1, 0])
        #expect(encoded.chars.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(encoded.labels == [0, 0, -1])
    }

    /// The char lookup's fast paths (ASCII table, scalar table) give what a String lookup gives: the char's own
    /// index, a canonically equivalent spelling's index, or the unknown char; and encoding many sentences on two
    /// cores gives the sentences one by one.
    @Test func charLookupMatchesStringLookup() {
        let c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true)
        // "e\u{301}" (e + combining acute, two scalars) is canonically equal to "é" (one scalar).
        let chars = ["<unk>", "a", "ß", "e\u{301}", "😀", "0"]
        let metadata = CheckpointMetadata(
            configuration: c, vocabulary: VocabularyLists(words: ["<unk>", "a"], chars: chars, labels: ["O"]),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil)
        let encoder = SentenceEncoder(metadata: metadata)
        let encoded = encoder.encode(Sentence(words: ["aß", "\u{e9}", "😀7", "zq"], labels: ["O", "O", "O", "O"], line: 1))
        #expect(encoded.chars == [1, 2, 3, 4, 5, 0, 0], "\(encoded.chars)")
        #expect(encoded.charStarts == [0, 2, 3, 5, 7])
        let many = (0..<600).map { Sentence(words: ["a\($0)", "ß", "é"], labels: ["O", "O", "O"], line: $0 + 1) }
        #expect(encoder.encode(many) == many.map { encoder.encode($0) })
    }

    /// A predictor cut by tokens (a long sentence alone, short ones together) predicts what one cut by
    /// sentences does, in Double; and the token budget cuts wide models only.
    @Test func tokenBudgetKeepsPredictions() {
        let c = tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: true, layers: 2)
        let sentences = tinySentences(seed: 4, configuration: c, lengths: [3, 40, 1, 7, 2, 25, 5, 9, 1, 12])
        let model: TaggerModel<Double> = randomModel(c, seed: 3)
        let whole = Predictor<Double>(configuration: c)
        let cut = Predictor<Double>(configuration: c)
        cut.tokensPerCall = 8
        #expect(whole.tokensPerCall > 1000)
        let expected = whole.predict(parameters: model.parameters, sentences: sentences)
        // The two shards call `visit` at once: count under a lock.
        final class Calls: @unchecked Sendable { let lock = NSLock(); var count = 0 }
        let calls = Calls()
        let predicted = cut.predict(parameters: model.parameters, sentences: sentences) { _, _ in
            calls.lock.lock(); calls.count += 1; calls.lock.unlock()
        }
        #expect(predicted == expected)
        #expect(calls.count >= 8, "\(calls.count) forward calls")
        var paper = c, wide = c
        paper.layers = 1; paper.bidirectional = false; paper.hiddenSize = 50; paper.labelCount = 9
        wide.layers = 1; wide.bidirectional = true; wide.hiddenSize = 400; wide.labelCount = 9
        #expect(Sharding.tokensPerCall(paper) > 1744)
        #expect((200..<250).contains(Sharding.tokensPerCall(wide)), "\(Sharding.tokensPerCall(wide))")
    }
}
