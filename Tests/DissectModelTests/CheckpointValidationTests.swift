import DissectCore
import Foundation
import Testing
@testable import DissectModel

/// `model.json` is checked before any weight is read: repeated or missing
/// vocabulary entries, unknown indices out of range, a bad tag column and a
/// model too large for the machine each end in one line naming the file.
@Suite struct CheckpointValidationTests {
    static let path = "m/model.json"

    static func metadata(charCNN: Bool = true) -> CheckpointMetadata {
        var c = TaggerConfiguration()
        c.hiddenSize = 4
        c.wordEmbeddingDim = 3
        c.charCNN = charCNN
        c.charEmbeddingDim = 2
        c.charFilters = 2
        c.wordCount = 3
        c.charCount = 3
        c.labelCount = 3
        var record = TrainingRecord(
            seed: 1, epochs: 1, bestEpoch: 1, selectionMetric: "f1", seconds: 1, options: TrainingOptions(),
            vocabularyRule: "train")
        record.tagColumn = 4
        return CheckpointMetadata(
            configuration: c,
            vocabulary: VocabularyLists(words: ["<unk>", "a", "b"], chars: ["<unk>", "a", "b"], labels: ["O", "B-PER", "I-PER"]),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: record)
    }

    /// The error of decoding `metadata` after `edit`, or nil when it is accepted.
    static func error(charCNN: Bool = true, _ edit: (inout CheckpointMetadata) -> Void) throws -> DissectError? {
        var metadata = Self.metadata(charCNN: charCNN)
        edit(&metadata)
        let data = try Checkpoint.encodeJSON(metadata)
        do {
            _ = try Checkpoint.decodeMetadata(data, path: path)
            return nil
        } catch let error as DissectError {
            return error
        }
    }

    static func expect(
        _ error: DissectError?, _ problem: String, fix: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error else {
            Issue.record("the checkpoint was accepted; expected: \(problem)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.kind == .input, sourceLocation: sourceLocation)
        #expect(error.file == path, sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("\(path): \(problem); "), "\(error)", sourceLocation: sourceLocation)
        #expect(error.fix.contains(fix), "\(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    }

    @Test func aValidCheckpointIsAccepted() throws {
        #expect(try Self.error { _ in } == nil)
        #expect(try Self.error(charCNN: false) { _ in } == nil)
    }

    @Test func repeatedLabelsAreRejected() throws {
        Self.expect(
            try Self.error { $0.vocabulary.labels[2] = "O" }, #"vocabulary.labels lists "O" twice (entries 0 and 2)"#,
            fix: "give each label once")
    }

    @Test func repeatedWordsAreRejected() throws {
        Self.expect(
            try Self.error { $0.vocabulary.words[2] = "a" }, #"vocabulary.words lists "a" twice (entries 1 and 2)"#,
            fix: "give each word once")
    }

    @Test func repeatedCharactersAreRejected() throws {
        Self.expect(
            try Self.error { $0.vocabulary.chars = ["<unk>", "b", "b"] }, #"vocabulary.chars lists "b" twice (entries 1 and 2)"#,
            fix: "give each character once")
        // Without the char CNN the characters are still encoded, so repeats are still wrong.
        Self.expect(
            try Self.error(charCNN: false) { $0.vocabulary.chars = ["x", "x"] }, #"vocabulary.chars lists "x" twice (entries 0 and 1)"#,
            fix: "give each character once")
    }

    @Test func anEmptyWordVocabularyIsRejected() throws {
        Self.expect(
            try Self.error {
                $0.vocabulary.words = []
                $0.configuration.wordCount = 0
            }, "vocabulary.words is empty", fix: "at least the unknown word")
    }

    @Test func anEmptyCharVocabularyIsRejectedWithTheCharCNN() throws {
        Self.expect(
            try Self.error {
                $0.vocabulary.chars = []
                $0.configuration.charCount = 0
            }, "vocabulary.chars is empty but char_cnn is on", fix: "at least the unknown character")
        #expect(try Self.error(charCNN: false) {
            $0.vocabulary.chars = []
            $0.configuration.charCount = 0
        } == nil)
    }

    @Test func anEmptyLabelListIsRejected() throws {
        Self.expect(
            try Self.error {
                $0.vocabulary.labels = []
                $0.configuration.labelCount = 0
            }, "vocabulary.labels is empty", fix: "at least one label")
    }

    @Test(arguments: [3, -1, Int.max])
    func unknownWordIndexOutOfRangeIsRejected(index: Int) throws {
        Self.expect(
            try Self.error { $0.unknownWordIndex = index },
            "unknown_word_index \(index) is outside vocabulary.words (0 to 2)", fix: "index of the unknown word")
    }

    @Test(arguments: [3, -1, Int.max])
    func unknownCharIndexOutOfRangeIsRejected(index: Int) throws {
        Self.expect(
            try Self.error { $0.unknownCharIndex = index },
            "unknown_char_index \(index) is outside vocabulary.chars (0 to 2)", fix: "index of the unknown character")
        // Without the char CNN it must still fit the encoder's 32-bit indices and the list.
        Self.expect(
            try Self.error(charCNN: false) { $0.unknownCharIndex = index },
            "unknown_char_index \(index) is outside vocabulary.chars (0 to 2)", fix: "index of the unknown character")
        #expect(try Self.error(charCNN: false) { $0.unknownCharIndex = 2 } == nil)
    }

    @Test(arguments: [0, -3])
    func aTagColumnBelowOneIsRejected(column: Int) throws {
        Self.expect(
            try Self.error { $0.training?.tagColumn = column },
            "training.tag_column is \(column), but columns are counted from 1", fix: "pass --tag-column")
    }

    @Test func aModelTooLargeForAnyMachineIsRejected() throws {
        // 4·H·H recurrent weights with H = 2^20: tens of TiB, within the per-size bound.
        let error = try Self.error { $0.configuration.hiddenSize = 1 << 20 }
        #expect(error?.kind == .input)
        #expect(error?.file == Self.path)
        let text = error?.description ?? ""
        #expect(text.hasPrefix("\(Self.path): the model needs about "), "\(text)")
        #expect(text.contains(" GiB of memory; this machine has "), "\(text)")
        #expect(text.contains("hidden_size 1048576"), "\(text)")
    }

    @Test func aModelLargerThanTheMemoryGivenIsRejected() throws {
        let metadata = Self.metadata()
        try Checkpoint.validate(metadata, path: Self.path, available: 1 << 20)
        let error = try #require(throws: DissectError.self) { try Checkpoint.validate(metadata, path: Self.path, available: 1000) }
        #expect(error.description.hasPrefix("\(Self.path): the model needs about 0.0 GiB of memory; this machine has 0.0 GiB; "))
    }

    /// The memory check comes before the weights are read: with no weights file
    /// at all the error is still about model.json.
    @Test func memoryIsCheckedBeforeTheWeightsAreRead() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/dissect-validation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var metadata = Self.metadata()
        metadata.configuration.hiddenSize = 1 << 20
        try Checkpoint.encodeJSON(metadata).write(to: URL(fileURLWithPath: Checkpoint.metadataPath(directory)))
        let error = try #require(throws: DissectError.self) { try Checkpoint.load(from: directory) }
        #expect(error.file == Checkpoint.metadataPath(directory))
        #expect(error.description.contains("the model needs about"), "\(error)")
    }

    /// The safetensors header length is a file-controlled number: it is checked
    /// against the file's size before it is used as an offset.
    @Test(arguments: [UInt64.max, UInt64(1) << 63, 1 << 40])
    func aSafetensorsHeaderLengthPastTheFileIsRejected(length: UInt64) throws {
        var bytes = withUnsafeBytes(of: length.littleEndian) { Array($0) }
        bytes += Array("{}".utf8)
        let error = try #require(throws: DissectError.self) { try SafeTensors.decode(Data(bytes), path: "w.safetensors") }
        #expect(error.description.hasPrefix("w.safetensors: the header length \(length) runs past the end of the 10-byte file"))
    }

    /// A saved checkpoint whose model.json is edited to repeat a label fails to load.
    @Test func loadRejectsARepeatedLabel() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/dissect-validation-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metadata = Self.metadata()
        try Checkpoint(metadata: metadata, model: TaggerModel<Float>(configuration: metadata.configuration)).save(to: directory)
        _ = try Checkpoint.load(from: directory)
        var edited = metadata
        edited.vocabulary.labels = ["O", "B-PER", "B-PER"]
        try Checkpoint.encodeJSON(edited).write(to: URL(fileURLWithPath: Checkpoint.metadataPath(directory)))
        let error = try #require(throws: DissectError.self) { try Checkpoint.load(from: directory) }
        #expect(error.description.hasPrefix(Checkpoint.metadataPath(directory) + #": vocabulary.labels lists "B-PER" twice"#))
    }
}
