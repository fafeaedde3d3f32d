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

    @Test("SIGTERM after seed 1 has finished: whole files; the rerun reuses seed 1 byte for byte, trains what is left and completes")
    func signalThenResume() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("paper")
        let epochs = 4
        let arguments = ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--embeddings", try sandbox.writeEmbeddings(),
                         "--seeds", "1,2", "--epochs", "\(epochs)", "--lr", "0.1", "--batch-size", "2", "--dropout", "0",
                         "--steps", "2", "--random", "1", "--out", out]
        let seed1 = out + "/seed-1", seed2 = out + "/seed-2"
        // The kill waits until the pipeline has announced seed 2's training (it does so only
        // after seed 1 is saved) and seed 1's checkpoint says it finished. No fixed sleep: the
        // watcher polls every 2 ms. With the debug build seed 2 then trains for seconds, so
        // the kill lands in its training; a release build may be through seed 2 by then.
        let signalled = LockedValue(false)
        let stopped = try await sandbox.run(arguments, timeout: 600, onStart: { process in
            let ready = process.wait(timeout: 500, interval: 0.002) {
                process.stderr.contains("seed 2: training") && Self.finished(seed1) == true
            }
            signalled.value = ready
            kill(process.pid, SIGTERM)
        })
        try #require(signalled.value, "seed 1 never finished, or seed 2 never started training: \(stopped)")
        #expect(stopped.status == 130, "\(stopped)")
        #expect(stopped.stderr.contains("stopped by SIGTERM"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("[2/6] seed 2: training"), "\(stopped.stderr)")
        func temporaries(_ path: String) -> [String] {
            (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
        }
        #expect(temporaries(out).isEmpty, "\(temporaries(out))")
        #expect(!Files.exists(out + "/report.html"))
        #expect(!Files.exists(out + "/summary.json"))
        // Seed 1 is whole and finished. Seed 2 is normally unfinished (no checkpoint yet, or
        // an unfinished one): the kill landed in its training.
        #expect(Self.finished(seed1) == true)
        let seed2Finished = Self.finished(seed2) == true
        if !seed2Finished {
            #expect(!stopped.stderr.contains("[3/6]"), "the kill landed in seed 2's training: \(stopped.stderr)")
        }
        let checkpointFiles = ["model.json", "model.safetensors", "train-log.jsonl"]
        var before: [String: Data] = [:], before2: [String: Data] = [:]
        for name in checkpointFiles { before[name] = try Files.bytes(seed1 + "/" + name) }
        if seed2Finished { for name in checkpointFiles { before2[name] = try Files.bytes(seed2 + "/" + name) } }
        let evaluation = try await sandbox.run(["evaluate", "--model", seed1, "--data", files.test])
        #expect(evaluation.status == 0, "seed 1's checkpoint loads and scores: \(evaluation)")

        let resumed = try await sandbox.run(arguments, timeout: 600)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(resumed.stderr.contains("seed 1: finished checkpoint found in \(seed1); not retrained"), "\(resumed.stderr)")
        let epochLines = resumed.stderr.split(separator: "\n").filter { $0.hasPrefix("  epoch ") }
        if seed2Finished {
            // Stopped after seed 2's training: nothing is retrained.
            #expect(resumed.stderr.contains("seed 2: finished checkpoint found in \(seed2); not retrained"), "\(resumed.stderr)")
            #expect(epochLines.isEmpty, "\(resumed.stderr)")
            for name in checkpointFiles {
                #expect(try Files.bytes(seed2 + "/" + name) == before2[name], "seed-2/\(name) changed in the rerun")
            }
        } else {
            // Only seed 2 is trained: one line per epoch of one seed.
            #expect(!resumed.stderr.contains("seed 2: finished checkpoint found"), "\(resumed.stderr)")
            #expect(epochLines.count == epochs, "\(resumed.stderr)")
        }
        for name in checkpointFiles {
            #expect(try Files.bytes(seed1 + "/" + name) == before[name], "seed-1/\(name) changed in the rerun")
        }
        #expect(Self.finished(seed2) == true)
        #expect(Files.exists(out + "/report.html"))
        #expect(temporaries(out).isEmpty, "\(temporaries(out))")
        let summary = try Files.json(out + "/summary.json")
        let seeds = try #require(summary["seeds"] as? [[String: Any]])
        #expect(seeds.map { $0["seed"] as? Int } == [1, 2])
        #expect(seeds.map { $0["reused"] as? Bool } == [true, seed2Finished])
    }
}
