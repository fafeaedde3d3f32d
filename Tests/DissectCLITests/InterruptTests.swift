import Foundation
import Testing

/// Killing a real training run: the last good checkpoint stays whole, no
/// temporary file is left behind, and the next run starts cleanly.
@Suite("interrupting train")
struct InterruptTests {
    @Test("SIGINT and SIGTERM stop training between batches and keep the best checkpoint", arguments: [SIGINT, SIGTERM])
    func signalStopsTrainingCleanly(signalNumber: Int32) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("model")
        let arguments = ["train", "--train", files.train, "--dev", files.dev, "--test", files.test, "--no-embeddings",
                         "--hidden", "8", "--epochs", "100000", "--batch-size", "2", "--out", out]
        let checkpoint = out + "/model.json"
        let result = try await sandbox.run(arguments, timeout: 120) { pid in
            // Wait for the first best-dev checkpoint, then signal mid-run.
            let deadline = Date().addingTimeInterval(90)
            while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(20_000) }
            usleep(200_000)
            kill(pid, signalNumber)
        }
        #expect(result.status == 130, "\(result)")
        #expect(result.stderr.contains("error: \(out): training stopped by \(signalNumber == SIGINT ? "SIGINT" : "SIGTERM")"), "\(result.stderr)")
        #expect(result.stderr.contains("is intact"), "\(result.stderr)")
        // Only whole files: no temporary names.
        let listing = Files.listing(out)
        #expect(listing.allSatisfy { !$0.contains(".tmp-") }, "\(listing)")
        #expect(Set(listing).isSuperset(of: ["model.json", "model.safetensors"]), "\(listing)")
        // The checkpoint loads and scores.
        let evaluation = try await sandbox.run(["evaluate", "--model", out, "--data", files.test])
        #expect(evaluation.status == 0, "\(evaluation)")
        let metadata = try Files.json(checkpoint)
        #expect((metadata["training"] as? [String: Any])?["finished"] as? Bool == false)
        // The next run says what it found and starts cleanly with --overwrite.
        let again = try await sandbox.run(arguments)
        #expect(again.status == 2, "\(again)")
        #expect(again.stderr.contains("unfinished (interrupted) training run"), "\(again.stderr)")
        var fresh = arguments
        fresh[fresh.firstIndex(of: "100000")!] = "1"
        let restarted = try await sandbox.run(fresh + ["--overwrite"])
        #expect(restarted.status == 0, "\(restarted)")
        #expect((try Files.json(checkpoint)["training"] as? [String: Any])?["finished"] as? Bool == true)
    }
}

@Suite("interrupting reproduce")
struct ReproduceInterruptTests {
    /// The `finished` flag of a checkpoint's training record; nil when there is no readable model.json.
    static func finished(_ directory: String) -> Bool? {
        guard let data = FileManager.default.contents(atPath: directory + "/model.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let training = object["training"] as? [String: Any] else { return nil }
        return training["finished"] as? Bool
    }

    @Test("SIGTERM after seeds 1 and 2 (trained side by side) have finished: whole files; the rerun reuses them byte for byte, trains what is left and completes")
    func signalThenResume() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("paper")
        let epochs = 4
        let arguments = ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--embeddings", try sandbox.writeEmbeddings(),
                         "--seeds", "1-3", "--epochs", "\(epochs)", "--lr", "0.1", "--batch-size", "2", "--dropout", "0",
                         "--steps", "2", "--random", "1", "--out", out]
        let finishedSeeds = [out + "/seed-1", out + "/seed-2"], seed3 = out + "/seed-3"
        // With --threads 2 seeds 1 and 2 train side by side, then seed 3. The kill waits until the
        // pipeline has announced seed 3's training (it does so only after seeds 1 and 2 are saved) and
        // both checkpoints say they finished. No fixed sleep: the watcher polls every 2 ms. With the
        // debug build seed 3 then trains for seconds, so the kill lands in its training; a release
        // build may be through seed 3 by then.
        let signalled = LockedValue(false)
        let stopped = try await sandbox.run(arguments, timeout: 600, onStart: { process in
            let ready = process.wait(timeout: 500, interval: 0.002) {
                process.stderr.contains("seed 3: training") && finishedSeeds.allSatisfy { Self.finished($0) == true }
            }
            signalled.value = ready
            kill(process.pid, SIGTERM)
        })
        try #require(signalled.value, "seeds 1 and 2 never finished, or seed 3 never started training: \(stopped)")
        #expect(stopped.status == 130, "\(stopped)")
        #expect(stopped.stderr.contains("stopped by SIGTERM"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("[3/8] seed 3: training"), "\(stopped.stderr)")
        func temporaries(_ path: String) -> [String] {
            (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
        }
        #expect(temporaries(out).isEmpty, "\(temporaries(out))")
        #expect(!Files.exists(out + "/report.html"))
        #expect(!Files.exists(out + "/summary.json"))
        // Seeds 1 and 2 are whole and finished. Seed 3 is normally unfinished (no checkpoint yet, or
        // an unfinished one): the kill landed in its training.
        for seed in finishedSeeds { #expect(Self.finished(seed) == true) }
        let seed3Finished = Self.finished(seed3) == true
        if !seed3Finished {
            #expect(!stopped.stderr.contains("[4/8]"), "the kill landed in seed 3's training: \(stopped.stderr)")
        }
        let checkpointFiles = ["model.json", "model.safetensors", "train-log.jsonl"]
        var before: [String: Data] = [:]
        for seed in finishedSeeds + (seed3Finished ? [seed3] : []) {
            for name in checkpointFiles { before[seed + "/" + name] = try Files.bytes(seed + "/" + name) }
        }
        let evaluation = try await sandbox.run(["evaluate", "--model", finishedSeeds[0], "--data", files.test])
        #expect(evaluation.status == 0, "seed 1's checkpoint loads and scores: \(evaluation)")

        let resumed = try await sandbox.run(arguments, timeout: 600)
        #expect(resumed.status == 0, "\(resumed)")
        for (number, seed) in zip([1, 2], finishedSeeds) {
            #expect(resumed.stderr.contains("seed \(number): finished checkpoint found in \(seed); not retrained"), "\(resumed.stderr)")
        }
        let epochLines = resumed.stderr.split(separator: "\n").filter { $0.hasPrefix("  seed ") && $0.contains(", epoch ") }
        if seed3Finished {
            // Stopped after seed 3's training: nothing is retrained.
            #expect(resumed.stderr.contains("seed 3: finished checkpoint found in \(seed3); not retrained"), "\(resumed.stderr)")
            #expect(epochLines.isEmpty, "\(resumed.stderr)")
        } else {
            // Only seed 3 is trained: one line per epoch of one seed.
            #expect(!resumed.stderr.contains("seed 3: finished checkpoint found"), "\(resumed.stderr)")
            #expect(epochLines.count == epochs && epochLines.allSatisfy { $0.hasPrefix("  seed 3, epoch ") }, "\(resumed.stderr)")
        }
        for (path, bytes) in before {
            #expect(try Files.bytes(path) == bytes, "\(path) changed in the rerun")
        }
        #expect(Self.finished(seed3) == true)
        #expect(Files.exists(out + "/report.html"))
        #expect(temporaries(out).isEmpty, "\(temporaries(out))")
        let summary = try Files.json(out + "/summary.json")
        let seeds = try #require(summary["seeds"] as? [[String: Any]])
        #expect(seeds.map { $0["seed"] as? Int } == [1, 2, 3])
        #expect(seeds.map { $0["reused"] as? Bool } == [true, true, seed3Finished])
    }

    @Test("SIGTERM while seeds 1 and 2 train side by side: both stop whole, the error names both, the rerun trains both")
    func signalDuringSideBySideTraining() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("paper")
        let arguments = ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--embeddings", try sandbox.writeEmbeddings(),
                         "--seeds", "1,2", "--epochs", "100000", "--lr", "0.1", "--batch-size", "2", "--dropout", "0",
                         "--steps", "2", "--random", "1", "--out", out]
        // Both have saved a best epoch (model.json exists) when the signal comes; neither can have finished 100,000 epochs.
        let stopped = try await sandbox.run(arguments, timeout: 600, onStart: { process in
            _ = process.wait(timeout: 300, interval: 0.002) {
                Files.exists(out + "/seed-1/model.json") && Files.exists(out + "/seed-2/model.json")
            }
            kill(process.pid, SIGTERM)
        })
        #expect(stopped.status == 130, "\(stopped)")
        let last = try #require(stopped.stderr.split(separator: "\n").last.map(String.init))
        #expect(last.hasPrefix("error: \(out)/seed-1: training stopped by SIGTERM during epoch"), "\(last)")
        #expect(last.hasSuffix("; rerun the same command: finished seeds are kept and seeds 1 and 2 are trained again from their start"), "\(last)")
        #expect(stopped.stderr.filter { $0 == "\n" }.count >= 1 && stopped.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1,
                "one error line: \(stopped.stderr)")
        for seed in [1, 2] { #expect(Self.finished(out + "/seed-\(seed)") == false, "seed \(seed) is marked unfinished") }
        let temporaries = (FileManager.default.enumerator(atPath: out)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
        #expect(temporaries.isEmpty, "\(temporaries)")
        var again = arguments
        again[again.firstIndex(of: "100000") ?? 0] = "2"
        let resumed = try await sandbox.run(again, timeout: 600)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(!resumed.stderr.contains("finished checkpoint found"), "neither seed is reused: \(resumed.stderr)")
        for seed in [1, 2] { #expect(Self.finished(out + "/seed-\(seed)") == true) }
    }
}
