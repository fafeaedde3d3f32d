import DissectCore

/// The SHA-256 of each input file of a training run, recorded in
/// `model.json` so a rerun can tell whether a finished model still belongs to
/// its data (paths alone do not say: a file can change in place).
public struct InputHashes: Sendable, Equatable {
    public var train: String
    public var dev: String
    public var test: String?
    public var embeddings: String?

    public init(train: String, dev: String, test: String?, embeddings: String?) {
        self.train = train
        self.dev = dev
        self.test = test
        self.embeddings = embeddings
    }

    /// Hashes each file, streaming it (see `SHA256.hash(file:)`).
    /// - Throws: `DissectError` (.input) for a file that cannot be read.
    public static func compute(trainPath: String, devPath: String, testPath: String?, embeddingsPath: String?) throws -> InputHashes {
        // The readers' own words for a missing file ("the CoNLL data file does not exist").
        InputHashes(
            train: try SHA256.hash(file: trainPath, what: "CoNLL data"), dev: try SHA256.hash(file: devPath, what: "CoNLL data"),
            test: try testPath.map { try SHA256.hash(file: $0, what: "CoNLL data") },
            embeddings: try embeddingsPath.map { try SHA256.hash(file: $0, what: "embeddings") })
    }

    /// The hashes a training record holds; nil when it holds none (an older dissect wrote it).
    public init?(record: TrainingRecord) {
        guard let train = record.trainSHA256, let dev = record.devSHA256 else { return nil }
        self.init(train: train, dev: dev, test: record.testSHA256, embeddings: record.embeddingsSHA256)
    }
}

extension TrainingRequest {
    /// Why the checkpoint described by `metadata` is not the model this
    /// request would train from inputs whose hashes are `hashes`: one phrase
    /// per difference, naming the input or option that changed (e.g. "train
    /// file changed (SHA-256 differs)", "--epochs changed from 10 to 2").
    /// Empty when every input hash and every option that shapes the model match.
    ///
    /// Compared: the SHA-256 of train, dev, test and embeddings; the seed and
    /// every training option; the configuration as requested (cell, sizes,
    /// char CNN, dropout; the word-vector width only without an embeddings
    /// file, since the file fixes it otherwise); the vocabulary rule, digit
    /// normalisation, the tag column, and whether it is a control model and
    /// of which control seed. Paths are not compared: a file that
    /// moved but did not change gives the same model.
    public func differences(from metadata: CheckpointMetadata, hashes: InputHashes) -> [String] {
        guard let record = metadata.training else { return ["model.json has no training record"] }
        var found: [String] = []
        if let recorded = InputHashes(record: record) {
            func compare(_ name: String, _ before: String?, _ now: String?) {
                switch (before, now) {
                case (nil, nil): break
                case (let before?, let now?): if before != now { found.append("\(name) file changed (SHA-256 differs)") }
                case (nil, _?): found.append("the model was trained without a \(name) file, this run has one")
                case (_?, nil): found.append("the model was trained with a \(name) file, this run has none")
                }
            }
            compare("train", recorded.train, hashes.train)
            compare("dev", recorded.dev, hashes.dev)
            compare("test", recorded.test, hashes.test)
            compare("embeddings", recorded.embeddings, hashes.embeddings)
        } else {
            found.append("model.json records no SHA-256 of its input files (an older dissect wrote it)")
        }

        func changed<Value: Equatable>(_ name: String, _ before: Value, _ now: Value, _ show: (Value) -> String) {
            if before != now { found.append("\(name) changed from \(show(before)) to \(show(now))") }
        }
        func number(_ value: Double) -> String { "\(value)" }
        func onOff(_ value: Bool) -> String { value ? "on" : "off" }
        let old = record.options, new = options
        changed("--seed", old.seed, new.seed) { "\($0)" }
        changed("--epochs", old.epochs, new.epochs) { "\($0)" }
        changed("--batch-size", old.batchSize, new.batchSize) { "\($0)" }
        changed("--optimizer", old.optimizer, new.optimizer) { $0.rawValue }
        changed("--lr", old.learningRate, new.learningRate, number)
        changed("--lr-decay", old.learningRateDecay, new.learningRateDecay, number)
        changed("--l2", old.l2, new.l2, number)
        changed("--clip", old.clip, new.clip) { $0.map(number) ?? "off" }
        changed("adam_beta1", old.adamBeta1, new.adamBeta1, number)
        changed("adam_beta2", old.adamBeta2, new.adamBeta2, number)
        changed("adam_epsilon", old.adamEpsilon, new.adamEpsilon, number)

        let built = metadata.configuration, wanted = configuration
        changed("--cell", built.cell, wanted.cell) { $0.rawValue }
        changed("--layers", built.layers, wanted.layers) { "\($0)" }
        changed("--hidden", built.hiddenSize, wanted.hiddenSize) { "\($0)" }
        changed("--bidirectional", built.bidirectional, wanted.bidirectional, onOff)
        changed("--layer-dropout", built.layerDropout, wanted.layerDropout, number)
        changed("--crf", built.crf, wanted.crf, onOff)
        changed("the char CNN", built.charCNN, wanted.charCNN, onOff)
        if built.charCNN && wanted.charCNN {
            changed("char_embedding_dim", built.charEmbeddingDim, wanted.charEmbeddingDim) { "\($0)" }
            changed("char_filters", built.charFilters, wanted.charFilters) { "\($0)" }
            changed("char_window", built.charWindow, wanted.charWindow) { "\($0)" }
        }
        changed("--dropout", built.dropout, wanted.dropout, number)
        if hashes.embeddings == nil && record.embeddingsSHA256 == nil {
            changed("--word-dim", built.wordEmbeddingDim, wanted.wordEmbeddingDim) { "\($0)" }
        }
        changed("--vocabulary", record.vocabularyRule, vocabularyRule.rawValue) { $0 }
        changed("digit normalisation", metadata.digitsToZero, digitsToZero, onOff)
        changed("--tag-column", record.tagColumn, tagColumn) { $0.map { "\($0)" } ?? "the last column" }
        // A control model never stands in for a real one, nor one control seed for another.
        changed("--control-task", record.controlTask != nil, controlTask, onOff)
        if let recorded = record.controlTask, controlTask {
            changed("the control-task seed", recorded.seed, options.seed) { "\($0)" }
        }
        return found
    }
}
