import Foundation
import Testing

/// `dissect evaluate` on the reference checkpoint: the tables, --json, --predictions,
/// and agreement with conlleval.pl when it is at hand.
@Suite("dissect evaluate")
struct EvaluateTests {
    /// The overall line of the conlleval table: `accuracy: A%; precision: P%; recall: R%; FB1: F`.
    static func overallFB1(_ table: String) -> String? {
        for line in table.split(separator: "\n") where line.hasPrefix("accuracy:") {
            if let range = line.range(of: "FB1: ") {
                return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    static func processedTokens(_ table: String) -> Int? {
        for line in table.split(separator: "\n") where line.hasPrefix("processed ") {
            let words = line.split(separator: " ")
            if words.count > 1 { return Int(words[1]) }
        }
        return nil
    }

    @Test("prints conlleval's table, the NCRF++ F1, token accuracy and per-label lines")
    func table() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdoutLines
        #expect(lines.first?.hasPrefix("processed \(SyntheticCoNLL.testTokenCount) tokens with ") == true, "\(result.stdout)")
        #expect(Self.processedTokens(result.stdout) == SyntheticCoNLL.testTokenCount)
        #expect(lines.count > 1 && lines[1].hasPrefix("accuracy: ") && lines[1].contains("FB1: "), "\(result.stdout)")
        for type in ["LOC", "ORG", "PER"] {
            #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(type): precision: ") }, "type line for \(type)")
        }
        #expect(lines.contains { $0.hasPrefix("NCRF++ scorer") && $0.contains(" F1 ") }, "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("token accuracy: ") && $0.contains("of \(SyntheticCoNLL.testTokenCount) tokens in 30 sentences") },
                "\(result.stdout)")
        #expect(lines.contains("per-label accuracy (gold label predicted as itself):"))
        for label in ["B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"] {
            #expect(lines.contains { $0.hasPrefix("  \(label) ") && $0.hasSuffix(")") }, "per-label line for \(label)")
        }
        // The per-label counts add up to the tokens.
        var total = 0
        for line in lines where line.hasPrefix("  ") && line.hasSuffix(")") {
            if let slash = line.lastIndex(of: "/"), let close = line.lastIndex(of: ")") {
                total += Int(line[line.index(after: slash)..<close]) ?? 0
            }
        }
        #expect(total == SyntheticCoNLL.testTokenCount)
        #expect(result.stderrBeyondUnseenCharacters.isEmpty, "\(result.stderr)")
    }

    @Test("--json is one parseable object whose report agrees with the table, and --predictions matches conlleval's input")
    func jsonAndPredictions() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let predictions = sandbox.path("predictions.txt")
        async let tableRun = sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test])
        async let jsonRun = sandbox.run(
            ["evaluate", "--model", trained.out, "--data", trained.files.test, "--json", "--predictions", predictions])
        let (table, json) = try await (tableRun, jsonRun)
        #expect(table.status == 0, "\(table)")
        #expect(json.status == 0, "\(json)")

        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any],
                                  "stdout of --json must be exactly one JSON object: \(json.stdout)")
        let report = try #require(object["report"] as? [String: Any])
        let f1 = try #require(report["f1"] as? Double)
        let tableF1 = try #require(Self.overallFB1(table.stdout))
        #expect(twoDecimals(f1) == tableF1, "JSON f1 \(f1) vs table FB1 \(tableF1)")
        #expect(report["tokens"] as? Int == SyntheticCoNLL.testTokenCount)
        #expect(report["sentences"] as? Int == 30)
        #expect(object["data"] as? String == trained.files.test)
        #expect((object["unknown_labels"] as? [Any])?.isEmpty == true)
        // The test file has unseen names: the score is high but the check is not the trivial 100 = 100.
        #expect(f1 > 30 && f1 < 100, "F1 on the test file: \(f1)")

        // --predictions: `word gold predicted`, a blank line after each sentence.
        let text = try Files.text(predictions)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tokenLines = lines.filter { !$0.isEmpty }
        #expect(tokenLines.count == SyntheticCoNLL.testTokenCount)
        #expect(tokenLines.count == report["tokens"] as? Int)
        #expect(text.hasSuffix("\n\n"), "the last sentence is followed by a blank line too")
        let expected = SyntheticCoNLL.testSentences.flatMap { $0 }
        var correct = 0
        for (line, token) in zip(tokenLines, expected) {
            let columns = line.split(separator: " ").map(String.init)
            #expect(columns.count == 3, "\(line)")
            guard columns.count == 3 else { continue }
            #expect(columns[0] == token.word && columns[1] == token.ner, "\(line) vs \(token.word) \(token.ner)")
            if columns[1] == columns[2] { correct += 1 }
        }
        // Sentences: groups of token lines separated by one blank line.
        let groups = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(groups.map { $0.split(separator: "\n").count } == SyntheticCoNLL.testSentences.map(\.count))
        // Token accuracy in the JSON is the share of matching gold/predicted columns.
        let accuracy = try #require(report["accuracy"] as? Double)
        #expect(abs(accuracy - 100 * Double(correct) / Double(tokenLines.count)) < 1e-9)

    }

    @Test("conlleval.pl on --predictions gives dissect's FB1, and in fact its whole table",
          .enabled(if: Conlleval.availableOrCI, "needs conlleval.pl and perl (CI=true makes this a failure)"))
    func predictionsMatchConllevalScript() async throws {
        let (perl, script) = try Conlleval.require()
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let predictions = sandbox.path("predictions.txt")
        let result = try await sandbox.run(
            ["evaluate", "--model", trained.out, "--data", trained.files.test, "--json", "--predictions", predictions])
        let table = try await sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test])
        #expect(result.status == 0 && table.status == 0, "\(result)\n\(table)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let f1 = try #require((object["report"] as? [String: Any])?["f1"] as? Double)
        let tableF1 = try #require(Self.overallFB1(table.stdout))
        let output = try Conlleval.run(perl: perl, script: script, input: predictions)
        let fb1 = Self.overallFB1(output)
        #expect(fb1 == tableF1, "conlleval.pl FB1 \(fb1 ?? "nil") vs dissect \(tableF1)")
        #expect(fb1 == twoDecimals(f1))
        #expect(Self.conllevalPart(table.stdout) == output, "dissect's table differs from conlleval.pl's output")
    }

    /// The lines of dissect's output before the NCRF++ line.
    static func conllevalPart(_ stdout: String) -> String {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let end = lines.firstIndex { $0.hasPrefix("NCRF++") } ?? lines.endIndex
        return lines[..<end].joined(separator: "\n") + "\n"
    }

    @Test("IOB1-style gold (entities start with I-): dissect's table equals conlleval.pl's",
          .enabled(if: Conlleval.availableOrCI, "needs conlleval.pl and perl (CI=true makes this a failure)"))
    func iob1Gold() async throws {
        let (perl, script) = try Conlleval.require()
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        // The test file with every B- turned into I-: conlleval reads an I- after O (or after another type) as a chunk start.
        let iob1 = SyntheticCoNLL.test.replacingOccurrences(of: " B-PER", with: " I-PER")
            .replacingOccurrences(of: " B-LOC", with: " I-LOC").replacingOccurrences(of: " B-ORG", with: " I-ORG")
        let data = try sandbox.write("iob1.conll", iob1)
        let predictions = sandbox.path("predictions.txt")
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", data, "--predictions", predictions])
        #expect(result.status == 0, "\(result)")
        let output = try Conlleval.run(perl: perl, script: script, input: predictions)
        #expect(Self.conllevalPart(result.stdout) == output, "dissect:\n\(result.stdout)\nconlleval.pl:\n\(output)")
    }

    @Test("a CRLF copy of the data scores exactly like the LF original")
    func crlfData() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let crlf = try sandbox.write("crlf.conll", SyntheticCoNLL.test.replacingOccurrences(of: "\n", with: "\r\n"))
        async let originalRun = sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test, "--json"])
        async let crlfRun = sandbox.run(["evaluate", "--model", trained.out, "--data", crlf, "--json"])
        let (original, windows) = try await (originalRun, crlfRun)
        #expect(original.status == 0 && windows.status == 0, "\(original)\n\(windows)")
        let a = try #require(try JSONSerialization.jsonObject(with: Data(original.stdout.utf8)) as? [String: Any])
        let b = try #require(try JSONSerialization.jsonObject(with: Data(windows.stdout.utf8)) as? [String: Any])
        #expect((a["report"] as? NSDictionary) == (b["report"] as? NSDictionary))
    }

    @Test("an evaluation file with labels the model never saw warns and still scores")
    func unknownLabels() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let data = try sandbox.write("misc.conll", "Paris NNP B-NP B-MISC\nsaid VBD B-VP O\n\nJohn NNP B-NP B-PER\n\n")
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", data, "--json"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.hasPrefix("warning: ") && result.stderr.contains("B-MISC"), "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["unknown_labels"] as? [String] == ["B-MISC"])
        #expect((object["report"] as? [String: Any])?["tokens"] as? Int == 3)
    }
}

/// conlleval.pl from the shared tools, when present together with perl. Tests that
/// need it are enabled when it is there, and always under `CI=true`, where
/// `require()` then records its absence as a failure instead of a skip.
enum Conlleval {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// For `.enabled(if:)`: present, or running under CI.
    static var availableOrCI: Bool { isCI || (script != nil && perl != nil) }

    /// (perl, conlleval.pl); records a failure and throws when either is missing.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> (perl: String, script: String) {
        let script = try #require(
            Conlleval.script, "conlleval.pl is not in ../shared/tools nor /work/shared/tools (CI=true makes this a failure)",
            sourceLocation: sourceLocation)
        let perl = try #require(Conlleval.perl, "perl is not on PATH (CI=true makes this a failure)", sourceLocation: sourceLocation)
        return (perl, script)
    }

    static let script: String? = {
        let candidates = [
            "/work/shared/tools/conlleval.pl",
            DissectBinary.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/tools/conlleval.pl").path,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }()

    static let perl: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return (directories.map { "\($0)/perl" } + ["/usr/bin/perl"]).first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Runs `perl conlleval.pl < input` and returns what it prints.
    static func run(perl: String, script: String, input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: perl)
        process.arguments = [script]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "conlleval.pl failed")
        return String(decoding: data, as: UTF8.self)
    }
}
