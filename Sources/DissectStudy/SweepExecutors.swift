import DissectCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a sweep's runs execute. Every executor starts the same two hidden commands of the same
/// binary, `dissect sweep-run --sweep DIR --index I` per run and `dissect sweep-aggregate --sweep DIR`
/// once, so a run does the same work on a laptop and on a cluster node.
public enum SweepCommands {
    public static func run(binary: String, sweep: String, index: Int) -> [String] {
        [binary, "sweep-run", "--sweep", sweep, "--index", String(index)]
    }

    public static func aggregate(binary: String, sweep: String) -> [String] {
        [binary, "sweep-aggregate", "--sweep", sweep]
    }

    /// The running executable (what the runs start), with symbolic links resolved.
    public static var currentBinary: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// Runs a sweep on this machine: `jobs` runs at a time, each a child process writing to its log.
public struct LocalExecutor {
    public var binary: String
    public var jobs: Int

    public init(binary: String, jobs: Int) {
        self.binary = binary
        self.jobs = max(1, jobs)
    }

    /// Runs each of `runs`, and returns those whose process did not exit with status 0. After Ctrl-C or
    /// SIGTERM no further run starts, the running ones receive the same signal (once, from here: they run
    /// in their own process group, so a signal to this process alone reaches them as well as Ctrl-C does)
    /// and stop after their current step, and they are waited for.
    public func execute(_ runs: [SweepRun], sweep: String, progress: (String) -> Void) throws -> [SweepRun] {
        var waiting = runs[...]
        var running: [pid_t: SweepRun] = [:]
        var failed: [SweepRun] = []
        var finished = 0
        var forwarded = false
        while !waiting.isEmpty || !running.isEmpty {
            while running.count < jobs, let run = waiting.first, !Interruption.requested {
                waiting.removeFirst()
                let pid = try Self.spawn(
                    SweepCommands.run(binary: binary, sweep: sweep, index: run.index), log: SweepPlan.logPath(sweep, run.name))
                running[pid] = run
                progress("run \(run.name): started (log \(SweepPlan.logPath(sweep, run.name)))")
            }
            if running.isEmpty { break }
            let (pid, succeeded) = Self.waitForChild(forwardingTo: Array(running.keys), forwarded: &forwarded)
            guard pid > 0, let run = running.removeValue(forKey: pid) else { continue }
            finished += 1
            if !succeeded { failed.append(run) }
            progress("run \(run.name): \(succeeded ? "finished" : "failed") (\(finished) of \(runs.count) done)")
        }
        if Interruption.requested {
            throw DissectError(
                .interrupted, file: sweep, problem: "the sweep stopped by \(Interruption.signalName); finished runs are intact",
                fix: "rerun the same command: finished runs are skipped")
        }
        return failed + waiting
    }

    /// Runs the aggregation and says whether it succeeded.
    public func aggregate(sweep: String) throws -> Bool {
        let pid = try Self.spawn(SweepCommands.aggregate(binary: binary, sweep: sweep), log: SweepPlan.logPath(sweep, "aggregate"))
        var forwarded = false
        while true {
            let (finished, succeeded) = Self.waitForChild(forwardingTo: [pid], forwarded: &forwarded)
            if finished == pid { return succeeded }
            if finished < 0 && errno == ECHILD { return false }
        }
    }

    /// Starts `arguments` with stdin from /dev/null and stdout and stderr into `log`, in a process group of
    /// its own (so signals reach it only through `waitForChild`, exactly once; two would quit it at once).
    static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours reaches the run: an inherited descriptor (a pipe, or the socket by which a
        // parent such as Foundation's Process sees this process end) would outlive us in the run.
        closeOnExec(from: 3)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw DissectError(
                file: arguments[0], problem: "cannot start a run (\(String(cString: strerror(status))))",
                fix: "check that the dissect binary is still there and that \(log) can be written")
        }
        return pid
    }

    /// Marks every open descriptor from `first` on close-on-exec (those in /proc/self/fd).
    static func closeOnExec(from first: Int32) {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in descriptors.compactMap({ Int32($0) }) where descriptor >= first {
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Waits for any child; (pid, whether it exited with status 0), or (-1, false) when none is left.
    /// It polls (every 20 ms) rather than blocks, since a signal does not interrupt `waitpid` here
    /// (`signal` restarts it): once this process is asked to stop, each of `children` receives the
    /// same signal, once (`forwarded` records that it was sent).
    static func waitForChild(forwardingTo children: [pid_t], forwarded: inout Bool) -> (pid_t, Bool) {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid < 0 { return (pid, false) }
            if pid > 0 {
                // WIFEXITED and WEXITSTATUS, which Swift does not import.
                let exited = status & 0x7f == 0
                return (pid, exited && (status >> 8) & 0xff == 0)
            }
            if Interruption.requested && !forwarded {
                for child in children { kill(child, dissectInterruptSignal) }
                forwarded = true
            }
            usleep(20_000)
        }
    }
}

/// Runs a sweep as a Slurm job array: one task per run, chosen by `$SLURM_ARRAY_TASK_ID`, then one
/// aggregation job that waits for all of them (`--dependency=afterok`). Slurm schedules; dissect only
/// writes the two scripts into `SWEEP/slurm/` and submits them with `sbatch`.
public struct SlurmExecutor {
    public var binary: String
    public var threads: Int
    /// At most this many tasks at once (`--array=…%M`); nil: as many as the cluster gives.
    public var maxParallel: Int?
    /// Passed to every `sbatch` before the script (partition, time, account).
    public var extraArguments: [String]

    public init(binary: String, threads: Int, maxParallel: Int?, extraArguments: [String]) {
        self.binary = binary
        self.threads = threads
        self.maxParallel = maxParallel
        self.extraArguments = extraArguments
    }

    public static func arrayScriptPath(_ sweep: String) -> String { sweep + "/slurm/array.sh" }

    /// Slurm's own output of each task and of the aggregation job, as `sbatch --output` options. They go on
    /// the command line, not in `#SBATCH` lines, whose values sbatch splits at spaces; `%` is doubled,
    /// since sbatch reads `%A`, `%a`… in the name as patterns.
    static func arrayOutputOption(_ sweep: String) -> String { "--output=" + patternEscaped(sweep + "/logs") + "/slurm-%A_%a.out" }
    static func aggregateOutputOption(_ sweep: String) -> String { "--output=" + patternEscaped(sweep + "/logs/aggregate.log") }
    static func patternEscaped(_ path: String) -> String { path.replacingOccurrences(of: "%", with: "%%") }
    public static func aggregateScriptPath(_ sweep: String) -> String { sweep + "/slurm/aggregate.sh" }

    /// `0-3,7,9-10`: the runs' indices as Slurm's `--array` ranges, with `%M` when throttled.
    public func arraySpecification(_ runs: [SweepRun]) -> String {
        var ranges: [String] = []
        var start: Int?, previous = -2
        for index in runs.map(\.index).sorted() {
            if index != previous + 1 {
                if let start { ranges.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
                start = index
            }
            previous = index
        }
        if let start { ranges.append(start == previous ? "\(start)" : "\(start)-\(previous)") }
        return ranges.joined(separator: ",") + (maxParallel.map { "%\($0)" } ?? "")
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The job-array script (nil when no run is left) and the aggregation script.
    public func scripts(plan: SweepPlan, pending: [SweepRun], sweep: String) -> (array: String?, aggregate: String) {
        let names = plan.runs.map { Self.quoted($0.name) }.joined(separator: " ")
        let run = SweepCommands.run(binary: binary, sweep: sweep, index: 0).dropLast().map(Self.quoted).joined(separator: " ")
        let array = pending.isEmpty ? nil : """
            #!/bin/bash
            #SBATCH --job-name=dissect-sweep
            #SBATCH --array=\(arraySpecification(pending))
            #SBATCH --cpus-per-task=\(threads)
            # One run of the sweep per task: the task id is the run's index in sweep.json.
            set -eu
            names=(\(names))
            exec \(run) "$SLURM_ARRAY_TASK_ID" >\(Self.quoted(sweep + "/logs/"))"${names[$SLURM_ARRAY_TASK_ID]}.log" 2>&1

            """
        let aggregate = """
            #!/bin/bash
            #SBATCH --job-name=dissect-sweep-aggregate
            #SBATCH --cpus-per-task=\(threads)
            # Correlation, comparison, statistics across seeds and the reports, once every run has finished.
            exec \(SweepCommands.aggregate(binary: binary, sweep: sweep).map(Self.quoted).joined(separator: " "))

            """
        return (array, aggregate)
    }

    /// Writes both scripts; returns the `sbatch` command lines that submit them (the array's job id as `$ARRAY_JOB`).
    public func write(plan: SweepPlan, pending: [SweepRun], sweep: String) throws -> [String] {
        let (array, aggregate) = scripts(plan: plan, pending: pending, sweep: sweep)
        try AtomicFile.makeDirectory(sweep + "/slurm")
        var commands: [String] = []
        let extra = extraArguments.map(Self.quoted).joined(separator: " ")
        let prefix = "sbatch --parsable" + (extra.isEmpty ? "" : " " + extra)
        if let array {
            try AtomicFile.write(array, to: Self.arrayScriptPath(sweep))
            commands.append("ARRAY_JOB=$(\(prefix) \(Self.quoted(Self.arrayOutputOption(sweep))) \(Self.quoted(Self.arrayScriptPath(sweep))))")
        }
        try AtomicFile.write(aggregate, to: Self.aggregateScriptPath(sweep))
        commands.append(prefix + (array == nil ? "" : " --dependency=afterok:$ARRAY_JOB") + " " + Self.quoted(Self.aggregateOutputOption(sweep))
            + " " + Self.quoted(Self.aggregateScriptPath(sweep)))
        return commands
    }

    /// Submits the scripts `write` wrote: (the array's job id or nil, the aggregation's job id).
    public func submit(hasArray: Bool, sweep: String) throws -> (array: String?, aggregate: String) {
        var arrayJob: String?
        if hasArray {
            arrayJob = try Self.sbatch(["--parsable"] + extraArguments + [Self.arrayOutputOption(sweep), Self.arrayScriptPath(sweep)])
        }
        let dependency = arrayJob.map { ["--dependency=afterok:\($0)"] } ?? []
        let aggregateJob = try Self.sbatch(
            ["--parsable"] + extraArguments + dependency + [Self.aggregateOutputOption(sweep), Self.aggregateScriptPath(sweep)])
        return (arrayJob, aggregateJob)
    }

    /// Blocks until neither job is queued or running. An aggregation whose dependency can no longer be met
    /// (a run failed) is cancelled, since Slurm would keep it pending for ever.
    public func wait(array: String?, aggregate: String, poll: TimeInterval = 1) throws {
        let jobs = ([array, aggregate].compactMap { $0 }).joined(separator: ",")
        while true {
            if Interruption.requested {
                throw DissectError(
                    .interrupted, problem: "stopped waiting by \(Interruption.signalName); the jobs go on in Slurm",
                    fix: "follow them with squeue, and rerun the same command afterwards: finished runs are skipped")
            }
            let output = (try? Self.tool("squeue", ["--noheader", "--states=PD,R,CF,CG,S,RQ", "--format=%i|%T|%r", "--jobs=\(jobs)"])) ?? ""
            let lines = output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
            if lines.isEmpty { return }
            let arrayQueued = array.map { id in lines.contains { $0.first?.hasPrefix(id + "_") == true || $0.first == id } } ?? false
            if !arrayQueued, let line = lines.first(where: { $0.first == aggregate }), line.count == 3, line[2].contains("DependencyNeverSatisfied") {
                _ = try? Self.tool("scancel", [aggregate])
                return
            }
            usleep(useconds_t(poll * 1_000_000))
        }
    }

    static func sbatch(_ arguments: [String]) throws -> String {
        let output = try tool("sbatch", arguments)
        // `--parsable` prints `id` or `id;cluster`.
        guard let id = output.split(separator: "\n").first?.split(separator: ";").first, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw DissectError(problem: "sbatch printed no job id (\(output.trimmingCharacters(in: .whitespacesAndNewlines)))",
                               fix: "check the cluster with sinfo, and --slurm-args")
        }
        return String(id)
    }

    /// Runs a Slurm tool from `PATH` and returns its stdout; a failure is one error line with its stderr.
    static func tool(_ name: String, _ arguments: [String]) throws -> String {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let path = paths.map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DissectError(.usage, problem: "\(name) is not on PATH", fix: "run the sweep where Slurm's tools are (a login node), or pass --executor local")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DissectError(file: path, problem: "cannot start \(name) (\(error.localizedDescription))", fix: "check the Slurm installation")
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errData, as: UTF8.self).split(separator: "\n").joined(separator: " ")
            throw DissectError(
                problem: "\(name) \(arguments.joined(separator: " ")) failed with status \(process.terminationStatus): \(message)",
                fix: "check --slurm-args and the cluster (sinfo)")
        }
        return String(decoding: outData, as: UTF8.self)
    }
}
