import ArgumentParser
import DissectCore
import DissectReport
import DissectStudy
import Foundation

/// The last step of a sweep, once every run has finished: per group, reproduce's steps across seeds and
/// report from the runs' saved results, then the table of every run. Hidden: `dissect sweep` starts it.
struct SweepAggregateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep-aggregate",
        abstract: "Aggregate a sweep's finished runs (started by dissect sweep).",
        shouldDisplay: false)

    @Option(help: "The sweep folder (the --out of dissect sweep), holding sweep.json.")
    var sweep: String

    func run() throws {
        Interruption.install()
        let plan = try SweepPlan.read(sweep: sweep)
        Parallelism.threadLimit = plan.threads
        let hashes = try plan.hashes()
        let unfinished = plan.runs.filter { !SweepRunRecord.isFinished($0, plan: plan, sweep: sweep, hashes: hashes) }
        guard unfinished.isEmpty else {
            throw DissectError(
                file: sweep, problem: "\(unfinished.count) runs have not finished (" + unfinished.map(\.name).joined(separator: ", ") + ")",
                fix: "run `dissect sweep` again with the same flags; it runs only those")
        }
        var summaries: [ReproduceSummary] = []
        for run in plan.runs {
            let path = SweepPlan.runDirectory(sweep, run) + "/summary.json"
            do {
                summaries.append(try JSONDecoder().decode(ReproduceSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path))))
            } catch {
                throw DissectError(file: path, problem: "cannot read the run's summary (\(error))", fix: "delete \(SweepPlan.runRecordPath(sweep, run)) and rerun the sweep")
            }
        }
        let directory = SweepPlan.aggregateDirectory(sweep)
        try AtomicFile.makeDirectory(directory)
        for group in plan.groups {
            guard let request = plan.request(group: group, sweep: sweep) else { continue }
            Terminal.log("group \(group): \(request.seeds.count) seeds")
            try AtomicFile.makeDirectory(request.outputDirectory)
            let members = zip(plan.runs, summaries).filter { $0.0.group == group }.map(\.1)
            let pipeline = ReproducePipeline(
                request: request, renderers: AnalysisArtifacts.renderers, report: StudyOptions.progressReporter(epochs: request.epochs))
            let summary = try pipeline.aggregate(runSummaries: members)
            try StudyOptions.writeReport(summary, request: request)
        }
        let aggregate = SweepAggregate(plan: plan, summaries: summaries)
        try AtomicFile.write(SweepTables.runsCSV(aggregate), to: directory + "/runs.csv")
        try AtomicFile.write(SweepTables.groupsCSV(aggregate), to: directory + "/groups.csv")
        // Last: its presence says the aggregation finished.
        try AtomicFile.write(try JSONOutput.encode(aggregate), to: SweepPlan.aggregateRecordPath(sweep))
        print("aggregated \(plan.runs.count) runs in \(plan.groups.count) groups into \(directory)")
    }
}
