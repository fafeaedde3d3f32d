import Foundation
import Testing

/// `dissect sweep` end to end on the tiny synthetic corpus, the one `--seeds` parser as every command
/// sees it, and `--threads`, which never changes a result.
@Suite("dissect sweep", .serialized)
struct SweepTests {
    /// reproduce's flags, as small as a run can be; the same for `reproduce` and `sweep`.
    static func flags(_ files: (train: String, dev: String, test: String), seeds: String) -> [String] {
        ["--train", files.train, "--dev", files.dev, "--test", files.test, "--embeddings", SyntheticEmbeddings.path(besides: files.train),
         "--seeds", seeds, "--epochs", "1", "--lr", "0.1", "--batch-size", "2", "--dropout", "0", "--steps", "2", "--random", "2",
         "--recurrent-random", "1", "--bootstrap", "0", "--permutations", "0"]
    }

    @Test("a local sweep of two seeds trains and aggregates what reproduce does, whatever --threads, and a rerun skips it")
    func localSweepMatchesReproduce() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let sweep = sandbox.path("sweep")
        // One thread per run here, reproduce's default of two below: no result may differ.
        let first = try await sandbox.run(["sweep"] + Self.flags(files, seeds: "1-2") + ["--threads", "1", "--out", sweep], timeout: 300)
        #expect(first.status == 0, "\(first)")
        #expect(first.stderr.contains("sweep: 2 runs in 1 group, 2 to run"), "\(first.stderr)")
        #expect(first.stdout.contains("group all: 2 seeds"), "\(first.stdout)")
        for run in ["seed-1", "seed-2"] {
            #expect(Files.exists(sweep + "/runs/\(run)/run.json") && Files.exists(sweep + "/logs/\(run).log"), "\(run)")
        }
        let runs = try Files.text(sweep + "/aggregate/runs.csv").split(separator: "\n")
        #expect(runs.count == 3 && runs[1].hasPrefix("seed-1,all,1,lstm,50,1,off,"), "\(runs)")
        #expect(Self.isWellFormed(sweep + "/aggregate/all/report.html"))

        // reproduce with the same flags: the same checkpoints, and the same correlation and comparison across the seeds.
        let paper = sandbox.path("paper")
        let reproduce = try await sandbox.run(["reproduce"] + Self.flags(files, seeds: "1,2") + ["--out", paper], timeout: 300)
        #expect(reproduce.status == 0, "\(reproduce)")
        for seed in [1, 2] {
            #expect(try Files.bytes(sweep + "/runs/seed-\(seed)/seed-\(seed)/model.safetensors") == Files.bytes(paper + "/seed-\(seed)/model.safetensors"))
        }
        for file in ["correlation-dev/correlation.json", "correlation-test/correlation.json", "compare-seeds/compare.json"] {
            #expect(try Files.bytes(sweep + "/aggregate/all/" + file) == Files.bytes(paper + "/" + file), "\(file) differs from reproduce's")
        }

        // A rerun (with another --threads, which changes no result) skips both finished runs and aggregates again.
        let weights = try Files.bytes(sweep + "/runs/seed-1/seed-1/model.safetensors")
        let second = try await sandbox.run(["sweep"] + Self.flags(files, seeds: "1-2") + ["--out", sweep], timeout: 300)
        #expect(second.status == 0, "\(second)")
        #expect(second.stderr.contains("run seed-1: finished earlier with the same inputs; skipped"), "\(second.stderr)")
        #expect(second.stderr.contains("run seed-2: finished earlier with the same inputs; skipped"), "\(second.stderr)")
        #expect(second.stderr.contains("0 to run") && !second.stderr.contains("started"), "\(second.stderr)")
        #expect(try Files.bytes(sweep + "/runs/seed-1/seed-1/model.safetensors") == weights)
        #expect(Files.exists(sweep + "/aggregate/aggregate.json"))

        // A changed analysis flag reruns the runs; their checkpoints, whose training inputs match, are kept.
        let third = try await sandbox.run(
            ["sweep"] + Self.flags(files, seeds: "1-2").replacingStep(with: "3") + ["--out", sweep], timeout: 300)
        #expect(third.status == 0, "\(third)")
        #expect(third.stderr.contains("2 to run"), "\(third.stderr)")
        let log = try Files.text(sweep + "/logs/seed-1.log")
        #expect(log.contains("seed 1: finished checkpoint found"), "\(log)")
    }

    @Test("a grid over --cell and --control-task trains each setting and aggregates each group")
    func gridOverSettings() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let sweep = sandbox.path("sweep")
        let result = try await sandbox.run(
            ["sweep"] + Self.flags(files, seeds: "1") + ["--cell", "gru", "--hidden", "4,6", "--control-task", "off,on", "--threads", "1",
                                                         "--jobs", "2", "--out", sweep], timeout: 300)
        #expect(result.status == 0, "\(result)")
        let groups = ["hidden-4_control-task-off", "hidden-4_control-task-on", "hidden-6_control-task-off", "hidden-6_control-task-on"]
        for group in groups {
            let model = try Files.json(sweep + "/runs/seed-1_\(group)/seed-1/model.json")
            let configuration = try #require(model["configuration"] as? [String: Any])
            #expect(configuration["cell"] as? String == "gru" && configuration["hidden_size"] as? Int == (group.hasPrefix("hidden-4") ? 4 : 6),
                    "\(configuration)")
            let training = try #require(model["training"] as? [String: Any])
            #expect((training["control_task"] != nil) == group.hasSuffix("-on"), "\(group): \(training.keys)")
            #expect(Self.isWellFormed(sweep + "/aggregate/\(group)/report.html"), "\(group)")
        }
        let table = try Files.text(sweep + "/aggregate/groups.csv").split(separator: "\n").map { $0.split(separator: ",").first.map(String.init) ?? "" }
        #expect(Array(table.dropFirst()) == groups)
    }

    @Test("a failed run fails the sweep, which lists it with its log and aggregates nothing")
    func failedRunIsListed() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let sweep = sandbox.path("sweep")
        // A file where seed 2's run folder goes: that run cannot write, the other one can.
        try sandbox.write("sweep/runs/seed-2", "not a folder")
        let result = try await sandbox.run(["sweep"] + Self.flags(files, seeds: "1,2") + ["--out", sweep], timeout: 300)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("failed: run seed-2; its log is \(sweep)/logs/seed-2.log"), "\(result.stderr)")
        #expect(!result.stderr.contains("failed: run seed-1"), "\(result.stderr)")
        let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("error: \(sweep): 1 of 2 runs failed (seed-2), so nothing was aggregated; "), "\(last)")
        #expect(try Files.text(sweep + "/logs/seed-2.log").contains("error:"))
        #expect(Files.exists(sweep + "/runs/seed-1/run.json"))
        #expect(!Files.exists(sweep + "/aggregate/aggregate.json"))
    }

    @Test("SIGTERM to the local driver alone reaches its running runs, which stop after their step; the driver waits and says so")
    func signalToDriverReachesRuns() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let sweep = sandbox.path("sweep")
        var arguments = ["sweep"] + Self.flags(files, seeds: "1,2") + ["--threads", "1", "--jobs", "1", "--out", sweep]
        // A run that would train for hours unless the signal reaches it.
        arguments[arguments.firstIndex(of: "--epochs")! + 1] = "100000"
        let log = sweep + "/logs/seed-1.log"
        let signalled = LockedValue(false)
        let result = try await sandbox.run(arguments, timeout: 120, onStart: { process in
            signalled.value = process.wait(timeout: 90) { ((try? Files.text(log)) ?? "").contains("epoch 2/100000") }
            // Only the driver: the runs are in a process group of their own, out of reach of this kill.
            kill(process.pid, SIGTERM)
        })
        try #require(signalled.value, "seed 1 never trained its first epochs: \(result)")
        #expect(result.status == 130, "\(result)")
        #expect(result.stderr.contains("error: \(sweep): the sweep stopped by SIGTERM; finished runs are intact"), "\(result.stderr)")
        #expect(result.stderr.contains("run seed-1: failed"), "\(result.stderr)")
        #expect(!result.stderr.contains("run seed-2: started"), "no run starts after the signal: \(result.stderr)")
        let runLog = try Files.text(log)
        #expect(runLog.contains("training stopped by SIGTERM"), "\(runLog)")
    }

    @Test("--executor slurm --dry-run writes the job array and the aggregation job and prints how to submit them")
    func slurmDryRun() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let sweep = sandbox.path("sweep")
        let result = try await sandbox.run(
            ["sweep"] + Self.flags(files, seeds: "1-3") + ["--hidden", "4,8", "--threads", "1", "--executor", "slurm", "--dry-run",
             "--max-parallel", "2", "--slurm-args", "--partition=short --time=00:10:00", "--out", sweep])
        #expect(result.status == 0, "\(result)")
        let array = try Files.text(sweep + "/slurm/array.sh")
        #expect(array.contains("#SBATCH --array=0-5%2\n"), "\(array)")
        #expect(array.contains("#SBATCH --cpus-per-task=1\n"), "\(array)")
        #expect(array.contains("'sweep-run' '--sweep' '\(sweep)' '--index' \"$SLURM_ARRAY_TASK_ID\""), "\(array)")
        #expect(array.contains("names=('seed-1_hidden-4' 'seed-2_hidden-4' 'seed-3_hidden-4' 'seed-1_hidden-8' 'seed-2_hidden-8' 'seed-3_hidden-8')"), "\(array)")
        let aggregate = try Files.text(sweep + "/slurm/aggregate.sh")
        #expect(aggregate.contains("'sweep-aggregate' '--sweep' '\(sweep)'"), "\(aggregate)")
        #expect(!array.contains("--output") && !aggregate.contains("--output"), "output paths go on sbatch's command line")
        #expect(result.stdout.contains(
            "ARRAY_JOB=$(sbatch --parsable '--partition=short' '--time=00:10:00' '--output=\(sweep)/logs/slurm-%A_%a.out' '\(sweep)/slurm/array.sh')"),
            "\(result.stdout)")
        #expect(result.stdout.contains(
            "sbatch --parsable '--partition=short' '--time=00:10:00' --dependency=afterok:$ARRAY_JOB '--output=\(sweep)/logs/aggregate.log' '\(sweep)/slurm/aggregate.sh'"),
            "\(result.stdout)")
        let plan = try Files.json(sweep + "/sweep.json")
        #expect((plan["runs"] as? [Any])?.count == 6 && plan["threads"] as? Int == 1)
        #expect(!Files.exists(sweep + "/runs/seed-1_hidden-4"), "nothing runs in a dry run")
    }

    @Test("a sweep folder that cannot be written names the shared filesystem")
    func unwritableSweepFolder() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let blocker = try sandbox.write("blocker", "a file, not a folder")
        let result = try await sandbox.run(["sweep"] + Self.flags(files, seeds: "1") + ["--out", blocker + "/sweep"])
        ErrorTests.expectFailure(result, status: 2, mentions: ["\(blocker)/sweep: the sweep folder cannot be written", "a filesystem that every node running the sweep shares"])
    }

    @Test("bad sweep flags are usage errors before anything is written", arguments: [
        (["--cell", "lstm,transformer"], "--cell item \"transformer\" is not one of lstm, gru, rnn"),
        (["--hidden", "50,50"], "--hidden names 50 twice"),
        (["--hidden", "0"], "--hidden item \"0\" is not a whole number from 1 to 4096"),
        (["--layers", "1,"], "--layers has an empty item"),
        (["--control-task", "maybe"], "--control-task item \"maybe\" is not off or on"),
        (["--wait"], "--wait is for --executor slurm"),
        (["--executor", "slurm", "--jobs", "2"], "--jobs is for --executor local"),
        (["--executor", "slurm", "--dry-run", "--wait"], "--dry-run submits nothing"),
        (["--executor", "pbs"], "pbs"),
        (["--threads", "0"], "--threads must be from 1 to 1024"),
        (["--seeds", "5-1"], "--seeds range \"5-1\" runs backwards"),
    ])
    func badFlags(extra: [String], message: String) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let out = sandbox.path("sweep")
        let result = try await sandbox.run(["sweep"] + Self.flags(files, seeds: "1") + extra + ["--out", out])
        ErrorTests.expectFailure(result, status: 2, mentions: [message], out: out)
    }

    @Test("reproduce and study read --seeds with the same parser", arguments: [
        ("1-20000", "--seeds names more than 10000 seeds"),
        ("3-1", "--seeds range \"3-1\" runs backwards; write the smaller seed first (1-3)"),
        ("1,2,2", "--seeds names seed 2 twice"),
        ("1,,2", "--seeds has an empty item"),
    ])
    func seedListErrors(seeds: String, message: String) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        for command in ["reproduce", "study"] {
            let out = sandbox.path(command)
            let result = try await sandbox.run(
                [command, "--train", files.train, "--dev", files.dev, "--test", files.test, "--seeds", seeds, "--out", out])
            ErrorTests.expectFailure(result, status: 2, mentions: [message], out: out)
        }
    }

    @Test("reproduce --seeds 1-2 is --seeds 1,2")
    func seedRangeInReproduce() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let out = sandbox.path("paper")
        let result = try await sandbox.run(["reproduce"] + Self.flags(files, seeds: "2-3") + ["--out", out], timeout: 300)
        #expect(result.status == 0, "\(result)")
        let seeds = try #require(try Files.json(out + "/summary.json")["seeds"] as? [[String: Any]])
        #expect(seeds.compactMap { $0["seed"] as? Int } == [2, 3])
    }

    /// Hidden 256 is wide enough for the two shards to share each recurrence with 2 threads (`RecurrenceTeam.shares`).
    @Test("--threads 1 and --threads 2 train byte-identical checkpoints", arguments: [[String](), ["--hidden", "256"]])
    func threadsNeverChangeResults(width: [String]) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        var weights: [Data] = []
        for threads in ["1", "2"] {
            let out = sandbox.path("threads-\(threads)")
            let result = try await sandbox.run(
                ["train", "--train", files.train, "--dev", files.dev, "--test", files.test] + fastTrainingFlags
                    + ["--epochs", "2", "--threads", threads, "--out", out] + width)
            #expect(result.status == 0, "\(result)")
            weights.append(try Files.bytes(out + "/model.safetensors"))
        }
        #expect(weights.count == 2 && weights[0] == weights[1], "the checkpoint depends on --threads")
    }

    static func isWellFormed(_ path: String) -> Bool { ReproduceTests.parsesAsXML(path) }
}

extension Array where Element == String {
    /// The same flags with `--steps`'s value replaced.
    fileprivate func replacingStep(with value: String) -> [String] {
        var copy = self
        if let index = copy.firstIndex(of: "--steps"), index + 1 < copy.count { copy[index + 1] = value }
        return copy
    }
}
