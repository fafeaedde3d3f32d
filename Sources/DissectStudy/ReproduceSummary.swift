import DissectAnalysis
import DissectModel

/// One trained seed of `dissect reproduce`.
public struct SeedResult: Codable, Sendable {
    public var seed: UInt64
    /// The checkpoint directory.
    public var directory: String
    /// Whether this run trained it or found it finished in the output folder.
    public var reused: Bool
    /// `model.json`'s training record: best epoch, dev/test F1 by both scorers, seconds.
    public var record: TrainingRecord

    public init(seed: UInt64, directory: String, reused: Bool, record: TrainingRecord) {
        self.seed = seed
        self.directory = directory
        self.reused = reused
        self.record = record
    }
}

/// A reference row for the F1 table (e.g. NCRF++ measured on this machine), with its provenance.
public struct ReferenceScore: Codable, Sendable {
    public var name: String
    public var devF1NCRF: Double?
    public var devF1: Double?
    public var testF1NCRF: Double?
    public var testF1: Double?
    public var provenance: String

    public init(name: String, devF1NCRF: Double?, devF1: Double?, testF1NCRF: Double?, testF1: Double?, provenance: String) {
        self.name = name
        self.devF1NCRF = devF1NCRF
        self.devF1 = devF1
        self.testF1NCRF = testF1NCRF
        self.testF1 = testF1
        self.provenance = provenance
    }
}

/// One ablation study of one seed: a pair of labels in one mode.
public struct AblationEntry: Codable, Sendable {
    public var seed: UInt64
    public var pair: [String]
    public var document: AblationDocument

    public init(seed: UInt64, pair: [String], document: AblationDocument) {
        self.seed = seed
        self.pair = pair
        self.document = document
    }
}

/// The paper's own figures, read from `../shared/paper/*.csv`.
public struct PaperFigures: Codable, Sendable {
    /// Figure 7: `[50][9]` sensitivity, columns in `labels` order.
    public var labels: [String]
    public var sensitivity: [[Double?]]
    /// Figure 8: per label, neurons from rank 1 down.
    public var rankings: [String: [Int]]
    /// The paper's reported F1 (86.4, by NCRF++'s scorer).
    public var reportedF1: Double

    public init(labels: [String], sensitivity: [[Double?]], rankings: [String: [Int]], reportedF1: Double) {
        self.labels = labels
        self.sensitivity = sensitivity
        self.rankings = rankings
        self.reportedF1 = reportedF1
    }
}

/// How the run was made.
public struct RunInformation: Codable, Sendable {
    public var command: String
    public var dissectVersion: String
    public var swiftVersion: String
    public var date: String
    public var machine: String
    public var trainFile: String
    public var devFile: String
    public var testFile: String
    public var embeddingsFile: String?
    /// Wall seconds per pipeline step, in order.
    public var timings: [StepTiming]
    public var totalSeconds: Double

    public init(
        command: String, dissectVersion: String, swiftVersion: String, date: String, machine: String,
        trainFile: String, devFile: String, testFile: String, embeddingsFile: String?, timings: [StepTiming], totalSeconds: Double
    ) {
        self.command = command
        self.dissectVersion = dissectVersion
        self.swiftVersion = swiftVersion
        self.date = date
        self.machine = machine
        self.trainFile = trainFile
        self.devFile = devFile
        self.testFile = testFile
        self.embeddingsFile = embeddingsFile
        self.timings = timings
        self.totalSeconds = totalSeconds
    }
}

public struct StepTiming: Codable, Sendable {
    public var step: String
    public var seconds: Double

    public init(step: String, seconds: Double) {
        self.step = step
        self.seconds = seconds
    }
}

/// The control-task models (Hewitt & Liang 2019), one per seed, analysed as the real ones are.
public struct ControlStudy: Codable, Sendable {
    public var seeds: [SeedResult]
    /// Per control seed (same order as `seeds`), sensitivity on dev, with its statistics.
    public var sensitivityDev: [Sensitivity.Document]
    /// Every (seed, pair, mode, value) ablation study of the control models.
    public var ablations: [AblationEntry]

    public init(seeds: [SeedResult], sensitivityDev: [Sensitivity.Document], ablations: [AblationEntry]) {
        self.seeds = seeds
        self.sensitivityDev = sensitivityDev
        self.ablations = ablations
    }
}

/// Everything `dissect reproduce` measured: the input of `report.html`, `report.md` and the figure files.
public struct ReproduceSummary: Codable, Sendable {
    public var seeds: [SeedResult]
    public var references: [ReferenceScore]
    /// Per seed (same order as `seeds`), sensitivity on the dev and the test file, columns in display order.
    public var sensitivityDev: [Sensitivity.Document]
    public var sensitivityTest: [Sensitivity.Document]
    public var paper: PaperFigures?
    /// Every (seed, pair, mode, value) ablation study (`document.value`: zero, mean or resample).
    public var ablations: [AblationEntry]
    /// The control-task models, when the run trained them (`--all`).
    public var controls: ControlStudy?
    /// Label correlation across the models (and the paper's matrix as reference) on dev and on test.
    public var correlationDev: CorrelationDocument
    public var correlationTest: CorrelationDocument
    public var run: RunInformation
    /// What was studied (the paper, or any corpus by `dissect study`), the ablated pairs
    /// and the label counts; nil in older summaries (the paper).
    public var task: StudyTask?
    /// The real seeds' top layers compared on dev (linear CKA, SVCCA, Hungarian neuron matching,
    /// top-10 recurrence per label); nil with fewer than two seeds and in older summaries.
    public var seedComparison: Comparison?
    /// The first seed's neurons ranked on dev by every `RankMethod` and each ranking scored on test by
    /// zero-ablation of its top k neurons; nil in older summaries.
    public var rankings: RankingDocument?
    /// The first seed's hidden-size study (`--all`); nil otherwise and in older summaries.
    public var sizes: SizesDocument?

    public init(
        seeds: [SeedResult], references: [ReferenceScore], sensitivityDev: [Sensitivity.Document],
        sensitivityTest: [Sensitivity.Document], paper: PaperFigures?, ablations: [AblationEntry],
        correlationDev: CorrelationDocument, correlationTest: CorrelationDocument, run: RunInformation,
        controls: ControlStudy? = nil, task: StudyTask? = nil, seedComparison: Comparison? = nil, rankings: RankingDocument? = nil,
        sizes: SizesDocument? = nil
    ) {
        self.sizes = sizes
        self.controls = controls
        self.task = task
        self.seedComparison = seedComparison
        self.rankings = rankings
        self.seeds = seeds
        self.references = references
        self.sensitivityDev = sensitivityDev
        self.sensitivityTest = sensitivityTest
        self.paper = paper
        self.ablations = ablations
        self.correlationDev = correlationDev
        self.correlationTest = correlationTest
        self.run = run
    }
}

/// Which run made a summary: `reproduce` (the paper: CoNLL-2003, its pairs and
/// figures) or `study` (any tagging corpus, pairs chosen by `AblationPairs.rule`).
public enum StudyKind: String, Codable, Sendable {
    case paper
    case study
}

/// What a run studied, beside its numbers.
public struct StudyTask: Codable, Sendable {
    public var kind: StudyKind
    /// The ablated label groups, and how they were chosen.
    public var pairs: [[String]]
    public var pairRule: String
    /// Gold label counts of the training file (what chose the pairs) and of the
    /// test file (each label's share of the test tokens, claim (c)).
    public var trainLabelCounts: [String: Int]
    public var testLabelCounts: [String: Int]

    public init(kind: StudyKind, pairs: [[String]], pairRule: String, trainLabelCounts: [String: Int], testLabelCounts: [String: Int]) {
        self.kind = kind
        self.pairs = pairs
        self.pairRule = pairRule
        self.trainLabelCounts = trainLabelCounts
        self.testLabelCounts = testLabelCounts
    }
}
