import Foundation
import Testing

// Every size a flag or a file controls is bounded before anything is
// allocated: one `error:` line and exit 2 (a flag) or 1 (a file). The sizes
// used fit on no machine (several TiB and more), so the outcome does not
// depend on the one running the tests.

/// Exactly one `error:` line (first on stderr), nothing on stdout, the exit
/// status, every `mentions` text in that line, and (when given) no --out directory.
func expectOneError(
    _ result: RunResult, status: Int32, mentions: [String], out: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.status == status, "expected exit \(status): \(result)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "nothing on stdout: \(result)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n").map(String.init)
    let errors = lines.filter { $0.hasPrefix("error:") }
    #expect(errors.count == 1, "exactly one error line: \(result)", sourceLocation: sourceLocation)
    #expect(lines.first?.hasPrefix("error: ") == true, "the error comes first: \(result)", sourceLocation: sourceLocation)
    for text in mentions {
        #expect(errors.first?.contains(text) == true, "the error line should contain \(text): \(result)", sourceLocation: sourceLocation)
    }
    #expect(!result.stderr.contains("Fatal error"), "no trap: \(result)", sourceLocation: sourceLocation)
    if let out {
        #expect(!Files.exists(out), "nothing may be written in --out (\(out)): \(Files.listing(out))", sourceLocation: sourceLocation)
    }
}

@Suite("bounds: training sizes")
struct TrainingBoundsTests {
    static let memory = ["GiB of memory; this machine has ", " GiB; "]

    @Test("absurd --hidden sizes: exit 2 before allocating, `needs about N GiB of memory`", arguments: [
        ["--hidden", "3000000000"],
        ["--hidden", "100000000"],
        ["--hidden", "9223372036854775807"],
        ["--hidden", "30000000", "--bidirectional", "--cell", "gru", "--optimizer", "adam"],
    ])
    func hugeHidden(_ extra: [String]) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("out")
        let result = try await sandbox.run(ErrorTests.trainArguments(train: files.train, dev: files.dev, out: out, extra: extra))
        expectOneError(
            result, status: 2, mentions: ["error: training with --hidden \(extra[1]) and --word-dim 50 needs about "] + Self.memory
                + ["choose a smaller --hidden"], out: out)
    }

    @Test("--no-embeddings --word-dim 10^12: exit 2, names --word-dim")
    func hugeWordDimension() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ErrorTests.trainArguments(train: files.train, dev: files.dev, out: out, extra: ["--word-dim", "1000000000000"]))
        expectOneError(result, status: 2, mentions: ["--word-dim 1000000000000 needs about "] + Self.memory, out: out)
    }

    @Test("--word-dim 10^12 when no embeddings file is found: checked once that is known, exit 2")
    func hugeWordDimensionWithoutEmbeddingsFile() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--hidden", "8", "--epochs", "1", "--word-dim", "1000000000000",
             "--out", out])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("warning: no embeddings file found"), "\(result)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("--word-dim 1000000000000 needs about "), "\(result)")
        #expect(!Files.exists(out))
    }

    @Test("a training file whose one sentence has 500,000 tokens and labels: exit 1, names the file")
    func sentenceAndLabelsFromTheData() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        // No blank line: one sentence. Its logits alone are 500,000 × 500,000 floats per batch.
        var text = ""
        text.reserveCapacity(6_000_000)
        for index in 0..<500_000 { text += "a L\(index)\n" }
        let train = try sandbox.write("one-sentence.conll", text)
        let out = sandbox.path("out")
        let result = try await sandbox.run(ErrorTests.trainArguments(train: train, dev: files.dev, out: out))
        expectOneError(
            result, status: 1,
            mentions: ["error: \(train): training (", "500000 labels", "up to 500000 tokens per batch) needs about "] + Self.memory
                + ["break long sentences with blank lines"], out: out)
    }

    @Test("--batch-size 9223372036854775807 is one batch of the whole corpus, not an overflow")
    func hugeBatchSize() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("out")
        let arguments = ["train", "--train", files.train, "--dev", files.dev, "--no-embeddings", "--hidden", "8", "--dropout", "0",
                         "--epochs", "1", "--batch-size", "9223372036854775807", "--out", out]
        let result = try await sandbox.run(arguments)
        #expect(result.status == 0, "\(result)")
        #expect(Files.exists(out + "/model.safetensors"))
    }
}

@Suite("bounds: checkpoints")
struct CheckpointBoundsTests {
    /// A copy of the shared model with `model.json` edited.
    static func editedModel(_ sandbox: Sandbox, _ name: String, _ edit: (inout [String: Any]) -> Void) async throws -> String {
        let trained = try await SharedModel.shared.get()
        let model = sandbox.path(name)
        try Files.copyDirectory(trained.out, to: model)
        var object = try Files.json(model + "/model.json")
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: model + "/model.json"))
        return model
    }

    static func vocabulary(_ object: inout [String: Any], _ key: String, _ change: (inout [String]) -> Void) {
        var vocabulary = object["vocabulary"] as? [String: Any] ?? [:]
        var list = vocabulary[key] as? [String] ?? []
        change(&list)
        vocabulary[key] = list
        object["vocabulary"] = vocabulary
    }

    static func configuration(_ object: inout [String: Any], _ key: String, _ value: Any) {
        var configuration = object["configuration"] as? [String: Any] ?? [:]
        configuration[key] = value
        object["configuration"] = configuration
    }

    @Test("a label listed twice: sensitivity, ablate, evaluate and correlate each exit 1 with one line naming model.json")
    func repeatedLabel() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let model = try await Self.editedModel(sandbox, "twice") { object in
            Self.vocabulary(&object, "labels") { labels in labels[labels.count - 1] = labels[0] }
        }
        let out = sandbox.path("out")
        let commands: [[String]] = [
            ["sensitivity", "--model", model, "--data", trained.files.dev, "--out", out],
            ["ablate", "--model", model, "--rank-on", trained.files.dev, "--data", trained.files.test, "--out", out],
            ["evaluate", "--model", model, "--data", trained.files.test],
            ["correlate", "--models", trained.out, model, "--data", trained.files.dev, "--out", out],
        ]
        for command in commands {
            let result = try await sandbox.run(command)
            expectOneError(
                result, status: 1, mentions: ["error: \(model)/model.json: vocabulary.labels lists ", " twice (entries 0 and ", "give each label once"],
                out: out)
        }
    }

    @Test("model.json errors found before any weight is read: exit 1, one line naming model.json", arguments: [
        "words", "chars", "empty words", "empty chars", "empty labels", "unknown word", "unknown char", "tag column", "memory",
    ])
    func invalidModelJSON(_ case_: String) async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        var expected = ""
        let model = try await Self.editedModel(sandbox, "edited") { object in
            let vocabulary = object["vocabulary"] as? [String: Any] ?? [:]
            let words = vocabulary["words"] as? [String] ?? [], chars = vocabulary["chars"] as? [String] ?? []
            switch case_ {
            case "words":
                Self.vocabulary(&object, "words") { $0[2] = $0[1] }
                expected = "vocabulary.words lists \"\(words[1])\" twice (entries 1 and 2)"
            case "chars":
                Self.vocabulary(&object, "chars") { $0[2] = $0[1] }
                expected = "vocabulary.chars lists \"\(chars[1])\" twice (entries 1 and 2)"
            case "empty words":
                Self.vocabulary(&object, "words") { $0 = [] }
                Self.configuration(&object, "word_count", 0)
                expected = "vocabulary.words is empty; the model needs at least the unknown word"
            case "empty chars":
                Self.vocabulary(&object, "chars") { $0 = [] }
                Self.configuration(&object, "char_count", 0)
                expected = "vocabulary.chars is empty but char_cnn is on"
            case "empty labels":
                Self.vocabulary(&object, "labels") { $0 = [] }
                Self.configuration(&object, "label_count", 0)
                expected = "vocabulary.labels is empty; a tagger needs at least one label"
            case "unknown word":
                object["unknown_word_index"] = words.count
                expected = "unknown_word_index \(words.count) is outside vocabulary.words (0 to \(words.count - 1))"
            case "unknown char":
                object["unknown_char_index"] = -1
                expected = "unknown_char_index -1 is outside vocabulary.chars (0 to \(chars.count - 1))"
            case "tag column":
                var training = object["training"] as? [String: Any] ?? [:]
                training["tag_column"] = 0
                object["training"] = training
                expected = "training.tag_column is 0, but columns are counted from 1"
            default:
                // 4·H·H recurrent weights with H = 2^20: tens of TiB.
                Self.configuration(&object, "hidden_size", 1 << 20)
                Self.configuration(&object, "output_size", 1 << 20)  // the shared model is uni-directional
                expected = "the model needs about "
            }
        }
        let result = try await sandbox.run(["evaluate", "--model", model, "--data", trained.files.test])
        expectOneError(result, status: 1, mentions: ["error: \(model)/model.json: \(expected)"])
        if case_ == "memory" { expectOneError(result, status: 1, mentions: CheckpointBoundsTests.memory) }
    }

    static let memory = TrainingBoundsTests.memory
}

@Suite("bounds: analysis flags and files")
struct AnalysisBoundsCLITests {
    @Test("ablate --random 10^15: exit 2 before the checkpoint is read (it does not even exist)")
    func hugeRandom() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["ablate", "--model", sandbox.path("no-such-model"), "--rank-on", trained.files.dev, "--data", trained.files.test,
             "--random", "1000000000000000", "--out", out])
        expectOneError(result, status: 2, mentions: ["error: --random 1000000000000000 ", "needs about ", "choose a smaller --random"], out: out)
    }

    @Test("ablate --steps 9223372036854775807 is capped at the neuron count; repeated --labels count once")
    func hugeStepsAndRepeatedLabels() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let labels = Array(repeating: "B-PER", count: 2000).joined(separator: ",")
        let result = try await sandbox.run(
            ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test,
             "--steps", "9223372036854775807", "--random", "2", "--labels", labels, "--out", out])
        #expect(result.status == 0, "\(result)")
        let document = try Files.json(out + "/ablation.json")
        #expect(document["steps"] as? Int == 8)
        #expect(document["labels"] as? [String] == ["B-PER"])
    }

    @Test("reproduce --random 10^15: exit 2 before anything is trained")
    func reproduceHugeRandom() async throws {
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let result = try await sandbox.run(["reproduce", "--random", "1000000000000000", "--out", out])
        expectOneError(result, status: 2, mentions: ["reproduce with 4 seeds and --random 1000000000000000 needs about "], out: out)
    }

    @Test("evaluate --tag-column 9223372036854775807: exit 1, no overflow")
    func hugeTagColumn() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test, "--tag-column", "9223372036854775807"])
        expectOneError(result, status: 1, mentions: ["error: \(trained.files.test):3: the tag column 9223372036854775807 does not exist"])
    }

    @Test("correlate --reference whose header repeats a label: exit 1, `<file>:1`")
    func repeatedReferenceLabel() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let reference = try sandbox.write("reference.csv", "neuron,B-PER,O,B-PER\n0,0.1,0.2,0.3\n")
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["correlate", "--models", trained.out, "--data", trained.files.dev, "--reference", reference, "--out", out])
        expectOneError(result, status: 1, mentions: ["error: \(reference):1: the header names label B-PER twice"], out: out)
    }
}

@Suite("bounds: what an analysis holds")
struct AnalysisDataBoundsTests {
    @Test("correlate models of 200,000 labels: exit 1 from model.json, before any model runs")
    func correlateManyLabels() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        // model.json alone is read first: its weights no longer match, and never need to be read.
        let model = try await CheckpointBoundsTests.editedModel(sandbox, "many-labels") { object in
            CheckpointBoundsTests.vocabulary(&object, "labels") { $0 = (0..<200_000).map { "L\($0)" } }
            CheckpointBoundsTests.configuration(&object, "label_count", 200_000)
        }
        let out = sandbox.path("out")
        let result = try await sandbox.run(["correlate", "--models", trained.out, model, "--data", trained.files.dev, "--out", out])
        expectOneError(
            result, status: 1,
            mentions: ["error: \(model)/model.json: correlating 200000 labels across 2 models needs about "] + TrainingBoundsTests.memory
                + ["correlate models with fewer labels"], out: out)
    }

    @Test("sensitivity --bootstrap 100000 with a 400,000-label model: its arrays fit nowhere, exit 2 before they are allocated")
    func statisticsOfAWideModel() async throws {
        let sandbox = try Sandbox()
        let model = sandbox.path("wide")
        try WideModel.write(to: model, labels: 400_000)
        let data = try sandbox.write("small.conll", "a L0\na L1\n\na L0\n\n")
        let out = sandbox.path("out")
        let result = try await sandbox.run(["sensitivity", "--model", model, "--data", data, "--bootstrap", "100000", "--out", out])
        expectOneError(
            result, status: 2,
            mentions: ["error: \(data): --bootstrap 100000 and --permutations 1000 on this file needs about "] + TrainingBoundsTests.memory
                + ["choose a smaller --bootstrap or --permutations"], out: out)
    }

    @Test("evaluate and sensitivity of a 400,000-label model on a 1,000,000-token sentence: exit 1, names the data file")
    func analysisOfAHugeFile() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let model = sandbox.path("wide")
        try WideModel.write(to: model, labels: 400_000)
        var text = ""
        text.reserveCapacity(6_000_000)
        for _ in 0..<1_000_000 { text += "a L0\n" }
        let data = try sandbox.write("one-sentence.conll", text)
        let out = sandbox.path("out")
        let evaluation = try await sandbox.run(["evaluate", "--model", model, "--data", data])
        expectOneError(
            evaluation, status: 1,
            mentions: ["error: \(data): evaluating this file (1000000 tokens, longest sentence 1000000) needs about "]
                + TrainingBoundsTests.memory + ["break long sentences with blank lines"])
        let sensitivity = try await sandbox.run(["sensitivity", "--model", model, "--data", data, "--out", out])
        expectOneError(
            sensitivity, status: 1, mentions: ["error: \(data): the analysis of this file (1000000 tokens, "] + TrainingBoundsTests.memory,
            out: out)
        _ = trained
    }
}
