import Foundation
import Testing

/// `dissect train` end to end: files written, the log, the record, the F1 the
/// synthetic task must reach, determinism, POS-style labels, data discovery.
@Suite("dissect train")
struct TrainTests {
    /// Dev F1 the reference run (60 sentences, hidden 8, 4 epochs) must reach.
    /// Seeds 1–10 all reach 100 on the dev file (seen names only) by epoch 3 or 4;
    /// 80 leaves a wide margin for other CPUs' rounding.
    static let requiredDevF1 = 80.0

    @Test("trains on the synthetic corpus, writes the checkpoint and log, and reaches the set dev F1")
    func referenceRun() async throws {
        let trained = try await SharedModel.shared.get()
        let result = trained.result
        #expect(result.status == 0, "\(result)")
        #expect(Files.listing(trained.out) == ["model.json", "model.safetensors", "train-log.jsonl"],
                "OUT holds exactly the three files (no leftover temporary files)")

        // train-log.jsonl: one JSON object per epoch.
        let logLines = try Files.text(trained.out + "/train-log.jsonl").split(separator: "\n").map(String.init)
        #expect(logLines.count == 4, "one line per epoch: \(logLines)")
        var logs: [[String: Any]] = []
        for (index, line) in logLines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "line \(index + 1)")
            for key in ["epoch", "loss", "loss_per_token", "learning_rate", "dev_f1", "dev_f1_ncrf", "dev_accuracy",
                        "test_f1", "test_accuracy", "best", "seconds"] {
                #expect(object[key] != nil, "train-log line \(index + 1) lacks \(key): \(line)")
            }
            #expect(object["epoch"] as? Int == index + 1)
            let loss = try #require(object["loss"] as? Double)
            #expect(loss.isFinite && loss > 0)
            logs.append(object)
        }
        #expect(logs.first?["best"] as? Bool == true, "the first epoch is always the best so far")

        // model.json's training record.
        let model = try Files.json(trained.out + "/model.json")
        #expect(model["format_version"] as? Int == 2)
        let record = try #require(model["training"] as? [String: Any])
        #expect(record["selection_metric"] as? String == "f1")
        #expect(record["seed"] as? Int == 1)
        #expect(record["epochs"] as? Int == 4)
        let bestEpoch = try #require(record["best_epoch"] as? Int)
        #expect((1...4).contains(bestEpoch))
        let devF1 = try #require(record["dev_f1"] as? Double)
        #expect(devF1 >= Self.requiredDevF1, "dev F1 \(devF1) is below \(Self.requiredDevF1)")
        // The record is the best epoch's log line, and the best epoch is the last one flagged best.
        let logDevF1 = logs.compactMap { $0["dev_f1"] as? Double }
        #expect(devF1 == logDevF1.max())
        #expect(logs[bestEpoch - 1]["dev_f1"] as? Double == devF1)
        #expect(logs.lastIndex { $0["best"] as? Bool == true }.map { $0 + 1 } == bestEpoch)
        #expect(record["test_f1"] as? Double == logs[bestEpoch - 1]["test_f1"] as? Double)
        #expect(record["train_file"] as? String == trained.files.train)
        #expect(record["test_file"] as? String == trained.files.test)
        #expect(record["embeddings_file"] == nil, "--no-embeddings records no embeddings file")
        let labels = try #require((model["vocabulary"] as? [String: Any])?["labels"] as? [String])
        #expect(Set(labels) == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"])

        // stdout: the summary line names the best epoch and its dev F1; stderr has the per-epoch lines.
        let lastLine = try #require(result.stdoutLines.last { !$0.isEmpty })
        #expect(lastLine.hasPrefix("best epoch \(bestEpoch): dev F1 \(twoDecimals(devF1))"), "\(lastLine)")
        #expect(lastLine.contains(trained.out))
        for epoch in 1...4 { #expect(result.stderr.contains("epoch \(epoch)/4:"), "\(result.stderr)") }
        #expect(!result.stderr.contains("error:"))
        #expect(!result.stderrBeyondUnseenCharacters.contains("warning:"), "no warning expected with --no-embeddings: \(result.stderr)")
    }

    @Test("the same seed gives byte-identical weights; another seed does not")
    func determinism() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        // Use the reference corpus files (same paths as the reference run, so model.json can match too).
        let again = sandbox.path("again")
        let other = sandbox.path("other-seed")
        async let first = sandbox.run(referenceArguments(files: trained.files, out: again, seed: 1))
        async let second = sandbox.run(referenceArguments(files: trained.files, out: other, seed: 2))
        let (sameSeed, otherSeed) = try await (first, second)
        #expect(sameSeed.status == 0, "\(sameSeed)")
        #expect(otherSeed.status == 0, "\(otherSeed)")

        let reference = try Files.bytes(trained.out + "/model.safetensors")
        let repeated = try Files.bytes(again + "/model.safetensors")
        let reseeded = try Files.bytes(other + "/model.safetensors")
        #expect(reference == repeated, "same command, same seed: model.safetensors must be byte-identical")
        #expect(reference.count == reseeded.count, "same architecture, same file size")
        #expect(reference != reseeded, "--seed 2 must give different weights")

        // The losses and scores of every epoch repeat exactly too.
        func scores(_ directory: String) throws -> [String] {
            try Files.text(directory + "/train-log.jsonl").split(separator: "\n").map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
                return ["epoch", "loss", "dev_f1", "dev_accuracy", "test_f1", "best"]
                    .map { "\($0)=\(object[$0].map { "\($0)" } ?? "nil")" }.joined(separator: " ")
            }
        }
        #expect(try scores(trained.out) == scores(again))

        // model.json differs only in timing.
        func withoutTimes(_ directory: String) throws -> NSDictionary {
            var object = try Files.json(directory + "/model.json")
            var record = object["training"] as? [String: Any] ?? [:]
            record["seconds"] = nil
            object["training"] = record
            return object as NSDictionary
        }
        let referenceJSON = try withoutTimes(trained.out)
        let repeatedJSON = try withoutTimes(again)
        #expect(referenceJSON == repeatedJSON, "model.json of the same-seed run differs beyond training.seconds")
    }

    @Test("--tag-column 2 trains on POS tags and selects by accuracy")
    func posLabels() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("pos")
        let result = try await sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--test", files.test, "--tag-column", "2"]
                + fastTrainingFlags + ["--epochs", "2", "--out", out, "--seed", "1"])
        #expect(result.status == 0, "\(result)")

        let model = try Files.json(out + "/model.json")
        let record = try #require(model["training"] as? [String: Any])
        #expect(record["selection_metric"] as? String == "accuracy")
        #expect(record["tag_column"] as? Int == 2)
        #expect(record["dev_f1"] == nil, "no F1 for POS tags: \(record)")
        let devAccuracy = try #require(record["dev_accuracy"] as? Double)
        #expect(devAccuracy >= 80, "POS tags of the synthetic corpus are easy: \(devAccuracy)")
        let labels = try #require((model["vocabulary"] as? [String: Any])?["labels"] as? [String])
        #expect(Set(labels) == Set(SyntheticCoNLL.fillers.map(\.pos) + ["NNP"]), "the labels are the POS column: \(labels)")

        let logLines = try Files.text(out + "/train-log.jsonl").split(separator: "\n")
        #expect(logLines.count == 2)
        for line in logLines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["dev_accuracy"] is Double)
            #expect(object["dev_f1"] == nil, "no dev_f1 in a POS run's log: \(line)")
        }
        let lastLine = try #require(result.stdoutLines.last { !$0.isEmpty })
        #expect(lastLine.contains("dev accuracy \(twoDecimals(devAccuracy))"), "\(lastLine)")
        #expect(result.stderr.contains("dev accuracy"), "\(result.stderr)")
        #expect(!result.stderr.contains("dev F1"), "\(result.stderr)")

        // evaluate on the same column: accuracy only, no conlleval table.
        let evaluation = try await sandbox.run(["evaluate", "--model", out, "--data", files.test, "--tag-column", "2"])
        #expect(evaluation.status == 0, "\(evaluation)")
        #expect(!evaluation.stdout.contains("processed "), "no chunk table for POS tags: \(evaluation.stdout)")
        #expect(evaluation.stdout.contains("token accuracy: "))
        #expect(evaluation.stdout.contains("  NNP "))
    }

    @Test("with no file flags, the data comes from $DISSECT_DATA (train.txt, valid.txt, test.txt)")
    func dataFromEnvironment() async throws {
        let sandbox = try Sandbox()
        for (name, text) in [("train.txt", SyntheticCoNLL.train), ("valid.txt", SyntheticCoNLL.dev), ("test.txt", SyntheticCoNLL.test)] {
            try Data(text.utf8).write(to: sandbox.dataDirectory.appendingPathComponent(name))
        }
        let result = try await sandbox.run(["train"] + fastTrainingFlags + ["--epochs", "1", "--out", "m"])
        #expect(result.status == 0, "\(result)")
        let record = try #require(try Files.json(sandbox.path("m") + "/model.json")["training"] as? [String: Any])
        #expect(record["train_file"] as? String == sandbox.dataDirectory.path + "/train.txt")
        #expect(record["dev_file"] as? String == sandbox.dataDirectory.path + "/valid.txt")
        #expect(record["test_file"] as? String == sandbox.dataDirectory.path + "/test.txt")

        // $DISSECT_DATA/conll2003 is searched too (here without a test.txt: no test file).
        let nested = try Sandbox()
        let directory = nested.dataDirectory.appendingPathComponent("conll2003")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(SyntheticCoNLL.train.utf8).write(to: directory.appendingPathComponent("train.txt"))
        try Data(SyntheticCoNLL.dev.utf8).write(to: directory.appendingPathComponent("valid.txt"))
        let second = try await nested.run(["train"] + fastTrainingFlags + ["--epochs", "1", "--out", "m"])
        #expect(second.status == 0, "\(second)")
        let secondRecord = try #require(try Files.json(nested.path("m") + "/model.json")["training"] as? [String: Any])
        #expect(secondRecord["train_file"] as? String == directory.path + "/train.txt")
        #expect(secondRecord["test_file"] == nil)
        #expect(!second.stdout.contains("test F1"), "\(second.stdout)")
    }

    @Test("a tiny embeddings file sets the word vectors; $DISSECT_EMBEDDINGS is found without flags")
    func embeddingsFile() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        // 5-d vectors: exact matches, a lower-cased match ("paris" for "Paris") and a word not in the corpus.
        // With train+embeddings every file word gets a row (5 exact), and "Paris" takes "paris"'s vector (1 lower-cased).
        let vectors = [("the", 0.1), ("said", -0.2), ("paris", 0.3), ("John", 0.4), ("zebra", 0.5)]
            .map { word, value in ([word] + (0..<5).map { String(format: "%.3f", value + 0.01 * Double($0)) }).joined(separator: " ") }
            .joined(separator: "\n") + "\n"
        let embeddings = try sandbox.write("vectors.txt", vectors)

        async let explicitRun = sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--embeddings", embeddings, "--hidden", "8",
             "--epochs", "1", "--out", sandbox.path("explicit")])
        async let environmentRun = sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--hidden", "8", "--epochs", "1", "--out", sandbox.path("environment")],
            environment: ["DISSECT_EMBEDDINGS": embeddings])
        async let noneRun = sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--hidden", "8", "--epochs", "1", "--out", sandbox.path("none")])
        let (explicit, environment, none) = try await (explicitRun, environmentRun, noneRun)

        for (result, out) in [(explicit, "explicit"), (environment, "environment")] {
            #expect(result.status == 0, "\(result)")
            let model = try Files.json(sandbox.path(out) + "/model.json")
            let configuration = try #require(model["configuration"] as? [String: Any])
            #expect(configuration["word_embedding_dim"] as? Int == 5)
            let record = try #require(model["training"] as? [String: Any])
            #expect(record["embeddings_file"] as? String == embeddings)
            #expect(record["vocabulary_rule"] as? String == "train+embeddings")
            let words = try #require((model["vocabulary"] as? [String: Any])?["words"] as? [String])
            #expect(words.contains("zebra"), "train+embeddings keeps words of the embeddings file")
            #expect(result.stderr.contains("(5 vectors exact, 1 lower-cased,"), "\(result.stderr)")
            #expect(!result.stderr.contains("warning:"), "\(result.stderr)")
        }
        // Without any embeddings file: a warning, random vectors of --word-dim (50).
        #expect(none.status == 0, "\(none)")
        #expect(none.stderr.contains("warning: no embeddings file found"), "\(none.stderr)")
        let model = try Files.json(sandbox.path("none") + "/model.json")
        #expect((model["configuration"] as? [String: Any])?["word_embedding_dim"] as? Int == 50)
        #expect((model["training"] as? [String: Any])?["embeddings_file"] == nil)
    }

    @Test("--overwrite replaces a model already in --out")
    func overwrite() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("copy")
        try Files.copyDirectory(trained.out, to: out)
        let result = try await sandbox.run(
            ["train", "--train", trained.files.train, "--dev", trained.files.dev]
                + fastTrainingFlags + ["--epochs", "1", "--out", out, "--seed", "3", "--overwrite"])
        #expect(result.status == 0, "\(result)")
        let record = try #require(try Files.json(out + "/model.json")["training"] as? [String: Any])
        #expect(record["seed"] as? Int == 3)
        #expect(record["epochs"] as? Int == 1)
        #expect(try Files.text(out + "/train-log.jsonl").split(separator: "\n").count == 1, "the old log is replaced")
        #expect(try Files.bytes(out + "/model.safetensors") != Files.bytes(trained.out + "/model.safetensors"))
    }
}
