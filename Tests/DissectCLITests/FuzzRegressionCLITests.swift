import Foundation
import Testing

/// The fuzz regression inputs (`Tests/*/Fixtures/fuzz/`), fed to the
/// `dissect` binary itself: each must end in one `error:` line that names the
/// file, exit 1 (or 2 for a tag column that no flag can express), and never a
/// trap. `scripts/test.sh` runs this suite against the release binary as well,
/// so the readers are tested as users get them.
@Suite("fuzz regression inputs, end to end")
struct FuzzRegressionCLITests {
    static let corpusFixtures = DissectBinary.packageRoot.appendingPathComponent("Tests/DissectCorpusTests/Fixtures/fuzz").path
    static let modelFixtures = DissectBinary.packageRoot.appendingPathComponent("Tests/DissectModelTests/Fixtures/fuzz").path

    static func names(_ directory: String, _ include: (String) -> Bool) -> [String] {
        Files.listing(directory).filter(include)
    }

    static let conllInputs = names(corpusFixtures) { $0.hasPrefix("conll-") }
    static let embeddingsInputs = names(corpusFixtures) { $0.hasPrefix("embeddings-") }
    static let safetensorsInputs = names(modelFixtures) { $0.hasSuffix(".safetensors") }
    static let metadataInputs = names(modelFixtures) { $0.hasSuffix(".json") }

    /// Parameterised tests over an empty list run nothing and pass: this one fails instead.
    @Test("every kind of fuzz input is present")
    func inputsArePresent() {
        #expect(!Self.conllInputs.isEmpty, "no conll-* fixtures in \(Self.corpusFixtures)")
        #expect(!Self.embeddingsInputs.isEmpty, "no embeddings-* fixtures in \(Self.corpusFixtures)")
        #expect(!Self.safetensorsInputs.isEmpty, "no *.safetensors fixtures in \(Self.modelFixtures)")
        #expect(!Self.metadataInputs.isEmpty, "no *.json fixtures in \(Self.modelFixtures)")
    }

    static func expectOneErrorLine(_ result: RunResult, status: Int32, naming path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "expected exit \(status): \(result)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning: ") && !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See") && !$0.isEmpty }
        #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "one error line expected: \(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(path), "the error must name \(path): \(result)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Fatal error"), "a trap: \(result)", sourceLocation: sourceLocation)
    }

    @Test("CoNLL inputs: evaluate ends in one error line", arguments: conllInputs)
    func conll(_ name: String) async throws {
        let sandbox = try Sandbox()
        let trained = try await SharedModel.shared.get()
        var bytes = [UInt8](try Files.bytes(Self.corpusFixtures + "/" + name))
        // The fuzz target's convention (fuzz/targets/conll.swift): a first byte
        // below 0x20 other than tab/LF/CR picks the tag column.
        var extra: [String] = []
        var status: Int32 = 1
        if let first = bytes.first, first < 0x20, first != 0x09, first != 0x0A, first != 0x0D {
            bytes.removeFirst()
            switch first {
            case 0: extra = ["--tag-column", "\(Int.max)"]
            case 1, 2: extra = ["--tag-column", "0"]; status = 2
            default: extra = ["--tag-column", "\(Int(first) - 2)"]
            }
        }
        let path = sandbox.path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", path] + extra)
        Self.expectOneErrorLine(result, status: status, naming: status == 2 ? "--tag-column" : path)
    }

    @Test("embeddings inputs: train ends in one error line and writes no model", arguments: embeddingsInputs)
    func embeddings(_ name: String) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let path = Self.corpusFixtures + "/" + name
        let out = sandbox.path("out")
        let result = try await sandbox.run([
            "train", "--train", files.train, "--dev", files.dev, "--embeddings", path, "--hidden", "8", "--epochs", "1", "--out", out,
        ])
        Self.expectOneErrorLine(result, status: 1, naming: path)
        #expect(!Files.exists(out + "/model.json"))
    }

    @Test("safetensors inputs: a checkpoint with these weights is rejected", arguments: safetensorsInputs)
    func safetensors(_ name: String) async throws {
        let sandbox = try Sandbox()
        let trained = try await SharedModel.shared.get()
        let model = sandbox.path("model")
        try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: trained.out + "/model.json", toPath: model + "/model.json")
        try FileManager.default.copyItem(atPath: Self.modelFixtures + "/" + name, toPath: model + "/model.safetensors")
        let result = try await sandbox.run(["evaluate", "--model", model, "--data", trained.files.test])
        Self.expectOneErrorLine(result, status: 1, naming: model + "/model.safetensors")
    }

    @Test("model.json inputs: a checkpoint with this description is rejected", arguments: metadataInputs)
    func metadata(_ name: String) async throws {
        let sandbox = try Sandbox()
        let trained = try await SharedModel.shared.get()
        let model = sandbox.path("model")
        try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.modelFixtures + "/" + name, toPath: model + "/model.json")
        try FileManager.default.copyItem(atPath: trained.out + "/model.safetensors", toPath: model + "/model.safetensors")
        for command in [["evaluate", "--data", trained.files.test], ["sensitivity", "--data", trained.files.dev, "--out", sandbox.path("s")]] {
            let result = try await sandbox.run([command[0], "--model", model] + command.dropFirst())
            Self.expectOneErrorLine(result, status: 1, naming: model + "/model.json")
        }
    }
}
