import DissectCore
import DissectCorpus
import Foundation

/// Which words get a row in the embedding table.
public enum VocabularyRule: String, Codable, Sendable, CaseIterable {
    /// Training words plus every word of the embeddings file (NCRF++'s effect:
    /// test words keep their pretrained vectors).
    case trainAndEmbeddings = "train+embeddings"
    /// Training words only; other words fall to the unknown row.
    case train
}

/// Everything `dissect train` needs.
public struct TrainingRequest: Sendable {
    public var trainPath: String
    public var devPath: String
    public var testPath: String?
    public var embeddingsPath: String?
    public var tagColumn: Int?
    public var configuration = TaggerConfiguration()
    public var options = TrainingOptions()
    public var vocabularyRule: VocabularyRule = .trainAndEmbeddings
    public var digitsToZero = true
    /// Train a control model (Hewitt & Liang 2019, `ControlTask`) instead:
    /// train, dev and test are relabelled with the control labels of
    /// `options.seed`, drawn from the training file's label distribution.
    public var controlTask = false
    public var outputDirectory: String
    /// A model to go on training (fine-tuning a pruned one): its configuration, vocabularies and
    /// weights replace those built from the files and `configuration`; no embeddings are read.
    public var startingCheckpoint: Checkpoint?
    /// The inputs' SHA-256, when the caller has them already (reproduce hashes
    /// once per run); nil to hash the files here.
    public var inputHashes: InputHashes?
    /// The fix named when training diverges (the caller's flags).
    public var divergenceFix = "lower --lr or set --clip"
    /// The fix named when training is interrupted (the caller's flags).
    public var interruptionFix = "rerun with --overwrite to train again"
    /// How many models like this one the process trains at once (`reproduce`'s seeds side by side; values below 1
    /// count as 1, above 1,024 as 1,024): the memory check counts them all, and names `--threads 1` as a fix.
    public var modelsSideBySide = 1

    public init(trainPath: String, devPath: String, outputDirectory: String) {
        self.trainPath = trainPath
        self.devPath = devPath
        self.outputDirectory = outputDirectory
    }
}

/// One line of `train-log.jsonl`.
public struct EpochLog: Codable, Sendable {
    public var epoch: Int
    public var loss: Double
    public var lossPerToken: Double
    public var learningRate: Double
    public var trainSeconds: Double
    public var sentencesPerSecond: Double
    public var devF1: Double?
    public var devF1NCRF: Double?
    public var devAccuracy: Double
    public var testF1: Double?
    public var testF1NCRF: Double?
    public var testAccuracy: Double?
    public var evaluationSeconds: Double
    public var seconds: Double
    public var best: Bool

    enum CodingKeys: String, CodingKey {
        case epoch, loss, seconds, best
        case lossPerToken = "loss_per_token"
        case learningRate = "learning_rate"
        case trainSeconds = "train_seconds"
        case sentencesPerSecond = "sentences_per_second"
        case devF1 = "dev_f1"
        case devF1NCRF = "dev_f1_ncrf"
        case devAccuracy = "dev_accuracy"
        case testF1 = "test_f1"
        case testF1NCRF = "test_f1_ncrf"
        case testAccuracy = "test_accuracy"
        case evaluationSeconds = "evaluation_seconds"
    }
}

/// What happens during training, for a terminal or a log.
public enum TrainingEvent: Sendable {
    case loaded(trainSentences: Int, devSentences: Int, testSentences: Int?, words: Int, chars: Int, labels: [String],
                vectorsExact: Int?, vectorsLowercased: Int?, vectorsRandom: Int?, parameters: Int)
    case warning(String)
    case batch(epoch: Int, sentencesDone: Int, sentencesTotal: Int, loss: Double, seconds: Double)
    case epoch(EpochLog)
}

/// Reads the data, builds vocabularies and the model, trains for the
/// requested epochs and keeps the best-dev checkpoint in the output directory.
///
/// Once the data has been read, any model already in the output directory is
/// removed and `train-log.jsonl` starts empty, so whatever is left there
/// afterwards belongs to this run: after an interruption or a divergence,
/// either this run's best checkpoint so far (marked unfinished) or no model.
public final class TrainingSession {
    public let request: TrainingRequest
    let report: (TrainingEvent) -> Void

    public init(request: TrainingRequest, report: @escaping (TrainingEvent) -> Void) {
        self.request = request
        self.report = report
    }

    public struct Summary: Sendable {
        public var checkpoint: Checkpoint
        public var epochs: [EpochLog]
        public var seconds: Double
    }

    public func run() throws -> Summary {
        let started = Date()
        var train = try CoNLLReader.read(path: request.trainPath, tagColumn: request.tagColumn)
        var dev = try CoNLLReader.read(path: request.devPath, tagColumn: request.tagColumn)
        var test = try request.testPath.map { try CoNLLReader.read(path: $0, tagColumn: request.tagColumn) }
        let start = request.startingCheckpoint
        let embeddings = start != nil ? nil : try request.embeddingsPath.map { try Embeddings.read(path: $0) }
        let hashes = try request.inputHashes ?? InputHashes.compute(
            trainPath: request.trainPath, devPath: request.devPath, testPath: request.testPath,
            embeddingsPath: request.embeddingsPath)
        if let embeddings, embeddings.duplicateCount > 0 {
            report(.warning("\(request.embeddingsPath ?? ""): \(embeddings.duplicateCount) duplicate words; the first vector of each was kept"))
        }

        let words = start.map { Vocabulary(items: $0.metadata.vocabulary.words) } ?? VocabularyBuilder.words(
            training: train.sentences, embeddings: embeddings,
            includeEmbeddingWords: request.vocabularyRule == .trainAndEmbeddings, digitsToZero: request.digitsToZero)
        let chars = start.map { Vocabulary(items: $0.metadata.vocabulary.chars) }
            ?? VocabularyBuilder.characters(training: train.sentences, digitsToZero: request.digitsToZero)
        // The label vocabulary is always the real one; a control task draws from its distribution.
        let labels = start.map { Vocabulary(items: $0.metadata.vocabulary.labels) } ?? VocabularyBuilder.labels(training: train.sentences)
        if let start, let unknown = Set(train.sentences.flatMap(\.labels)).subtracting(start.metadata.vocabulary.labels).sorted().first {
            throw DissectError(
                .usage, file: request.trainPath, problem: "the label \(unknown) is not one of the model's labels",
                fix: "fine-tune on a file with the labels the model was trained on")
        }
        var control: ControlTask?
        if request.controlTask {
            do {
                control = try ControlTask(training: train, labels: labels.items, seed: request.options.seed, digitsToZero: request.digitsToZero)
            } catch {
                throw DissectError(
                    file: request.trainPath, problem: "no control task can be drawn from the training labels (\(error.problem))",
                    fix: "give a training file with labelled tokens")
            }
        }

        var configuration = start?.model.configuration ?? request.configuration
        if start == nil {
            configuration.wordEmbeddingDim = embeddings?.dimension ?? configuration.wordEmbeddingDim
            configuration.wordCount = words.count
            configuration.charCount = chars.count
            configuration.labelCount = labels.count
        }
        try request.requireMemory(configuration: configuration, train: train, evaluation: [dev] + (test.map { [$0] } ?? []), embeddings: embeddings)

        var embeddingRNG = SplitMix64(seed: request.options.seed, stream: 0x454D_4245)
        // A starting model brings its own word vectors (nil vector counts in the `.loaded` event).
        let initial = start != nil ? nil : initialWordVectors(
            vocabulary: words, embeddings: embeddings, dimension: configuration.wordEmbeddingDim, rng: &embeddingRNG)
        var parameterRNG = SplitMix64(seed: request.options.seed, stream: 0x494E_4954)
        let model = start?.model ?? TaggerModel<Float>.initialized(
            configuration: configuration, wordVectors: initial?.vectors ?? [], rng: &parameterRNG)

        let chunked = isChunkLabelSet(labels.items)
        // Control labels form no real chunks (an I-x may follow O), so a control model is chosen by
        // token accuracy, the measure Hewitt & Liang use; F1 is still logged.
        let selectsOnF1 = chunked && !request.controlTask
        var record = TrainingRecord(
            seed: request.options.seed, epochs: request.options.epochs, bestEpoch: 0,
            selectionMetric: selectsOnF1 ? "f1" : "accuracy", seconds: 0, options: request.options,
            vocabularyRule: request.vocabularyRule.rawValue)
        record.trainFile = request.trainPath
        record.devFile = request.devPath
        record.testFile = request.testPath
        record.embeddingsFile = request.embeddingsPath
        record.trainSHA256 = hashes.train
        record.devSHA256 = hashes.dev
        record.testSHA256 = hashes.test
        record.embeddingsSHA256 = hashes.embeddings
        record.tagColumn = request.tagColumn
        if let control {
            record.controlTask = ControlTaskRecord(control)
            train = control.relabel(train)
            dev = control.relabel(dev)
            test = test.map(control.relabel)
        }
        var metadata = CheckpointMetadata(
            configuration: configuration,
            vocabulary: VocabularyLists(words: words.items, chars: chars.items, labels: labels.items),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: request.digitsToZero, training: record)
        if let start {
            // The starting model's lookup rules and history go on; only the training record is new.
            var kept = start.metadata
            kept.training = record
            metadata = kept
        }

        let encoder = SentenceEncoder(metadata: metadata)
        let trainEncoded = encoder.encode(train.sentences)
        let devEncoded = encoder.encode(dev.sentences)
        let testEncoded = test.map { encoder.encode($0.sentences) }
        for corpus in [train, dev] + (test.map { [$0] } ?? []) {
            for warning in encoder.warnings(for: corpus) { report(.warning(warning)) }
        }
        report(.loaded(
            trainSentences: train.sentences.count, devSentences: dev.sentences.count, testSentences: test?.sentences.count,
            words: words.count, chars: chars.count, labels: labels.items,
            vectorsExact: initial?.stats.exact, vectorsLowercased: initial?.stats.lowercased, vectorsRandom: initial?.stats.random,
            parameters: model.layout.totalCount))

        try AtomicFile.makeDirectory(request.outputDirectory)
        let logPath = request.outputDirectory + "/train-log.jsonl"
        try Self.removeModel(in: request.outputDirectory)
        try AtomicFile.write(Data(), to: logPath)
        let trainer = Trainer(model: model, options: request.options)
        let predictor = Predictor<Float>(configuration: configuration)
        var logs: [EpochLog] = []
        var best = -Double.infinity
        var bestCheckpoint = Checkpoint(metadata: metadata, model: model)
        var logText = ""
        for epoch in 0..<request.options.epochs {
            let epochStarted = Date()
            let result = trainer.runEpoch(epoch, sentences: trainEncoded) { done, loss in
                self.report(.batch(
                    epoch: epoch + 1, sentencesDone: done, sentencesTotal: trainEncoded.count, loss: loss,
                    seconds: Date().timeIntervalSince(epochStarted)))
            }
            if result.interrupted {
                let kept = record.bestEpoch > 0
                    ? "the best checkpoint so far (epoch \(record.bestEpoch)) is intact in \(request.outputDirectory)"
                    : "no checkpoint was written yet"
                throw DissectError(
                    .interrupted, file: request.outputDirectory,
                    problem: "training stopped by \(Interruption.signalName) during epoch \(epoch + 1); \(kept)",
                    fix: request.interruptionFix)
            }
            if let divergence = result.divergence {
                report(.warning(record.bestEpoch > 0
                    ? "\(request.outputDirectory): the best checkpoint so far (epoch \(record.bestEpoch)) stays loadable; model.json marks it unfinished"
                    : "\(request.outputDirectory): no epoch finished, so no model was written"))
                throw DissectError(.input, problem: divergence.description, fix: request.divergenceFix)
            }
            let evaluationStarted = Date()
            let current = trainer.model
            let devResult = predictor.evaluate(checkpointModel: current, encoder: encoder, corpus: dev, encoded: devEncoded)
            let testResult = test.map { predictor.evaluate(checkpointModel: current, encoder: encoder, corpus: $0, encoded: testEncoded) }
            let evaluationSeconds = Date().timeIntervalSince(evaluationStarted)
            let score = selectsOnF1 ? devResult.report.f1 : devResult.report.accuracy
            let improved = score > best
            let log = EpochLog(
                epoch: epoch + 1, loss: result.loss, lossPerToken: result.loss / Double(max(1, result.tokens)),
                learningRate: request.options.learningRate(epoch: epoch), trainSeconds: result.seconds,
                sentencesPerSecond: Double(result.sentences) / max(result.seconds, 1e-9),
                devF1: chunked ? devResult.report.f1 : nil, devF1NCRF: chunked ? devResult.report.ncrfF1 : nil,
                devAccuracy: devResult.report.accuracy,
                testF1: chunked ? testResult?.report.f1 : nil, testF1NCRF: chunked ? testResult?.report.ncrfF1 : nil,
                testAccuracy: testResult?.report.accuracy, evaluationSeconds: evaluationSeconds,
                seconds: Date().timeIntervalSince(epochStarted), best: improved)
            logs.append(log)
            if improved {
                best = score
                record.bestEpoch = epoch + 1
                record.devF1 = log.devF1
                record.devF1NCRF = log.devF1NCRF
                record.devAccuracy = log.devAccuracy
                record.testF1 = log.testF1
                record.testF1NCRF = log.testF1NCRF
                record.testAccuracy = log.testAccuracy
                record.seconds = Date().timeIntervalSince(started)
                record.finished = false
                metadata.training = record
                bestCheckpoint = Checkpoint(metadata: metadata, model: current)
                try bestCheckpoint.save(to: request.outputDirectory)
            }
            logText += String(decoding: try Checkpoint.encodeJSONLine(log), as: UTF8.self)
            try AtomicFile.write(logText, to: logPath)
            report(.epoch(log))
        }
        // The final record carries the whole run's time.
        record.seconds = Date().timeIntervalSince(started)
        record.finished = true
        bestCheckpoint.metadata.training = record
        try AtomicFile.write(try Checkpoint.encodeJSON(bestCheckpoint.metadata), to: Checkpoint.metadataPath(request.outputDirectory))
        return Summary(checkpoint: bestCheckpoint, epochs: logs, seconds: record.seconds)
    }
}

extension TrainingSession {
    /// Removes `model.json` (first, so no description outlives its weights)
    /// and `model.safetensors` from `directory` when they are there.
    static func removeModel(in directory: String) throws {
        for path in [Checkpoint.metadataPath(directory), Checkpoint.weightsPath(directory)]
        where FileManager.default.fileExists(atPath: path) {
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw DissectError(
                    file: path, problem: "cannot remove the older model (\(error.localizedDescription))",
                    fix: "check that the directory is writable")
            }
        }
    }
}

/// True when every label is `O` or `B-`/`I-`/`E-`/`S-` + a type: the labels
/// are chunks, scored by F1; otherwise (POS tags) by token accuracy.
public func isChunkLabelSet(_ labels: [String]) -> Bool {
    labels.allSatisfy(Chunker.isChunkLabel) && labels.contains { $0 != "O" }
}

extension Checkpoint {
    /// One compact JSON object and a newline, for `.jsonl` logs (through
    /// `JSONOutput`: non-finite numbers become `null`).
    public static func encodeJSONLine<Value: Encodable>(_ value: Value) throws -> Data {
        try JSONOutput.encode(value, style: .line)
    }
}
