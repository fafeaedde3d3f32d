import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectModel
import DissectReport
import Foundation

extension RankMethod: ExpressibleByArgument {}

struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Rank each label's neurons by sensitivity and by rival methods, and score every ranking by ablation.",
        discussion: """
            Methods, each computed on --rank-on: sensitivity (the paper's, condition predicted), probeless \
            (|mean(h_i | predicted = j) − mean(h_i | predicted ≠ j)|), probe (an elastic-net softmax probe on z-scored h \
            and gold labels, |W[j,i]|) and single (the drop in label j's accuracy when neuron i alone is zero-ablated). \
            Every ranking is scored on --data the same way: its top k neurons are zero-ablated, k = 0 … K, readout mode on \
            the top layer and recurrent below; drop at 10 and the area (mean drop over k = 1 … K) are in points. \
            Writes rankings.json, rankings.csv, ranking-scores.csv and ranking-drops.svg.
            """)

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The CoNLL file on which every method ranks the neurons (the development set).")
    var rankOn: String

    @Option(help: "The CoNLL file on which every ranking is scored by ablation (the test set).")
    var data: String

    @Option(help: "The comma-separated ranking methods to compare, from sensitivity, probeless, probe and single.",
            transform: { try RankCommand.parseMethods($0) })
    var methods: [[RankMethod]] = [RankMethod.allCases]

    @Option(parsing: .unconditional, help: "The largest number of ablated neurons K; curves run k = 0 … K (capped at the neuron count).")
    var steps = 25

    @Option(help: "The recurrent layer to rank, counted from 1 at the bottom (default: the top layer, the one the output reads).")
    var layer: Int?

    @Option(help: "The 1-based column that holds the gold label (default: the column the model was trained on, else the last).")
    var tagColumn: Int?

    @Option(help: "The directory that receives the JSON, CSV and SVG files.")
    var out: String

    static func parseMethods(_ text: String) throws -> [RankMethod] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var chosen: [RankMethod] = []
        for name in names {
            guard let method = RankMethod(rawValue: name) else {
                throw ValidationError("--methods: '\(name)' is not a method; choose from \(RankMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard !chosen.contains(method) else { throw ValidationError("--methods names \(name) twice.") }
            chosen.append(method)
        }
        return chosen
    }

    var chosenMethods: [RankMethod] { methods.flatMap { $0 } }

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be 1 or more.") }
        try OptionChecks.layer(layer)
        try OptionChecks.tagColumn(tagColumn)
        guard !chosenMethods.isEmpty else { throw ValidationError("--methods names no method.") }
        guard Set(chosenMethods).count == chosenMethods.count else { throw ValidationError("--methods names a method twice.") }
    }

    func run() throws {
        // The condition is fixed at predicted: every method ranks as the paper does.
        let analysis = try AnalysisOptions.predicted(layer: layer, tagColumn: tagColumn)
        let layers = try Checkpoint.loadMetadata(from: model).configuration.layers
        let layerIndex = try analysis.layerIndex(model: model, layers: layers)
        let mode: AblationMode = layerIndex == layers - 1 ? .readout : .recurrent
        let methods = chosenMethods
        let rankRun = try analysis.run(
            model: model, data: rankOn, keepProjections: mode == .recurrent && methods.contains(.single),
            ablationMode: methods.contains(.single) ? mode : nil)
        let dataRun = try analysis.run(model: model, data: data, keepProjections: mode == .recurrent, ablationMode: mode)
        try MemoryBudget.require(
            AnalysisMemory.ranking(
                tokens: rankRun.tokenCount, neurons: rankRun.neuronCount, labels: rankRun.labels.count, methods: methods.count,
                steps: min(steps, dataRun.neuronCount)),
            for: "ranking with \(methods.count) methods on \(rankOn)", kind: .usage, file: rankOn,
            fix: "choose fewer --methods or a smaller --rank-on file")
        let sensitivity = Sensitivity(run: rankRun, condition: .predicted)
        let (labels, skipped) = RankingStudy.scorableLabels(rankRun: rankRun, dataRun: dataRun, sensitivity: sensitivity)
        for item in skipped { Terminal.warn(item.reason) }
        guard !labels.isEmpty else {
            throw DissectError(file: rankOn, problem: "no label is both predicted here and present in \(data)", fix: "rank on a file where the labels are predicted")
        }
        let document = RankingStudy.run(
            model: model, rankRun: rankRun, dataRun: dataRun, methods: methods, labels: labels, steps: steps, mode: mode,
            probe: RankingStudy.probeParameters, sensitivity: sensitivity)
        let files = try RankingArtifacts.files(document)
        try writeArtifacts(files, to: out)
        for method in document.methods {
            var line = "\(method.method.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) mean drop at \(document.dropK): "
                + "\(format(method.meanDropAt10)) points over \(labels.count) labels"
            if let accuracy = method.probeTrainingAccuracy { line += "; probe training accuracy \(format(accuracy * 100))%" }
            print(line)
        }
        print("\(mode.rawValue) ablation of layer \(document.layer) in \(format(document.seconds, 2)) s; wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }
}
