import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import DissectReport
import DissectStudy
import Foundation

struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Write explorer.html: one self-contained page to browse a model's neurons, labels and, with --run, its other seeds.",
        discussion: """
            Runs the model over --data and computes what the page shows: sensitivity with 95 % sentence-bootstrap \
            intervals and findings (1,000 resamples and permutations, seed 1), the drop in each label's accuracy when each \
            neuron alone is zero-ablated (readout on the top layer, recurrent below), each neuron's top and bottom tokens, \
            and its activation histograms per gold and per predicted label. The activations are stored as 8 bits per \
            neuron and token. With --run it also reads a `reproduce` or `study` folder (summary.json: the other seeds' \
            sensitivity, the neuron matches and the first seed's rival rankings), a `compare` folder (compare.json) or a \
            `rank` folder (rankings.json). The page needs no network and no server: open it from disk.
            """)

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The CoNLL file the model is run over (the development set, as sensitivity is).")
    var data: String

    @Option(name: .customLong("run"), help: "A reproduce, study, compare or rank output folder whose other seeds, matches and rankings the page adds.")
    var runFolder: String?

    @Option(help: "The recurrent layer to explore, counted from 1 at the bottom (default: the top layer, the one the output reads).")
    var layer: Int?

    @Option(help: "The 1-based column that holds the gold label (default: the column the model was trained on, else the last).")
    var tagColumn: Int?

    @Option(help: "The directory that receives explorer.html.")
    var out: String

    func validate() throws {
        try OptionChecks.layer(layer)
        try OptionChecks.tagColumn(tagColumn)
    }

    func run() throws {
        let context = try runFolder.map { try ExplorerWriter.RunContext.read(folder: $0, model: model) }
        let page = try ExplorerWriter.page(model: model, data: data, layer: layer, tagColumn: tagColumn, context: context)
        try AtomicFile.makeDirectory(out)
        try AtomicFile.write(page.html, to: out + "/explorer.html")
        print("explorer for \(page.data.neurons) neurons, \(page.data.labels.count) labels, \(page.data.tokenCount) tokens"
            + (page.data.seeds.isEmpty ? "" : ", \(page.data.seeds.count) other seeds")
            + "; wrote \(out)/explorer.html (\(format(Double(page.html.utf8.count) / 1_048_576, 1)) MiB)")
    }
}

/// The explorer page of one model, as `explore` writes it and as `reproduce` and `study` write it for their first seed.
enum ExplorerWriter {
    /// What a run folder adds: the model's name there, the other seeds and the rival rankings.
    struct RunContext {
        var name: String?
        var seeds: [ExplorerSeed]
        var rivals: RankingDocument?
        var notes: [String]

        static func standardized(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

        /// From a reproduce or study summary (in memory, or summary.json).
        static func from(summary: ReproduceSummary, model: String, source: String) -> RunContext {
            let ours = summary.seeds.first { standardized($0.directory) == standardized(model) }
            guard let ours else {
                return RunContext(name: nil, seeds: [], rivals: nil, notes: ["\(model) is not one of the seeds of \(source), so no other seeds are shown."])
            }
            let name = ReproduceNumbers.seedName(ours.seed)
            var sensitivity: [String: (values: [[Double?]], data: String)] = [:]
            for (seed, document) in zip(summary.seeds, summary.sensitivityDev) {
                sensitivity[ReproduceNumbers.seedName(seed.seed)] = (document.sensitivity, document.data)
            }
            let width = summary.sensitivityDev.first?.neurons ?? 0
            let seeds = summary.seedComparison.map {
                ExplorerBuilder.seeds(from: $0, ours: name, neurons: width, sensitivity: sensitivity)
            } ?? []
            let rivals = summary.rankings.flatMap { standardized($0.model) == standardized(model) ? $0 : nil }
            var notes = ["Seeds and matches from \(source)" + (summary.seedComparison.map { " (matched on \($0.data))" } ?? "") + "."]
            if rivals != nil { notes.append("Rival rankings from \(source): ranked on \(rivals?.rankOn ?? "?"), scored on \(rivals?.data ?? "?").") }
            return RunContext(name: name, seeds: seeds, rivals: rivals, notes: notes)
        }

        /// From a folder: summary.json (reproduce, study), compare.json (compare) or rankings.json (rank).
        static func read(folder: String, model: String) throws -> RunContext {
            func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T? {
                let path = folder + "/" + name
                guard let data = FileManager.default.contents(atPath: path) else { return nil }
                do {
                    return try JSONDecoder().decode(type, from: data)
                } catch {
                    throw DissectError(
                        file: path, problem: "cannot be read as the \(name) that dissect writes (\(error.localizedDescription))",
                        fix: "pass --run a folder written by dissect reproduce, study, compare or rank")
                }
            }
            if let summary = try decode(ReproduceSummary.self, "summary.json") {
                return from(summary: summary, model: model, source: folder + "/summary.json")
            }
            if let comparison = try decode(Comparison.self, "compare.json") {
                guard let ours = comparison.models.first(where: { standardized($0) == standardized(model) }) else {
                    throw DissectError(
                        file: folder + "/compare.json", problem: "does not compare \(model) (it compares \(comparison.models.joined(separator: ", ")))",
                        fix: "pass --run a compare folder that includes --model")
                }
                let width = comparison.neurons[comparison.models.firstIndex(of: ours) ?? 0]
                return RunContext(
                    name: nil, seeds: ExplorerBuilder.seeds(from: comparison, ours: ours, neurons: width, sensitivity: [:]), rivals: nil,
                    notes: ["Matches from \(folder)/compare.json (on \(comparison.data))."])
            }
            if let rankings = try decode(RankingDocument.self, "rankings.json") {
                guard standardized(rankings.model) == standardized(model) else {
                    throw DissectError(
                        file: folder + "/rankings.json", problem: "ranks \(rankings.model), not \(model)",
                        fix: "pass --run the rank folder of --model")
                }
                return RunContext(name: nil, seeds: [], rivals: rankings,
                                  notes: ["Rival rankings from \(folder)/rankings.json: ranked on \(rankings.rankOn), scored on \(rankings.data)."])
            }
            throw DissectError(
                file: folder, problem: "holds no summary.json, compare.json or rankings.json",
                fix: "pass --run a folder written by dissect reproduce, study, compare or rank")
        }
    }

    /// Runs the model and builds the page. `context` adds the run's other seeds and rankings.
    static func page(model: String, data: String, layer: Int?, tagColumn: Int?, context: RunContext?) throws -> (html: String, data: ExplorerData) {
        let analysis = try AnalysisOptions.predicted(layer: layer, tagColumn: tagColumn)
        let metadata = try Checkpoint.loadMetadata(from: model)
        let layers = metadata.configuration.layers
        let layerIndex = try analysis.layerIndex(model: model, layers: layers)
        let mode: AblationMode = layerIndex == layers - 1 ? .readout : .recurrent
        let (run, corpus) = try analysis.runWithCorpus(model: model, data: data, keepProjections: mode == .recurrent, ablationMode: mode)
        try MemoryBudget.require(
            AnalysisMemory.explorer(tokens: run.tokenCount, neurons: run.neuronCount, labels: run.labels.count),
            for: "an explorer page of \(run.tokenCount) tokens", kind: .input, file: data, fix: "explore a smaller file")
        let words = corpus.sentences.map(\.words)
        let sensitivity = Sensitivity(run: run, condition: .predicted)
        let statistics = SensitivityStatistics(run: run, sensitivity: sensitivity, bootstrap: 1000, permutations: 1000, seed: 1)
        let single = RivalRankings.single(run: run, mode: mode)
        var notes = ["Sensitivity, intervals, single-neuron ablation (\(mode.rawValue) mode), top tokens and activations computed on \(data)."]
        notes += context?.notes ?? []
        // Rival rankings and matches describe the run's layer (the top one); a lower layer shows its own numbers only.
        let sameLayer = run.isTopLayer
        if !sameLayer && context != nil { notes.append("The run's matches and rankings are of the top layer, so they are left out for layer \(layerIndex + 1).") }
        let document = ExplorerBuilder.make(
            model: model, run: run, words: words, sensitivity: sensitivity, statistics: statistics, single: single,
            rivals: sameLayer ? context?.rivals : nil, seeds: sameLayer ? context?.seeds ?? [] : [], name: context?.name, notes: notes)
        return (try ExplorerPage.html(document), document)
    }
}
