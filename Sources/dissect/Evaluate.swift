import ArgumentParser
import DissectCore
import DissectCorpus
import DissectModel
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a checkpoint on a CoNLL file: conlleval's table, NCRF++'s F1, token and per-label accuracy.")

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The CoNLL file to tag and score.")
    var data: String

    @Option(help: "The 1-based column that holds the gold label (default: the column the model was trained on, else the last).")
    var tagColumn: Int?

    @Flag(help: "Print the scores as one JSON object instead of tables.")
    var json = false

    @Option(help: "Also write 'word gold predicted' lines (blank line between sentences) to this file, the input conlleval.pl reads.")
    var predictions: String?

    func validate() throws {
        try OptionChecks.tagColumn(tagColumn)
    }

    struct Output: Encodable {
        var model: String
        var data: String
        var seconds: Double
        var unknownLabels: [String]
        var report: EvaluationReport

        enum CodingKeys: String, CodingKey {
            case model, data, seconds, report
            case unknownLabels = "unknown_labels"
        }
    }

    func run() throws {
        let checkpoint = try Checkpoint.load(from: model)
        // Without --tag-column, read the column the model was trained on.
        let column = tagColumn ?? checkpoint.metadata.training?.tagColumn
        // A control model is scored against its control labels, as it was trained.
        let corpus = try checkpoint.analysisCorpus(try CoNLLReader.read(path: data, tagColumn: column))
        if let control = checkpoint.metadata.training?.controlTask {
            Terminal.log("\(model): a control-task model (seed \(control.seed)); the gold labels of \(data) are its control labels")
        }
        // Predicted labels (a String each) and the predictions file, beside the model and its scratch.
        let sizes = CorpusSizes(sentences: corpus.sentences)
        try Checkpoint.requireInferenceMemory(
            configuration: checkpoint.model.configuration, sizes: sizes, path: data,
            extra: MemoryEstimate.elements([sizes.tokenCount], bytesEach: 4 + 16 + 64), what: "evaluating this file")
        let encoder = SentenceEncoder(metadata: checkpoint.metadata)
        let unknown = encoder.unknownLabels(in: corpus)
        for warning in encoder.warnings(for: corpus) { Terminal.warn(warning) }
        let started = Date()
        let predictor = Predictor<Float>(configuration: checkpoint.model.configuration)
        let result = predictor.evaluate(checkpointModel: checkpoint.model, encoder: encoder, corpus: corpus)
        let seconds = Date().timeIntervalSince(started)
        if let predictions {
            var text = ""
            for (sentence, predicted) in zip(corpus.sentences, result.predicted) {
                for index in 0..<sentence.words.count {
                    text += "\(sentence.words[index]) \(sentence.labels[index]) \(predicted[index])\n"
                }
                text += "\n"
            }
            try AtomicFile.write(text, to: predictions)
        }
        let report = result.report
        if json {
            let output = Output(model: model, data: data, seconds: seconds, unknownLabels: unknown, report: report)
            print(try JSONOutput.string(output, style: .pretty, snakeCaseKeys: true), terminator: "")
            return
        }
        if report.isChunked {
            print(Evaluator.conllevalTable(report), terminator: "")
            print("NCRF++ scorer (stray I-X dropped): precision \(format(report.ncrfPrecision)), recall \(format(report.ncrfRecall)), F1 \(format(report.ncrfF1))")
        }
        print("token accuracy: \(format(report.accuracy))% of \(report.tokens) tokens in \(report.sentences) sentences (\(format(seconds, 3)) s)")
        print("per-label accuracy (gold label predicted as itself):")
        for label in report.labelAccuracy {
            print("  \(label.label.padding(toLength: 10, withPad: " ", startingAt: 0)) \(format(label.accuracy).leftPadded(6))%  (\(label.correct)/\(label.total))")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
