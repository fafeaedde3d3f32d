import ArgumentParser
import DissectCore
import DissectCorpus
import DissectModel
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a tagger (by default the paper's: GloVe + char CNN, uni-LSTM 50, softmax) and keep the best-dev checkpoint.")

    @OptionGroup var corpus: CorpusOptions

    @Option(help: "A GloVe or word2vec text file of word vectors (default: the 50-d GloVe subset under data/ or ../shared/data when present).")
    var embeddings: String?

    @Flag(help: "Start every word vector at random instead of reading an embeddings file.")
    var noEmbeddings = false

    @Option(help: "The word-vector width when no embeddings file is used.")
    var wordDim = 50

    @Option(help: "Which words get a vector: 'train+embeddings' (training words plus every word of the embeddings file) or 'train'.")
    var vocabulary: VocabularyRule = .trainAndEmbeddings

    @Flag(help: "Keep digits as written instead of replacing each by 0 before lookup.")
    var noDigitNormalization = false

    @Option(help: "The recurrent cell: 'lstm', 'gru' or 'rnn' (a plain tanh RNN, as torch.nn.RNN).")
    var cell: CellKind = .lstm

    @Option(help: "Recurrent layers stacked on each other; each reads the output of the one below.")
    var layers = 1

    @Option(help: "Hidden units per direction, in every layer.")
    var hidden = 50

    @Flag(help: "Run every layer in both directions and concatenate them (hidden units per direction stay --hidden).")
    var bidirectional = false

    @Option(help: "Dropout probability on each layer's output except the top one's, in [0, 1) (as torch.nn.LSTM's dropout; NCRF++ uses 0).")
    var layerDropout = 0.0

    @Flag(help: "Decode with a linear-chain CRF (trained by the forward algorithm, decoded by Viterbi) instead of a per-token softmax.")
    var crf = false

    @Flag(help: "Leave out the character CNN.")
    var noCharCnn = false

    @Option(help: "Dropout probability on the char embeddings, the first layer's input and the top layer's output, in [0, 1).")
    var dropout = 0.5

    @Option(help: "The optimizer: 'sgd' (NCRF++'s default) or 'adam'.")
    var optimizer: OptimizerKind = .sgd

    @Option(help: "The learning rate (default 0.015 for sgd, 0.001 for adam).")
    var lr: Double?

    @Option(help: "SGD learning-rate decay: epoch e (from 0) uses lr / (1 + decay * e).")
    var lrDecay = 0.05

    @Option(help: "The L2 penalty added to every gradient.")
    var l2 = 1e-8

    @Option(help: "Sentences per mini-batch.")
    var batchSize = 10

    @Option(help: "Passes over the training data.")
    var epochs = 10

    @Option(help: "Rescale the gradient to at most this global norm (off by default).")
    var clip: Double?

    @Option(help: "The seed for shuffling, initialisation and dropout; the same seed gives the same checkpoint.")
    var seed: UInt64 = 1

    @Flag(help: "Train a control model (Hewitt & Liang 2019): every word type gets one label, drawn from the training label distribution with --seed, and training, dev selection and test scores use those labels.")
    var controlTask = false

    @Option(help: "The directory that receives model.safetensors, model.json and train-log.jsonl.")
    var out = "runs/model"

    @Flag(help: "Replace a model already in --out.")
    var overwrite = false

    @Option(help: "Threads the training uses (default 2, the trainer's fixed shards); the checkpoint never depends on it.")
    var threads = 2

    func validate() throws {
        guard hidden >= 1 else { throw ValidationError("--hidden must be at least 1.") }
        try OptionChecks.threads(threads)
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1).") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1.") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
        guard wordDim >= 1 else { throw ValidationError("--word-dim must be at least 1.") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number.") }
        guard lrDecay >= 0 && lrDecay.isFinite else { throw ValidationError("--lr-decay must be 0 or more.") }
        guard l2 >= 0 && l2.isFinite else { throw ValidationError("--l2 must be 0 or more.") }
        if let clip, !(clip > 0 && clip.isFinite) { throw ValidationError("--clip must be a positive number.") }
        guard (1...Checkpoint.maximumLayers).contains(layers) else {
            throw ValidationError("--layers must be between 1 and \(Checkpoint.maximumLayers).")
        }
        guard layerDropout >= 0 && layerDropout < 1 else { throw ValidationError("--layer-dropout must be in [0, 1).") }
        if layerDropout > 0 && layers == 1 {
            throw ValidationError("--layer-dropout acts between layers; add --layers 2 or more, or leave it out.")
        }
        if noEmbeddings && embeddings != nil { throw ValidationError("--embeddings and --no-embeddings cannot be used together.") }
        // --word-dim counts only without an embeddings file; run() checks it again once that is known.
        do { try requireFlagMemory(includingWordDim: noEmbeddings) } catch let error as DissectError {
            throw ValidationError(error.description)
        }
    }

    /// The model the size flags alone decide (one word, character and label,
    /// one-token batches) must fit in memory; the data can only make it larger,
    /// which `TrainingSession` checks once the vocabulary is known.
    func requireFlagMemory(includingWordDim: Bool) throws {
        var configuration = flagConfiguration
        configuration.wordEmbeddingDim = includingWordDim ? wordDim : 1
        let one = ForwardSize(sentences: 1, tokens: 1, characters: 1)
        let estimate = configuration.withSmallestVocabulary.trainingMemory(optimizer: optimizer, batch: one, evaluation: one)
        try MemoryBudget.require(
            estimate, for: "training with --hidden \(hidden)" + (includingWordDim ? " and --word-dim \(wordDim)" : ""), kind: .usage,
            fix: "choose a smaller --hidden" + (includingWordDim ? " or --word-dim" : ""))
    }

    /// The model the flags describe (the vocabulary sizes come from the data).
    var flagConfiguration: TaggerConfiguration {
        var configuration = TaggerConfiguration()
        configuration.cell = cell
        configuration.layers = layers
        configuration.hiddenSize = hidden
        configuration.bidirectional = bidirectional
        configuration.layerDropout = layerDropout
        configuration.crf = crf
        configuration.charCNN = !noCharCnn
        configuration.dropout = dropout
        configuration.wordEmbeddingDim = wordDim
        return configuration
    }

    func run() throws {
        // Ctrl-C or SIGTERM stops at the next batch or step and leaves every file whole.
        Interruption.install()
        Parallelism.threadLimit = threads
        let files = try corpus.resolve()
        var request = TrainingRequest(trainPath: files.train, devPath: files.dev, outputDirectory: out)
        request.testPath = files.test
        request.tagColumn = corpus.tagColumn
        request.embeddingsPath = noEmbeddings ? nil : (try embeddings ?? DataSearch.embeddingsFile())
        if !noEmbeddings && request.embeddingsPath == nil {
            Terminal.warn("no embeddings file found; word vectors start at random (pass --embeddings FILE; " + DataSources.sentence + ")")
            try requireFlagMemory(includingWordDim: true)
        }
        request.vocabularyRule = vocabulary
        request.digitsToZero = !noDigitNormalization
        request.controlTask = controlTask
        request.configuration = flagConfiguration
        var options = TrainingOptions()
        options.optimizer = optimizer
        options.learningRate = lr ?? (options.optimizer == .adam ? 0.001 : 0.015)
        options.learningRateDecay = lrDecay
        options.l2 = l2
        options.batchSize = batchSize
        options.epochs = epochs
        options.clip = clip
        options.seed = seed
        request.options = options

        if FileManager.default.fileExists(atPath: out + "/model.json") && !overwrite {
            let unfinished = (try? Checkpoint.load(from: out))?.metadata.training?.finished == false
            throw DissectError(
                .usage, file: out,
                problem: unfinished
                    ? "the output directory holds an unfinished (interrupted) training run"
                    : "the output directory already holds a trained model",
                fix: "pass --overwrite to replace it, or choose another --out")
        }

        let epochs = self.epochs
        // Every progress line of a control model says so.
        let controlPrefix = controlTask ? "control " : ""
        if controlTask {
            Terminal.log(
                "control task (Hewitt & Liang 2019), seed \(seed): every word type gets one label drawn from the training "
                + "label distribution; dev and test are scored against those labels")
        }
        let session = TrainingSession(request: request, report: Self.reporter(epochs: epochs, prefix: controlPrefix))
        let summary = try session.run()
        if let record = summary.checkpoint.metadata.training {
            var line = "best epoch \(record.bestEpoch)"
            if let control = record.controlTask { line += " (control task, seed \(control.seed))" }
            if let f1 = record.devF1 { line += ": dev F1 \(format(f1)) (NCRF++ \(format(record.devF1NCRF ?? 0)))" }
            if let f1 = record.testF1 { line += ", test F1 \(format(f1)) (NCRF++ \(format(record.testF1NCRF ?? 0)))" }
            if record.devF1 == nil, let accuracy = record.devAccuracy { line += ": dev accuracy \(format(accuracy))" }
            if record.devF1 == nil, let accuracy = record.testAccuracy { line += ", test accuracy \(format(accuracy))" }
            line += "; \(format(summary.seconds, 1)) s in all; checkpoint in \(out)"
            print(line)
        }
    }

    /// What `train` (and `prune --fine-tune`) print as training goes: the data line, warnings, a progress bar
    /// on a terminal, and one line per epoch, each progress line starting with `prefix`.
    static func reporter(epochs: Int, prefix controlPrefix: String) -> (TrainingEvent) -> Void {
        final class Redraw { var last = -1.0 }
        let redraw = Redraw()
        return { event in
            switch event {
            case .loaded(let train, let dev, let test, let words, let chars, let labels, let exact, let lower, let random, let parameters):
                Terminal.log(
                    "data: \(train) train, \(dev) dev" + (test.map { ", \($0) test" } ?? "") + " sentences; "
                    + "\(words) words (" + (exact.map { "\($0) vectors exact, \(lower ?? 0) lower-cased, \(random ?? 0) random" } ?? "vectors from the model")
                    + "), \(chars) chars, "
                    + "\(labels.count) labels; \(parameters) parameters")
            case .warning(let text):
                Terminal.warn(text)
            case .batch(let epoch, let done, let total, let loss, let seconds):
                // Redraw at most ten times a second.
                guard Terminal.isInteractive, done == total || seconds - redraw.last >= 0.1 || seconds < redraw.last else { break }
                redraw.last = seconds
                let rate = Double(done) / max(seconds, 1e-9)
                Terminal.status(
                    "\(controlPrefix)epoch \(epoch)/\(epochs) \(Terminal.bar(Double(done) / Double(max(total, 1)))) "
                    + "\(done)/\(total) sentences  \(Int(rate)) sent/s  loss \(format(loss / Double(max(done, 1)), 3))/sent")
            case .epoch(let log):
                var line = "\(controlPrefix)epoch \(log.epoch)/\(epochs): loss \(format(log.loss, 1)), \(format(log.trainSeconds)) s "
                    + "(\(Int(log.sentencesPerSecond)) sent/s)"
                if let f1 = log.devF1 {
                    line += "; dev F1 \(format(f1)) (NCRF++ \(format(log.devF1NCRF ?? 0)))"
                } else {
                    line += "; dev accuracy \(format(log.devAccuracy))"
                }
                if let f1 = log.testF1 {
                    line += "; test F1 \(format(f1)) (NCRF++ \(format(log.testF1NCRF ?? 0)))"
                } else if let accuracy = log.testAccuracy {
                    line += "; test accuracy \(format(accuracy))"
                }
                if log.best { line += "  *best, saved" }
                Terminal.log(line)
            }
        }
    }
}
