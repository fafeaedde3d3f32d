import DissectCore
import Foundation
import Testing

/// Reruns never reuse a stale model: model.json records the SHA-256 of each
/// input file and every option, and `reproduce` reuses a finished seed only
/// when all of them match; otherwise it says what changed and trains that seed again.
@Suite("reruns and stale models", .serialized)
struct StaleReuseTests {
    @Test("train records the SHA-256 of train, dev, test and embeddings in model.json")
    func trainRecordsHashes() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let embeddings = try sandbox.writeEmbeddings()
        let out = sandbox.path("model")
        let result = try await sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--test", files.test, "--embeddings", embeddings,
             "--hidden", "8", "--batch-size", "2", "--lr", "0.1", "--dropout", "0", "--epochs", "1", "--out", out])
        #expect(result.status == 0, "\(result)")
        let record = try #require(try Files.json(out + "/model.json")["training"] as? [String: Any])
        for (key, path) in [("train_sha256", files.train), ("dev_sha256", files.dev), ("test_sha256", files.test),
                            ("embeddings_sha256", embeddings)] {
            #expect(record[key] as? String == (try SHA256.hash(file: path)), "\(key)")
            #expect((record[key] as? String)?.count == 64)
        }
        // Without a test file or embeddings, those hashes are left out.
        let bare = sandbox.path("bare")
        let second = try await sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev] + fastTrainingFlags + ["--epochs", "1", "--out", bare])
        #expect(second.status == 0, "\(second)")
        let bareRecord = try #require(try Files.json(bare + "/model.json")["training"] as? [String: Any])
        #expect(bareRecord["train_sha256"] as? String == (try SHA256.hash(file: files.train)))
        #expect(bareRecord["test_sha256"] == nil && bareRecord["embeddings_sha256"] == nil)
    }

    static func arguments(train: String, dev: String, test: String, embeddings: String, out: String, epochs: String = "2") -> [String] {
        ["reproduce", "--train", train, "--dev", dev, "--test", test, "--embeddings", embeddings,
         "--seeds", "1", "--epochs", epochs, "--lr", "0.1", "--batch-size", "2", "--dropout", "0",
         "--steps", "2", "--random", "1", "--out", out]
    }

    static let modelFiles = ["model.json", "model.safetensors", "train-log.jsonl"]

    static func modelBytes(_ directory: String) throws -> [Data] {
        try modelFiles.map { try Files.bytes(directory + "/" + $0) }
    }

    @Test("reproduce reuses a seed only while every input and option matches; otherwise it names the change and retrains")
    func reproduceRetrainsStaleSeeds() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let embeddings = try sandbox.writeEmbeddings()
        let out = sandbox.path("paper")
        let seed = out + "/seed-1"

        let first = try await sandbox.run(
            Self.arguments(train: files.train, dev: files.dev, test: files.test, embeddings: embeddings, out: out), timeout: 300)
        #expect(first.status == 0, "\(first)")
        let trained = try Self.modelBytes(seed)

        // The same bytes under other paths: reused, byte for byte, without a warning about it.
        let copies = try [files.train, files.dev, files.test, embeddings].map { path -> String in
            let copy = sandbox.path("copy-" + (path as NSString).lastPathComponent)
            try Files.copyDirectory(path, to: copy)
            return copy
        }
        let same = try await sandbox.run(
            Self.arguments(train: copies[0], dev: copies[1], test: copies[2], embeddings: copies[3], out: out), timeout: 300)
        #expect(same.status == 0, "\(same)")
        #expect(same.stderr.contains("seed 1: finished checkpoint found"), "\(same.stderr)")
        #expect(!same.stderr.contains("training seed 1 again"), "\(same.stderr)")
        #expect(try Self.modelBytes(seed) == trained, "a reused seed is left byte for byte")

        // The train file changes in place: that seed is trained again, and the message names the file.
        try (SyntheticCoNLL.train + SyntheticCoNLL.text(Array(SyntheticCoNLL.devSentences.prefix(3)))).write(
            toFile: files.train, atomically: true, encoding: .utf8)
        let changed = try await sandbox.run(
            Self.arguments(train: files.train, dev: files.dev, test: files.test, embeddings: embeddings, out: out), timeout: 300)
        #expect(changed.status == 0, "\(changed)")
        #expect(changed.stderr.contains("warning: \(seed): train file changed (SHA-256 differs); training seed 1 again"), "\(changed.stderr)")
        #expect(!changed.stderr.contains("seed 1: finished checkpoint found"), "\(changed.stderr)")
        #expect(changed.stderr.contains("epoch 2/2"), "seed 1 was trained again")
        let record = try #require(try Files.json(seed + "/model.json")["training"] as? [String: Any])
        #expect(record["train_sha256"] as? String == (try SHA256.hash(file: files.train)))
        #expect(record["finished"] as? Bool == true)
        let retrained = try Self.modelBytes(seed)
        #expect(retrained != trained)

        // Other embeddings and another --epochs: both are named.
        let otherEmbeddings = try sandbox.write("other-vectors.txt", SyntheticEmbeddings.text(seed: 8))
        let both = try await sandbox.run(
            Self.arguments(train: files.train, dev: files.dev, test: files.test, embeddings: otherEmbeddings, out: out, epochs: "1"),
            timeout: 300)
        #expect(both.status == 0, "\(both)")
        #expect(both.stderr.contains("\(seed): embeddings file changed (SHA-256 differs), --epochs changed from 2 to 1; training seed 1 again"),
                "\(both.stderr)")
        #expect((try Files.json(seed + "/model.json")["training"] as? [String: Any])?["epochs"] as? Int == 1)

        // A checkpoint from before the hashes were recorded is trained again too.
        let metadataPath = seed + "/model.json"
        var metadata = try Files.json(metadataPath)
        var training = try #require(metadata["training"] as? [String: Any])
        for key in ["train_sha256", "dev_sha256", "test_sha256", "embeddings_sha256"] { training[key] = nil }
        metadata["training"] = training
        try JSONSerialization.data(withJSONObject: metadata).write(to: URL(fileURLWithPath: metadataPath))
        let old = try await sandbox.run(
            Self.arguments(train: files.train, dev: files.dev, test: files.test, embeddings: otherEmbeddings, out: out, epochs: "1"),
            timeout: 300)
        #expect(old.status == 0, "\(old)")
        #expect(old.stderr.contains("model.json records no SHA-256 of its input files (an older dissect wrote it); training seed 1 again"),
                "\(old.stderr)")
    }

    @Test("reproduce without any embeddings file: one error line naming the fix, exit 2, nothing written")
    func reproduceNeedsEmbeddings() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("paper")
        let result = try await sandbox.run(
            ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--seeds", "1", "--epochs", "1",
             "--out", out])
        #expect(result.status == 2, "\(result)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 1, "\(result.stderr)")
        let line = try #require(lines.first)
        #expect(line.hasPrefix("error: no embeddings file found in $DISSECT_EMBEDDINGS"), "\(line)")
        #expect(line.contains("; pass --embeddings FILE or set $DISSECT_EMBEDDINGS; "), "\(line)")
        #expect(line.hasSuffix("`dissect data check --data-dir DIR`"), "\(line)")
        #expect(!Files.exists(out))
        // $DISSECT_EMBEDDINGS is enough.
        let embeddings = try sandbox.writeEmbeddings()
        let found = try await sandbox.run(
            ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--seeds", "1", "--epochs", "1",
             "--batch-size", "2", "--lr", "0.1", "--steps", "1", "--random", "1", "--out", out],
            environment: ["DISSECT_EMBEDDINGS": embeddings], timeout: 300)
        #expect(found.status == 0, "\(found)")
        let record = try #require(try Files.json(out + "/seed-1/model.json")["training"] as? [String: Any])
        #expect(record["embeddings_file"] as? String == embeddings)
    }

    @Test("train without any embeddings file still warns and starts from random vectors")
    func trainWithoutEmbeddingsWarns() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("model")
        let result = try await sandbox.run(
            ["train", "--train", files.train, "--dev", files.dev, "--hidden", "8", "--epochs", "1", "--out", out])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("warning: no embeddings file found; word vectors start at random"), "\(result.stderr)")
    }

    /// SIGTERM while a seed trains inside reproduce: the message tells the user
    /// to rerun the same command (reproduce takes no --overwrite), and that the
    /// interrupted seed is trained again from its start.
    @Test("reproduce interrupted mid-training says to rerun the same command")
    func interruptedMidTraining() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let embeddings = try sandbox.writeEmbeddings()
        let out = sandbox.path("paper")
        let checkpoint = out + "/seed-1/model.json"
        let result = try await sandbox.run(
            Self.arguments(train: files.train, dev: files.dev, test: files.test, embeddings: embeddings, out: out, epochs: "100000"),
            timeout: 300
        ) { pid in
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(20_000) }
            kill(pid, SIGTERM)
        }
        #expect(result.status == 130, "\(result)")
        let last = try #require(result.stderr.split(separator: "\n").last.map(String.init))
        #expect(last.hasPrefix("error: \(out)/seed-1: training stopped by SIGTERM during epoch"), "\(last)")
        #expect(last.hasSuffix("; rerun the same command: finished seeds are kept and seed 1 is trained again from its start"), "\(last)")
        #expect(!result.stderr.contains("--overwrite"), "reproduce takes no --overwrite: \(result.stderr)")
    }
}

extension StaleReuseTests {
    @Test("reproduce with an --embeddings file that does not exist: exit 1, names it")
    func reproduceMissingEmbeddingsFile() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let missing = sandbox.path("no-such-vectors.txt")
        let result = try await sandbox.run(
            Self.arguments(train: files.train, dev: files.dev, test: files.test, embeddings: missing, out: sandbox.path("paper")))
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("error: \(missing): the embeddings file does not exist; check the path"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}
