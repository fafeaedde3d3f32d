import DissectCore
import DissectCorpus
import Foundation
import Testing
@testable import DissectModel

/// `ModelImport`: a state dict under PyTorch-style names of a user's own module, and a mapping, give back
/// the same model; every mapping mistake is one clear error.
@Suite struct ModelImportTests {
    static let words = ["<unk>", "the", "paris", "in", "visited", "london", "0", "and", "of"]
    static let labels = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    static let chars = ["<unk>", "a", "b", "c", "d", "e", "f"]

    /// The model's tensors renamed as a user's module might hold them: `embed.weight`, `encoder.*`, `proj.*`, `char_emb.weight`, `char_conv.*`, `crf.transitions`.
    static func stateDict(_ model: TaggerModel<Float>) -> [String: SafeTensors.Tensor] {
        var out: [String: SafeTensors.Tensor] = [:]
        let c = model.configuration
        for entry in model.layout.entries {
            var name = entry.name
            name = name.replacingOccurrences(of: "word_embedding.", with: "embed.")
            name = name.replacingOccurrences(of: c.cell.tensorPrefix + ".", with: "encoder.")
            name = name.replacingOccurrences(of: "hidden2tag.", with: "proj.")
            name = name.replacingOccurrences(of: "char_embedding.", with: "char_emb.")
            name = name.replacingOccurrences(of: "char_cnn.", with: "char_conv.")
            out[name] = SafeTensors.Tensor(
                name: name, shape: entry.shape, values: Array(model.parameters[entry.offset..<(entry.offset + entry.count)]))
        }
        return out
    }

    static func mapping(_ c: TaggerConfiguration, cell: String? = nil, layers: Int? = nil, bidirectional: Bool? = nil,
                        labels: [String] = labels, lowercase: Bool = true, digitsToZero: Bool = true, unknownWord: String = "<unk>") -> ImportMapping {
        ImportMapping(
            cell: cell ?? c.cell.rawValue, layers: layers ?? c.layers, bidirectional: bidirectional ?? c.bidirectional,
            tensors: .init(
                wordEmbedding: "embed.weight", recurrent: "encoder", outputWeight: "proj.weight", outputBias: "proj.bias",
                charEmbedding: c.charCNN ? "char_emb.weight" : nil, charCNNWeight: c.charCNN ? "char_conv.weight" : nil,
                charCNNBias: c.charCNN ? "char_conv.bias" : nil, crfTransitions: c.crf ? "crf.transitions" : nil, crfStart: nil, crfEnd: nil),
            words: words, wordsFile: nil, labels: labels, labelsFile: nil, chars: c.charCNN ? chars : nil, charsFile: nil,
            lookup: .init(lowercase: lowercase, digitsToZero: digitsToZero, unknownWord: unknownWord, unknownChar: c.charCNN ? "<unk>" : nil))
    }

    static func importing(_ tensors: [String: SafeTensors.Tensor], _ mapping: ImportMapping) throws -> Checkpoint {
        try ModelImport.checkpoint(tensors: tensors, safetensorsPath: "model.safetensors", mapping: mapping, mappingPath: "mapping.json")
    }

    /// The kinds: each factor paired with each other at least once.
    static let kinds: [(CellKind, Bool, Bool, Int, Bool)] = [
        (.lstm, false, false, 1, false), (.lstm, true, true, 2, true), (.gru, true, false, 1, true), (.gru, false, true, 2, false),
        (.rnn, true, true, 1, false), (.rnn, false, false, 2, true),
    ]

    @Test(arguments: 0..<6)
    func everyKindRoundTrips(kind: Int) throws {
        let (cell, bidirectional, charCNN, layers, crf) = Self.kinds[kind]
        var c = tinyConfiguration(cell: cell, bidirectional: bidirectional, charCNN: charCNN, layers: layers, crf: crf)
        c.dropout = 0
        let model: TaggerModel<Float> = randomModel(c, seed: UInt64(40 + kind))
        let checkpoint = try Self.importing(Self.stateDict(model), Self.mapping(c))
        // The same layout (every tensor's name, shape and place) and the same kind; char sizes only matter with chars.
        let imported = checkpoint.model.configuration
        #expect(checkpoint.model.layout == model.layout)
        #expect(imported.cell == c.cell && imported.layers == c.layers && imported.bidirectional == c.bidirectional && imported.crf == c.crf)
        #expect(imported.charCNN == c.charCNN && (!c.charCNN || (imported.charFilters, imported.charWindow, imported.charCount) == (c.charFilters, c.charWindow, c.charCount)))
        #expect(checkpoint.model.parameters == model.parameters)
        #expect(checkpoint.metadata.vocabulary.words == Self.words && checkpoint.metadata.vocabulary.labels == Self.labels)
        #expect(checkpoint.metadata.lowercaseFallback == nil, "a lower-casing model keeps dissect's rule")
        // Saved and loaded again, it is the same model.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try checkpoint.save(to: directory)
        let loaded = try Checkpoint.load(from: directory)
        #expect(loaded.model.parameters == model.parameters && loaded.metadata == checkpoint.metadata)
    }

    @Test func pytorchCRFTransitionsMapToStartAndStop() throws {
        var c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: false, crf: true)
        c.dropout = 0
        let model: TaggerModel<Float> = randomModel(c, seed: 3)
        var tensors = Self.stateDict(model)
        let m = c.labelCount
        let inner = (0..<(m * m)).map { Float($0) / 10 }, start = (0..<m).map { Float(-$0) }, end = (0..<m).map { Float($0) + 0.5 }
        tensors["crf.transitions"] = SafeTensors.Tensor(name: "crf.transitions", shape: [m, m], values: inner)
        tensors["crf.start_transitions"] = SafeTensors.Tensor(name: "crf.start_transitions", shape: [m], values: start)
        tensors["crf.end_transitions"] = SafeTensors.Tensor(name: "crf.end_transitions", shape: [m], values: end)
        var mapping = Self.mapping(c)
        mapping.tensors.crfStart = "crf.start_transitions"
        mapping.tensors.crfEnd = "crf.end_transitions"
        let checkpoint = try Self.importing(tensors, mapping)
        let full = try #require(checkpoint.model.tensor(LinearChainCRF.tensorName))
        let width = m + 2, startRow = LinearChainCRF.startIndex(labels: m), stop = LinearChainCRF.stopIndex(labels: m)
        let t = Array(full)
        for i in 0..<m {
            for j in 0..<m { #expect(t[i * width + j] == inner[i * m + j]) }
            #expect(t[startRow * width + i] == start[i])
            #expect(t[i * width + stop] == end[i])
            #expect(t[i * width + startRow] == Float(LinearChainCRF.forbidden), "nothing enters START")
            #expect(t[stop * width + i] == Float(LinearChainCRF.forbidden), "nothing leaves STOP")
        }
    }

    @Test func anExactLookupModelGetsNoLowerCaseSecondTry() throws {
        var c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: false)
        c.dropout = 0
        let model: TaggerModel<Float> = randomModel(c, seed: 5)
        let checkpoint = try Self.importing(Self.stateDict(model), Self.mapping(c, lowercase: false))
        #expect(checkpoint.metadata.lowercaseFallback == false && checkpoint.metadata.lookup == Checkpoint.exactLookupRule)
        let exact = SentenceEncoder(metadata: checkpoint.metadata).encode(Sentence(words: ["Paris", "paris", "7"], labels: ["B-LOC", "B-LOC", "O"], line: 1))
        #expect(exact.words == [0, 2, 6], "Paris is unknown as written; 7 becomes 0")
        let lowered = try Self.importing(Self.stateDict(model), Self.mapping(c, lowercase: true))
        #expect(SentenceEncoder(metadata: lowered.metadata).encode(Sentence(words: ["Paris"], labels: ["B-LOC"], line: 1)).words == [2])
    }

    /// Each mistake, with the words its one error line must hold.
    @Test func everyMappingMistakeIsOneClearError() throws {
        var c = tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: true, crf: true)
        c.dropout = 0
        let model: TaggerModel<Float> = randomModel(c, seed: 9)
        let tensors = Self.stateDict(model)
        var missing = tensors
        missing.removeValue(forKey: "encoder.bias_hh_l0_reverse")
        var wrongShape = tensors
        if let t = tensors["proj.bias"] { wrongShape["proj.bias"] = SafeTensors.Tensor(name: t.name, shape: [t.values.count - 1], values: Array(t.values.dropLast())) }
        var someChars = Self.mapping(c)
        someChars.tensors.charCNNBias = nil
        var loneStart = Self.mapping(c)
        loneStart.tensors.crfStart = "crf.transitions"
        var upper = Self.mapping(c)
        upper.words = Self.words.map { $0 == "paris" ? "Paris" : $0 }
        var digits = Self.mapping(c)
        digits.words = Self.words.map { $0 == "0" ? "7" : $0 }
        var badUnknownChar = Self.mapping(c)
        badUnknownChar.lookup.unknownChar = "<pad>"
        let cases: [(String, [String: SafeTensors.Tensor], ImportMapping, [String])] = [
            ("missing tensor", missing, Self.mapping(c), ["model.safetensors", "has no tensor encoder.bias_hh_l0_reverse"]),
            ("wrong shape", wrongShape, Self.mapping(c), ["proj.bias", "has shape [4], expected [5]"]),
            ("unknown cell", tensors, Self.mapping(c, cell: "transformer"), ["mapping.json", "cell \"transformer\" is not one dissect supports", "lstm, gru or rnn"]),
            ("label count", tensors, Self.mapping(c, labels: Array(Self.labels.dropLast())), ["has 5 rows but the mapping lists 4 labels"]),
            ("duplicate label", tensors, Self.mapping(c, labels: ["O", "B-LOC", "I-LOC", "B-PER", "O"]), ["lists \"O\" twice"]),
            ("one direction", tensors, Self.mapping(c, bidirectional: false), ["bidirectional is false", "weight_ih_l0_reverse"]),
            ("cell mismatch", tensors, Self.mapping(c, cell: "gru"), ["not that of a gru"]),
            ("unknown word", tensors, Self.mapping(c, unknownWord: "UNK"), ["lookup.unknown_word \"UNK\" is not among the words"]),
            ("some char tensors", tensors, someChars, ["names only some of char_embedding, char_cnn_weight and char_cnn_bias"]),
            ("lone crf_start", tensors, loneStart, ["names only one of crf_start and crf_end"]),
            ("upper-case vocabulary", tensors, upper, ["lookup.lowercase is true but the words include \"Paris\""]),
            ("digits", tensors, digits, ["digits_to_zero is true but the words include \"7\""]),
            ("unknown char", tensors, badUnknownChar, ["lookup.unknown_char is missing or not among the chars"]),
        ]
        for (name, state, mapping, fragments) in cases where !fragments.isEmpty {
            do {
                _ = try Self.importing(state, mapping)
                Issue.record("\(name): imported without an error")
            } catch let error as DissectError {
                let line = error.description
                #expect(!line.contains("\n"), "\(name): \(line)")
                for fragment in fragments { #expect(line.contains(fragment), "\(name): \(line)") }
            }
        }
        // A model with a second layer the mapping leaves out.
        var two = tinyConfiguration(cell: .gru, bidirectional: false, charCNN: false, layers: 2)
        two.dropout = 0
        let stacked: TaggerModel<Float> = randomModel(two, seed: 11)
        #expect(throws: DissectError.self) { try Self.importing(Self.stateDict(stacked), Self.mapping(two, layers: 1)) }
        do {
            _ = try Self.importing(Self.stateDict(stacked), Self.mapping(two, layers: 1))
        } catch let error as DissectError {
            #expect(error.description.contains("says layers is 1, but the state dict has encoder.weight_ih_l1"), "\(error)")
        }
    }

    @Test func mappingFilesAreReadWithListsBesideThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try (Self.words.joined(separator: "\n") + "\n").write(toFile: directory + "/words.txt", atomically: true, encoding: .utf8)
        let json = """
            {"cell": "lstm", "layers": 1, "bidirectional": false,
             "tensors": {"word_embedding": "embed.weight", "recurrent": "encoder", "output_weight": "proj.weight", "output_bias": "proj.bias"},
             "words_file": "words.txt", "labels": ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"],
             "lookup": {"lowercase": true, "digits_to_zero": true, "unknown_word": "<unk>"}}
            """
        try json.write(toFile: directory + "/mapping.json", atomically: true, encoding: .utf8)
        let mapping = try ModelImport.readMapping(path: directory + "/mapping.json")
        var c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: false)
        c.dropout = 0
        let model: TaggerModel<Float> = randomModel(c, seed: 13)
        let checkpoint = try ModelImport.checkpoint(
            tensors: Self.stateDict(model), safetensorsPath: "m.safetensors", mapping: mapping, mappingPath: directory + "/mapping.json")
        #expect(checkpoint.metadata.vocabulary.words == Self.words)
        // A list file that is a device, not a file, is refused before it is read.
        var device = mapping
        device.words = nil
        device.wordsFile = "/dev/zero"
        do {
            _ = try ModelImport.checkpoint(tensors: Self.stateDict(model), safetensorsPath: "m.safetensors", mapping: device, mappingPath: directory + "/mapping.json")
            Issue.record("/dev/zero was read as a word list")
        } catch let error as DissectError {
            #expect(error.description.contains("/dev/zero") && error.description.contains("is not a regular file"), "\(error)")
        }
        // A mapping without its tensors section names what is missing.
        try #"{"cell": "lstm", "layers": 1, "bidirectional": false, "words": [], "labels": [], "lookup": {"lowercase": true, "digits_to_zero": true, "unknown_word": "<unk>"}}"#
            .write(toFile: directory + "/bad.json", atomically: true, encoding: .utf8)
        do {
            _ = try ModelImport.readMapping(path: directory + "/bad.json")
            Issue.record("a mapping without tensors was read")
        } catch let error as DissectError {
            #expect(error.description.contains("is not a valid mapping: tensors is missing"), "\(error)")
        }
    }
}

extension ImportMapping {
    func with(_ change: (inout ImportMapping) -> Void) -> ImportMapping {
        var copy = self
        change(&copy)
        return copy
    }
}
