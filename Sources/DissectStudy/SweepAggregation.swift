import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import Foundation

extension ReproducePipeline {
    /// One group of a sweep (runs that differ only by seed), from each run's one-seed summary: the
    /// per-model results are read back, not measured again, and the steps across models are the ones
    /// `run` ends with (correlation, the seeds compared, the summary). Only the seeds' dev activations,
    /// which the comparison needs and no summary holds, are recomputed from their checkpoints.
    /// - Parameter runSummaries: the group's runs in seed order, each written by `run` with one seed.
    public func aggregate(runSummaries: [ReproduceSummary]) throws -> ReproduceSummary {
        stepNumber = totalSteps - 2
        let seeds = runSummaries.flatMap(\.seeds)
        let sensitivityDev = runSummaries.flatMap(\.sensitivityDev)
        let sensitivityTest = runSummaries.flatMap(\.sensitivityTest)
        func raw(_ documents: [Sensitivity.Document]) -> [(String, [String], [[Double?]])] {
            zip(seeds, documents).map { seed, document in ("seed \(seed.seed)", document.labels, document.sensitivity) }
        }
        let dev = try CoNLLReader.read(path: request.devPath, tagColumn: request.tagColumn)
        var comparisonInputs: [Comparison.Input] = []
        var labels: [String] = []
        var layers: Int?
        if seeds.count >= 2 {
            for (seed, document) in zip(seeds, sensitivityDev) {
                let checkpoint = try Checkpoint.load(from: seed.directory)
                if labels.isEmpty {
                    labels = checkpoint.metadata.vocabulary.labels
                    layers = checkpoint.model.configuration.layers
                    // Every seed's dev activations are kept for the comparison, as `run` keeps them.
                    try requireMemory(first: checkpoint, dev: dev)
                }
                let corpus = try checkpoint.analysisCorpus(dev)
                let run = timed("seed \(seed.seed): run on dev") { ModelRun(checkpoint: checkpoint, corpus: corpus) }
                comparisonInputs.append(Comparison.Input(
                    name: "seed \(seed.seed)", activations: CentredActivations(run.hidden, tokens: run.tokenCount, width: run.neuronCount),
                    rankings: run.labels.map { document.rankings[$0] ?? [] }))
            }
        }
        let controlStudies = runSummaries.compactMap(\.controls)
        let controls = controlStudies.isEmpty ? nil : ControlStudy(
            seeds: controlStudies.flatMap(\.seeds), sensitivityDev: controlStudies.flatMap(\.sensitivityDev),
            ablations: controlStudies.flatMap(\.ablations))
        guard let task = runSummaries.first?.task else {
            throw DissectError(file: request.outputDirectory, problem: "the group has no finished run", fix: "rerun the sweep")
        }
        return try acrossModels(ModelResults(
            seeds: seeds, sensitivityDev: sensitivityDev, sensitivityTest: sensitivityTest, rawDev: raw(sensitivityDev),
            rawTest: raw(sensitivityTest), agreements: runSummaries.flatMap(\.correlationDev.agreement),
            ablations: runSummaries.flatMap(\.ablations), controls: controls, comparisonInputs: comparisonInputs,
            rankings: runSummaries.first?.rankings, task: task, labels: labels, layer: layers,
            earlierTimings: runSummaries.flatMap(\.run.timings)))
    }
}

/// `aggregate/aggregate.json`: each run's scores and, per group, their mean and spread across seeds.
public struct SweepAggregate: Codable, Sendable {
    public struct Run: Codable, Sendable {
        public var name: String
        public var group: String
        public var seed: UInt64
        public var settings: SweepSettings
        public var devF1: Double?
        public var testF1: Double?
        public var devAccuracy: Double?
        public var testAccuracy: Double?
        public var bestEpoch: Int
        /// The run's wall seconds (training and analyses), from its summary.
        public var seconds: Double
    }

    /// Mean and sample standard deviation over a group's seeds (nil sd with one seed).
    public struct Spread: Codable, Sendable {
        public var mean: Double
        public var standardDeviation: Double?

        init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            mean = values.reduce(0, +) / Double(values.count)
            standardDeviation = values.count >= 2
                ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : nil
        }
    }

    public struct Group: Codable, Sendable {
        public var name: String
        public var settings: SweepSettings
        public var seeds: Int
        public var devF1: Spread?
        public var testF1: Spread?
        /// `aggregate/<group>/report.html`, relative to the aggregate folder.
        public var report: String
    }

    public var runs: [Run]
    public var groups: [Group]

    public init(plan: SweepPlan, summaries: [ReproduceSummary]) {
        let runs = zip(plan.runs, summaries).map { run, summary in
            let record = summary.seeds.first?.record
            return Run(
                name: run.name, group: run.group, seed: run.seed, settings: run.settings, devF1: record?.devF1, testF1: record?.testF1,
                devAccuracy: record?.devAccuracy, testAccuracy: record?.testAccuracy, bestEpoch: record?.bestEpoch ?? 0,
                seconds: summary.run.totalSeconds)
        }
        self.runs = runs
        groups = plan.groups.map { name in
            let members = runs.filter { $0.group == name }
            return Group(
                name: name, settings: members.first?.settings ?? SweepSettings(cell: .lstm, hiddenSize: 0, layers: 0, controlTask: false),
                seeds: members.count, devF1: Spread(members.compactMap(\.devF1)), testF1: Spread(members.compactMap(\.testF1)),
                report: name + "/report.html")
        }
    }
}
