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
    @Test("SIGTERM stops reproduce with whole files; the rerun continues and finishes")
    func signalThenResume() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let out = sandbox.path("paper")
        let arguments = ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--embeddings", try sandbox.writeEmbeddings(),
                         "--seeds", "1,2", "--epochs", "3", "--lr", "0.1", "--batch-size", "2", "--dropout", "0",
                         "--steps", "2", "--random", "1", "--out", out]
        let firstCheckpoint = out + "/seed-1/model.json"
        let stopped = try await sandbox.run(arguments, timeout: 300) { pid in
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: firstCheckpoint) && Date() < deadline { usleep(20_000) }
            kill(pid, SIGTERM)
        }
        #expect(stopped.status == 130, "\(stopped)")
        #expect(stopped.stderr.contains("stopped by SIGTERM"), "\(stopped.stderr)")
        func temporaries(_ path: String) -> [String] {
            (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
        }
        #expect(temporaries(out).isEmpty, "\(temporaries(out))")
        #expect(!Files.exists(out + "/report.html"))
        let resumed = try await sandbox.run(arguments, timeout: 300)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(Files.exists(out + "/report.html"))
        let summary = try Files.json(out + "/summary.json")
        #expect((summary["seeds"] as? [[String: Any]])?.count == 2)
    }
}
