import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import Foundation

/// What `dissect reproduce` runs.
public struct ReproduceRequest: Sendable {
    public var trainPath: String
    public var devPath: String
    public var testPath: String
    public var embeddingsPath: String?
    public var tagColumn: Int?
    public var seeds: [UInt64] = [1, 2, 3, 4]
    public var outputDirectory: String
    public var epochs = 10
    public var learningRate = 0.015
    public var batchSize = 10
    public var dropout = 0.5
    public var steps = 25
    /// Random ablation orders in readout mode: 100, so claim (b) can use their 95th percentile.
    public var randomCount = 100
    /// Random orders in recurrent mode, where each order is a rerun of the recurrence.
    public var recurrentRandomCount = 20
    public var randomSeed: UInt64 = 1
    /// The label groups to ablate: the paper's two pairs (Figures 4 and 5) for `reproduce`;
    /// nil lets the pipeline choose them from the label set (`AblationPairs.choose`).
    public var pairs: [[String]]? = ReproduceNumbers.paperPairs
    public var modes: [AblationMode] = [.readout, .recurrent]
    /// Sentence-level bootstrap resamples of every sensitivity matrix (0: none); the
    /// label correlations get a bootstrap over neurons of the same size.
    public var bootstrap = 1000
    /// Permutations of the per-cell test of every sensitivity matrix (0: none).
    public var permutations = 1000
    /// What ablated neurons are set to: zero (the paper's), and with `--all` also mean and resample.
    public var values: [AblationValue] = [.zero]
    /// Whether to train a control-task model per seed and analyse it as the real ones (`--all`).
    public var controlTask = false
    /// Whether to run the hidden-size study (`SizesStudy`, default sizes, 1 epoch of fine-tuning) on the
    /// first seed's model (`--all`; a warning says when it is too narrow and the study was skipped).
    public var sizesStudy = false
    /// Bootstrap resamples of the test sentences for the band around each ranked ablation curve (0: none).
    public var bandResamples = 200
    /// The seed of the sensitivity bootstrap and permutations, and of resample ablation.
    public var statisticsSeed: UInt64 = 1
    /// Random orders of the mean and resample ablations in recurrent mode (robustness rows, each order a rerun;
    /// readout mode uses `randomCount`), at most `recurrentRandomCount`. They have no reverse control.
    public var robustnessRecurrentRandomCount = 10
    /// The paper (`reproduce`) or any corpus (`study`).
    public var kind: StudyKind = .paper
    /// Where the paper's figure CSVs are (`figure7_sensitivity.csv`, `figure8_rankings.csv`).
    public var paperDirectory: String?
    /// `../shared/anchors/README.md`: NCRF++ measured on this machine.
    public var anchorsFile: String?
    public var command = "dissect reproduce"
    /// The model of every seed: the paper's (an LSTM with one layer of 50) unless a sweep's grid point says otherwise.
    public var cell: CellKind = .lstm
    public var hiddenSize = 50
    public var layers = 1
    /// Whether every model is a control-task model (a sweep's `--control-task on`), analysed as a real one is;
    /// `controlTask` instead adds a control model beside each real one.
    public var controlLabels = false

    /// The random orders of one mode.
    public func randomCount(_ mode: AblationMode) -> Int { mode == .recurrent ? recurrentRandomCount : randomCount }

    public init(trainPath: String, devPath: String, testPath: String, outputDirectory: String) {
        self.trainPath = trainPath
        self.devPath = devPath
        self.testPath = testPath
        self.outputDirectory = outputDirectory
    }
}

public enum ReproduceEvent: Sendable {
    /// A pipeline step starts: (number from 1, total, what, seconds so far, estimated seconds left).
    case step(Int, Int, String, Double, Double?)
    /// A training event of one model, named as in the steps ("seed 2", "control seed 2").
    case training(model: String, TrainingEvent)
    case reused(seed: UInt64, directory: String)
    case warning(String)
}

/// Trains the paper's model for each seed (reusing finished checkpoints),
/// then measures sensitivity, ablation and label correlation, writes each
/// analysis's files through `renderers`, and gathers it all in a
/// `ReproduceSummary` (which the caller renders as the report).
public final class ReproducePipeline {
    public let request: ReproduceRequest
    let renderers: AnalysisRenderers
    let report: (ReproduceEvent) -> Void
    var timings: [StepTiming] = []
    let started = Date()

    public init(request: ReproduceRequest, renderers: AnalysisRenderers, report: @escaping (ReproduceEvent) -> Void) {
        self.request = request
        self.renderers = renderers
        self.report = report
    }

    public func seedDirectory(_ seed: UInt64) -> String { request.outputDirectory + "/seed-\(seed)" }

    /// One model the run trains and analyses: a seed's real model, or its control-task model.
    struct PlannedModel {
        var seed: UInt64
        var control: Bool
        var name: String { control ? "control seed \(seed)" : "seed \(seed)" }
    }

    /// The real seeds, then (with `controlTask`) one control model per seed.
    var plannedModels: [PlannedModel] {
        request.seeds.map { PlannedModel(seed: $0, control: false) }
            + (request.controlTask ? request.seeds.map { PlannedModel(seed: $0, control: true) } : [])
    }

    public func controlDirectory(_ seed: UInt64) -> String { request.outputDirectory + "/control-seed-\(seed)" }

    func directory(_ model: PlannedModel) -> String { model.control ? controlDirectory(model.seed) : seedDirectory(model.seed) }

    /// Whether a stop was asked for (SIGINT/SIGTERM); tests replace it to stop at a chosen step.
    var interruptionRequested: () -> Bool = { Interruption.requested }

    /// What to do after an interruption: resumption is per seed.
    static func rerunAdvice(seeds: [UInt64] = []) -> String {
        let which = switch seeds.count {
        case 0: "an interrupted seed is trained again from its start"
        case 1: "seed \(seeds[0]) is trained again from its start"
        default: "seeds " + seeds.dropLast().map(String.init).joined(separator: ", ") + " and \(seeds[seeds.count - 1]) are trained again from their start"
        }
        return "rerun the same command: finished seeds are kept and " + which
    }

    /// Steps: one per model to train, then per model the analyses, then correlation and the report.
    var totalSteps: Int { plannedModels.count * 2 + 2 }
    var stepNumber = 0
    var trainingSecondsPerSeed: Double?
    var analysisSecondsPerSeed: Double?

    func beginStep(_ description: String) throws {
        if interruptionRequested() {
            throw DissectError(
                .interrupted, file: request.outputDirectory,
                problem: "reproduce stopped by \(Interruption.signalName) before: \(description); finished seeds and results are intact",
                fix: ReproducePipeline.rerunAdvice())
        }
        stepNumber += 1
        let elapsed = Date().timeIntervalSince(started)
        var remaining: Double?
        let models = plannedModels.count
        let seedsLeftToTrain = max(0, models - stepNumber + 1)
        if let training = trainingSecondsPerSeed {
            remaining = Double(min(seedsLeftToTrain, models)) * training
                + Double(models) * (analysisSecondsPerSeed ?? training * 0.6)
            if stepNumber > models {
                let analysesLeft = max(0, 2 * models - stepNumber + 1)
                remaining = Double(analysesLeft) * (analysisSecondsPerSeed ?? training * 0.6) + 2
            }
        }
        report(.step(stepNumber, totalSteps, description, elapsed, remaining))
    }

    func timed<Result>(_ step: String, _ body: () throws -> Result) rethrows -> Result {
        let start = Date()
        let result = try body()
        timings.append(StepTiming(step: step, seconds: Date().timeIntervalSince(start)))
        return result
    }

    public func run() throws -> ReproduceSummary {
        try AtomicFile.makeDirectory(request.outputDirectory)
        // The inputs are hashed once; every seed is checked and trained against these.
        let hashes = try InputHashes.compute(
            trainPath: request.trainPath, devPath: request.devPath, testPath: request.testPath,
            embeddingsPath: request.embeddingsPath)
        // 1. Train (or reuse) every seed, `trainingWidth` seeds at a time.
        var results: [(seed: SeedResult, checkpoint: Checkpoint)?] = Array(repeating: nil, count: plannedModels.count)
        var trainedSeconds = 0.0, trainedCount = 0
        var memoryChecked = false
        var pending: [Int] = []
        let width = trainingWidth(models: plannedModels.count)
        for (index, model) in plannedModels.enumerated() {
            let seed = model.seed
            // Every seed's model is kept for the analyses: checked once the first model exists.
            if !memoryChecked, let first = results.lazy.compactMap({ $0?.checkpoint }).first {
                try requireMemory(first: first)
                memoryChecked = true
            }
            try beginStep("\(model.name): training")
            let directory = directory(model)
            let stepStart = Date()
            if let finished = finishedCheckpoint(directory: directory, seed: seed, hashes: hashes, control: model.control) {
                report(.reused(seed: seed, directory: directory))
                timings.append(StepTiming(step: "\(model.name): reuse checkpoint", seconds: Date().timeIntervalSince(stepStart)))
                results[index] = (SeedResult(seed: seed, directory: directory, reused: true, record: finished.metadata.training ?? placeholderRecord(seed)), finished)
            } else {
                pending.append(index)
            }
            guard pending.count == width || (index == plannedModels.count - 1 && !pending.isEmpty) else { continue }
            let waveStart = Date()
            let summaries = try trainTogether(pending.map { plannedModels[$0] }, hashes: hashes)
            trainedSeconds += Date().timeIntervalSince(waveStart)
            trainedCount += pending.count
            trainingSecondsPerSeed = trainedSeconds / Double(trainedCount)
            for (slot, summary) in zip(pending, summaries) {
                let model = plannedModels[slot]
                let record = summary.checkpoint.metadata.training ?? placeholderRecord(model.seed)
                results[slot] = (SeedResult(seed: model.seed, directory: self.directory(model), reused: false, record: record), summary.checkpoint)
            }
            pending = []
        }
        let finished = results.compactMap { $0 }
        precondition(finished.count == plannedModels.count, "every planned model is trained or reused")
        let trainedModels = finished.map(\.seed), checkpointList = finished.map(\.checkpoint)
        let seeds = Array(trainedModels.prefix(request.seeds.count))
        if trainingSecondsPerSeed == nil { trainingSecondsPerSeed = 0 }

        // 2. Analyse each seed.
        let dev = try CoNLLReader.read(path: request.devPath, tagColumn: request.tagColumn)
        let test = try CoNLLReader.read(path: request.testPath, tagColumn: request.tagColumn)
        try requireMemory(first: checkpointList.first, dev: dev, test: test)
        // The ablated pairs: the request's, else chosen from the label set by training-set frequency.
        let trainCounts = try ReproducePipeline.labelCounts(CoNLLReader.read(path: request.trainPath, tagColumn: request.tagColumn))
        let modelLabels = checkpointList.first?.metadata.vocabulary.labels ?? []
        let pairs = request.pairs ?? AblationPairs.choose(labels: modelLabels, trainingCounts: trainCounts)
        let pairRule = request.pairs == nil ? AblationPairs.rule : "the paper's pairs (Figures 4 and 5)"
        var sensitivityDev: [Sensitivity.Document] = [], sensitivityTest: [Sensitivity.Document] = []
        var rawDev: [(String, [String], [[Double?]])] = [], rawTest: [(String, [String], [[Double?]])] = []
        var agreements: [RankingAgreement] = []
        var ablations: [AblationEntry] = []
        var controlSensitivity: [Sensitivity.Document] = [], controlAblations: [AblationEntry] = []
        var comparisonInputs: [Comparison.Input] = []
        var rankings: RankingDocument?
        var analysisTimes: [Double] = []
        for (model, checkpoint) in zip(plannedModels, checkpointList) {
            try beginStep("\(model.name): sensitivity, rankings and ablation")
            let analysisStart = Date()
            let analysis = try analyse(model: model, checkpoint: checkpoint, dev: dev, test: test, pairs: pairs)
            if model.control {
                controlSensitivity.append(analysis.dev.document)
                controlAblations += analysis.ablations
            } else {
                sensitivityDev.append(analysis.dev.document)
                rawDev.append((model.name, analysis.dev.sensitivity.labels, analysis.dev.sensitivity.values))
                if let test = analysis.test {
                    sensitivityTest.append(test.document)
                    rawTest.append((model.name, test.sensitivity.labels, test.sensitivity.values))
                }
                agreements += analysis.agreements
                ablations += analysis.ablations
                if let input = analysis.comparisonInput { comparisonInputs.append(input) }
                if let document = analysis.rankings { rankings = document }
            }
            analysisTimes.append(Date().timeIntervalSince(analysisStart))
            analysisSecondsPerSeed = analysisTimes.reduce(0, +) / Double(analysisTimes.count)
        }
        var sizes: SizesDocument?
        if request.sizesStudy, let first = checkpointList.first, let seed = request.seeds.first {
            sizes = try hiddenSizeStudy(checkpoint: first, seed: seed)
        }
        let controls = request.controlTask
            ? ControlStudy(seeds: Array(trainedModels.dropFirst(request.seeds.count)), sensitivityDev: controlSensitivity, ablations: controlAblations)
            : nil
        let task = StudyTask(
            kind: request.kind, pairs: pairs, pairRule: pairRule, trainLabelCounts: trainCounts,
            testLabelCounts: ReproducePipeline.labelCounts(test))
        return try acrossModels(ModelResults(
            seeds: seeds, sensitivityDev: sensitivityDev, sensitivityTest: sensitivityTest, rawDev: rawDev, rawTest: rawTest,
            agreements: agreements, ablations: ablations, controls: controls, comparisonInputs: comparisonInputs, rankings: rankings,
            task: task, labels: modelLabels, layer: checkpointList.first?.model.configuration.layers, sizes: sizes))
    }

    /// The hidden-size study of the first seed's model, written to `sizes/`; nil (with a warning) when the
    /// model is too narrow for a smaller size of 5, 10, ….
    func hiddenSizeStudy(checkpoint: Checkpoint, seed: UInt64) throws -> SizesDocument? {
        let c = checkpoint.model.configuration
        let sizes = SizesStudy.defaultSizes(hiddenSize: c.hiddenSize)
        guard !sizes.isEmpty else {
            report(.warning("the hidden-size study was skipped: it needs more than 5 units per direction (seed \(seed) has \(c.hiddenSize))"))
            return nil
        }
        try beginStep("hidden-size study of seed \(seed)")
        let folder = request.outputDirectory + "/sizes"
        var study = SizesRequest(
            model: seedDirectory(seed), checkpoint: checkpoint, trainPath: request.trainPath, devPath: request.devPath,
            testPath: request.testPath, sizes: sizes, workDirectory: folder + "/.sizes-work")
        study.embeddingsPath = request.embeddingsPath
        study.seed = seed
        let document = try timed("hidden-size study") { try SizesStudy.run(study) { _ in } }
        try writeFiles(try renderers.sizes(document), to: folder)
        return document
    }

    /// What the per-model steps found, as the steps across models read it.
    public struct ModelResults {
        var seeds: [SeedResult]
        var sensitivityDev: [Sensitivity.Document], sensitivityTest: [Sensitivity.Document]
        /// Per real model: its name, labels and sensitivity values (in `labels` order).
        var rawDev: [(String, [String], [[Double?]])], rawTest: [(String, [String], [[Double?]])]
        var agreements: [RankingAgreement]
        var ablations: [AblationEntry]
        var controls: ControlStudy?
        var comparisonInputs: [Comparison.Input]
        var rankings: RankingDocument?
        var task: StudyTask
        /// The models' label vocabulary, and the 1-based layer their sensitivity measured.
        var labels: [String]
        var layer: Int?
        /// Wall seconds of steps run before (a sweep's runs), reported with the steps across models.
        var earlierTimings: [StepTiming] = []
        /// The hidden-size study of the first seed (`--all`).
        var sizes: SizesDocument? = nil
    }

    /// Correlation across the models (with the paper's matrix as reference), the seeds' neurons compared, and
    /// the summary the report is drawn from: what `run` ends with, and all `aggregate` does.
    func acrossModels(_ results: ModelResults) throws -> ReproduceSummary {
        var comparisonInputs = results.comparisonInputs
        // 3. Correlation across the models, with the paper's matrix as reference, and the seeds' neurons compared.
        try beginStep("label correlation and neuron matching across seeds")
        let paper = try readPaperFigures()
        let reference = paper.map { (name: "paper", labels: $0.labels, values: $0.sensitivity) }
        let referencePath = request.paperDirectory.map { $0 + "/figure7_sensitivity.csv" }
        // A bootstrap over neurons gives each correlation an interval (claims (d)–(h)).
        let correlationBootstrap = request.bootstrap > 0 ? (resamples: request.bootstrap, seed: request.randomSeed) : nil
        let correlationDev = CorrelationStudy.make(
            data: request.devPath, agreementData: request.testPath, models: results.rawDev, reference: reference,
            referencePath: referencePath, agreements: results.agreements, bootstrap: correlationBootstrap)
        let correlationTest = CorrelationStudy.make(
            data: request.testPath, agreementData: nil, models: results.rawTest, reference: reference,
            referencePath: referencePath, agreements: [], bootstrap: correlationBootstrap)
        try writeFiles(try renderers.correlation(correlationDev), to: request.outputDirectory + "/correlation-dev")
        try writeFiles(try renderers.correlation(correlationTest), to: request.outputDirectory + "/correlation-test")
        var seedComparison: Comparison?
        if comparisonInputs.count >= 2 {
            let comparison = timed("neuron matching across seeds") {
                Comparison.make(data: request.devPath, layer: results.layer, labels: results.labels, inputs: comparisonInputs)
            }
            comparisonInputs = []
            try writeFiles(try renderers.comparison(comparison), to: request.outputDirectory + "/compare-seeds")
            seedComparison = comparison
        }

        try beginStep("report")
        let allTimings = results.earlierTimings + timings
        let information = RunInformation(
            command: request.command, dissectVersion: Checkpoint.toolVersion, swiftVersion: ReproducePipeline.swiftVersion,
            date: ISO8601DateFormatter().string(from: started), machine: ReproducePipeline.machineDescription(),
            trainFile: request.trainPath, devFile: request.devPath, testFile: request.testPath,
            embeddingsFile: request.embeddingsPath, timings: allTimings,
            totalSeconds: results.earlierTimings.map(\.seconds).reduce(0, +) + Date().timeIntervalSince(started))
        return ReproduceSummary(
            seeds: results.seeds, references: readAnchors(), sensitivityDev: results.sensitivityDev,
            sensitivityTest: results.sensitivityTest, paper: paper, ablations: results.ablations, correlationDev: correlationDev,
            correlationTest: correlationTest, run: information, controls: results.controls, task: results.task,
            seedComparison: seedComparison, rankings: results.rankings, sizes: results.sizes)
    }

    /// Gold tokens per label of a corpus.
    static func labelCounts(_ corpus: Corpus) -> [String: Int] {
        var counts: [String: Int] = [:]
        for sentence in corpus.sentences { for label in sentence.labels { counts[label, default: 0] += 1 } }
        return counts
    }

    func writeFiles(_ files: [(String, String)], to directory: String) throws {
        try AtomicFile.makeDirectory(directory)
        for (name, contents) in files { try AtomicFile.write(contents, to: directory + "/" + name) }
    }

    /// One model's analyses, as `analyse` writes them.
    struct SensitivityResult {
        var sensitivity: Sensitivity
        var document: Sensitivity.Document
    }

    struct ModelAnalysis {
        var dev: SensitivityResult
        /// Nil for a control model (only its dev structure and its ablations are compared).
        var test: SensitivityResult?
        var agreements: [RankingAgreement]
        var ablations: [AblationEntry]
        /// A real model's dev activations and rankings, for the comparison across seeds.
        var comparisonInput: Comparison.Input?
        /// The first real seed's rival rankings.
        var rankings: RankingDocument?
    }

    /// Sensitivity with its statistics on dev (and on test for a real model), ranking agreement
    /// between the two, and the ablation of `pairs` on test ranked on dev: every value of the request
    /// in every mode for a real model, zero-value ablation of the ranked curves alone for a control model.
    /// The first real seed also gets rival rankings (every `RankMethod`, ranked on dev, scored on test).
    /// Writes each analysis's files.
    /// A control model reads the data with its control labels as gold (`Checkpoint.analysisCorpus`).
    func analyse(model: PlannedModel, checkpoint: Checkpoint, dev: Corpus, test: Corpus, pairs: [[String]]) throws -> ModelAnalysis {
        let seed = model.seed, name = model.name
        let directory = directory(model)
        let needsRecurrent = request.modes.contains(.recurrent)
        let devCorpus = try checkpoint.analysisCorpus(dev), testCorpus = try checkpoint.analysisCorpus(test)
        let devRun = timed("\(name): run on dev") { ModelRun(checkpoint: checkpoint, corpus: devCorpus) }
        let testRun = timed("\(name): run on test") { ModelRun(checkpoint: checkpoint, corpus: testCorpus, keepProjections: needsRecurrent) }

        func measure(_ run: ModelRun, data: String, folder: String) throws -> SensitivityResult {
            let sensitivity = Sensitivity(run: run, condition: .predicted)
            let statistics = request.bootstrap > 0 || request.permutations > 0
                ? timed("\(name): statistics on \(data)") {
                    SensitivityStatistics(
                        run: run, sensitivity: sensitivity, bootstrap: request.bootstrap, permutations: request.permutations,
                        seed: request.statisticsSeed)
                }
                : nil
            let document = AnalysisDocuments.sensitivity(sensitivity, run: run, data: data, statistics: statistics)
            try writeFiles(try renderers.sensitivity(document), to: directory + "/" + folder)
            return SensitivityResult(sensitivity: sensitivity, document: document)
        }
        let devResult = try measure(devRun, data: request.devPath, folder: "sensitivity-dev")
        let devSensitivity = devResult.sensitivity
        for label in devSensitivity.undefinedLabels { report(.warning("\(name): \(label) is never predicted on \(request.devPath); its sensitivity is undefined")) }
        var testResult: SensitivityResult?
        var agreements: [RankingAgreement] = []
        if !model.control {
            let result = try measure(testRun, data: request.testPath, folder: "sensitivity-test")
            testResult = result
            let testSensitivity = result.sensitivity
            for (labelIndex, label) in devRun.labels.enumerated() {
                let a = devSensitivity.values.map { $0[labelIndex] }, b = testSensitivity.values.map { $0[labelIndex] }
                let defined = !a.contains { $0 == nil } && !b.contains { $0 == nil }
                agreements.append(RankingAgreement(
                    model: name, label: label,
                    spearman: defined ? Statistics.spearman(a.compactMap { $0 }, b.compactMap { $0 }) : nil,
                    topTenOverlap: Statistics.topOverlap(
                        devSensitivity.ranking(label: labelIndex), testSensitivity.ranking(label: labelIndex), k: 10)))
            }
        }
        var groups: [[String]] = []
        for pair in pairs {
            let usable = pair.filter { label in
                guard let labelIndex = devRun.labels.firstIndex(of: label) else { return false }
                return !devSensitivity.ranking(label: labelIndex).isEmpty
            }
            if usable.count < pair.count {
                report(.warning("\(name): the pair \(pair.joined(separator: "/")) has labels without a ranking on dev; using \(usable)"))
            }
            if !usable.isEmpty { groups.append(usable) }
        }
        var ablations: [AblationEntry] = []
        for value in model.control ? [AblationValue.zero] : request.values {
            for mode in request.modes where !groups.isEmpty {
                // The paper's ablation keeps its reverse control and every random order; mean and resample are
                // robustness rows, and in recurrent mode (a rerun per order) they use fewer random orders.
                // A control model is compared by its ranked drops alone (`controlComparison`): no controls, no band.
                let robustness = value != .zero
                let randomCount = model.control ? 0
                    : robustness && mode == .recurrent ? min(request.robustnessRecurrentRandomCount, request.recurrentRandomCount)
                    : request.randomCount(mode)
                // Both pairs in one study: the random orders are ablated once for both.
                let documents = timed("\(name): \(mode.rawValue) ablation, \(value.rawValue) value") {
                    AblationStudy.run(
                        rankRun: devRun, dataRun: testRun, groups: groups, steps: request.steps, mode: mode,
                        randomCount: randomCount, seed: request.randomSeed, reverse: !robustness && !model.control, value: value,
                        bandResamples: model.control ? 0 : request.bandResamples)
                }
                for (group, document) in zip(groups, documents) {
                    let folder = directory + "/ablation-\(mode.rawValue)-" + (robustness ? value.rawValue + "-" : "")
                        + group.map(FileNames.safe).joined(separator: "-")
                    try writeFiles(try renderers.ablation(document), to: folder)
                    ablations.append(AblationEntry(seed: seed, pair: group, document: document))
                }
            }
        }
        var rankings: RankingDocument?
        // Scoring a ranking needs at least one ablation step (--steps 0 runs none).
        if !model.control && seed == request.seeds.first && request.steps >= 1 {
            // Labels without a sensitivity on dev were warned about above; say only why any other is left out.
            let (labels, skipped) = RankingStudy.scorableLabels(rankRun: devRun, dataRun: testRun, sensitivity: devSensitivity)
            for item in skipped where !devSensitivity.undefinedLabels.contains(item.label) { report(.warning("\(name): " + item.reason)) }
            if !labels.isEmpty {
                let document = timed("\(name): rival rankings") {
                    RankingStudy.run(
                        model: directory, rankRun: devRun, dataRun: testRun, methods: RankMethod.allCases, labels: labels,
                        steps: request.steps, mode: .readout, probe: RankingStudy.probeParameters, sensitivity: devSensitivity)
                }
                try writeFiles(try renderers.ranking(document), to: directory + "/rankings")
                rankings = document
            }
        }
        return ModelAnalysis(
            dev: devResult, test: testResult, agreements: agreements, ablations: ablations,
            comparisonInput: model.control ? nil : Comparison.Input(name: name, run: devRun, sensitivity: devSensitivity),
            rankings: rankings)
    }

    func trainingRequest(seed: UInt64, directory: String, hashes: InputHashes?, control: Bool = false) -> TrainingRequest {
        var training = TrainingRequest(trainPath: request.trainPath, devPath: request.devPath, outputDirectory: directory)
        training.controlTask = control || request.controlLabels
        training.inputHashes = hashes
        // reproduce has no --clip and no --overwrite (`trainTogether` names the seeds to retrain after a signal).
        training.divergenceFix = "lower --lr"
        training.testPath = request.testPath
        training.embeddingsPath = request.embeddingsPath
        training.tagColumn = request.tagColumn
        training.options.seed = seed
        training.options.epochs = request.epochs
        training.options.learningRate = request.learningRate
        training.options.batchSize = request.batchSize
        training.configuration.dropout = request.dropout
        training.configuration.cell = request.cell
        training.configuration.hiddenSize = request.hiddenSize
        training.configuration.layers = request.layers
        return training
    }

    /// The checkpoint in `directory` when it finished training and matches
    /// this run: the same SHA-256 for every input file and the same options
    /// (see `TrainingRequest.differences`). Otherwise nil, with a warning
    /// that says why, and the seed is trained again from its start.
    func finishedCheckpoint(directory: String, seed: UInt64, hashes: InputHashes, control: Bool = false) -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: Checkpoint.metadataPath(directory)) else { return nil }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.load(from: directory)
        } catch {
            report(.warning("\(directory): the model there cannot be loaded (\(error)); training seed \(seed) again"))
            return nil
        }
        guard checkpoint.metadata.training?.finished == true else {
            report(.warning("\(directory): holds an unfinished run (interrupted or diverged); training seed \(seed) again from its start"))
            return nil
        }
        let differences = trainingRequest(seed: seed, directory: directory, hashes: hashes, control: control)
            .differences(from: checkpoint.metadata, hashes: hashes)
        guard differences.isEmpty else {
            report(.warning("\(directory): \(differences.joined(separator: ", ")); training seed \(seed) again"))
            return nil
        }
        return checkpoint
    }

    func placeholderRecord(_ seed: UInt64) -> TrainingRecord {
        TrainingRecord(seed: seed, epochs: request.epochs, bestEpoch: 0, selectionMetric: "f1", seconds: 0,
                       options: TrainingOptions(), vocabularyRule: VocabularyRule.trainAndEmbeddings.rawValue)
    }

    func readPaperFigures() throws -> PaperFigures? {
        guard let directory = request.paperDirectory else { return nil }
        let sensitivityPath = directory + "/figure7_sensitivity.csv", rankingsPath = directory + "/figure8_rankings.csv"
        guard let sensitivityText = try? String(contentsOfFile: sensitivityPath, encoding: .utf8) else {
            report(.warning("\(sensitivityPath): not found; the report shows no paper figures"))
            return nil
        }
        let sensitivity = try CorrelationAnalysis.readSensitivityCSV(sensitivityText, path: sensitivityPath)
        var rankings: [String: [Int]] = [:]
        if let rankingsText = try? String(contentsOfFile: rankingsPath, encoding: .utf8) {
            rankings = try CorrelationAnalysis.readRankingCSV(rankingsText, path: rankingsPath).rankings
        }
        return PaperFigures(labels: sensitivity.labels, sensitivity: sensitivity.values, rankings: rankings, reportedF1: 86.4)
    }

    /// NCRF++'s best-dev figures as measured on this machine, read from the anchors file.
    func readAnchors() -> [ReferenceScore] {
        guard let path = request.anchorsFile, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        // "Best-dev checkpoint (epoch 10): dev 86.23 / test 82.41 by NCRF++'s scorer; test 79.78 by conlleval.pl"
        func number(after marker: String, in line: Substring) -> Double? {
            guard let range = line.range(of: marker) else { return nil }
            let rest = line[range.upperBound...].drop { $0 == " " }
            return Double(rest.prefix { $0.isNumber || $0 == "." })
        }
        guard let best = text.split(separator: "\n").first(where: { $0.contains("Best-dev checkpoint") }),
              let devNCRF = number(after: "): dev ", in: best), let testNCRF = number(after: "/ test ", in: best)
        else { return [] }
        let testConll = number(after: "; test ", in: best)
        var devConll: Double?
        if let epochText = best.range(of: "(epoch ").map({ best[$0.upperBound...].prefix { $0.isNumber } }),
           let row = text.split(separator: "\n").first(where: { $0.hasPrefix("| \(epochText) |") }) {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if let last = cells.last, let slash = last.firstIndex(of: "/") { devConll = Double(last[..<slash].trimmingCharacters(in: .whitespaces)) }
        }
        return [ReferenceScore(
            name: "NCRF++ (paper's toolkit), measured on this machine", devF1NCRF: devNCRF, devF1: devConll,
            testF1NCRF: testNCRF, testF1: testConll, provenance: "\(path): one run, 50-d GloVe, NCRF++'s fixed seed 42")]
    }

    static var swiftVersion: String {
        #if compiler(>=6.3)
        return "6.3 or later"
        #else
        return "before 6.3"
        #endif
    }

    static func machineDescription() -> String {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let system = withUnsafeBytes(of: &name.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(system) \(machine), \(ProcessInfo.processInfo.activeProcessorCount) cores, "
            + "\(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB"
    }
}
