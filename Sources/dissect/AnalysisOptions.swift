import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import DissectReport
import Foundation

/// Options shared by the analysis commands.
struct AnalysisOptions: ParsableArguments {
    @Option(help: "Count a token under its predicted label ('predicted', as the paper; the Viterbi path with a CRF) or its gold label ('gold').")
    var condition: Condition = .predicted

    @Option(help: "The recurrent layer to analyse, counted from 1 at the bottom (default: the top layer, the one the output reads).")
    var layer: Int?

    @Option(help: "The 1-based column that holds the gold label (default: the column the model was trained on, else the last).")
    var tagColumn: Int?

    func validate() throws {
        try OptionChecks.layer(layer)
        try OptionChecks.tagColumn(tagColumn)
    }

    /// The analysed layer of a model with `layers` layers, 0-based.
    /// - Throws: `DissectError` (.usage, naming the model) when --layer is above the top one.
    func layerIndex(model: String, layers: Int) throws -> Int {
        guard let layer else { return layers - 1 }
        guard layer <= layers else {
            throw DissectError(
                .usage, file: model, problem: "--layer \(layer) asks for a layer this model does not have (it has \(layers))",
                fix: "pass --layer 1 to \(layers), or leave it out for the top layer")
        }
        return layer - 1
    }

    /// Loads a checkpoint and runs it over a CoNLL file (with a control
    /// model's control labels as the gold labels), with a warning for CR LF line ends, gold labels and characters the model never saw.
    /// The run (and the ablation of `ablationMode` replacing by `ablationValue`, when given) must fit in memory before it starts.
    /// The options of a command that always conditions on the predicted label (`rank`, `explore`):
    /// its own --layer and --tag-column, and no --condition.
    static func predicted(layer: Int?, tagColumn: Int?) throws -> AnalysisOptions {
        try parse((layer.map { ["--layer", String($0)] } ?? []) + (tagColumn.map { ["--tag-column", String($0)] } ?? []))
    }

    /// `option` is the flag that named the model (`--model`, or `--models` for several).
    func run(
        model: String, data: String, keepProjections: Bool = false, ablationMode: AblationMode? = nil, ablationValue: AblationValue = .zero,
        option: String = "--model"
    ) throws -> ModelRun {
        try runWithCorpus(
            model: model, data: data, keepProjections: keepProjections, ablationMode: ablationMode, ablationValue: ablationValue,
            option: option).run
    }

    /// `run`, with the corpus it read (as the analysis reads it: a control model's labels are its control labels).
    func runWithCorpus(
        model: String, data: String, keepProjections: Bool = false, ablationMode: AblationMode? = nil, ablationValue: AblationValue = .zero,
        option: String = "--model"
    ) throws -> (run: ModelRun, corpus: Corpus) {
        let checkpoint = try Checkpoint.load(from: model, option: option)
        let analysedLayer = try layerIndex(model: model, layers: checkpoint.model.configuration.layers)
        let column = tagColumn ?? checkpoint.metadata.training?.tagColumn
        // A control model's gold labels are its control labels (Checkpoint.analysisCorpus).
        let corpus = try checkpoint.analysisCorpus(try CoNLLReader.read(path: data, tagColumn: column))
        try AnalysisMemory.requireModelRun(
            checkpoint: checkpoint, corpus: corpus, path: data, keepProjections: keepProjections, ablation: ablationMode,
            value: ablationValue)
        for warning in SentenceEncoder(metadata: checkpoint.metadata).warnings(for: corpus) { Terminal.warn(warning) }
        return (ModelRun(checkpoint: checkpoint, corpus: corpus, layer: analysedLayer, keepProjections: keepProjections), corpus)
    }
}

/// Writes a set of named files into a directory, each atomically.
func writeArtifacts(_ files: [(String, String)], to directory: String) throws {
    try AtomicFile.makeDirectory(directory)
    for (name, contents) in files { try AtomicFile.write(contents, to: directory + "/" + name) }
}
