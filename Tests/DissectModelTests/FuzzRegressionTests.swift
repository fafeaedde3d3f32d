import DissectCore
import Foundation
import Testing
@testable import DissectModel

/// Checkpoint inputs found by the libFuzzer targets (tools/fuzz.sh) or written
/// while reading the readers for overflow risks: each must end in a
/// DissectError naming the file, never a trap. `*.safetensors` fixtures go to
/// SafeTensors.decode, `*.json` to Checkpoint.decodeMetadata (and, when a
/// matching weights file is absent, to Checkpoint.load of a directory).
@Suite struct FuzzRegressionTests {
    static func fixtures(_ suffix: String) -> [String] {
        guard let directory = Bundle.module.url(forResource: "fuzz", withExtension: nil, subdirectory: "Fixtures"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [] }
        return names.filter { $0.hasSuffix(suffix) }.sorted()
    }

    static func data(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/fuzz/" + name, withExtension: nil))
        return try Data(contentsOf: url)
    }

    @Test func fixturesArePresent() {
        #expect(!Self.fixtures(".safetensors").isEmpty)
        #expect(!Self.fixtures(".json").isEmpty)
    }

    @Test(arguments: fixtures(".safetensors"))
    func safetensorsInputThrowsDissectError(name: String) throws {
        let input = try Self.data(name)
        let error = try #require(throws: DissectError.self) { try SafeTensors.decode(input, path: name) }
        #expect(error.file == name)
    }

    @Test(arguments: fixtures(".json"))
    func modelJSONInputThrowsDissectError(name: String) throws {
        let input = try Self.data(name)
        let error = try #require(throws: DissectError.self) { try Checkpoint.decodeMetadata(input, path: name) }
        #expect(error.file == name)
    }

    /// The same inputs through `Checkpoint.load`, which reads model.json first.
    @Test(arguments: fixtures(".json"))
    func loadRejectsModelJSON(name: String) throws {
        let directory = FileManager.default.temporaryDirectory.path + "/dissect-fuzz-\(getpid())-\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.data(name).write(to: URL(fileURLWithPath: Checkpoint.metadataPath(directory)))
        let error = try #require(throws: DissectError.self) { try Checkpoint.load(from: directory) }
        #expect(error.file == Checkpoint.metadataPath(directory))
    }

    /// A zero dimension makes an empty tensor even when the other dimensions are huge.
    @Test func zeroDimensionWithHugeOthersIsEmpty() throws {
        let header = #"{"t":{"dtype":"F32","shape":[4611686018427387904,0,4],"data_offsets":[0,0]}}"#
        var bytes = [UInt8](repeating: 0, count: 8)
        bytes[0] = UInt8(header.utf8.count)
        let decoded = try SafeTensors.decode(Data(bytes + Array(header.utf8)), path: "z.safetensors")
        #expect(decoded["t"]?.values == [])
    }

    /// Weights that do not match model.json are rejected before the model's
    /// buffer is allocated, with the same message as before.
    @Test func mismatchedWeightsAreRejected() throws {
        var c = TaggerConfiguration()
        c.charCNN = false
        c.hiddenSize = 2
        c.wordEmbeddingDim = 2
        c.wordCount = 1
        c.labelCount = 1
        let metadata = CheckpointMetadata(
            configuration: c, vocabulary: VocabularyLists(words: ["a"], chars: [], labels: ["O"]),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: false, training: nil)
        let directory = FileManager.default.temporaryDirectory.path + "/dissect-fuzz-weights-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint(metadata: metadata, model: TaggerModel<Float>(configuration: c)).save(to: directory)
        var larger = c
        larger.hiddenSize = 1 << 10   // small enough to pass the memory check, which comes first
        var changed = metadata
        changed.configuration = larger
        try Checkpoint.encodeJSON(changed).write(to: URL(fileURLWithPath: Checkpoint.metadataPath(directory)))
        let error = try #require(throws: DissectError.self) { try Checkpoint.load(from: directory) }
        #expect(error.description.contains("lstm.weight_ih_l0 has shape [8, 2] but model.json implies [4096, 2]"))
    }
}
