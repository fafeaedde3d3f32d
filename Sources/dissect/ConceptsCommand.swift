import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import DissectReport
import Foundation

/// `--property-column N=name`: column N (1-based) of the data file is a token property called `name`.
struct PropertyColumn: ExpressibleByArgument, Equatable {
    var column: Int
    var name: String

    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let column = Int(parts[0]), column >= 2,
              !parts[1].trimmingCharacters(in: .whitespaces).isEmpty
        else { return nil }
        self.column = column
        name = String(parts[1])
    }

    init(column: Int, name: String) {
        self.column = column
        self.name = name
    }

    /// CoNLL-2003's extra columns, read when the file has its four columns and no --property-column is given.
    static let conll2003 = [PropertyColumn(column: 2, name: "pos"), PropertyColumn(column: 3, name: "chunk")]
}

struct ConceptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concepts",
        abstract: "Describe what each neuron detects by token properties, and whether a label's top neurons see the label or a simpler property.",
        discussion: """
            Properties: the file's other columns (POS and chunk for a four-column CoNLL-2003 file, or each \
            --property-column), and computed ones: capitalised, all caps, has digit, punctuation, previous \
            capitalised, position in the gold entity (outside, first, inside, last, single), entity length, \
            position in the sentence, training-file frequency band, unknown word. For every neuron and value: \
            E[h_i | value] − E[h_i | not] with a sentence-level bootstrap interval, and the AUC of h_i for the value. \
            For each label's top neurons (sensitivity, predicted condition): the best description (the value \
            with the largest |AUC − 0.5| among those at least \(Concepts.minimumTokens) tokens have and do not have), \
            the label's own AUC, and the sensitivity left once that property is held fixed (computed within each of \
            its values, weighted by the tokens predicted as the label). Neurons among several labels' top neurons \
            get the value their labels' tokens share. Writes concepts.json, concepts.md, concept-cells.csv, \
            concept-top.csv and concept-shared.csv.
            """)

    static let largestValueCount = 1_000

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The CoNLL file whose tokens describe the neurons (the development set, as the paper's sensitivity).")
    var data: String

    @Option(help: "The directory that receives the JSON, Markdown and CSV files.")
    var out: String

    @Option(name: .customLong("property-column"),
            help: "A column of the data file that is a token property, as N=name with N from 2 (repeat for several; default for a four-column file: 2=pos and 3=chunk).")
    var propertyColumns: [PropertyColumn] = []

    @Option(help: "The training file the frequency bands count words in (default: the one the checkpoint records).")
    var train: String?

    @Option(help: "How many of each label's most sensitive neurons are described, 1 to the layer's width (default: 10, or the width when smaller).")
    var top: Int?

    @Option(parsing: .unconditional, help: "How many sentence-level bootstrap resamples give the intervals, 0 to 100000 (0 turns the bootstrap off).")
    var bootstrap = 1000

    @Option(help: "The seed of the bootstrap resamples.")
    var seed: UInt64 = 1

    @Option(help: "The recurrent layer to describe, counted from 1 at the bottom (default: the top layer, the one the output reads).")
    var layer: Int?

    @Option(help: "The 1-based column that holds the gold label (default: the column the model was trained on, else the last).")
    var tagColumn: Int?

    func validate() throws {
        guard (0...SensitivityStatistics.largestCount).contains(bootstrap) else {
            throw ValidationError("--bootstrap must be 0 to \(SensitivityStatistics.largestCount) (0 turns it off); got \(bootstrap).")
        }
        if let top, top < 1 { throw ValidationError("--top must be 1 or more; got \(top).") }
        try OptionChecks.layer(layer)
        try OptionChecks.tagColumn(tagColumn)
        let names = propertyColumns.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ValidationError("--property-column names \(repeated) twice; give each column its own name.")
        }
        if let taken = names.first(where: { TokenProperties.computedNames.contains($0) || $0 == "label" }) {
            throw ValidationError("--property-column \(taken) is the name of a computed property; choose another name.")
        }
    }

    func run() throws {
        let options = try AnalysisOptions.predicted(layer: layer, tagColumn: tagColumn)
        let (run, _) = try options.runWithCorpus(model: model, data: data)
        let top = top ?? min(Concepts.defaultTopCount, run.neuronCount)
        guard top <= run.neuronCount else {
            throw DissectError(
                .usage, file: model, problem: "--top \(top) asks for more neurons than the layer has (\(run.neuronCount))",
                fix: "pass --top 1 to \(run.neuronCount)")
        }
        let checkpoint = run.checkpoint
        let column = tagColumn ?? checkpoint.metadata.training?.tagColumn
        // The file as written (a control model's run counts its control labels; entities are the file's own).
        let corpus = try CoNLLReader.read(path: data, tagColumn: column)
        let columns = try chosenColumns(corpus: corpus, tagColumn: column ?? corpus.columnCount)
        var properties: [TokenProperty] = []
        let frequency = try trainingFrequency(checkpoint: checkpoint)
        let encoder = SentenceEncoder(metadata: checkpoint.metadata)
        let unknown = corpus.sentences.flatMap { sentence in
            encoder.encode(sentence).words.map { Int($0) == checkpoint.metadata.unknownWordIndex }
        }
        properties += TokenProperties.computed(corpus: corpus, frequency: frequency, unknown: unknown)
        for item in columns {
            let property = try TokenProperties.column(
                item.name, column: item.column, corpus: corpus, columnCorpus: CoNLLReader.read(path: data, tagColumn: item.column))
            guard property.values.count <= Self.largestValueCount else {
                throw DissectError(
                    .usage, file: data,
                    problem: "column \(item.column) (\(item.name)) has \(property.values.count) distinct values; a property may have at most \(Self.largestValueCount)",
                    fix: "pass --property-column only for columns of tags, not of words or identifiers")
            }
            properties.append(property)
        }
        let widest = properties.map(\.values.count).max() ?? 0
        try MemoryBudget.require(
            AnalysisMemory.sensitivityStatistics(
                neurons: run.neuronCount, labels: widest, sentences: run.sentenceStarts.count - 1, tokens: run.tokenCount,
                resamples: bootstrap, permutations: 0),
            for: "--bootstrap \(bootstrap) on this file", kind: .usage, file: data, fix: "choose a smaller --bootstrap")
        let start = Date()
        let document = Concepts.analyse(
            run: run, properties: properties, top: top, bootstrap: bootstrap, seed: seed, frequencyFile: frequency?.path)
        let seconds = Date().timeIntervalSince(start)
        let files = try ConceptArtifacts.files(document)
        try writeArtifacts(files, to: out)
        for line in ConceptArtifacts.summaryLines(document) { print(line) }
        print("properties: \(properties.map(\.name).joined(separator: ", ")); \(bootstrap) bootstrap resamples; measured in \(format(seconds, 2)) s")
        print("wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }

    /// The --property-column flags, checked against the file; else CoNLL-2003's two columns for a four-column file.
    func chosenColumns(corpus: Corpus, tagColumn: Int) throws -> [PropertyColumn] {
        if propertyColumns.isEmpty {
            return corpus.columnCount == 4 && tagColumn == 4 ? PropertyColumn.conll2003 : []
        }
        for item in propertyColumns {
            guard item.column <= corpus.columnCount else {
                throw DissectError(
                    .usage, file: data,
                    problem: "--property-column \(item.column)=\(item.name) names a column the file does not have (its token lines have \(corpus.columnCount))",
                    fix: "pass a column from 2 to \(corpus.columnCount)")
            }
            guard item.column != tagColumn else {
                throw DissectError(
                    .usage, file: data, problem: "--property-column \(item.column)=\(item.name) is the label column",
                    fix: "pass another column; the labels are described by the sensitivity already")
            }
        }
        return propertyColumns
    }

    /// Word counts of --train, else of the training file the checkpoint records; nil, with a warning, when neither is readable.
    func trainingFrequency(checkpoint: Checkpoint) throws -> TokenProperties.WordFrequency? {
        let digitsToZero = checkpoint.metadata.digitsToZero
        if let train {
            return TokenProperties.WordFrequency(corpus: try CoNLLReader.read(path: train), digitsToZero: digitsToZero)
        }
        guard let recorded = checkpoint.metadata.training?.trainFile, FileManager.default.isReadableFile(atPath: recorded) else {
            Terminal.warn("\(model): the training file the checkpoint records is not readable here, so the training frequency property is left out; pass --train FILE to include it")
            return nil
        }
        return TokenProperties.WordFrequency(corpus: try CoNLLReader.read(path: recorded), digitsToZero: digitsToZero)
    }
}
