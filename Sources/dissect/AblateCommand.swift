import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectModel
import DissectReport
import Foundation

struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "Ablate each label's most sensitive neurons one by one and track every label's accuracy (the paper's Figures 4 and 5).",
        discussion: """
            Rankings come from --rank-on (the dev set), accuracy from --data (the test set), as in the paper. \
            An ablated h_i is set to 0 (--value zero, the paper), its mean over --rank-on (mean) or its value at a random \
            --rank-on token, drawn afresh per token (resample). Controls: the reverse ranking and random orders; each ranked \
            curve gets a sentence-bootstrap band (--band). Writes ablation.json, ablation.csv and one SVG per ranking.
            """)

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The CoNLL file whose sensitivities rank the neurons (the development set).")
    var rankOn: String

    @Option(help: "The CoNLL file on which accuracy is measured (the test set).")
    var data: String

    @Option(help: "Comma-separated labels whose rankings to ablate, e.g. B-PER,B-MISC (default: every label).")
    var labels: String?

    @Option(parsing: .unconditional, help: "The largest number of ablated neurons K; curves run k = 0 … K.")
    var steps = 25

    @Option(help: "'readout' replaces h_i (by --value) only where it enters the linear layer (top layer only; the default there); 'recurrent' also replaces it in the state carried to the next step, and so in every layer above (the default below the top layer).")
    var mode: AblationMode?

    @Option(parsing: .unconditional, help: "How many random ablation orders form the control band (0 turns it off).")
    var random = 20

    @Option(help: "What an ablated h_i is set to: 'zero' (the paper), 'mean' (its mean over --rank-on) or 'resample' (its value at a random --rank-on token, drawn afresh for every neuron and token from --seed).")
    var value: AblationValue = .zero

    @Option(parsing: .unconditional, help: "How many sentence resamples of --data form the 95% bootstrap band around each ranked curve (0 turns it off).")
    var band = 200

    @Option(help: "The seed of the random orders, the resample draws and the band's sentence resamples.")
    var seed: UInt64 = 1

    @Flag(help: "Leave out the reverse-ranking control.")
    var noReverse = false

    @Option(help: "The directory that receives the JSON, CSV and SVG files.")
    var out: String

    @OptionGroup var analysis: AnalysisOptions

    func validate() throws {
        guard steps >= 0 else { throw ValidationError("--steps must be 0 or more.") }
        guard random >= 0 else { throw ValidationError("--random must be 0 or more.") }
        guard (0...Self.largestBand).contains(band) else {
            throw ValidationError("--band must be 0 (no band) to \(Self.largestBand) sentence resamples.")
        }
        if let labels, labels.split(separator: ",").isEmpty { throw ValidationError("--labels names no label.") }
        // The smallest model (one neuron, one label) bounds --random and --band before any checkpoint is read.
        do {
            try requireRandomMemory(neurons: 1, labels: 1)
            try requireBandMemory(sentences: 1, neurons: 1, labels: 1, curves: 1)
        } catch let error as DissectError {
            throw ValidationError(error.description)
        }
    }

    /// More resamples than this refine a 95% percentile band no further.
    static let largestBand = 100_000

    /// The bands must fit in memory (`AnalysisMemory.band`); --steps stops at the neuron count.
    func requireBandMemory(sentences: Int, neurons: Int, labels: Int, curves: Int) throws {
        try MemoryBudget.require(
            AnalysisMemory.band(resamples: band, sentences: sentences, steps: min(steps, neurons), labels: labels, curves: curves),
            for: "--band \(band)" + (sentences > 1 ? " (over \(sentences) sentences)" : ""), kind: .usage,
            fix: "choose a smaller --band")
    }

    /// The random orders and their curves must fit in memory (`AnalysisMemory.randomControl`).
    func requireRandomMemory(neurons: Int, labels: Int) throws {
        try MemoryBudget.require(
            AnalysisMemory.randomControl(count: random, neurons: neurons, steps: min(steps, neurons), labels: labels, groups: 1),
            for: "--random \(random)" + (neurons > 1 ? " (orders of \(neurons) neurons)" : ""), kind: .usage,
            fix: "choose a smaller --random")
    }

    /// A lower layer's neuron has no readout to zero: there `--mode readout` is a
    /// usage error and recurrent mode is the default; on the top layer readout is.
    static func mode(requested: AblationMode?, layer: Int, layers: Int, model: String) throws -> AblationMode {
        let top = layer == layers - 1
        switch requested {
        case nil: return top ? .readout : .recurrent
        case .readout? where !top:
            throw DissectError(
                .usage, file: model,
                problem: "--mode readout zeroes a neuron where the output layer reads it, but layer \(layer + 1) of \(layers) is not read by the output layer",
                fix: "use --mode recurrent (the default below the top layer), or --layer \(layers)")
        case let chosen?: return chosen
        }
    }

    func run() throws {
        let layers = try Checkpoint.loadMetadata(from: model).configuration.layers
        let layer = try analysis.layerIndex(model: model, layers: layers)
        let ablationMode = try Self.mode(requested: mode, layer: layer, layers: layers, model: model)
        let rankRun = try analysis.run(model: model, data: rankOn)
        try requireRandomMemory(neurons: rankRun.neuronCount, labels: rankRun.labels.count)
        let dataRun = try analysis.run(
            model: model, data: data, keepProjections: ablationMode == .recurrent, ablationMode: ablationMode, ablationValue: value)
        var requested: [String] = []
        var seen: Set<String> = []
        for label in labels.map({ $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }) ?? rankRun.labels
        where seen.insert(label).inserted {
            requested.append(label)
        }
        for label in requested where !rankRun.labels.contains(label) {
            throw DissectError(
                .usage, file: model, problem: "the model has no label '\(label)'",
                fix: "pass --labels from: \(rankRun.labels.joined(separator: ","))")
        }
        let sensitivity = Sensitivity(run: rankRun, condition: analysis.condition)
        var usable: [String] = []
        for label in requested {
            if let index = rankRun.labels.firstIndex(of: label), !sensitivity.ranking(label: index).isEmpty {
                usable.append(label)
            } else {
                Terminal.warn("\(rankOn): label \(label) has no defined sensitivity there, so it has no ranking to ablate; skipped")
            }
        }
        guard !usable.isEmpty else {
            throw DissectError(file: rankOn, problem: "none of the requested labels has a defined sensitivity", fix: "rank on a file where the labels are predicted")
        }
        try requireBandMemory(
            sentences: dataRun.sentenceStarts.count - 1, neurons: dataRun.neuronCount, labels: dataRun.labels.count, curves: usable.count)
        let document = AblationStudy.run(
            rankRun: rankRun, dataRun: dataRun, labels: usable, steps: steps, mode: ablationMode,
            randomCount: random, seed: seed, condition: analysis.condition, reverse: !noReverse, value: value, bandResamples: band)
        let files = try AnalysisArtifacts.ablationFiles(document)
        try writeArtifacts(files, to: out)
        let K = min(steps, dataRun.neuronCount)
        for label in usable {
            guard let curve = document.curves[label], let own = curve.accuracy[label], let all = curve.accuracy["all"] else { continue }
            var line = "\(label): accuracy \(format(own[0] * 100)) → \(format(own[K] * 100)) at k = \(K)"
            if let randomOwn = document.controls.random?.mean.accuracy[label] {
                line += " (random orders: \(format(randomOwn[K] * 100)))"
            }
            line += "; all tokens \(format(all[0] * 100)) → \(format(all[K] * 100))"
            if let band = curve.band, let low = band.lower[label]?[K], let high = band.upper[label]?[K], low.isFinite, high.isFinite {
                line += "; \(label) 95% band at k = \(K): \(format(low * 100))–\(format(high * 100))"
            }
            print(line)
        }
        print("\(ablationMode.rawValue) ablation, \(Self.describe(value, rankOn: rankOn)), in \(format(document.seconds, 2)) s; "
            + "wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }

    /// How the value is named in the summary line.
    static func describe(_ value: AblationValue, rankOn: String) -> String {
        switch value {
        case .zero: return "value zero (h_i ← 0)"
        case .mean: return "value mean (h_i ← its mean over \(rankOn))"
        case .resample: return "value resample (h_i ← its value at a random token of \(rankOn))"
        }
    }
}
