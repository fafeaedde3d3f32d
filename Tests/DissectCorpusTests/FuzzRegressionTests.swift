import DissectCore
import Foundation
import Testing
@testable import DissectCorpus

/// Inputs found by the libFuzzer targets (tools/fuzz.sh) or written while
/// reading the readers for overflow risks: each must end in a DissectError
/// naming the file, never a trap. `conll-*` fixtures go to the CoNLL reader
/// (a first byte below 0x20 other than tab/LF/CR picks the tag column, as in
/// fuzz/targets/conll.swift), `embeddings-*` to the embeddings reader.
@Suite struct FuzzRegressionTests {
    static func fixtures(_ prefix: String) -> [String] {
        guard let directory = Bundle.module.url(forResource: "fuzz", withExtension: nil, subdirectory: "Fixtures"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [] }
        return names.filter { $0.hasPrefix(prefix) }.sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/fuzz/" + name, withExtension: nil))
        return [UInt8](try Data(contentsOf: url))
    }

    /// The parameterised tests below run one case per fixture, so an empty
    /// (or unbundled) fixture directory would make them pass with zero cases.
    @Test func fixturesArePresent() {
        #expect(Self.fixtures("embeddings-").count >= 2)
        #expect(Self.fixtures("conll-").count >= 10)
    }

    @Test(arguments: fixtures("embeddings-"))
    func embeddingsInputThrowsDissectError(name: String) throws {
        let input = try Self.bytes(name)
        let error = try #require(throws: DissectError.self) { try Embeddings.parse(input, path: name) }
        #expect(error.file == name)
        #expect(error.line != nil)
    }

    @Test(arguments: fixtures("conll-"))
    func conllInputThrowsDissectError(name: String) throws {
        var input = try Self.bytes(name)
        var tagColumn: Int?
        if let first = input.first, first < 0x20, first != 0x09, first != 0x0A, first != 0x0D {
            input.removeFirst()
            tagColumn = first == 0 ? Int.max : first == 1 ? Int.min : Int(first) - 2
        }
        let error = try #require(throws: DissectError.self) {
            try CoNLLReader.parse(input, path: name, tagColumn: tagColumn)
        }
        #expect(error.file == name)
        // Bad input points at a line; only a tag column below 1 is a usage error with no line.
        if tagColumn.map({ $0 < 1 }) == true {
            #expect(error.kind == .usage, "\(error)")
        } else {
            #expect(error.kind == .input && error.line != nil, "\(error)")
        }
        #expect(!error.problem.isEmpty && !error.fix.isEmpty)
    }

    @Test func hugeTagColumnIsAnInputError() throws {
        let error = try #require(throws: DissectError.self) {
            try CoNLLReader.parse(Array("a B\n".utf8), path: "t.conll", tagColumn: Int.max)
        }
        #expect(error.description.hasPrefix("t.conll:1: the tag column \(Int.max) does not exist"))
    }
}
