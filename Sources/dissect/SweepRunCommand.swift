import ArgumentParser
import DissectCore
import DissectReport
import DissectStudy
import Foundation

/// One run of a sweep, as both executors start it: the local pool with its index, a Slurm array task
/// with `$SLURM_ARRAY_TASK_ID`. Hidden: `dissect sweep` writes the plan it reads.
struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep-run",
        abstract: "Train and analyse one run of a sweep (started by dissect sweep).",
        shouldDisplay: false)

    @Option(help: "The sweep folder (the --out of dissect sweep), holding sweep.json.")
    var sweep: String

    @Option(help: "The run's index in sweep.json, from 0.")
    var index: Int

    func validate() throws {
        guard index >= 0 else { throw ValidationError("--index must be 0 or more.") }
    }

    func run() throws {
        Interruption.install()
        let plan = try SweepPlan.read(sweep: sweep)
        guard plan.runs.indices.contains(index) else {
            throw DissectError(
                .usage, file: SweepPlan.planPath(sweep), problem: "no run \(index): the plan has runs 0 to \(plan.runs.count - 1)",
                fix: "pass an --index the plan has")
        }
        Parallelism.threadLimit = plan.threads
        let run = plan.runs[index]
        let hashes = try plan.hashes()
        if SweepRunRecord.isFinished(run, plan: plan, sweep: sweep, hashes: hashes) {
            print("run \(run.name): finished earlier with the same inputs; nothing to do")
            return
        }
        let request = plan.request(for: run, sweep: sweep)
        let directory = request.outputDirectory
        // The record of an earlier, different run goes first, so a half-redone folder never reads as finished.
        try? FileManager.default.removeItem(atPath: SweepPlan.runRecordPath(sweep, run))
        let pipeline = ReproducePipeline(
            request: request, renderers: AnalysisArtifacts.renderers, report: StudyOptions.progressReporter(epochs: request.epochs))
        let summary = try pipeline.run()
        try AtomicFile.write(try AnalysisArtifacts.json(summary), to: directory + "/summary.json")
        try AtomicFile.write(try JSONOutput.encode(SweepRunRecord(run: run, plan: plan, hashes: hashes)), to: SweepPlan.runRecordPath(sweep, run))
        let record = summary.seeds.first?.record
        print("run \(run.name): dev F1 \(format(record?.devF1 ?? 0)), test F1 \(format(record?.testF1 ?? 0)), "
            + "best epoch \(record?.bestEpoch ?? 0), \(format(summary.run.totalSeconds, 1)) s")
    }
}
