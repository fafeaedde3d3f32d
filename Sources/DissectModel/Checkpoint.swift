import DissectCore
import DissectCorpus
import Foundation

/// What `model.json` says about how the checkpoint was trained.
public struct TrainingRecord: Codable, Sendable, Equatable {
    public var seed: UInt64
    public var epochs: Int
    public var bestEpoch: Int
    /// "f1" for chunk labels (BIO), "accuracy" for other label sets.
    public var selectionMetric: String
    public var devF1: Double?
    public var devF1NCRF: Double?
    public var devAccuracy: Double?
    public var testF1: Double?
    public var testF1NCRF: Double?
    public var testAccuracy: Double?
    public var seconds: Double
    public var options: TrainingOptions
    public var trainFile: String?
    public var devFile: String?
    public var testFile: String?
    public var embeddingsFile: String?
    /// SHA-256 of each input file (64 hex digits); nil in checkpoints written
    /// before dissect recorded them, and for a file the run did not use.
    public var trainSHA256: String?
    public var devSHA256: String?
    public var testSHA256: String?
    public var embeddingsSHA256: String?
    public var tagColumn: Int?
    public var vocabularyRule: String
    public var dissectVersion: String
    /// True once every requested epoch ran; a checkpoint saved mid-run has false.
    public var finished: Bool?
    /// Set for a control-task model (`dissect train --control-task`): the
    /// model was trained, selected and scored against these control labels.
    public var controlTask: ControlTaskRecord?

    public init(
        seed: UInt64, epochs: Int, bestEpoch: Int, selectionMetric: String, seconds: Double,
        options: TrainingOptions, vocabularyRule: String
    ) {
        self.seed = seed
        self.epochs = epochs
        self.bestEpoch = bestEpoch
        self.selectionMetric = selectionMetric
        self.seconds = seconds
        self.options = options
        self.vocabularyRule = vocabularyRule
        dissectVersion = Checkpoint.toolVersion
    }

    enum CodingKeys: String, CodingKey {
        case seed, epochs, seconds, options
        case bestEpoch = "best_epoch"
        case selectionMetric = "selection_metric"
        case devF1 = "dev_f1"
        case devF1NCRF = "dev_f1_ncrf"
        case devAccuracy = "dev_accuracy"
        case testF1 = "test_f1"
        case testF1NCRF = "test_f1_ncrf"
        case testAccuracy = "test_accuracy"
        case trainFile = "train_file"
        case devFile = "dev_file"
        case testFile = "test_file"
        case embeddingsFile = "embeddings_file"
        case trainSHA256 = "train_sha256"
        case devSHA256 = "dev_sha256"
        case testSHA256 = "test_sha256"
        case embeddingsSHA256 = "embeddings_sha256"
        case tagColumn = "tag_column"
        case vocabularyRule = "vocabulary_rule"
        case dissectVersion = "dissect_version"
        case finished
        case controlTask = "control_task"
    }
}

/// `training.control_task` in `model.json`: what `ControlTask` needs to
/// rebuild a control model's labels, with `digits_to_zero` and the label
/// vocabulary of the same file.
public struct ControlTaskRecord: Codable, Sendable, Equatable {
    /// The seed of the control labels (the training seed).
    public var seed: UInt64
    /// The training file's token count of each label, the distribution the labels were drawn from;
    /// its keys are exactly `vocabulary.labels`.
    public var labelCounts: [String: Int]

    public init(seed: UInt64, labelCounts: [String: Int]) {
        self.seed = seed
        self.labelCounts = labelCounts
    }

    public init(_ task: ControlTask) {
        seed = task.seed
        labelCounts = Dictionary(zip(task.labels, task.counts), uniquingKeysWith: { first, _ in first })
    }

    enum CodingKeys: String, CodingKey {
        case seed
        case labelCounts = "label_counts"
    }
}

/// The vocabularies, in index order.
public struct VocabularyLists: Codable, Sendable, Equatable {
    public var words: [String]
    public var chars: [String]
    public var labels: [String]

    public init(words: [String], chars: [String], labels: [String]) {
        self.words = words
        self.chars = chars
        self.labels = labels
    }
}

/// `model.json`, format version 2 (version 1 still loads; see `Checkpoint.readableVersions`).
public struct CheckpointMetadata: Codable, Sendable, Equatable {
    public var formatVersion: Int = Checkpoint.formatVersion
    public var configuration: TaggerConfiguration
    public var vocabulary: VocabularyLists
    public var unknownWordIndex: Int
    public var unknownCharIndex: Int
    public var digitsToZero: Bool
    public var lookup: String = Checkpoint.lookupRule
    /// False for an imported model that looked words up exactly (no lower-case second try); nil (true) otherwise.
    public var lowercaseFallback: Bool?
    public var training: TrainingRecord?
    /// What `dissect prune` removed, for a pruned model; nil otherwise.
    public var pruning: PruningRecord?

    public init(
        configuration: TaggerConfiguration, vocabulary: VocabularyLists,
        unknownWordIndex: Int, unknownCharIndex: Int, digitsToZero: Bool, training: TrainingRecord?
    ) {
        self.configuration = configuration
        self.vocabulary = vocabulary
        self.unknownWordIndex = unknownWordIndex
        self.unknownCharIndex = unknownCharIndex
        self.digitsToZero = digitsToZero
        self.training = training
    }

    enum CodingKeys: String, CodingKey {
        case configuration, vocabulary, lookup, training, pruning
        case lowercaseFallback = "lowercase_fallback"
        case formatVersion = "format_version"
        case unknownWordIndex = "unknown_word_index"
        case unknownCharIndex = "unknown_char_index"
        case digitsToZero = "digits_to_zero"
    }
}

/// A trained tagger on disk: `DIR/model.safetensors` (PyTorch names and
/// layouts, float32) and `DIR/model.json` (configuration, vocabularies,
/// lookup rule, training record). Both are written atomically.
public struct Checkpoint: Sendable {
    /// The format this dissect writes. Format 2 added `layers`, `layer_dropout`,
    /// `crf`, `input_size` and `output_size` to the configuration and names a
    /// cell's tensors after it (`gru.weight_ih_l0`); format 1 named every cell's `lstm.…`.
    public static let formatVersion = 2
    public static let readableVersions = 1...2
    public static let toolVersion = "0.1.0"
    public static let lookupRule =
        "word: if digits_to_zero, every digit becomes 0; then the word as written if it is in vocabulary.words, "
        + "else its lower-case form, else unknown_word_index. chars: the Unicode scalars (code points) of the "
        + "normalised word, each looked up in vocabulary.chars, else unknown_char_index."
    /// The rule of a model with `lowercase_fallback` false (imported from a tagger that looked words up exactly).
    public static let exactLookupRule =
        "word: if digits_to_zero, every digit becomes 0; then the word as written if it is in vocabulary.words, "
        + "else unknown_word_index (lowercase_fallback is false: no lower-case second try). chars: the Unicode scalars "
        + "(code points) of the normalised word, each looked up in vocabulary.chars, else unknown_char_index."

    public var metadata: CheckpointMetadata
    public var model: TaggerModel<Float>

    public init(metadata: CheckpointMetadata, model: TaggerModel<Float>) {
        self.metadata = metadata
        self.model = model
    }

    public static func weightsPath(_ directory: String) -> String { directory + "/model.safetensors" }
    public static func metadataPath(_ directory: String) -> String { directory + "/model.json" }

    /// Writes both files atomically; weights first, so a `model.json` never
    /// describes weights that are not there.
    public func save(to directory: String) throws {
        try AtomicFile.makeDirectory(directory)
        let entries = model.layout.entries
        let weights = SafeTensors.encode(
            names: entries.map(\.name), shapes: entries.map(\.shape),
            ranges: entries.map { $0.offset..<($0.offset + $0.count) }, of: model.parameters,
            metadata: ["format": "pt", "producer": "dissect \(Checkpoint.toolVersion)"])
        try AtomicFile.write(weights, to: Checkpoint.weightsPath(directory))
        try AtomicFile.write(try Checkpoint.encodeJSON(metadata), to: Checkpoint.metadataPath(directory))
    }

    /// Pretty JSON through `JSONOutput` (non-finite numbers become `null`).
    public static func encodeJSON<Value: Encodable>(_ value: Value) throws -> Data {
        try JSONOutput.encode(value, style: .pretty)
    }

    /// Reads and validates a checkpoint directory's `model.json` alone, without
    /// its weights: enough to bound what an analysis of the model will need.
    /// - Parameter option: the flag that named `directory`, for the fix of the error.
    public static func loadMetadata(from directory: String, option: String = "--model") throws -> CheckpointMetadata {
        let jsonPath = metadataPath(directory)
        guard let jsonData = FileManager.default.contents(atPath: jsonPath) else {
            throw DissectError(
                file: jsonPath, problem: "cannot read the checkpoint's model.json",
                fix: "pass \(option) a directory written by `dissect train`")
        }
        return try decodeMetadata(jsonData, path: jsonPath)
    }

    /// Reads and cross-checks a checkpoint directory.
    /// - Parameter option: the flag that named `directory`, for the fix of the error.
    public static func load(from directory: String, option: String = "--model") throws -> Checkpoint {
        let metadata = try loadMetadata(from: directory, option: option)
        let weightsFile = weightsPath(directory)
        guard let weightData = FileManager.default.contents(atPath: weightsFile) else {
            throw DissectError(
                file: weightsFile, problem: "cannot read the checkpoint's weights",
                fix: "pass \(option) a directory written by `dissect train`")
        }
        let tensors = try SafeTensors.decode(weightData, path: weightsFile)
        // Every tensor is checked against the layout before the model's
        // buffer is allocated, so that buffer is never larger than the weights.
        let layout = ParameterLayout(configuration: metadata.configuration)
        var checked: [(ParameterEntry, SafeTensors.Tensor)] = []
        for entry in layout.entries {
            let stored = ParameterLayout.storedName(entry.name, cell: metadata.configuration.cell, formatVersion: metadata.formatVersion)
            guard let tensor = tensors[stored] else {
                throw DissectError(
                    file: weightsFile, problem: "tensor \(stored) is missing",
                    fix: "the weights do not belong to this model.json; write the checkpoint again")
            }
            guard tensor.shape == entry.shape else {
                throw DissectError(
                    file: weightsFile, problem: "tensor \(stored) has shape \(tensor.shape) but model.json implies \(entry.shape)",
                    fix: "the weights do not belong to this model.json; write the checkpoint again")
            }
            checked.append((entry, tensor))
        }
        var model = TaggerModel<Float>(configuration: metadata.configuration)
        for (entry, tensor) in checked {
            for index in 0..<entry.count { model.parameters[entry.offset + index] = tensor.values[index] }
        }
        // In memory the model is in the current format, whatever the file's was; saving it writes that.
        var current = metadata
        current.formatVersion = formatVersion
        return Checkpoint(metadata: current, model: model)
    }

    /// Decodes and validates the bytes of a `model.json`; `path` is only used
    /// in messages. This is the JSON half of `load`, callable on bytes so it
    /// can be tested and fuzzed without a directory.
    ///
    /// - Throws: `DissectError` (.input) naming `path` for a wrong
    ///   format_version, JSON that does not decode, and failed validation.
    static func decodeMetadata(_ data: Data, path: String) throws -> CheckpointMetadata {
        let metadata: CheckpointMetadata
        struct VersionProbe: Decodable {
            var formatVersion: Int?
            enum CodingKeys: String, CodingKey { case formatVersion = "format_version" }
        }
        do {
            // Decode once; only when that fails is the version looked at, so that
            // another format's file gets the version message rather than a field error.
            do {
                metadata = try JSONDecoder().decode(CheckpointMetadata.self, from: data)
            } catch {
                if let probe = try? JSONDecoder().decode(VersionProbe.self, from: data),
                   let version = probe.formatVersion, !readableVersions.contains(version) {
                    throw DissectError(
                        file: path, problem: "the checkpoint has format_version \(version), this dissect reads \(readableVersions.lowerBound) to \(readableVersions.upperBound)",
                        fix: "use the dissect version that wrote it, or retrain")
                }
                throw error
            }
            guard readableVersions.contains(metadata.formatVersion) else {
                throw DissectError(
                    file: path, problem: "the checkpoint has format_version \(metadata.formatVersion), this dissect reads \(readableVersions.lowerBound) to \(readableVersions.upperBound)",
                    fix: "use the dissect version that wrote it, or retrain")
            }
        } catch let error as DissectError {
            throw error
        } catch {
            throw DissectError(
                file: path, problem: "model.json is not a valid checkpoint description (\(describe(error)))",
                fix: "write the checkpoint again with `dissect train`")
        }
        try validate(metadata, path: path)
        return metadata
    }

    /// The largest hidden size, embedding width, filter count or window a checkpoint may declare.
    static let maximumSize = 1 << 20
    /// The most recurrent layers a checkpoint may declare (`dissect train --layers` accepts the same).
    public static let maximumLayers = 64

    /// Checks everything in `model.json` that sizes an allocation or indexes
    /// memory, before any weight is read: sizes positive and at most
    /// `maximumSize`, vocabularies that agree with the configuration, are not
    /// empty where the model needs them and never list an entry twice (the
    /// analyses key their results by label), unknown indices inside their
    /// vocabularies, a positive `training.tag_column`, a `training.control_task`
    /// whose label counts fit the label vocabulary (`controlTask(path:)`), and
    /// a model that fits in `available` bytes (`TaggerConfiguration.loadingMemory`).
    ///
    /// - Throws: `DissectError` (.input) naming `path`, one line each.
    static func validate(
        _ metadata: CheckpointMetadata, path: String, available: UInt64 = MemoryBudget.physicalMemory
    ) throws {
        let c = metadata.configuration
        let vocabulary = metadata.vocabulary
        let rewrite = "write the checkpoint again with `dissect train`"
        func bad(_ problem: String, fix: String = "write the checkpoint again with `dissect train`") -> DissectError {
            DissectError(file: path, problem: problem, fix: fix)
        }
        guard c.hiddenSize >= 1, c.wordEmbeddingDim >= 1, c.labelCount >= 0 else {
            throw bad("the configuration has a non-positive size")
        }
        // Bounded so the parameter layout's products and sums cannot overflow
        // (word_count and char_count are bounded by the vocabularies' lengths).
        var sizes = [("hidden_size", c.hiddenSize), ("word_embedding_dim", c.wordEmbeddingDim)]
        if c.charCNN {
            sizes += [("char_embedding_dim", c.charEmbeddingDim), ("char_filters", c.charFilters), ("char_window", c.charWindow)]
        }
        for (name, size) in sizes where size > maximumSize {
            throw bad("the configuration's \(name) is \(size), above the largest dissect accepts (\(maximumSize))")
        }
        if c.charCNN {
            guard c.charEmbeddingDim >= 1, c.charFilters >= 1, c.charWindow >= 1, c.charWindow % 2 == 1 else {
                throw bad("the char CNN sizes are invalid (window must be odd)")
            }
        }
        guard c.dropout >= 0, c.dropout < 1 else { throw bad("dropout \(c.dropout) is outside [0, 1)") }
        guard (1...maximumLayers).contains(c.layers) else {
            throw bad("the configuration's layers is \(c.layers), outside 1 to \(maximumLayers)")
        }
        guard c.layerDropout >= 0, c.layerDropout < 1 else { throw bad("layer_dropout \(c.layerDropout) is outside [0, 1)") }
        if let layerSizes = c.layerHiddenSizes {
            guard layerSizes.count == c.layers, layerSizes.last == c.hiddenSize else {
                throw bad("layer_hidden_sizes has \(layerSizes.count) values \(layerSizes) for \(c.layers) layers of which the top has hidden_size \(c.hiddenSize)",
                          fix: "give one size per layer, bottom first, the last equal to hidden_size, or \(rewrite)")
            }
            if let wrong = layerSizes.first(where: { !(1...maximumSize).contains($0) }) {
                throw bad("layer_hidden_sizes holds \(wrong), outside 1 to \(maximumSize)", fix: "give each layer 1 or more units, or \(rewrite)")
            }
        }
        guard metadata.formatVersion >= 2 || (c.layers == 1 && !c.crf && c.cell.firstFormatVersion == 1) else {
            throw bad("a format-1 checkpoint declares layers, a CRF or an RNN cell, which format 1 cannot hold",
                      fix: "set format_version to 2, or \(rewrite)")
        }
        if let declared = c.declaredSizes.input, declared != c.inputSize {
            throw bad("input_size is \(declared) but word_embedding_dim and char_filters give \(c.inputSize)")
        }
        if let declared = c.declaredSizes.output, declared != c.outputSize {
            throw bad("output_size is \(declared) but hidden_size × directions gives \(c.outputSize)")
        }
        guard vocabulary.words.count == c.wordCount else {
            throw bad("vocabulary.words has \(vocabulary.words.count) entries but word_count is \(c.wordCount)")
        }
        guard vocabulary.labels.count == c.labelCount else {
            throw bad("vocabulary.labels has \(vocabulary.labels.count) entries but label_count is \(c.labelCount)")
        }
        guard !c.charCNN || vocabulary.chars.count == c.charCount else {
            throw bad("vocabulary.chars has \(vocabulary.chars.count) entries but char_count is \(c.charCount)")
        }
        guard !vocabulary.labels.isEmpty else {
            throw bad("vocabulary.labels is empty", fix: "a tagger needs at least one label; \(rewrite)")
        }
        guard !vocabulary.words.isEmpty else {
            throw bad("vocabulary.words is empty", fix: "the model needs at least the unknown word (<unk>); \(rewrite)")
        }
        guard !c.charCNN || !vocabulary.chars.isEmpty else {
            throw bad("vocabulary.chars is empty but char_cnn is on", fix: "the char CNN needs at least the unknown character (<unk>); \(rewrite)")
        }
        guard c.fitsIndexWidth else {
            throw bad("the vocabularies are larger than dissect's 32-bit indices hold (\(Int32.max))")
        }
        for (name, entry, list) in [("labels", "label", vocabulary.labels), ("words", "word", vocabulary.words), ("chars", "character", vocabulary.chars)] {
            if let repeated = firstRepeat(list) {
                throw bad(
                    "vocabulary.\(name) lists \(repeated.item.debugDescription) twice (entries \(repeated.first) and \(repeated.second))",
                    fix: "give each \(entry) once, in index order, or \(rewrite)")
            }
        }
        guard (0..<c.wordCount).contains(metadata.unknownWordIndex) else {
            throw bad(
                "unknown_word_index \(metadata.unknownWordIndex) is outside vocabulary.words (0 to \(c.wordCount - 1))",
                fix: "set it to the index of the unknown word (0 in checkpoints dissect writes), or \(rewrite)")
        }
        // Without the char CNN the characters are still encoded, never looked up: 0 is always allowed.
        let charRange = 0..<(c.charCNN ? c.charCount : max(1, vocabulary.chars.count))
        guard charRange.contains(metadata.unknownCharIndex) else {
            throw bad(
                "unknown_char_index \(metadata.unknownCharIndex) is outside vocabulary.chars (0 to \(charRange.upperBound - 1))",
                fix: "set it to the index of the unknown character (0 in checkpoints dissect writes), or \(rewrite)")
        }
        _ = try metadata.controlTask(path: path)
        if let column = metadata.training?.tagColumn, column < 1 {
            throw bad(
                "training.tag_column is \(column), but columns are counted from 1",
                fix: "set it to the label's column (1 or more) or remove it, and pass --tag-column")
        }
        try MemoryBudget.require(
            c.loadingMemory, for: "the model", kind: .input, file: path,
            fix: "its configuration (hidden_size \(c.hiddenSize), \(c.wordCount) words × \(c.wordEmbeddingDim) dimensions, "
                + "\(c.labelCount) labels) is too large to load here; use a machine with more memory",
            available: available)
    }

    /// The first entry of `list` that repeats an earlier one, with both positions.
    static func firstRepeat(_ list: [String]) -> (item: String, first: Int, second: Int)? {
        var positions: [String: Int] = [:]
        positions.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            if let earlier = positions.updateValue(index, forKey: item) { return (item, earlier, index) }
        }
        return nil
    }

    static func describe(_ error: Error) -> String {
        (error as? DecodingError).map(JSONInput.describe) ?? "\(error)"
    }
}

extension CheckpointMetadata {
    /// The control task a control model was trained on, rebuilt from
    /// `training.control_task` with this file's label vocabulary (its order)
    /// and `digits_to_zero`; nil for a model of the real labels.
    ///
    /// - Throws: `DissectError` (.input) naming `path` when `label_counts`
    ///   misses a label of `vocabulary.labels`, names one it lacks, holds a
    ///   negative count, or sums to 0 or beyond `Int.max`.
    public func controlTask(path: String = "model.json") throws -> ControlTask? {
        guard let record = training?.controlTask else { return nil }
        let labels = vocabulary.labels
        let fix = "write the checkpoint again with `dissect train --control-task`"
        var counts: [Int] = []
        counts.reserveCapacity(labels.count)
        for label in labels {
            guard let count = record.labelCounts[label] else {
                throw DissectError(
                    file: path, problem: "training.control_task.label_counts has no count for the label \(label.debugDescription)", fix: fix)
            }
            counts.append(count)
        }
        let known = Set(labels)
        if let stranger = record.labelCounts.keys.sorted().first(where: { !known.contains($0) }) {
            throw DissectError(
                file: path, problem: "training.control_task.label_counts names \(stranger.debugDescription), which is not in vocabulary.labels",
                fix: fix)
        }
        do {
            return try ControlTask(seed: record.seed, labels: labels, counts: counts, digitsToZero: digitsToZero)
        } catch {
            throw DissectError(file: path, problem: "training.control_task.label_counts cannot be drawn from: \(error.problem)", fix: fix)
        }
    }

    /// `corpus` with the gold labels this model was trained against: itself
    /// for a model of the real labels, `ControlTask.relabel` for a control
    /// model. Every analysis of a model reads its data through this, so a
    /// control model's gold labels, accuracy and F1 are the control ones.
    /// - Throws: as `controlTask(path:)`.
    public func analysisCorpus(_ corpus: Corpus, path: String = "model.json") throws -> Corpus {
        guard let task = try controlTask(path: path) else { return corpus }
        return task.relabel(corpus)
    }
}

extension Checkpoint {
    /// `metadata.analysisCorpus(corpus)`: the data with the gold labels this model was trained against.
    public func analysisCorpus(_ corpus: Corpus) throws -> Corpus { try metadata.analysisCorpus(corpus) }
}
