import Foundation
import Testing

/// `--lr 1e30` makes the loss NaN within a few batches. Training stops at
/// once with one error line and exit 1; what is left in --out belongs to the
/// run (its best checkpoint so far, marked unfinished, or no model at all),
/// and every JSON file there stays valid.
@Suite("training that diverges")
struct DivergenceTests {
    /// The fast flags with another learning rate and batch size.
    static func flags(lr: String, batchSize: String) -> [String] {
        ["--no-embeddings", "--hidden", "8", "--batch-size", batchSize, "--lr", lr, "--dropout", "0"]
    }

    static func trainArguments(_ files: (train: String, dev: String, test: String), out: String, lr: String = "1e30",
                               batchSize: String = "2", epochs: String = "3") -> [String] {
        ["train", "--train", files.train, "--dev", files.dev, "--test", files.test]
            + flags(lr: lr, batchSize: batchSize) + ["--epochs", epochs, "--out", out]
    }

    /// The last line of stderr, which must be the divergence error: epoch and batch from 1, the quantity, the fix.
    static func divergenceLine(_ result: RunResult, epoch: Int, fix: String = "lower --lr or set --clip") throws -> String {
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let last = try #require(lines.last)
        let pattern = try Regex(
            #"error: training diverged in epoch \#(epoch), batch [1-9][0-9]* \((loss is|gradient is|weights are) (NaN|infinite)\); "#
            + NSRegularExpression.escapedPattern(for: fix))
        #expect(last.wholeMatch(of: pattern) != nil, "\(result.stderr)")
        #expect(lines.filter { $0.hasPrefix("error:") }.count == 1, "one error line: \(result.stderr)")
        return last
    }

    /// Every line of train-log.jsonl is a JSON object with a finite loss.
    static func expectValidLog(_ path: String, lines expected: Int) throws {
        let text = try Files.text(path)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == expected, "\(text)")
        #expect(text.isEmpty || text.hasSuffix("\n"))
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect((object["loss"] as? Double)?.isFinite == true, "\(line)")
        }
    }

    static func noTemporaries(_ directory: String) -> Bool { Files.listing(directory).allSatisfy { !$0.contains(".tmp-") } }

    @Test("lr 1e30 before any epoch finished: exit 1, the divergence line, no model files, an empty valid log")
    func divergesInTheFirstEpoch() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("model")
        let result = try await sandbox.run(Self.trainArguments(files, out: out))
        #expect(result.status == 1, "\(result)")
        _ = try Self.divergenceLine(result, epoch: 1)
        #expect(result.stderr.contains("no epoch finished, so no model was written"), "\(result.stderr)")
        #expect(Files.listing(out) == ["train-log.jsonl"], "no model files, nothing half-written")
        try Self.expectValidLog(out + "/train-log.jsonl", lines: 0)
        #expect(!result.stderr.contains("EncodingError"))
    }

    /// One batch per epoch (batch size 1000 > 60 sentences): epoch 1 takes one
    /// huge but finite step and is saved as the best so far; epoch 2's first
    /// batch then diverges.
    @Test("divergence after a saved epoch: the best checkpoint stays loadable and marked unfinished")
    func divergesAfterACheckpoint() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("model")
        let result = try await sandbox.run(Self.trainArguments(files, out: out, batchSize: "1000"))
        #expect(result.status == 1, "\(result)")
        let line = try Self.divergenceLine(result, epoch: 2)
        #expect(line.contains("batch 1 "), "\(line)")
        #expect(result.stderr.contains("the best checkpoint so far (epoch 1) stays loadable"), "\(result.stderr)")
        #expect(Files.listing(out) == ["model.json", "model.safetensors", "train-log.jsonl"])
        #expect(Self.noTemporaries(out))
        try Self.expectValidLog(out + "/train-log.jsonl", lines: 1)
        let record = try #require(try Files.json(out + "/model.json")["training"] as? [String: Any])
        #expect(record["finished"] as? Bool == false)
        #expect(record["best_epoch"] as? Int == 1)
        let evaluation = try await sandbox.run(["evaluate", "--model", out, "--data", files.test, "--json"])
        #expect(evaluation.status == 0, "\(evaluation)")
        #expect((try? JSONSerialization.jsonObject(with: Data(evaluation.stdout.utf8))) != nil, "evaluate --json stays valid JSON")
        // The next train run says the directory holds an unfinished run.
        let again = try await sandbox.run(Self.trainArguments(files, out: out, lr: "0.1"))
        #expect(again.status == 2, "\(again)")
        #expect(again.stderr.contains("unfinished (interrupted) training run"), "\(again.stderr)")
    }

    /// --overwrite over an older, finished model: the old files go as soon as
    /// training starts, so a run that diverges before its first checkpoint
    /// does not leave the old model looking like its result.
    @Test("--overwrite, then divergence before any checkpoint: the older model is gone, not passed off as this run's")
    func overwriteThenDiverge() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("model")
        let good = try await sandbox.run(Self.trainArguments(files, out: out, lr: "0.1", epochs: "1"))
        #expect(good.status == 0, "\(good)")
        try Self.expectValidLog(out + "/train-log.jsonl", lines: 1)
        let result = try await sandbox.run(Self.trainArguments(files, out: out) + ["--overwrite"])
        #expect(result.status == 1, "\(result)")
        _ = try Self.divergenceLine(result, epoch: 1)
        #expect(Files.listing(out) == ["train-log.jsonl"], "\(Files.listing(out))")
        try Self.expectValidLog(out + "/train-log.jsonl", lines: 0)
    }

    /// A bad train file with --overwrite fails before training starts: the older model is kept.
    @Test("--overwrite with unreadable data leaves the older model alone")
    func overwriteWithBadDataKeepsTheOldModel() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("model")
        let good = try await sandbox.run(Self.trainArguments(files, out: out, lr: "0.1", epochs: "1"))
        #expect(good.status == 0, "\(good)")
        let before = try Files.snapshot(out)
        let missing = sandbox.path("missing.conll")
        let result = try await sandbox.run(Self.trainArguments((missing, files.dev, files.test), out: out) + ["--overwrite"])
        #expect(result.status == 1, "\(result)")
        let after = try Files.snapshot(out)
        #expect(after.keys.sorted() == before.keys.sorted())
        for (name, (bytes, _)) in before { #expect(after[name]?.0 == bytes, "\(name) untouched") }
    }

    /// reproduce: a seed that diverges stops the run (exit 1, the same line with
    /// reproduce's own fix); a seed finished earlier is kept and reused by the rerun.
    @Test("reproduce: a diverging seed stops the run; finished seeds stay and are reused")
    func reproduceStopsAtADivergingSeed() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let embeddings = try sandbox.writeEmbeddings()
        let out = sandbox.path("paper")
        func arguments(seeds: String, lr: String) -> [String] {
            ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--embeddings", embeddings,
             "--seeds", seeds, "--epochs", "1", "--lr", lr, "--batch-size", "2", "--dropout", "0",
             "--steps", "2", "--random", "1", "--out", out]
        }
        let first = try await sandbox.run(arguments(seeds: "1", lr: "0.1"), timeout: 300)
        #expect(first.status == 0, "\(first)")
        // Seed 1 stands for a seed that finished at this learning rate (the same
        // options for every seed, so no other way to finish one and diverge another).
        let metadataPath = out + "/seed-1/model.json"
        var metadata = try Files.json(metadataPath)
        var training = try #require(metadata["training"] as? [String: Any])
        var options = try #require(training["options"] as? [String: Any])
        options["learning_rate"] = 1e30
        training["options"] = options
        metadata["training"] = training
        try JSONSerialization.data(withJSONObject: metadata).write(to: URL(fileURLWithPath: metadataPath))
        let kept = ["model.json", "model.safetensors", "train-log.jsonl"]
        let seedOne = try kept.map { try Files.bytes(out + "/seed-1/" + $0) }
        let summary = try Files.bytes(out + "/summary.json")

        for attempt in 1...2 {
            let result = try await sandbox.run(arguments(seeds: "1,2", lr: "1e30"), timeout: 300)
            #expect(result.status == 1, "attempt \(attempt): \(result)")
            _ = try Self.divergenceLine(result, epoch: 1, fix: "lower --lr")
            #expect(result.stderr.contains("seed 1: finished checkpoint found"), "attempt \(attempt): \(result.stderr)")
            #expect(result.stderr.contains("[2/6] seed 2: training"), "\(result.stderr)")
            #expect(try kept.map { try Files.bytes(out + "/seed-1/" + $0) } == seedOne, "seed 1 is kept as it was")
            #expect(Files.listing(out + "/seed-2") == ["train-log.jsonl"], "\(Files.listing(out + "/seed-2"))")
            try Self.expectValidLog(out + "/seed-2/train-log.jsonl", lines: 0)
            #expect(try Files.bytes(out + "/summary.json") == summary, "a run that stopped writes no summary")
        }
    }
}
