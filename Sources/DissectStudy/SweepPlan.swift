import DissectAnalysis
import DissectCore
import DissectModel
import Foundation

/// The model options a sweep's grid varies besides the seed.
public struct SweepSettings: Codable, Sendable, Hashable {
    public var cell: CellKind
    public var hiddenSize: Int
    public var layers: Int
    /// Whether the run's model is a control-task model (Hewitt & Liang), analysed as a real one is.
    public var controlTask: Bool

    public init(cell: CellKind, hiddenSize: Int, layers: Int, controlTask: Bool) {
        self.cell = cell
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.controlTask = controlTask
    }
}

/// One grid point: one seed with one set of settings, trained and analysed in `runs/<name>/`.
public struct SweepRun: Codable, Sendable, Equatable {
    /// The run's place in `sweep.json` (what `sweep-run --index` and `$SLURM_ARRAY_TASK_ID` name).
    public var index: Int
    public var name: String
    public var seed: UInt64
    public var settings: SweepSettings
    /// The runs that differ only by seed share a group, aggregated together in `aggregate/<group>/`.
    public var group: String
}

/// The flags every run of a sweep shares: `reproduce`'s data, training and analysis flags.
public struct SweepCommon: Codable, Sendable, Equatable {
    public var trainPath: String
    public var devPath: String
    public var testPath: String
    public var embeddingsPath: String?
    public var tagColumn: Int?
    public var epochs: Int
    public var learningRate: Double
    public var batchSize: Int
    public var dropout: Double
    public var steps: Int
    public var randomCount: Int
    public var recurrentRandomCount: Int
    public var bootstrap: Int
    public var permutations: Int
    /// `--all`: mean and resample ablation too, and a control model beside each run's model.
    public var all: Bool
    public var paperDirectory: String?
    public var anchorsFile: String?

    public init(
        trainPath: String, devPath: String, testPath: String, embeddingsPath: String?, tagColumn: Int?, epochs: Int,
        learningRate: Double, batchSize: Int, dropout: Double, steps: Int, randomCount: Int, recurrentRandomCount: Int,
        bootstrap: Int, permutations: Int, all: Bool, paperDirectory: String?, anchorsFile: String?
    ) {
        self.trainPath = trainPath
        self.devPath = devPath
        self.testPath = testPath
        self.embeddingsPath = embeddingsPath
        self.tagColumn = tagColumn
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.dropout = dropout
        self.steps = steps
        self.randomCount = randomCount
        self.recurrentRandomCount = recurrentRandomCount
        self.bootstrap = bootstrap
        self.permutations = permutations
        self.all = all
        self.paperDirectory = paperDirectory
        self.anchorsFile = anchorsFile
    }
}

/// The grid a sweep expands, written to `SWEEP/sweep.json`: everything a run or the
/// aggregation needs, so a node reads its work from the shared folder and not from a command line.
public struct SweepPlan: Codable, Sendable {
    public var format = 1
    /// The command that wrote the plan, for the report.
    public var command: String
    /// Threads per run (`--threads`); results never depend on it.
    public var threads: Int
    public var common: SweepCommon
    public var runs: [SweepRun]
    /// Group names in grid order.
    public var groups: [String]

    /// More runs than this is a typing mistake: each is minutes of training.
    public static let largestRunCount = 10_000

    /// The grid: every seed with every combination of the lists, seeds varying fastest within a group.
    /// A run's name holds the seed and each option that takes more than one value (`seed-3_hidden-100_cell-gru`).
    /// - Throws: `DissectError` (.usage) when the grid has more than `largestRunCount` runs.
    public static func expand(
        seeds: [UInt64], cells: [CellKind], hiddenSizes: [Int], layers: [Int], controlTask: [Bool],
        common: SweepCommon, threads: Int, command: String
    ) throws -> SweepPlan {
        var total = seeds.count
        for count in [cells.count, hiddenSizes.count, layers.count, controlTask.count] {
            let (product, overflow) = total.multipliedReportingOverflow(by: count)
            guard !overflow, product <= largestRunCount else {
                throw DissectError(
                    .usage, problem: "the sweep's grid has more than \(largestRunCount) runs",
                    fix: "give --seeds, --hidden, --cell, --layers and --control-task fewer values, or split the sweep")
            }
            total = product
        }
        guard total >= 1 else {
            throw DissectError(.usage, problem: "the sweep's grid has no runs", fix: "give every list at least one value")
        }
        var runs: [SweepRun] = []
        var groups: [String] = []
        for cell in cells {
            for hiddenSize in hiddenSizes {
                for layerCount in layers {
                    for control in controlTask {
                        var parts: [String] = []
                        if hiddenSizes.count > 1 { parts.append("hidden-\(hiddenSize)") }
                        if cells.count > 1 { parts.append("cell-\(cell.rawValue)") }
                        if layers.count > 1 { parts.append("layers-\(layerCount)") }
                        if controlTask.count > 1 { parts.append("control-task-\(control ? "on" : "off")") }
                        let group = parts.isEmpty ? "all" : parts.joined(separator: "_")
                        groups.append(group)
                        let settings = SweepSettings(cell: cell, hiddenSize: hiddenSize, layers: layerCount, controlTask: control)
                        for seed in seeds {
                            let name = (["seed-\(seed)"] + parts).joined(separator: "_")
                            runs.append(SweepRun(index: runs.count, name: name, seed: seed, settings: settings, group: group))
                        }
                    }
                }
            }
        }
        return SweepPlan(command: command, threads: threads, common: common, runs: runs, groups: groups)
    }

    // MARK: The folder

    public static func planPath(_ sweep: String) -> String { sweep + "/sweep.json" }
    public static func runDirectory(_ sweep: String, _ run: SweepRun) -> String { sweep + "/runs/" + run.name }
    public static func logPath(_ sweep: String, _ name: String) -> String { sweep + "/logs/" + name + ".log" }
    public static func aggregateDirectory(_ sweep: String) -> String { sweep + "/aggregate" }
    /// Written last by the aggregation: its presence says the aggregation finished.
    public static func aggregateRecordPath(_ sweep: String) -> String { aggregateDirectory(sweep) + "/aggregate.json" }
    /// Written last by a run: the inputs it finished with (`SweepRunRecord`).
    public static func runRecordPath(_ sweep: String, _ run: SweepRun) -> String { runDirectory(sweep, run) + "/run.json" }

    /// Reads `SWEEP/sweep.json`.
    /// - Throws: `DissectError` (.input) naming the file when it is missing or not a plan.
    public static func read(sweep: String) throws -> SweepPlan {
        let path = planPath(sweep)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DissectError(file: path, problem: "no sweep plan here", fix: "pass the --out folder of a `dissect sweep` as --sweep")
        }
        do {
            return try JSONDecoder().decode(SweepPlan.self, from: data)
        } catch {
            throw DissectError(file: path, problem: "not a sweep plan (\(error))", fix: "run `dissect sweep` again to rewrite it")
        }
    }

    /// Creates the sweep folder and writes the plan atomically. The runs write into the same folder, so
    /// on a cluster it has to be on a filesystem every node shares; the error says so.
    public func write(sweep: String) throws {
        let fix = "choose a writable --out folder on a filesystem that every node running the sweep shares"
        do {
            for directory in [sweep, sweep + "/runs", sweep + "/logs"] { try AtomicFile.makeDirectory(directory) }
            guard access(sweep, W_OK) == 0 else {
                throw DissectError(.usage, file: sweep, problem: "the sweep folder is not writable", fix: fix)
            }
            try AtomicFile.write(try JSONOutput.encode(self), to: SweepPlan.planPath(sweep))
        } catch let error as DissectError where error.kind != .usage {
            throw DissectError(.usage, file: sweep, problem: "the sweep folder cannot be written (\(error.problem))", fix: fix)
        }
    }

    // MARK: Requests

    /// The pipeline request of one run: its seed and settings, into `runs/<name>/`.
    public func request(for run: SweepRun, sweep: String) -> ReproduceRequest {
        var request = baseRequest(settings: run.settings, outputDirectory: SweepPlan.runDirectory(sweep, run))
        request.seeds = [run.seed]
        return request
    }

    /// The pipeline request of one group's aggregation: its seeds, into `aggregate/<group>/`.
    public func request(group: String, sweep: String) -> ReproduceRequest? {
        let members = runs.filter { $0.group == group }
        guard let first = members.first else { return nil }
        var request = baseRequest(settings: first.settings, outputDirectory: SweepPlan.aggregateDirectory(sweep) + "/" + group)
        request.seeds = members.map(\.seed)
        return request
    }

    func baseRequest(settings: SweepSettings, outputDirectory: String) -> ReproduceRequest {
        var request = ReproduceRequest(
            trainPath: common.trainPath, devPath: common.devPath, testPath: common.testPath, outputDirectory: outputDirectory)
        request.embeddingsPath = common.embeddingsPath
        request.tagColumn = common.tagColumn
        request.epochs = common.epochs
        request.learningRate = common.learningRate
        request.batchSize = common.batchSize
        request.dropout = common.dropout
        request.steps = common.steps
        request.randomCount = common.randomCount
        request.recurrentRandomCount = common.recurrentRandomCount
        request.bootstrap = common.bootstrap
        request.permutations = common.permutations
        request.values = common.all ? AblationValue.allCases : [.zero]
        request.controlTask = common.all
        request.kind = .paper
        request.pairs = ReproduceNumbers.paperPairs
        request.paperDirectory = common.paperDirectory
        request.anchorsFile = common.anchorsFile
        request.command = command
        request.cell = settings.cell
        request.hiddenSize = settings.hiddenSize
        request.layers = settings.layers
        request.controlLabels = settings.controlTask
        return request
    }
}

/// `runs/<name>/run.json`: what a finished run was made from. A rerun skips the run only when this
/// matches what it would run now; the checkpoint's own record (`model.json`: the SHA-256 of every input
/// file and every training option) decides separately whether the model is trained again.
public struct SweepRunRecord: Codable, Sendable, Equatable {
    public var seed: UInt64
    public var settings: SweepSettings
    /// Without `--threads`, which never changes a result.
    public var common: SweepCommon
    public var train: String
    public var dev: String
    public var test: String?
    public var embeddings: String?

    public init(run: SweepRun, plan: SweepPlan, hashes: InputHashes) {
        seed = run.seed
        settings = run.settings
        common = plan.common
        train = hashes.train
        dev = hashes.dev
        test = hashes.test
        embeddings = hashes.embeddings
    }

    /// Whether `run` finished with exactly these inputs.
    public static func isFinished(_ run: SweepRun, plan: SweepPlan, sweep: String, hashes: InputHashes) -> Bool {
        guard let data = FileManager.default.contents(atPath: SweepPlan.runRecordPath(sweep, run)),
              let recorded = try? JSONDecoder().decode(SweepRunRecord.self, from: data),
              FileManager.default.fileExists(atPath: SweepPlan.runDirectory(sweep, run) + "/summary.json")
        else { return false }
        return recorded == SweepRunRecord(run: run, plan: plan, hashes: hashes)
    }
}

extension SweepPlan {
    /// The SHA-256 of the plan's input files, once per sweep.
    public func hashes() throws -> InputHashes {
        try InputHashes.compute(
            trainPath: common.trainPath, devPath: common.devPath, testPath: common.testPath, embeddingsPath: common.embeddingsPath)
    }
}
