import ArgumentParser
import DissectCore
import DissectModel
import DissectStudy
import Foundation

/// Where a sweep's runs execute.
enum Executor: String, ExpressibleByArgument, CaseIterable {
    case local, slurm
}

/// A grid option that is either off or on (`--control-task off,on`).
enum Switch: String, CaseIterable {
    case off, on
}

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train and dissect a grid of seeds and settings, on this machine or as a Slurm job array, then aggregate.",
        discussion: """
            Expands --seeds and the lists of --hidden, --cell, --layers and --control-task into runs, one folder each \
            under OUT/runs/; a run trains one model with reproduce's flags and analyses it as reproduce analyses each seed. \
            Once every run has finished, one aggregation writes, per group of runs that differ only by seed, reproduce's \
            correlation, comparison, statistics across seeds and report into OUT/aggregate/<group>/, and a table of every \
            run's F1 into OUT/aggregate/. With --executor local (the default) --jobs runs go at a time on this machine; \
            with --executor slurm dissect writes a job-array script and an aggregation script into OUT/slurm/ and \
            submits them with sbatch, so OUT must be on a filesystem every node shares. A rerun skips every run that \
            finished with the same inputs.
            """)

    @OptionGroup var options: StudyOptions

    @Option(help: "Hidden sizes, comma-separated (e.g. 50,100); one run per value and seed.")
    var hidden = "50"

    @Option(help: "Recurrent cells, comma-separated from lstm, gru and rnn (e.g. lstm,gru).")
    var cell = "lstm"

    @Option(help: "Layer counts, comma-separated (e.g. 1,2).")
    var layers = "1"

    @Option(help: "Whether each run's model is a control-task model: off, on, or off,on for both.")
    var controlTask = "off"

    @Option(help: "Where the runs execute: local (this machine) or slurm (a job array submitted with sbatch).")
    var executor: Executor = .local

    @Option(help: "With --executor local, how many runs go at a time (default: this machine's cores divided by --threads).")
    var jobs: Int?

    @Option(help: "With --executor slurm, at most this many array tasks run at once (sbatch --array=...%M).")
    var maxParallel: Int?

    @Option(parsing: .unconditional, help: "With --executor slurm, more sbatch options for every job, split at spaces (e.g. \"--partition=gpu --time=01:00:00 --account=lab\").")
    var slurmArgs: String?

    @Flag(help: "With --executor slurm, write the scripts and print the sbatch commands without submitting them.")
    var dryRun = false

    @Flag(help: "With --executor slurm, wait until the aggregation has finished, then report failed runs and the results.")
    var wait = false

    @Option(help: "The folder with the paper's figure CSVs (default: ../shared/paper when present).")
    var paperDir: String?

    static let largestHidden = 4096
    static let largestJobs = 1024

    func validate() throws {
        _ = try grid()
        if let jobs, !(1...Self.largestJobs).contains(jobs) { throw ValidationError("--jobs must be from 1 to \(Self.largestJobs).") }
        if let maxParallel, !(1...SweepPlan.largestRunCount).contains(maxParallel) {
            throw ValidationError("--max-parallel must be from 1 to \(SweepPlan.largestRunCount).")
        }
        if executor == .local {
            for (flag, given) in [("--max-parallel", maxParallel != nil), ("--slurm-args", slurmArgs != nil), ("--dry-run", dryRun), ("--wait", wait)] where given {
                throw ValidationError("\(flag) is for --executor slurm; add --executor slurm or leave it out.")
            }
        } else if jobs != nil {
            throw ValidationError("--jobs is for --executor local; Slurm decides how many tasks run (bound them with --max-parallel).")
        }
        if dryRun && wait { throw ValidationError("--dry-run submits nothing, so there is nothing to --wait for; use one of them.") }
        if options.all { throw ValidationError("--all is not a sweep option; sweep a control model with --control-task off,on.") }
    }

    /// The grid's lists, each checked and free of repeats.
    func grid() throws -> (seeds: [UInt64], hidden: [Int], cells: [CellKind], layers: [Int], controlTask: [Bool]) {
        let seeds: [UInt64]
        switch SeedList.parse(options.seeds) {
        case .success(let parsed): seeds = parsed
        case .failure(let error): throw ValidationError(error.description + ".")
        }
        let hiddenSizes = try Self.list(hidden, flag: "--hidden", expected: "a whole number from 1 to \(Self.largestHidden), e.g. 50,100") {
            Int($0).flatMap { (1...Self.largestHidden).contains($0) ? $0 : nil }
        }
        let cells = try Self.list(cell, flag: "--cell", expected: "one of lstm, gru, rnn, e.g. lstm,gru") { CellKind(rawValue: $0) }
        let layerCounts = try Self.list(layers, flag: "--layers", expected: "a whole number from 1 to \(Checkpoint.maximumLayers), e.g. 1,2") {
            Int($0).flatMap { (1...Checkpoint.maximumLayers).contains($0) ? $0 : nil }
        }
        let control = try Self.list(controlTask, flag: "--control-task", expected: "off or on, e.g. off,on") { Switch(rawValue: $0) }
        return (seeds, hiddenSizes, cells, layerCounts, control.map { $0 == .on })
    }

    /// A comma-separated list of `parse`d values: one error line for an empty item, a bad one or a repeat.
    static func list<Value: Hashable>(_ text: String, flag: String, expected: String, _ parse: (String) -> Value?) throws -> [Value] {
        var values: [Value] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard !item.isEmpty else { throw ValidationError("\(flag) has an empty item in \"\(text)\"; give \(expected).") }
            guard let value = parse(item) else { throw ValidationError("\(flag) item \"\(item)\" is not \(expected).") }
            guard !values.contains(value) else { throw ValidationError("\(flag) names \(item) twice; list each value once.") }
            values.append(value)
        }
        return values
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    func run() throws {
        Interruption.install()
        _ = try options.corpus.resolve()
        let embeddingsPath = try ReproduceCommand.paperEmbeddings(options, command: "sweep")
        let request = try options.request(command: "sweep", defaultOut: "runs/sweep", embeddingsPath: embeddingsPath)
        let paper = paperDir ?? "../shared/paper"
        let anchors = "../shared/anchors/README.md"
        // Every path is absolute: a Slurm task may start in another directory.
        let common = SweepCommon(
            trainPath: Self.absolute(request.trainPath), devPath: Self.absolute(request.devPath), testPath: Self.absolute(request.testPath),
            embeddingsPath: request.embeddingsPath.map(Self.absolute), tagColumn: request.tagColumn, epochs: request.epochs,
            learningRate: request.learningRate, batchSize: request.batchSize, dropout: request.dropout, steps: request.steps,
            randomCount: request.randomCount, recurrentRandomCount: request.recurrentRandomCount, bootstrap: request.bootstrap,
            permutations: request.permutations, all: false,
            paperDirectory: FileManager.default.fileExists(atPath: paper) ? Self.absolute(paper) : nil,
            anchorsFile: FileManager.default.fileExists(atPath: anchors) ? Self.absolute(anchors) : nil)
        let grid = try grid()
        let plan = try SweepPlan.expand(
            seeds: grid.seeds, cells: grid.cells, hiddenSizes: grid.hidden, layers: grid.layers, controlTask: grid.controlTask,
            common: common, threads: options.threads, command: request.command)
        let sweep = Self.absolute(request.outputDirectory)
        try plan.write(sweep: sweep)
        let hashes = try plan.hashes()
        let pending = plan.runs.filter { !SweepRunRecord.isFinished($0, plan: plan, sweep: sweep, hashes: hashes) }
        for run in plan.runs where !pending.contains(run) { Terminal.log("run \(run.name): finished earlier with the same inputs; skipped") }
        Terminal.log("sweep: \(plan.runs.count) runs in \(plan.groups.count) group\(plan.groups.count == 1 ? "" : "s"), \(pending.count) to run, in \(sweep)")
        // A stale aggregation must not pass for this one.
        try? FileManager.default.removeItem(atPath: SweepPlan.aggregateRecordPath(sweep))
        let binary = SweepCommands.currentBinary
        switch executor {
        case .local:
            let jobs = self.jobs ?? max(1, ProcessInfo.processInfo.activeProcessorCount / options.threads)
            let local = LocalExecutor(binary: binary, jobs: jobs)
            let failed = try local.execute(pending, sweep: sweep) { Terminal.log($0) }
            try Self.requireNoFailures(failed, sweep: sweep, of: plan.runs.count)
            Terminal.log("sweep: aggregating (log \(SweepPlan.logPath(sweep, "aggregate")))")
            guard try local.aggregate(sweep: sweep) else { throw Self.aggregationFailed(sweep) }
            try Self.printResults(sweep: sweep)
        case .slurm:
            let slurm = SlurmExecutor(
                binary: binary, threads: options.threads, maxParallel: maxParallel,
                extraArguments: (slurmArgs ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
            let commands = try slurm.write(plan: plan, pending: pending, sweep: sweep)
            if dryRun {
                print("wrote \(sweep)/slurm/\(pending.isEmpty ? "" : "array.sh and ")aggregate.sh; submit them with:")
                for command in commands { print(command) }
                return
            }
            let jobs = try slurm.submit(hasArray: !pending.isEmpty, sweep: sweep)
            print("submitted " + (jobs.array.map { "job array \($0) (\(pending.count) runs) and " } ?? "") + "aggregation job \(jobs.aggregate); "
                + "logs in \(sweep)/logs/, results in \(SweepPlan.aggregateDirectory(sweep))/")
            guard wait else { return }
            try slurm.wait(array: jobs.array, aggregate: jobs.aggregate)
            let failed = pending.filter { !SweepRunRecord.isFinished($0, plan: plan, sweep: sweep, hashes: hashes) }
            try Self.requireNoFailures(failed, sweep: sweep, of: plan.runs.count)
            guard FileManager.default.fileExists(atPath: SweepPlan.aggregateRecordPath(sweep)) else { throw Self.aggregationFailed(sweep) }
            try Self.printResults(sweep: sweep)
        }
    }

    /// Lists each failed run with its log on stderr, then stops with one error line.
    static func requireNoFailures(_ failed: [SweepRun], sweep: String, of total: Int) throws {
        guard !failed.isEmpty else { return }
        for run in failed { Terminal.log("failed: run \(run.name); its log is \(SweepPlan.logPath(sweep, run.name))") }
        throw DissectError(
            file: sweep, problem: "\(failed.count) of \(total) runs failed (" + failed.map(\.name).joined(separator: ", ") + "), so nothing was aggregated",
            fix: "read each log listed above, fix the cause and rerun the same command: finished runs are skipped")
    }

    static func aggregationFailed(_ sweep: String) -> DissectError {
        DissectError(
            file: SweepPlan.logPath(sweep, "aggregate"), problem: "the aggregation failed",
            fix: "read this log, fix the cause and rerun the same command: finished runs are skipped")
    }

    /// Each run's F1 and each group's report, from `aggregate/aggregate.json`.
    static func printResults(sweep: String) throws {
        let path = SweepPlan.aggregateRecordPath(sweep)
        guard let data = FileManager.default.contents(atPath: path), let aggregate = try? JSONDecoder().decode(SweepAggregate.self, from: data) else {
            throw DissectError(file: path, problem: "the aggregation wrote no readable record", fix: "rerun the same command")
        }
        for run in aggregate.runs {
            print("run \(run.name): dev F1 \(run.devF1.map { format($0) } ?? "–"), test F1 \(run.testF1.map { format($0) } ?? "–"), best epoch \(run.bestEpoch)")
        }
        for group in aggregate.groups {
            let spread = group.testF1.map { "test F1 \(format($0.mean))" + ($0.standardDeviation.map { " ± \(format($0)) (sd)" } ?? "") } ?? "no test F1"
            print("group \(group.name): \(group.seeds) seed\(group.seeds == 1 ? "" : "s"), \(spread); open \(SweepPlan.aggregateDirectory(sweep))/\(group.report)")
        }
    }
}
