import DissectCore
import DissectCorpus
import Foundation
import Testing
@testable import DissectModel

/// The model's memory estimates: exact parameter counts, upper bounds of what
/// the shards really allocate, no overflow for absurd sizes, and the checks
/// training makes once the data is known.
@Suite struct MemoryEstimateTests {
    static let configurations: [TaggerConfiguration] = [
        tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true),
        tinyConfiguration(cell: .gru, bidirectional: true, charCNN: true),
        tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: false),
        TaggerConfiguration(),
    ]

    @Test(arguments: configurations)
    func parameterCountMatchesTheLayout(configuration: TaggerConfiguration) {
        var c = configuration
        if c.wordCount == 0 { c.wordCount = 1000; c.charCount = 80; c.labelCount = 9 }
        #expect(c.parameterCountEstimate == Double(ParameterLayout(configuration: c).totalCount))
        #expect(c.parameterMemory.bytes == 4 * Double(ParameterLayout(configuration: c).totalCount))
    }

    /// Bytes held by a shard's buffers after a forward (and backward) pass.
    static func allocatedBytes(_ shard: TaggerShard<Float>) -> Double {
        var total = 0.0
        func add(_ value: Any) {
            if let buffer = value as? Buffer<Float> { total += Double(buffer.capacity * 4) }
            if let buffer = value as? IndexBuffer { total += Double(buffer.capacity * 4) }
            if let buffers = value as? [Buffer<Float>] { for buffer in buffers { total += Double(buffer.capacity * 4) } }
        }
        for child in Mirror(reflecting: shard).children { add(child.value) }
        return total
    }

    @Test(arguments: [(CellKind.lstm, false, true), (.gru, true, true), (.lstm, true, false)])
    func forwardEstimateBoundsWhatTheShardAllocates(cell: CellKind, bidirectional: Bool, charCNN: Bool) {
        var c = tinyConfiguration(cell: cell, bidirectional: bidirectional, charCNN: charCNN)
        c.hiddenSize = 24
        c.wordEmbeddingDim = 16
        let model: TaggerModel<Float> = randomModel(c, seed: 4)
        let sentences = tinySentences(seed: 5, configuration: c, lengths: [40, 3, 17, 60, 1])
        let size = CorpusSizes(encoded: sentences).largest(sentences.count)
        #expect(size.tokens == 121)
        for training in [true, false] {
            let shard = TaggerShard<Float>(configuration: c)
            model.parameters.withUnsafeBufferPointer { p in
                var rng = SplitMix64(seed: 1)
                _ = withUnsafeMutablePointer(to: &rng) { rngPointer in
                    shard.forward(
                        parameters: p.baseAddress!, sentences: sentences, range: 0..<sentences.count,
                        dropoutRNG: training ? rngPointer : nil, withLoss: training)
                }
                if training { shard.backward(parameters: p.baseAddress!) }
            }
            let allocated = Self.allocatedBytes(shard)
            let estimate = c.forwardMemory(size, training: training).bytes
            #expect(allocated <= estimate, "training \(training): allocated \(allocated) > estimate \(estimate)")
            #expect(estimate <= 2.5 * allocated, "training \(training): estimate \(estimate) is far above \(allocated)")
        }
    }

    @Test func absurdHiddenSizesGiveFiniteEstimates() {
        var c = TaggerConfiguration()
        c.hiddenSize = 3_000_000_000
        c.wordCount = 1
        c.charCount = 1
        c.labelCount = 1
        let one = ForwardSize(sentences: 1, tokens: 1, characters: 1)
        let estimate = c.trainingMemory(optimizer: .adam, batch: one, evaluation: one)
        #expect(estimate.bytes.isFinite && estimate.bytes > 1e20)
        c.hiddenSize = Int.max
        c.wordEmbeddingDim = Int.max
        c.bidirectional = true
        #expect(c.trainingMemory(optimizer: .sgd, batch: one, evaluation: one).bytes.isFinite)
        #expect(c.loadingMemory.bytes > 1e38)
    }

    @Test func corpusSizesBoundAnyBatch() {
        let sizes = CorpusSizes(tokens: [3, 10, 1, 7], characters: [30, 20, 5, 40])
        #expect(sizes.tokenCount == 21 && sizes.characterCount == 95 && sizes.longestSentence == 10)
        #expect(sizes.largest(2) == ForwardSize(sentences: 2, tokens: 17, characters: 70))
        #expect(sizes.largest(Int.max) == ForwardSize(sentences: 4, tokens: 21, characters: 95))
        #expect(sizes.largest(0).tokens == 0)
        let sentences = [Sentence(words: ["ab", "", "日本"], labels: ["O", "O", "O"], line: 1)]
        #expect(CorpusSizes(sentences: sentences).characterCount == 5)
        #expect(!CorpusSizes(tokens: [Int(Int32.max)], characters: [1]).largest(1).fitsIndexWidth)
        #expect(CorpusSizes(tokens: [Int(Int32.max) - 1], characters: [1]).largest(1).fitsIndexWidth)
    }

    /// A predictor call is bounded by the token budget (or the longest sentence) for a wide model, and by the
    /// 64 longest sentences for the paper's; the bound is never below what a call can really hold.
    @Test func predictorCallBoundFollowsTheTokenBudget() {
        var wide = TaggerConfiguration()
        wide.hiddenSize = 400
        wide.bidirectional = true
        let budget = Sharding.tokensPerCall(wide)
        let sizes = CorpusSizes(tokens: [Int](repeating: 30, count: 100) + [budget + 5], characters: [Int](repeating: 90, count: 101))
        let wideCall = sizes.largestPredictorCall(wide)
        #expect(wideCall.tokens == budget + 5, "a sentence longer than the budget goes alone: \(wideCall)")
        #expect(wideCall.tokens < sizes.largest(Sharding.sentencesPerCall).tokens)
        let short = CorpusSizes(tokens: [Int](repeating: 30, count: 100), characters: [Int](repeating: 90, count: 100))
        #expect(short.largestPredictorCall(wide).tokens == budget)
        #expect(short.largestPredictorCall(TaggerConfiguration()) == short.largest(Sharding.sentencesPerCall))
        #expect(wide.predictionMemory(chunk: short.largestPredictorCall(wide)).bytes
            < wide.predictionMemory(chunk: short.largest(Sharding.sentencesPerCall)).bytes)
    }

    static func corpus(_ path: String, sentences: Int, length: Int, labels: Int = 3) -> Corpus {
        Corpus(path: path, sentences: (0..<sentences).map { index in
            Sentence(
                words: (0..<length).map { "w\($0 % 7)" }, labels: (0..<length).map { "L\(($0 + index) % labels)" }, line: 1 + index)
        })
    }

    static func request(batchSize: Int = 10) -> TrainingRequest {
        var request = TrainingRequest(trainPath: "train.conll", devPath: "dev.conll", outputDirectory: "out")
        request.embeddingsPath = "vectors.txt"
        request.options.batchSize = batchSize
        return request
    }

    static func configuration(hidden: Int = 50, words: Int = 100, dimension: Int = 50, labels: Int = 3) -> TaggerConfiguration {
        var c = TaggerConfiguration()
        c.hiddenSize = hidden
        c.wordEmbeddingDim = dimension
        c.wordCount = words
        c.charCount = 20
        c.labelCount = labels
        return c
    }

    static let gibibyte: UInt64 = 1 << 30

    @Test func trainingThatFitsPasses() throws {
        let train = Self.corpus("train.conll", sentences: 50, length: 12)
        try Self.request().requireMemory(
            configuration: Self.configuration(), train: train, evaluation: [Self.corpus("dev.conll", sentences: 5, length: 3)],
            embeddings: nil, available: Self.gibibyte)
    }

    /// Seeds trained side by side are checked together: a model that fits alone in `available` does not fit twice,
    /// and the error says so and names `--threads 1`.
    @Test func modelsSideBySideAreCountedTogether() throws {
        let train = Self.corpus("train.conll", sentences: 50, length: 12)
        let evaluation = [Self.corpus("dev.conll", sentences: 5, length: 3)]
        let configuration = Self.configuration()
        let request = Self.request()
        let one = configuration.trainingMemory(
            optimizer: request.options.optimizer, batch: CorpusSizes(sentences: train.sentences).largest(request.options.batchSize),
            evaluation: CorpusSizes(sentences: evaluation[0].sentences).largestPredictorCall(configuration))
        let available = UInt64(one.bytes * 1.5)
        try request.requireMemory(configuration: configuration, train: train, evaluation: evaluation, embeddings: nil, available: available)
        var sideBySide = request
        sideBySide.modelsSideBySide = 2
        let error = try #require(throws: DissectError.self) {
            try sideBySide.requireMemory(configuration: configuration, train: train, evaluation: evaluation, embeddings: nil, available: available)
        }
        #expect(error.kind == .input)
        #expect(error.description.contains("training 2 models side by side ("), "\(error)")
        #expect(error.description.hasSuffix(", or --threads 1 so that seeds train one at a time"), "\(error)")
    }

    @Test func hugeHiddenSizeIsAUsageError() throws {
        let train = Self.corpus("train.conll", sentences: 5, length: 3)
        let error = try #require(throws: DissectError.self) {
            try Self.request().requireMemory(
                configuration: Self.configuration(hidden: 100_000_000), train: train, evaluation: [], embeddings: nil,
                available: Self.gibibyte)
        }
        #expect(error.kind == .usage)
        #expect(error.file == nil)
        #expect(error.description.hasPrefix("training with --hidden 100000000 needs about "), "\(error)")
        #expect(error.description.contains("GiB of memory; this machine has 1.0 GiB; choose a smaller --hidden"), "\(error)")
    }

    @Test func wideEmbeddingsAreBlamedOnTheEmbeddingsFile() throws {
        let train = Self.corpus("train.conll", sentences: 5, length: 3)
        let embeddings = Embeddings(dimension: 2_000_000, words: [], vectors: [], index: [:], duplicateCount: 0)
        let error = try #require(throws: DissectError.self) {
            try Self.request().requireMemory(
                configuration: Self.configuration(words: 30_000, dimension: 2_000_000), train: train, evaluation: [],
                embeddings: embeddings, available: 64 * Self.gibibyte)
        }
        #expect(error.kind == .input)
        #expect(error.file == "vectors.txt")
        #expect(error.description.contains("30000 words × 2000000 dimensions"), "\(error)")
        #expect(error.description.contains("use embeddings of a lower dimension"), "\(error)")
    }

    @Test func aHugeBatchOfManyLabelsIsBlamedOnTheTrainingFile() throws {
        // One sentence of 200,000 tokens with as many labels: the logits alone are N × m.
        let train = Self.corpus("train.conll", sentences: 1, length: 200_000, labels: 200_000)
        let error = try #require(throws: DissectError.self) {
            try Self.request().requireMemory(
                configuration: Self.configuration(labels: 200_000), train: train, evaluation: [], embeddings: nil,
                available: 64 * Self.gibibyte)
        }
        #expect(error.kind == .input)
        #expect(error.file == "train.conll")
        #expect(error.description.contains("up to 200000 tokens per batch"), "\(error)")
        #expect(error.description.contains("break long sentences with blank lines"), "\(error)")
    }

    @Test func batchesAreBoundedByTheCorpusNotTheFlag() throws {
        // --batch-size far above the sentence count is the whole corpus, not an error.
        let train = Self.corpus("train.conll", sentences: 40, length: 10)
        try Self.request(batchSize: Int.max).requireMemory(
            configuration: Self.configuration(), train: train, evaluation: [], embeddings: nil, available: Self.gibibyte)
    }

    @Test func inferenceOverMoreThan32BitOffsetsIsRejected() throws {
        let sizes = CorpusSizes(tokens: [5, Int(Int32.max)], characters: [5, Int(Int32.max)])
        let error = try #require(throws: DissectError.self) {
            try Checkpoint.requireInferenceMemory(
                configuration: Self.configuration(), sizes: sizes, path: "big.conll", what: "evaluating this file")
        }
        #expect(error.kind == .input && error.file == "big.conll")
        #expect(error.description.contains("32-bit offsets"), "\(error)")
    }

    @Test func inferenceThatDoesNotFitNamesTheDataFile() throws {
        let sizes = CorpusSizes(tokens: Array(repeating: 30, count: 100_000), characters: Array(repeating: 150, count: 100_000))
        let error = try #require(throws: DissectError.self) {
            try Checkpoint.requireInferenceMemory(
                configuration: Self.configuration(), sizes: sizes, path: "data.conll",
                extra: MemoryEstimate(bytes: 2e9), what: "evaluating this file", available: Self.gibibyte)
        }
        #expect(error.kind == .input && error.file == "data.conll")
        #expect(error.description.hasPrefix("data.conll: evaluating this file (3000000 tokens, longest sentence 30) needs about "), "\(error)")
    }

    /// A batch size far above the number of sentences is one batch of all of them, never an overflow.
    @Test func hugeBatchSizeTrainsOnTheWholeCorpus() {
        let c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true)
        let model: TaggerModel<Float> = randomModel(c, seed: 2)
        var options = TrainingOptions()
        options.batchSize = Int.max
        let sentences = tinySentences(seed: 3, configuration: c, lengths: [4, 1, 6, 2, 9])
        var batches = 0
        let result = Trainer(model: model, options: options).runEpoch(0, sentences: sentences) { _, _ in batches += 1 }
        #expect(batches == 1)
        #expect(result.tokens == 22 && result.sentences == 5 && result.loss.isFinite)
    }

    /// A char window wider than every word: positions outside the word are zero
    /// padding on both the training and the tabulated inference path.
    @Test(arguments: [9, 11])
    func charWindowWiderThanEveryWord(window: Int) {
        var c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true)
        c.charWindow = window
        let model: TaggerModel<Double> = randomModel(c, seed: 7)
        let sentences = tinySentences(seed: 8, configuration: c, lengths: [3, 1, 4])   // words of 1 to 5 characters
        let shard = TaggerShard<Double>(configuration: c)
        let (training, inference) = model.parameters.withUnsafeBufferPointer { p -> ([Double], [Double]) in
            shard.forward(parameters: p.baseAddress!, sentences: sentences, range: 0..<3, dropoutRNG: nil, withLoss: true)
            let first = shard.logits.array(shard.tokenCount * c.labelCount)
            shard.forward(parameters: p.baseAddress!, sentences: sentences, range: 0..<3, dropoutRNG: nil, withLoss: false)
            return (first, shard.logits.array(shard.tokenCount * c.labelCount))
        }
        #expect(training.count == 8 * c.labelCount)
        #expect(training.allSatisfy { $0.isFinite })
        for index in training.indices { #expect(abs(training[index] - inference[index]) < 1e-12) }
    }
}
