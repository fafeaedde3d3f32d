import Foundation
import Testing
import DissectCore
@testable import DissectModel

/// What `model.json` records about a run's inputs, and how a rerun compares
/// a finished checkpoint with what it would train.
@Suite struct TrainingInputsTests {
    static let hashes = InputHashes(
        train: String(repeating: "a", count: 64), dev: String(repeating: "b", count: 64),
        test: String(repeating: "c", count: 64), embeddings: String(repeating: "d", count: 64))

    /// A request like reproduce's, and the metadata a run of it records.
    static func request() -> TrainingRequest {
        var request = TrainingRequest(trainPath: "train.txt", devPath: "dev.txt", outputDirectory: "out")
        request.testPath = "test.txt"
        request.embeddingsPath = "glove.txt"
        request.options.epochs = 2
        request.options.seed = 3
        return request
    }

    static func metadata(for request: TrainingRequest, hashes: InputHashes?) -> CheckpointMetadata {
        var record = TrainingRecord(
            seed: request.options.seed, epochs: request.options.epochs, bestEpoch: 2, selectionMetric: "f1", seconds: 1,
            options: request.options, vocabularyRule: request.vocabularyRule.rawValue)
        record.trainSHA256 = hashes?.train
        record.devSHA256 = hashes?.dev
        record.testSHA256 = hashes?.test
        record.embeddingsSHA256 = hashes?.embeddings
        record.tagColumn = request.tagColumn
        record.finished = true
        var configuration = request.configuration
        configuration.wordCount = 1
        configuration.charCount = 1
        configuration.labelCount = 1
        return CheckpointMetadata(
            configuration: configuration, vocabulary: VocabularyLists(words: ["<unk>"], chars: ["<unk>"], labels: ["O"]),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: request.digitsToZero, training: record)
    }

    @Test func sameInputsAndOptionsMatch() {
        let request = Self.request()
        #expect(request.differences(from: Self.metadata(for: request, hashes: Self.hashes), hashes: Self.hashes).isEmpty)
        // Paths do not matter: a file that moved but did not change gives the same model.
        var moved = request
        moved.trainPath = "elsewhere/train.txt"
        #expect(moved.differences(from: Self.metadata(for: request, hashes: Self.hashes), hashes: Self.hashes).isEmpty)
    }

    @Test func eachChangedInputIsNamed() {
        let request = Self.request()
        let metadata = Self.metadata(for: request, hashes: Self.hashes)
        let changed = "e" + String(repeating: "0", count: 63)
        for (name, path) in [("train", \InputHashes.train), ("dev", \InputHashes.dev)] as [(String, WritableKeyPath<InputHashes, String>)] {
            var now = Self.hashes
            now[keyPath: path] = changed
            #expect(request.differences(from: metadata, hashes: now) == ["\(name) file changed (SHA-256 differs)"])
        }
        for (name, path) in [("test", \InputHashes.test), ("embeddings", \InputHashes.embeddings)] as [(String, WritableKeyPath<InputHashes, String?>)] {
            var now = Self.hashes
            now[keyPath: path] = changed
            #expect(request.differences(from: metadata, hashes: now) == ["\(name) file changed (SHA-256 differs)"])
            now[keyPath: path] = nil
            #expect(request.differences(from: metadata, hashes: now) == ["the model was trained with a \(name) file, this run has none"])
        }
    }

    @Test func eachChangedOptionIsNamed() {
        let base = Self.request()
        let metadata = Self.metadata(for: base, hashes: Self.hashes)
        let cases: [(String, (inout TrainingRequest) -> Void)] = [
            ("--epochs changed from 2 to 10", { $0.options.epochs = 10 }),
            ("--seed changed from 3 to 4", { $0.options.seed = 4 }),
            ("--lr changed from 0.015 to 0.1", { $0.options.learningRate = 0.1 }),
            ("--batch-size changed from 10 to 2", { $0.options.batchSize = 2 }),
            ("--optimizer changed from sgd to adam", { $0.options.optimizer = .adam }),
            ("--lr-decay changed from 0.05 to 0.0", { $0.options.learningRateDecay = 0 }),
            ("--l2 changed from 1e-08 to 0.001", { $0.options.l2 = 0.001 }),
            ("--clip changed from off to 5.0", { $0.options.clip = 5 }),
            ("--dropout changed from 0.5 to 0.0", { $0.configuration.dropout = 0 }),
            ("--hidden changed from 50 to 8", { $0.configuration.hiddenSize = 8 }),
            ("--cell changed from lstm to gru", { $0.configuration.cell = .gru }),
            ("--bidirectional changed from off to on", { $0.configuration.bidirectional = true }),
            ("the char CNN changed from on to off", { $0.configuration.charCNN = false }),
            ("char_filters changed from 50 to 20", { $0.configuration.charFilters = 20 }),
            ("--vocabulary changed from train+embeddings to train", { $0.vocabularyRule = .train }),
            ("digit normalisation changed from on to off", { $0.digitsToZero = false }),
            ("--tag-column changed from the last column to 2", { $0.tagColumn = 2 }),
        ]
        for (message, change) in cases {
            var request = base
            change(&request)
            #expect(request.differences(from: metadata, hashes: Self.hashes) == [message])
        }
        // With an embeddings file its width fixes the word vectors, so --word-dim does not count.
        var wider = base
        wider.configuration.wordEmbeddingDim = 100
        #expect(wider.differences(from: metadata, hashes: Self.hashes).isEmpty)
        // Several differences are all listed.
        var both = base
        both.options.epochs = 1
        var now = Self.hashes
        now.embeddings = String(repeating: "f", count: 64)
        #expect(both.differences(from: metadata, hashes: now) == ["embeddings file changed (SHA-256 differs)", "--epochs changed from 2 to 1"])
    }

    /// reproduce must never take a control model for a real one, a real one for a
    /// control one, or one control seed's model for another's.
    @Test func controlTaskChangesAreNamed() {
        let real = Self.request()
        var control = real
        control.controlTask = true
        let realMetadata = Self.metadata(for: real, hashes: Self.hashes)
        var controlMetadata = realMetadata
        controlMetadata.training?.controlTask = ControlTaskRecord(seed: 3, labelCounts: ["O": 5])
        #expect(control.differences(from: controlMetadata, hashes: Self.hashes).isEmpty)
        #expect(real.differences(from: realMetadata, hashes: Self.hashes).isEmpty)
        #expect(control.differences(from: realMetadata, hashes: Self.hashes) == ["--control-task changed from off to on"])
        #expect(real.differences(from: controlMetadata, hashes: Self.hashes) == ["--control-task changed from on to off"])
        // Another seed: the training seed and the control labels' seed both differ.
        var reseeded = control
        reseeded.options.seed = 4
        #expect(reseeded.differences(from: controlMetadata, hashes: Self.hashes)
                == ["--seed changed from 3 to 4", "the control-task seed changed from 3 to 4"])
        // A record whose control seed is not the training seed (edited by hand) is not this run's model either.
        var edited = controlMetadata
        edited.training?.controlTask?.seed = 9
        #expect(control.differences(from: edited, hashes: Self.hashes) == ["the control-task seed changed from 9 to 3"])
    }

    /// A checkpoint from before the hashes were recorded still loads, but is never taken as matching.
    @Test func olderCheckpointsWithoutHashes() throws {
        let request = Self.request()
        let old = Self.metadata(for: request, hashes: nil)
        let data = try Checkpoint.encodeJSON(old)
        #expect(!String(decoding: data, as: UTF8.self).contains("sha256"), "nil hashes are left out, as in older files")
        let decoded = try Checkpoint.decodeMetadata(data, path: "model.json")
        #expect(decoded.training?.trainSHA256 == nil)
        #expect(InputHashes(record: try #require(decoded.training)) == nil)
        #expect(request.differences(from: decoded, hashes: Self.hashes)
                == ["model.json records no SHA-256 of its input files (an older dissect wrote it)"])
        // And the recorded hashes round-trip.
        let new = try Checkpoint.decodeMetadata(try Checkpoint.encodeJSON(Self.metadata(for: request, hashes: Self.hashes)), path: "model.json")
        #expect(InputHashes(record: try #require(new.training)) == Self.hashes)
    }

    @Test func computeHashesEachFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dissect-inputs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train").path, dev = directory.appendingPathComponent("dev").path
        try Data("abc".utf8).write(to: URL(fileURLWithPath: train))
        try Data().write(to: URL(fileURLWithPath: dev))
        let hashes = try InputHashes.compute(trainPath: train, devPath: dev, testPath: nil, embeddingsPath: nil)
        #expect(hashes.train == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hashes.dev == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hashes.test == nil && hashes.embeddings == nil)
        #expect(throws: DissectError.self) {
            try InputHashes.compute(trainPath: train, devPath: dev, testPath: directory.path + "/missing", embeddingsPath: nil)
        }
    }
}
