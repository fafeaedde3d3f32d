import Foundation
import Testing

/// The warnings the README promises: CR LF line ends, labels and characters
/// the model never saw — each printed once per file, never as an error.
@Suite("warnings")
struct WarningTests {
    static func warnings(_ result: RunResult, containing text: String) -> [String] {
        result.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("warning: ") && $0.contains(text) }
    }

    @Test("evaluate on CR LF data: one warning naming the file and the first line")
    func crlfEvaluate() async throws {
        let sandbox = try Sandbox()
        let trained = try await SharedModel.shared.get()
        let crlf = try sandbox.write("crlf.conll", SyntheticCoNLL.test.replacingOccurrences(of: "\n", with: "\r\n"))
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", crlf])
        #expect(result.status == 0, "\(result)")
        let lines = Self.warnings(result, containing: "CR LF")
        #expect(lines.count == 1, "one CR LF warning: \(result)")
        #expect(lines.first?.hasPrefix("warning: \(crlf): ") == true, "\(result)")
        #expect(lines.first?.contains("first at line 1") == true, "\(result)")

        let plain = try await sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test])
        #expect(Self.warnings(plain, containing: "CR LF").isEmpty, "LF data gets no warning: \(plain)")
    }

    @Test("train on a file with one CR LF line: one warning that counts it")
    func crlfTrain() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        var lines = SyntheticCoNLL.dev.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[2] += "\r"
        let dev = try sandbox.write("dev-crlf.conll", lines.joined(separator: "\n"))
        let result = try await sandbox.run(["train", "--train", files.train, "--dev", dev] + fastTrainingFlags + ["--epochs", "1", "--out", sandbox.path("m")])
        #expect(result.status == 0, "\(result)")
        let warnings = Self.warnings(result, containing: "CR LF")
        #expect(warnings.count == 1, "\(result)")
        #expect(warnings.first?.contains("\(dev): 1 line ends in CR LF") == true, "\(result)")
        #expect(warnings.first?.contains("first at line 3") == true, "\(result)")
    }

    @Test("characters the model never saw: one warning per file that names them; sensitivity warns too")
    func unknownCharacters() async throws {
        let sandbox = try Sandbox()
        let trained = try await SharedModel.shared.get()
        // "Łódź" and "Zoë" hold characters that the synthetic training data lacks.
        let data = try sandbox.write("odd.conll", "Łódź NNP B-NP B-LOC\nsaid VBD B-VP O\nZoë NNP B-NP B-PER\n\nthe DT B-NP O\n")
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", data])
        #expect(result.status == 0, "\(result)")
        let warnings = Self.warnings(result, containing: "characters never seen in training")
        #expect(warnings.count == 1, "\(result)")
        #expect(warnings.first?.hasPrefix("warning: \(data): 2 tokens hold") == true, "\(result)")
        for character in ["Ł", "ó", "ź", "ë"] {
            #expect(warnings.first?.contains("'\(character)'") == true, "\(character) named: \(result)")
        }
        let sensitivity = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", data, "--out", sandbox.path("s")])
        #expect(Self.warnings(sensitivity, containing: "characters never seen in training").count == 1, "\(sensitivity)")

        let plain = try await sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.dev])
        #expect(Self.warnings(plain, containing: "characters never seen").isEmpty, "\(plain)")
    }

    @Test("labels the model never saw: one warning naming them")
    func unknownLabels() async throws {
        let sandbox = try Sandbox()
        let trained = try await SharedModel.shared.get()
        let data = try sandbox.write("misc.conll", "Paris NNP B-NP B-MISC\nsaid VBD B-VP O\n\n")
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", data])
        #expect(result.status == 0, "\(result)")
        let warnings = Self.warnings(result, containing: "labels the model never saw")
        #expect(warnings.count == 1 && warnings[0].hasSuffix("scored as errors: B-MISC"), "\(result)")
    }
}
