import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import DissectReport
import Foundation

/// Options shared by the analysis commands.
struct AnalysisOptions: ParsableArguments {
    @Option(help: "Count a token under its predicted label ('predicted', as the paper) or its gold label ('gold').")
    var condition: String = Condition.predicted.rawValue

    @Option(help: "The 1-based column that holds the gold label (default: the column the model was trained on, else the last).")
    var tagColumn: Int?

    func validate() throws {
        guard Condition(rawValue: condition) != nil else {
            throw ValidationError("--condition must be 'predicted' or 'gold', not '\(condition)'.")
        }
        if let tagColumn, tagColumn < 1 { throw ValidationError("--tag-column must be 1 or more (columns are counted from 1).") }
    }

    var parsedCondition: Condition { Condition(rawValue: condition) ?? .predicted }

    /// Loads a checkpoint and runs it over a CoNLL file, with a warning for CR LF line ends, gold labels and characters the model never saw.
    /// The run (and the ablation of `ablationMode`, when given) must fit in memory before it starts.
    func run(model: String, data: String, keepProjections: Bool = false, ablationMode: AblationMode? = nil) throws -> ModelRun {
        let checkpoint = try Checkpoint.load(from: model)
        let column = tagColumn ?? checkpoint.metadata.training?.tagColumn
        let corpus = try CoNLLReader.read(path: data, tagColumn: column)
        try AnalysisMemory.requireModelRun(
            checkpoint: checkpoint, corpus: corpus, path: data, keepProjections: keepProjections, ablation: ablationMode)
        for warning in SentenceEncoder(metadata: checkpoint.metadata).warnings(for: corpus) { Terminal.warn(warning) }
        return ModelRun(checkpoint: checkpoint, corpus: corpus, keepProjections: keepProjections)
    }
}

/// Writes a set of named files into a directory, each atomically.
func writeArtifacts(_ files: [(String, String)], to directory: String) throws {
    try AtomicFile.makeDirectory(directory)
    for (name, contents) in files { try AtomicFile.write(contents, to: directory + "/" + name) }
}
