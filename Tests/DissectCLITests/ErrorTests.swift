import Foundation
import Testing

/// Every failure is one `error: <file>:<line>: <problem>; <fix>` line on
/// stderr, exit 1 for bad input and 2 for bad usage, and leaves --out alone.
@Suite("errors")
struct ErrorTests {
    /// The common checks: exit status, `error:` first, nothing on stdout, and
    /// (for training) no output directory created.
    static func expectFailure(
        _ result: RunResult, status: Int32, mentions: [String] = [], out: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == status, "expected exit \(status): \(result)", sourceLocation: sourceLocation)
        let stderr = result.stderrBeyondUnseenCharacters
        #expect(stderr.hasPrefix("error: "), "stderr must start with `error: `: \(result)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "nothing on stdout: \(result)", sourceLocation: sourceLocation)
        let firstLine = stderr.split(separator: "\n").first.map(String.init) ?? ""
        for text in mentions {
            #expect(firstLine.contains(text), "the error line should contain \(text): \(firstLine)", sourceLocation: sourceLocation)
        }
        if let out {
            #expect(!Files.exists(out), "nothing may be written in --out (\(out)): \(Files.listing(out))", sourceLocation: sourceLocation)
        }
    }

    static func trainArguments(train: String, dev: String, out: String, extra: [String] = []) -> [String] {
        ["train", "--train", train, "--dev", dev] + fastTrainingFlags + ["--epochs", "1", "--out", out] + extra
    }

    @Test("a missing --train file: exit 1, names the file")
    func missingTrainFile() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let missing = sandbox.path("no-such-train.conll")
        let out = sandbox.path("out")
        let result = try await sandbox.run(Self.trainArguments(train: missing, dev: files.dev, out: out))
        Self.expectFailure(result, status: 1, mentions: ["error: \(missing): ", "does not exist"], out: out)
    }

    @Test("a ragged line: exit 1, `<file>:<line>` of that line", arguments: ["train", "dev", "test"])
    func raggedLine(_ which: String) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        // Drop the chunk column of the 10th token line of the chosen file.
        let original = which == "train" ? SyntheticCoNLL.train : which == "dev" ? SyntheticCoNLL.dev : SyntheticCoNLL.test
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tokenLineIndices = lines.indices.filter { !lines[$0].isEmpty && !lines[$0].hasPrefix("-DOCSTART-") }
        let broken = tokenLineIndices[9]
        let columns = lines[broken].split(separator: " ")
        lines[broken] = [columns[0], columns[1], columns[3]].joined(separator: " ")
        let path = try sandbox.write("ragged-\(which).conll", lines.joined(separator: "\n"))
        let out = sandbox.path("out")
        let train = which == "train" ? path : files.train
        let dev = which == "dev" ? path : files.dev
        let test = which == "test" ? path : files.test
        let result = try await sandbox.run(Self.trainArguments(train: train, dev: dev, out: out, extra: ["--test", test]))
        Self.expectFailure(result, status: 1, mentions: ["error: \(path):\(broken + 1): ", "3 columns"], out: out)
    }

    @Test("--tag-column 9 on a 4-column file: exit 1, names the file and line")
    func tagColumnOutOfRange() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("out")
        let result = try await sandbox.run(Self.trainArguments(train: files.train, dev: files.dev, out: out, extra: ["--tag-column", "9"]))
        // Line 3: line 1 is -DOCSTART-, line 2 is blank.
        Self.expectFailure(result, status: 1, mentions: ["error: \(files.train):3: ", "tag column 9"], out: out)

        let trained = try await SharedModel.shared.get()
        let evaluation = try await sandbox.run(["evaluate", "--model", trained.out, "--data", files.test, "--tag-column", "9"])
        Self.expectFailure(evaluation, status: 1, mentions: ["error: \(files.test):3: ", "tag column 9"])
    }

    @Test("invalid option values are usage errors (exit 2)", arguments: [
        (["--hidden", "0"], "--hidden"),
        (["--cell", "foo"], "--cell"),
        (["--dropout", "1.5"], "--dropout"),
        (["--tag-column", "0"], "--tag-column"),
        (["--epochs", "0"], "--epochs"),
        (["--hidden", "many"], "hidden"),
        (["--no-such-flag"], "--no-such-flag"),
    ])
    func invalidOptions(_ extra: [String], _ named: String) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("out")
        let result = try await sandbox.run(Self.trainArguments(train: files.train, dev: files.dev, out: out, extra: extra))
        Self.expectFailure(result, status: 2, mentions: [named], out: out)
    }

    @Test("evaluate --model /nonexistent: exit 1, names model.json")
    func missingModel() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let predictions = sandbox.path("p.txt")
        let result = try await sandbox.run(["evaluate", "--model", "/nonexistent", "--data", files.test, "--predictions", predictions])
        Self.expectFailure(result, status: 1, mentions: ["error: /nonexistent/model.json: "])
        #expect(!Files.exists(predictions))
    }

    @Test("evaluate a missing data file: exit 1, names it")
    func missingData() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let missing = sandbox.path("nope.conll")
        let result = try await sandbox.run(["evaluate", "--model", trained.out, "--data", missing])
        Self.expectFailure(result, status: 1, mentions: ["error: \(missing): "])
    }

    @Test("a truncated model.safetensors: exit 1, names the weights file", arguments: [0.5, 0.0001])
    func truncatedWeights(_ fraction: Double) async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let model = sandbox.path("truncated")
        try Files.copyDirectory(trained.out, to: model)
        let weights = model + "/model.safetensors"
        let bytes = try Files.bytes(weights)
        try bytes.prefix(max(1, Int(Double(bytes.count) * fraction))).write(to: URL(fileURLWithPath: weights))
        let predictions = sandbox.path("p.txt")
        let result = try await sandbox.run(["evaluate", "--model", model, "--data", trained.files.test, "--predictions", predictions])
        Self.expectFailure(result, status: 1, mentions: ["error: \(weights): "])
        #expect(!Files.exists(predictions), "no predictions from a broken model")
    }

    @Test("model.json with format_version 3: exit 1, names model.json and the version")
    func newerFormat() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let model = sandbox.path("v3")
        try Files.copyDirectory(trained.out, to: model)
        var object = try Files.json(model + "/model.json")
        object["format_version"] = 3
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: model + "/model.json"))
        let result = try await sandbox.run(["evaluate", "--model", model, "--data", trained.files.test])
        Self.expectFailure(result, status: 1, mentions: ["error: \(model)/model.json: ", "format_version 3", "reads 1 to 2"])
    }

    @Test("model.json that is not JSON: exit 1, names model.json")
    func corruptMetadata() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let model = sandbox.path("corrupt")
        try Files.copyDirectory(trained.out, to: model)
        try Data("{\"format_version\": 1, ".utf8).write(to: URL(fileURLWithPath: model + "/model.json"))
        let result = try await sandbox.run(["evaluate", "--model", model, "--data", trained.files.test])
        Self.expectFailure(result, status: 1, mentions: ["error: \(model)/model.json: "])
    }

    @Test("training into an --out that holds a model, without --overwrite: exit 2, files untouched")
    func refusesToOverwrite() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("existing")
        try Files.copyDirectory(trained.out, to: out)
        let before = try Files.snapshot(out)
        let result = try await sandbox.run(Self.trainArguments(train: trained.files.train, dev: trained.files.dev, out: out))
        Self.expectFailure(result, status: 2, mentions: ["error: \(out): ", "--overwrite"])
        let after = try Files.snapshot(out)
        #expect(Set(after.keys) == Set(before.keys), "\(after.keys)")
        for (name, (data, date)) in before {
            #expect(after[name]?.0 == data, "\(name) changed")
            #expect(after[name]?.1 == date, "\(name) was rewritten")
        }
    }

    @Test("no data anywhere and no flags: exit 2 with a clear message, nothing written")
    func noData() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["train", "--no-embeddings"])
        Self.expectFailure(result, status: 2, mentions: ["no CoNLL data found", "--data-dir", "--train"])
        #expect(Files.listing(sandbox.cwd.path).isEmpty, "the default --out (runs/model) must not be created: \(Files.listing(sandbox.cwd.path))")

        let bare = try await sandbox.run(["train"])
        Self.expectFailure(bare, status: 2, mentions: ["no CoNLL data found"])
        #expect(Files.listing(sandbox.cwd.path).isEmpty)
    }

    @Test("--data-dir that does not exist: exit 2, names it")
    func missingDataDirectory() async throws {
        let sandbox = try Sandbox()
        let missing = sandbox.path("no-such-dir")
        let result = try await sandbox.run(["train", "--data-dir", missing, "--no-embeddings", "--out", sandbox.path("out")])
        Self.expectFailure(result, status: 2, mentions: ["error: \(missing): "], out: sandbox.path("out"))
    }

    @Test("an empty training file: exit 1, names it")
    func emptyTrainingFile() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let empty = try sandbox.write("empty.conll", "")
        let out = sandbox.path("out")
        let result = try await sandbox.run(Self.trainArguments(train: empty, dev: files.dev, out: out))
        Self.expectFailure(result, status: 1, mentions: ["error: \(empty)", "empty"], out: out)
    }

    @Test("a missing --embeddings file: exit 1, names it, nothing written")
    func missingEmbeddings() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let missing = sandbox.path("no-vectors.txt")
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--embeddings", missing, "--hidden", "8", "--epochs", "1", "--out", out])
        Self.expectFailure(result, status: 1, mentions: ["error: \(missing): "], out: out)
    }
}
