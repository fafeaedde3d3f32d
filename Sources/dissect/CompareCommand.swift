import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectModel
import DissectReport
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare the hidden states of several models on one file: linear CKA, SVCCA, neuron matching and label-neuron recurrence.",
        discussion: """
            Over every token's hidden state of the compared layer: linear CKA = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) of the \
            column-centred activations; SVCCA (the top directions explaining 99 % of the variance, then the mean canonical \
            correlation); a one-to-one Hungarian matching of neurons maximising the total |Pearson r|, with each neuron's best \
            |r| in every other model (MaxCorr); and, per label, how many of one model's top 10 neurons (by sensitivity) match \
            into the other's top 10, beside the random expectation 10·10 / n_B. Writes compare.json, cka.csv, svcca.csv, \
            matches.csv, recurrence.csv, cka.svg and matches.svg.
            """)

    @Option(parsing: .upToNextOption, help: "Two or more distinct checkpoint directories written by `dissect train`.")
    var models: [String]

    @Option(help: "The CoNLL file every model is run over.")
    var data: String

    @Option(help: "The directory that receives the JSON, CSV and SVG files.")
    var out: String

    @OptionGroup var analysis: AnalysisOptions

    func validate() throws {
        guard models.count >= 2 else { throw ValidationError("--models needs at least two checkpoint directories to compare.") }
        let normalized = models.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        guard Set(normalized).count == normalized.count else { throw ValidationError("--models must name distinct checkpoint directories.") }
    }

    func run() throws {
        // Label sets and widths from each model.json, before any model runs.
        var labels: [String]? = nil
        var widths: [Int] = []
        for model in models {
            let metadata = try Checkpoint.loadMetadata(from: model, option: "--models")
            let modelLabels = metadata.vocabulary.labels
            if let labels, labels != modelLabels {
                throw DissectError(
                    file: model, problem: "its labels (\(modelLabels.joined(separator: " "))) differ from those of \(models[0]) (\(labels.joined(separator: " ")))",
                    fix: "compare models trained on the same label set")
            }
            labels = modelLabels
            widths.append(metadata.configuration.widestHiddenSize * metadata.configuration.directionCount)
        }
        var inputs: [Comparison.Input] = []
        var layer: Int? = nil
        for model in models {
            let run = try analysis.run(model: model, data: data, option: "--models")
            if inputs.isEmpty {
                try MemoryBudget.require(
                    AnalysisMemory.compare(tokens: run.tokenCount, widths: widths),
                    for: "comparing \(models.count) models over \(run.tokenCount) tokens", kind: .input, file: data,
                    fix: "compare fewer models or use a smaller file")
            }
            layer = run.layer + 1
            let sensitivity = Sensitivity(run: run, condition: analysis.condition)
            for label in sensitivity.undefinedLabels { Terminal.warn("\(model): label \(label) has undefined sensitivity on \(data), so its recurrence is null") }
            inputs.append(Comparison.Input(name: model, run: run, sensitivity: sensitivity))
        }
        let document = Comparison.make(data: data, layer: layer, labels: labels ?? [], inputs: inputs)
        let files = try ComparisonArtifacts.files(document)
        try writeArtifacts(files, to: out)
        print("SVCCA kept directions (99 % of the variance): " + zip(models, document.svccaKept).map { "\($0) \($1)" }.joined(separator: ", "))
        for pair in document.pairs {
            print("\(pair.modelA) vs \(pair.modelB): CKA \(pair.cka.map { format($0, 3) } ?? "undefined"), SVCCA \(pair.svcca.map { format($0, 3) } ?? "undefined"), mean match |r| \(pair.meanMatchCorrelation.map { format($0, 3) } ?? "undefined")")
        }
        let defined = document.recurrence.filter { $0.count != nil }
        if !defined.isEmpty {
            let mean = Double(defined.compactMap(\.count).reduce(0, +)) / Double(defined.count)
            let expected = defined.map(\.expected).reduce(0, +) / Double(defined.count)
            print("top-10 recurrence: mean \(format(mean, 2)) of 10 over \(defined.count) (label, ordered pair) rows; random expectation \(format(expected, 2))")
        }
        print("wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }
}
