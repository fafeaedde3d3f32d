import DissectCore
import DissectCorpus

/// What one forward call of a `TaggerShard` holds at once.
public struct ForwardSize: Sendable, Equatable {
    public var sentences: Int
    public var tokens: Int
    /// Character positions: each word's Unicode scalars, at least one per word.
    public var characters: Int

    public init(sentences: Int, tokens: Int, characters: Int) {
        self.sentences = sentences
        self.tokens = tokens
        self.characters = characters
    }

    /// The larger of each count.
    public func union(_ other: ForwardSize) -> ForwardSize {
        ForwardSize(
            sentences: max(sentences, other.sentences), tokens: max(tokens, other.tokens),
            characters: max(characters, other.characters))
    }

    /// The largest token or character count one forward call may hold: its
    /// offsets are 32-bit (`EncodedSentence`, `TaggerShard`'s index buffers).
    public static let maximumIndexedCount = Int(Int32.max) - 1

    /// Whether the counts fit the 32-bit offsets.
    public var fitsIndexWidth: Bool {
        tokens <= ForwardSize.maximumIndexedCount && characters <= ForwardSize.maximumIndexedCount
    }
}

/// Sentence lengths of a corpus, for bounding what a batch can hold before
/// anything is allocated for it.
public struct CorpusSizes: Sendable {
    public let sentenceCount: Int
    public let tokenCount: Int
    public let characterCount: Int
    /// Prefix sums of the sentences' token counts, longest sentence first.
    let tokenPrefix: [Int]
    let characterPrefix: [Int]

    /// Character positions as `SentenceEncoder` makes them: the Unicode scalars
    /// of each word (digit normalisation keeps their number), at least one per word.
    public init(sentences: [Sentence]) {
        var tokens: [Int] = []
        var characters: [Int] = []
        tokens.reserveCapacity(sentences.count)
        characters.reserveCapacity(sentences.count)
        for sentence in sentences {
            tokens.append(sentence.words.count)
            characters.append(sentence.words.reduce(0) { $0 + max(1, $1.unicodeScalars.count) })
        }
        self.init(tokens: tokens, characters: characters)
    }

    public init(encoded: [EncodedSentence]) {
        self.init(tokens: encoded.map(\.count), characters: encoded.map(\.chars.count))
    }

    /// From per-sentence counts.
    public init(tokens: [Int], characters: [Int]) {
        sentenceCount = tokens.count
        tokenPrefix = CorpusSizes.prefixSums(tokens.sorted(by: >))
        characterPrefix = CorpusSizes.prefixSums(characters.sorted(by: >))
        tokenCount = tokenPrefix.last ?? 0
        characterCount = characterPrefix.last ?? 0
    }

    static func prefixSums(_ values: [Int]) -> [Int] {
        var sums: [Int] = []
        sums.reserveCapacity(values.count)
        var total = 0
        for value in values {
            total += value
            sums.append(total)
        }
        return sums
    }

    public var longestSentence: Int { tokenPrefix.first ?? 0 }

    /// An upper bound of what any `count` sentences of the corpus hold: the sum
    /// of the `count` longest (tokens and characters counted separately). A
    /// `count` above the number of sentences means the whole corpus.
    public func largest(_ count: Int) -> ForwardSize {
        let taken = min(max(0, count), sentenceCount)
        guard taken > 0 else { return ForwardSize(sentences: 0, tokens: 0, characters: 0) }
        return ForwardSize(sentences: taken, tokens: tokenPrefix[taken - 1], characters: characterPrefix[taken - 1])
    }

    /// An upper bound of what one `Predictor` call of `configuration` over the corpus holds: the
    /// `Sharding.sentencesPerCall` longest sentences, with at most max(`Sharding.tokensPerCall`, the longest
    /// sentence) tokens, since a call ends at the token budget unless its first sentence alone passes it.
    /// Characters are not capped (a bound, not the exact figure).
    public func largestPredictorCall(_ configuration: TaggerConfiguration) -> ForwardSize {
        var size = largest(Sharding.sentencesPerCall)
        size.tokens = min(size.tokens, max(Sharding.tokensPerCall(configuration), longestSentence))
        return size
    }
}

/// Memory estimates of a tagger, in the shapes of `ParameterLayout` and
/// `TaggerShard` (see their documentation for the symbols): V words, Dw word
/// dimension, Cn chars, C char dimension, F filters, W window, D = Dw + F,
/// H hidden, G = gates·H, O = H·directions, L layers, m labels. Every product is taken
/// in floating point (`MemoryEstimate`), straight from the stored sizes, so a
/// configuration with `hiddenSize = 3_000_000_000` gets an estimate instead of
/// an overflow; check the estimate before building a `ParameterLayout`.
extension TaggerConfiguration {
    private var directions: Double { bidirectional ? 2 : 1 }
    private var H: Double { Double(max(0, widestHiddenSize)) }
    private var G: Double { Double(cell.gateCount) * H }
    private var O: Double { H * directions }
    private var Dw: Double { Double(max(0, wordEmbeddingDim)) }
    private var C: Double { charCNN ? Double(max(0, charEmbeddingDim)) : 0 }
    private var F: Double { charCNN ? Double(max(0, charFilters)) : 0 }
    private var W: Double { charCNN ? Double(max(0, charWindow)) : 0 }
    private var D: Double { Dw + F }
    private var m: Double { Double(max(0, labelCount)) }
    private var L: Double { Double(max(1, layers)) }

    /// The number of parameters (`ParameterLayout.totalCount`):
    ///
    ///     V·Dw + [Cn·C + F·C·W + F] + dirs·(G·D + G·H + 2G) + (L − 1)·dirs·(G·O + G·H + 2G) + m·O + m [+ (m + 2)²]
    public var parameterCountEstimate: Double {
        let words = Double(max(0, wordCount)) * Dw
        let chars = charCNN ? Double(max(0, charCount)) * C + F * C * W + F : 0
        let recurrent = directions * (G * D + G * H + 2 * G) + (L - 1) * directions * (G * O + G * H + 2 * G)
        let transitions = crf ? (m + 2) * (m + 2) : 0
        return words + chars + recurrent + m * O + m + transitions
    }

    /// One copy of the parameters as Float: 4 bytes each.
    public var parameterMemory: MemoryEstimate { MemoryEstimate(bytes: 4 * parameterCountEstimate) }

    /// The scratch one `TaggerShard` allocates for a forward call over `size`
    /// (and its backward when `training`), in Float and Int32 elements of 4
    /// bytes. With N tokens, Nc characters and S sentences, the buffers that
    /// grow with the batch (times 1.5, `Buffer`'s growth policy) are
    ///
    ///     indices      S + 3N + Nc + N·F
    ///     char CNN     inference: Nc·F;  training: Nc·(2C + 2C·W + F)
    ///     input        N·D  (training: 3·N·D, with the mask and the gradient)
    ///     recurrence   L·dirs·(2·N·G + 3·N·H)  (training: + L·dirs·2·N·G)
    ///     layers       L·N·O  (training: + 3·(L − 1)·N·O + L·N·O, masks, dropped copies and gradients)
    ///     output       N·m  (training: + 2·N·O + N·m)
    ///     batched      with `RecurrenceKernel.batched`: N·H + 2·S·G (training: + 2·S·H), and 4S + N indices
    ///
    /// and the fixed ones are L·dirs·H·G (transposed recurrent weights), 4H (step scratch),
    /// Cn·W·F (the inference char table), with a CRF (m + 2)² and the forward–backward
    /// scratch in Double (4·N·m, as Float elements) and, training, the dense gradient
    /// (every parameter after the word embedding).
    public func forwardMemory(_ size: ForwardSize, training: Bool) -> MemoryEstimate {
        let N = Double(max(0, size.tokens)), Nc = Double(max(0, size.characters)), S = Double(max(0, size.sentences))
        var growing = S + 3 * N + Nc + N * F
        if charCNN { growing += training ? Nc * (2 * C + 2 * C * W + F) : Nc * F }
        growing += (training ? 3 : 1) * N * D
        growing += L * directions * ((training ? 4 : 2) * N * G + 3 * N * H)
        growing += L * N * O + N * m
        if training { growing += 3 * (L - 1) * N * O + L * N * O + 2 * N * O + N * m }
        if crf { growing += 4 * N * m }
        if recurrenceKernel == .batched { growing += N * H + 2 * S * G + (training ? 2 * S * H : 0) + 4 * S + N }
        var fixed = L * directions * H * G + 4 * H
        if crf { fixed += (m + 2) * (m + 2) }
        if charCNN && !training { fixed += Double(max(0, charCount)) * W * F }
        if training { fixed += parameterCountEstimate - Double(max(0, wordCount)) * Dw }
        return MemoryEstimate(bytes: 4 * (growing * 1.5 + fixed))
    }

    /// Training in `Trainer` with `TrainingSession`: the parameters 7 times (the
    /// initial model, the trainer's buffer and gradient, the current and the best
    /// checkpoint, and the tensors and bytes written when saving), 2 more for
    /// Adam's moments, the initial word vectors (V·Dw) and row stamps (V), one
    /// training forward/backward per shard over `batch`, and the evaluation
    /// predictor's scratch over `evaluation`.
    public func trainingMemory(
        optimizer: OptimizerKind, batch: ForwardSize, evaluation: ForwardSize, shards: Int = Trainer.shardCount
    ) -> MemoryEstimate {
        let copies = optimizer == .adam ? 9 : 7
        let vocabulary = MemoryEstimate(bytes: 4 * Double(max(0, wordCount)) * (Dw + 1))
        return parameterMemory * copies + vocabulary
            + forwardMemory(batch, training: true) * shards
            + predictionMemory(chunk: evaluation)
    }

    /// Reading a checkpoint with `Checkpoint.load`: the weights file's bytes
    /// twice (the file and its decoded copy), the tensors, and the model's
    /// buffer — 4 copies of the parameters.
    public var loadingMemory: MemoryEstimate { parameterMemory * 4 }

    /// A `Predictor`'s scratch: one inference forward per shard over `chunk`
    /// (at most `Sharding.sentencesPerCall` sentences and, past the first, `Sharding.tokensPerCall` tokens
    /// at a time: `CorpusSizes.largestPredictorCall`).
    public func predictionMemory(chunk: ForwardSize, shards: Int = 2) -> MemoryEstimate {
        forwardMemory(chunk, training: false) * shards
    }

    /// The smallest model these sizes give (one word, one char, one label):
    /// what the flags alone decide before the data is read.
    public var withSmallestVocabulary: TaggerConfiguration {
        var smallest = self
        smallest.wordCount = 1
        smallest.charCount = 1
        smallest.labelCount = 1
        return smallest
    }

    /// Whether every vocabulary index fits the 32-bit indices of `EncodedSentence`.
    public var fitsIndexWidth: Bool {
        [wordCount, charCount, labelCount].allSatisfy { $0 >= 0 && $0 <= Int(Int32.max) }
    }
}

extension TrainingRequest {
    /// Throws unless training `configuration` — whose vocabulary, label and
    /// word-vector sizes now come from the data — fits in the machine's memory
    /// and in 32-bit indices. Call it before the model is allocated.
    ///
    /// - Throws: `DissectError` `.usage` when the flags alone are too large
    ///   (`withSmallestVocabulary`); otherwise `.input`, naming the embeddings
    ///   file when its dimension is what does not fit, else the training file.
    public func requireMemory(
        configuration: TaggerConfiguration, train: Corpus, evaluation: [Corpus], embeddings: Embeddings?,
        available: UInt64 = MemoryBudget.physicalMemory
    ) throws {
        let trainSizes = CorpusSizes(sentences: train.sentences)
        let batch = trainSizes.largest(options.batchSize)
        var chunk = ForwardSize(sentences: 0, tokens: 0, characters: 0)
        for corpus in evaluation {
            let sizes = CorpusSizes(sentences: corpus.sentences)
            let largest = sizes.largestPredictorCall(configuration)
            chunk = chunk.union(largest)
            if !largest.fitsIndexWidth {
                throw Self.indexWidthError(file: corpus.path, size: largest, unit: "\(Sharding.sentencesPerCall) sentences")
            }
        }
        if !batch.fitsIndexWidth {
            throw Self.indexWidthError(file: train.path, size: batch, unit: "a batch of \(batch.sentences) sentences")
        }
        guard configuration.fitsIndexWidth else {
            throw DissectError(
                .input, file: train.path,
                problem: "the data gives \(configuration.wordCount) words, \(configuration.charCount) characters and "
                    + "\(configuration.labelCount) labels, more than dissect's 32-bit indices hold",
                fix: "use --vocabulary train or a smaller training file")
        }
        let ways = min(max(1, modelsSideBySide), 1024)
        func estimate(_ c: TaggerConfiguration, _ batch: ForwardSize, _ chunk: ForwardSize) -> MemoryEstimate {
            c.trainingMemory(optimizer: options.optimizer, batch: batch, evaluation: chunk) * ways
        }
        let total = estimate(configuration, batch, chunk)
        guard !MemoryBudget.fits(total, available: available) else { return }
        // Beside other models, training them one at a time is a fix too.
        let alone = ways > 1 ? ", or --threads 1 so that seeds train one at a time" : ""
        let training = ways > 1 ? "training \(ways) models side by side" : "training"
        let one = ForwardSize(sentences: 1, tokens: 1, characters: 1)
        var flagsOnly = configuration.withSmallestVocabulary
        if embeddings != nil { flagsOnly.wordEmbeddingDim = 1 }
        if !MemoryBudget.fits(estimate(flagsOnly, one, one), available: available) {
            try MemoryBudget.require(
                total, for: "\(training) with --hidden \(configuration.hiddenSize)", kind: .usage,
                fix: "choose a smaller --hidden or --word-dim" + alone, available: available)
        }
        var narrow = configuration
        narrow.wordEmbeddingDim = 1
        let blameEmbeddings = embeddings != nil && MemoryBudget.fits(estimate(narrow, batch, chunk), available: available)
        let what = "\(training) (\(configuration.wordCount) words × \(configuration.wordEmbeddingDim) dimensions, "
            + "\(configuration.labelCount) labels, hidden size \(configuration.hiddenSize), "
            + "up to \(batch.tokens) tokens per batch)"
        try MemoryBudget.require(
            total, for: what, kind: .input, file: blameEmbeddings ? embeddingsPath : train.path,
            fix: (blameEmbeddings
                ? "use embeddings of a lower dimension, or --vocabulary train"
                : "use --vocabulary train, a smaller --batch-size or --hidden, or break long sentences with blank lines") + alone,
            available: available)
    }

    static func indexWidthError(file: String, size: ForwardSize, unit: String) -> DissectError {
        DissectError(
            .input, file: file,
            problem: "\(unit) hold \(size.tokens) tokens and \(size.characters) characters, "
                + "more than dissect's 32-bit offsets allow (\(ForwardSize.maximumIndexedCount))",
            fix: "break long sentences with blank lines, or use a smaller --batch-size")
    }
}

extension Checkpoint {
    /// Throws (`.input`, naming `path`) unless running `configuration` over
    /// `corpus` with a `Predictor` — plus `extra` bytes the caller keeps per
    /// token or per neuron — fits in the machine's memory and in 32-bit offsets.
    ///
    /// - Parameter what: names the work in the message, e.g. "evaluating this file".
    public static func requireInferenceMemory(
        configuration: TaggerConfiguration, sizes: CorpusSizes, path: String, extra: MemoryEstimate = .zero,
        what: String, available: UInt64 = MemoryBudget.physicalMemory
    ) throws {
        let chunk = sizes.largestPredictorCall(configuration)
        if !chunk.fitsIndexWidth {
            throw TrainingRequest.indexWidthError(file: path, size: chunk, unit: "\(chunk.sentences) sentences")
        }
        let total = configuration.loadingMemory + configuration.predictionMemory(chunk: chunk) + extra
        try MemoryBudget.require(
            total, for: "\(what) (\(sizes.tokenCount) tokens, longest sentence \(sizes.longestSentence))", kind: .input,
            file: path, fix: "split the file into smaller ones, or break long sentences with blank lines",
            available: available)
    }
}
