import Foundation
import Testing

/// Models trained by NCRF++ itself (tools/make_ncrfpp_fixtures.py runs a checkout of jiesutd/NCRFpp), converted by
/// tools/import_ncrfpp.py and imported by `dissect import`, tag the first test sentences of CoNLL-2003:
/// - without char features, exactly as NCRF++'s own decode;
/// - with NCRF++'s char CNN, exactly as NCRF++'s decode does when each word is pooled over its own characters
///   (dissect's char CNN), and within `NCRFppImportTests.charAgreement` of NCRF++'s batch-padded decode.
@Suite("dissect import of NCRF++ models") struct NCRFppImportTests {
    static let fixtures = DissectBinary.packageRoot.appendingPathComponent("Tests/DissectCLITests/Fixtures/ncrfpp").path
    /// The lowest share of tokens on which a char model must agree with NCRF++'s batch-padded decode. The small
    /// fixture models measure 98.99 % (softmax) and 99.84 % (CRF); the README gives a full-size model's figure.
    static let charAgreement = 0.985

    /// The tag column of a CoNLL-style file, one entry per token (blank lines dropped).
    static func tags(_ path: String) throws -> [String] {
        try Files.text(path).split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    }

    /// Imports one fixture model and returns dissect's predicted tags on the fixture data.
    static func dissectTags(_ kind: String, _ sandbox: Sandbox) async throws -> [String] {
        let directory = fixtures + "/" + kind
        let out = sandbox.path("imported")
        let imported = try await sandbox.run([
            "import", "--safetensors", directory + "/state.safetensors", "--mapping", directory + "/mapping.json", "--out", out,
        ])
        #expect(imported.status == 0, "\(imported)")
        let predictions = sandbox.path("predictions.txt")
        let evaluated = try await sandbox.run(["evaluate", "--model", out, "--data", fixtures + "/data.conll", "--predictions", predictions])
        #expect(evaluated.status == 0, "\(evaluated)")
        return try tags(predictions)
    }

    static func agreement(_ ours: [String], _ theirs: [String]) -> Double {
        guard ours.count == theirs.count, !ours.isEmpty else { return 0 }
        return Double(zip(ours, theirs).filter { $0 == $1 }.count) / Double(ours.count)
    }

    @Test("NCRF++ models without char features tag exactly as NCRF++'s decode", arguments: ["bilstm-crf", "gru-softmax"])
    func wordModelsTagExactly(kind: String) async throws {
        let sandbox = try Sandbox()
        let ours = try await Self.dissectTags(kind, sandbox)
        let theirs = try Self.tags(Self.fixtures + "/" + kind + "/ncrfpp-tags.txt")
        #expect(theirs.count > 2000)
        // A model that tags everything O would make this comparison empty of meaning.
        #expect(Set(theirs).count >= 5, "\(kind): NCRF++ predicts only \(Set(theirs))")
        #expect(ours == theirs, "\(kind): \(Self.agreement(ours, theirs)) of tokens agree")
    }

    @Test("NCRF++ models with its char CNN tag as NCRF++ with per-word pooling, and nearly as its batch decode",
          arguments: ["bilstm-softmax-chars", "bilstm-crf-chars"])
    func charModelsTagAsOwnCharacterPooling(kind: String) async throws {
        let sandbox = try Sandbox()
        let ours = try await Self.dissectTags(kind, sandbox)
        let own = try Self.tags(Self.fixtures + "/" + kind + "/own-characters-tags.txt")
        let batch = try Self.tags(Self.fixtures + "/" + kind + "/ncrfpp-tags.txt")
        #expect(Set(batch).count >= 5, "\(kind): NCRF++ predicts only \(Set(batch))")
        #expect(ours == own, "\(kind): \(Self.agreement(ours, own)) of tokens agree with per-word pooling")
        let measured = Self.agreement(ours, batch)
        #expect(measured >= Self.charAgreement, "\(kind): \(measured) of tokens agree with NCRF++'s batch decode")
    }

    @Test("the converter drops NCRF++'s reserved label rows: no label repeats, none is empty")
    func labelsAreDistinct() throws {
        for kind in ["bilstm-crf", "gru-softmax", "bilstm-softmax-chars", "bilstm-crf-chars"] {
            let labels = try Files.text(Self.fixtures + "/" + kind + "/labels.txt").split(separator: "\n").map(String.init)
            #expect(Set(labels).count == labels.count && !labels.contains(""), "\(kind): \(labels)")
            #expect(labels.contains("O") && labels.count == 9, "\(kind): \(labels)")
        }
    }
}
