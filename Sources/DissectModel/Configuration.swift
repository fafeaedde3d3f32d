import DissectCore
import DissectKernels

/// The recurrent cell. Gate order follows `torch.nn.LSTM` (i, f, g, o),
/// `torch.nn.GRU` (r, z, n) and `torch.nn.RNN` (tanh, one block). Each cell's
/// equations live in one file of DissectKernels (`LSTMCell`, `GRUCell`,
/// `RNNCell`); every switch over the kind is exhaustive, so a new cell is a
/// compile error until each place handles it.
public enum CellKind: String, Codable, Sendable, CaseIterable {
    case lstm
    case gru
    case rnn

    /// Rows of `weight_ih` per hidden unit: 4 for an LSTM, 3 for a GRU, 1 for a plain RNN.
    public var gateCount: Int {
        switch self {
        case .lstm: LSTMCell.gateCount
        case .gru: GRUCell.gateCount
        case .rnn: RNNCell.gateCount
        }
    }

    /// Whether b_hh is added to the input projection once, before the
    /// recurrence (LSTM, RNN); a GRU keeps it inside the reset gate's product.
    public var foldsHiddenBias: Bool {
        switch self {
        case .lstm, .rnn: true
        case .gru: false
        }
    }

    /// This cell's recurrence forward over one sentence (`LSTMCell.forward` and the like).
    @_specialize(where T == Float)
    @inline(__always)
    public func forward<T: Scalar>(steps: Int, hiddenSize: Int, reverse: Bool, _ buffers: RecurrenceBuffers<T>) {
        switch self {
        case .lstm: LSTMCell.forward(steps: steps, hiddenSize: hiddenSize, reverse: reverse, buffers)
        case .gru: GRUCell.forward(steps: steps, hiddenSize: hiddenSize, reverse: reverse, buffers)
        case .rnn: RNNCell.forward(steps: steps, hiddenSize: hiddenSize, reverse: reverse, buffers)
        }
    }

    /// This cell's backpropagation through time over one sentence.
    @_specialize(where T == Float)
    @inline(__always)
    public func backward<T: Scalar>(steps: Int, hiddenSize: Int, reverse: Bool, _ buffers: RecurrenceBuffers<T>) {
        switch self {
        case .lstm: LSTMCell.backward(steps: steps, hiddenSize: hiddenSize, reverse: reverse, buffers)
        case .gru: GRUCell.backward(steps: steps, hiddenSize: hiddenSize, reverse: reverse, buffers)
        case .rnn: RNNCell.backward(steps: steps, hiddenSize: hiddenSize, reverse: reverse, buffers)
        }
    }

    /// This cell's recurrence forward over a packed group of sentences, one GEMM per step (`LSTMCell.forwardBatched` and the like).
    @_specialize(where T == Float)
    @inline(__always)
    public func forwardBatched<T: Scalar>(hiddenSize: Int, reverse: Bool, _ buffers: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        switch self {
        case .lstm: LSTMCell.forwardBatched(hiddenSize: hiddenSize, reverse: reverse, buffers, batch)
        case .gru: GRUCell.forwardBatched(hiddenSize: hiddenSize, reverse: reverse, buffers, batch)
        case .rnn: RNNCell.forwardBatched(hiddenSize: hiddenSize, reverse: reverse, buffers, batch)
        }
    }

    /// This cell's backpropagation through time over a packed group of sentences.
    @_specialize(where T == Float)
    @inline(__always)
    public func backwardBatched<T: Scalar>(hiddenSize: Int, reverse: Bool, _ buffers: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        switch self {
        case .lstm: LSTMCell.backwardBatched(hiddenSize: hiddenSize, reverse: reverse, buffers, batch)
        case .gru: GRUCell.backwardBatched(hiddenSize: hiddenSize, reverse: reverse, buffers, batch)
        case .rnn: RNNCell.backwardBatched(hiddenSize: hiddenSize, reverse: reverse, buffers, batch)
        }
    }

    /// The first `model.json` format that can hold this cell.
    public var firstFormatVersion: Int {
        switch self {
        case .lstm, .gru: 1
        case .rnn: 2
        }
    }

    /// The module name of the cell's tensors, as PyTorch names them inside `self.lstm = nn.LSTM(…)` and the like.
    public var tensorPrefix: String {
        switch self {
        case .lstm: "lstm"
        case .gru: "gru"
        case .rnn: "rnn"
        }
    }
}

/// How a shard runs its recurrences: sentence by sentence, each step a SIMD
/// matrix–vector product (`LSTMCell.forward` and the like), or all of a
/// shard's sentences at once in time-major packing, each step one GEMM over
/// the sentences still running (`LSTMCell.forwardBatched` and the like).
public enum RecurrenceKernel: String, Sendable, CaseIterable {
    case perSentence
    case batched

    /// The kernel for a configuration. It depends on the cell and hidden size
    /// only — never on the machine, its load or the thread count — so a run
    /// gives the same bytes wherever it runs: batched from `batchedThreshold(cell:)`
    /// hidden units per direction up, per sentence below.
    ///
    /// Measured (one epoch of the first 3,000 or 1,000 CoNLL-2003 training
    /// sentences, batch 10, 2 shards, the two kernels alternating in one run on
    /// this project's shared 2-core AMD EPYC, load average 2.4–3.3; sentences/s,
    /// per sentence → batched):
    ///
    ///     LSTM  50: 14,261 → 14,831, 11,776 → 11,336, 13,656 → 14,311  (equal within the noise)
    ///     LSTM  75:  9,140 →  8,777, 10,225 → 10,685, 11,725 → 11,526  (equal)
    ///     LSTM 100:  8,911 →  9,554,  9,086 →  9,815,  7,425 →  9,603  (+7 to +29 %)
    ///     LSTM 150:  5,070 →  6,326,  5,701 →  6,272                   (+10 to +25 %)
    ///     LSTM 200:  3,277 →  4,390                                    (+34 %)
    ///     LSTM 400:    693 →    917,    696 →    997                   (+32 to +43 %)
    ///     BiLSTM 200 per direction: 1,193 → 1,448                      (+21 %)
    ///     GRU 100: 9,759 → 11,235;  GRU 200: 4,646 → 5,522            (+15 %, +19 %)
    ///     RNN 100: 16,785 → 16,237; RNN 150: 11,897 → 15,210; RNN 200: 9,820 → 11,229; RNN 400: 4,033 → 5,760
    ///
    /// Below about 100 units a step's work is too small for the four-row product to
    /// pay for the packing; a plain RNN (G = H) needs a wider layer for the same work.
    /// The paper's model (LSTM 50) stays per sentence, so its checkpoints keep their bytes.
    public static func rule(cell: CellKind, hiddenSize: Int) -> RecurrenceKernel {
        hiddenSize >= batchedThreshold(cell: cell) ? .batched : .perSentence
    }

    /// The smallest hidden size (per direction) that runs batched.
    public static func batchedThreshold(cell: CellKind) -> Int {
        switch cell {
        case .lstm, .gru: 100
        case .rnn: 150
        }
    }
}

/// Everything that fixes the shapes of a tagger. The defaults are the paper's
/// model: GloVe + char CNN → dropout → uni-LSTM(50) → dropout → linear (softmax).
public struct TaggerConfiguration: Codable, Sendable, Equatable {
    public var cell: CellKind = .lstm
    /// Recurrent layers, ≥ 1; layer k ≥ 1 reads layer k − 1's output.
    public var layers: Int = 1
    /// Hidden units per direction, ≥ 1: the top layer's (the one `hidden2tag` reads), and every layer's
    /// unless `layerHiddenSizes` says otherwise.
    public var hiddenSize: Int = 50
    /// Each layer's hidden units per direction, bottom first, when they differ (a stacked model pruned
    /// below its top layer); nil when every layer has `hiddenSize`. When set: `layers` values, each ≥ 1, the
    /// last equal to `hiddenSize` (`Checkpoint.validate`). Written as `layer_hidden_sizes` only when the widths
    /// differ (`distinctLayerSizes`).
    public var layerHiddenSizes: [Int]? = nil
    public var bidirectional: Bool = false
    /// Width of a word vector (from the embeddings file), ≥ 1.
    public var wordEmbeddingDim: Int = 50
    public var charCNN: Bool = true
    public var charEmbeddingDim: Int = 30
    public var charFilters: Int = 50
    /// Convolution window, odd, zero-padded by (window − 1) / 2 on each side.
    public var charWindow: Int = 3
    /// Dropout probability in [0, 1): on the char embeddings, the first layer's input and the top layer's output.
    public var dropout: Double = 0.5
    /// Dropout probability in [0, 1) on each layer's output except the top one (`torch.nn.LSTM(dropout:)`).
    public var layerDropout: Double = 0
    /// A linear-chain CRF on the emission scores (`LinearChainCRF`) instead of a per-token softmax.
    public var crf: Bool = false
    public var wordCount: Int = 0
    public var charCount: Int = 0
    public var labelCount: Int = 0

    public init() {}

    public var directionCount: Int { bidirectional ? 2 : 1 }
    /// Width of the first layer's input: word vector followed by the char feature.
    public var inputSize: Int { wordEmbeddingDim + (charCNN ? charFilters : 0) }
    /// Width of every layer's output h(t): hiddenSize × directions, the neurons the analysis dissects.
    public var outputSize: Int { hiddenSize * directionCount }
    public var gateSize: Int { cell.gateCount * hiddenSize }
    /// How shards run this configuration's recurrences (`RecurrenceKernel.rule`).
    public var recurrenceKernel: RecurrenceKernel { RecurrenceKernel.rule(cell: cell, hiddenSize: hiddenSize) }
    /// Hidden units per direction of layer `layer` (0-based, bottom first).
    public func hiddenSize(layer: Int) -> Int {
        guard let sizes = layerHiddenSizes, sizes.indices.contains(layer) else { return hiddenSize }
        return sizes[layer]
    }
    /// Width of layer `layer`'s output: its hidden size × directions.
    public func outputSize(layer: Int) -> Int { hiddenSize(layer: layer) * directionCount }
    /// Rows of layer `layer`'s gate-blocked tensors: gates × its hidden size.
    public func gateSize(layer: Int) -> Int { cell.gateCount * hiddenSize(layer: layer) }
    /// Width of layer `layer`'s input (0-based): `inputSize` for the first, the output of the layer below above it.
    public func layerInputSize(_ layer: Int) -> Int { layer == 0 ? inputSize : outputSize(layer: layer - 1) }
    /// Every layer's hidden size, bottom first.
    public var hiddenSizes: [Int] { (0..<max(0, layers)).map { hiddenSize(layer: $0) } }
    /// The widest layer's hidden size per direction (for memory and scratch bounds; allocates nothing,
    /// so it is safe on a configuration not yet validated).
    public var widestHiddenSize: Int { max(hiddenSize, layerHiddenSizes?.max() ?? hiddenSize) }

    enum CodingKeys: String, CodingKey {
        case cell, layers, bidirectional, dropout, crf
        case hiddenSize = "hidden_size"
        case layerDropout = "layer_dropout"
        case wordEmbeddingDim = "word_embedding_dim"
        case charCNN = "char_cnn"
        case charEmbeddingDim = "char_embedding_dim"
        case charFilters = "char_filters"
        case charWindow = "char_window"
        case wordCount = "word_count"
        case charCount = "char_count"
        case labelCount = "label_count"
        case layerHiddenSizes = "layer_hidden_sizes"
        case inputSize = "input_size"
        case outputSize = "output_size"
    }

    /// Format 1 has no `layers`, `layer_dropout` or `crf` (1, 0 and false);
    /// `input_size` and `output_size` are written for readers and checked by
    /// `Checkpoint.validate` when present (`declaredSizes`).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cell = try container.decode(CellKind.self, forKey: .cell)
        layers = try container.decodeIfPresent(Int.self, forKey: .layers) ?? 1
        hiddenSize = try container.decode(Int.self, forKey: .hiddenSize)
        bidirectional = try container.decode(Bool.self, forKey: .bidirectional)
        wordEmbeddingDim = try container.decode(Int.self, forKey: .wordEmbeddingDim)
        charCNN = try container.decode(Bool.self, forKey: .charCNN)
        charEmbeddingDim = try container.decode(Int.self, forKey: .charEmbeddingDim)
        charFilters = try container.decode(Int.self, forKey: .charFilters)
        charWindow = try container.decode(Int.self, forKey: .charWindow)
        dropout = try container.decode(Double.self, forKey: .dropout)
        layerDropout = try container.decodeIfPresent(Double.self, forKey: .layerDropout) ?? 0
        crf = try container.decodeIfPresent(Bool.self, forKey: .crf) ?? false
        wordCount = try container.decode(Int.self, forKey: .wordCount)
        charCount = try container.decode(Int.self, forKey: .charCount)
        labelCount = try container.decode(Int.self, forKey: .labelCount)
        layerHiddenSizes = try container.decodeIfPresent([Int].self, forKey: .layerHiddenSizes)
        declaredSizes = (
            try container.decodeIfPresent(Int.self, forKey: .inputSize),
            try container.decodeIfPresent(Int.self, forKey: .outputSize))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cell, forKey: .cell)
        try container.encode(layers, forKey: .layers)
        try container.encode(hiddenSize, forKey: .hiddenSize)
        try container.encode(bidirectional, forKey: .bidirectional)
        try container.encode(wordEmbeddingDim, forKey: .wordEmbeddingDim)
        try container.encode(charCNN, forKey: .charCNN)
        try container.encode(charEmbeddingDim, forKey: .charEmbeddingDim)
        try container.encode(charFilters, forKey: .charFilters)
        try container.encode(charWindow, forKey: .charWindow)
        try container.encode(dropout, forKey: .dropout)
        try container.encode(layerDropout, forKey: .layerDropout)
        try container.encode(crf, forKey: .crf)
        try container.encode(wordCount, forKey: .wordCount)
        try container.encode(charCount, forKey: .charCount)
        try container.encode(labelCount, forKey: .labelCount)
        try container.encodeIfPresent(distinctLayerSizes, forKey: .layerHiddenSizes)
        // Derived; overflow-safe because `Checkpoint.validate` bounds every size.
        try container.encode(MemoryEstimate.exactSum([wordEmbeddingDim, charCNN ? charFilters : 0]) ?? 0, forKey: .inputSize)
        try container.encode(MemoryEstimate.exactProduct([hiddenSize, directionCount]) ?? 0, forKey: .outputSize)
    }

    /// `input_size` and `output_size` as read from a file (nil when absent or not decoded).
    public var declaredSizes: (input: Int?, output: Int?) = (nil, nil)

    public static func == (a: TaggerConfiguration, b: TaggerConfiguration) -> Bool {
        a.cell == b.cell && a.layers == b.layers && a.hiddenSize == b.hiddenSize && a.bidirectional == b.bidirectional
            && a.wordEmbeddingDim == b.wordEmbeddingDim && a.charCNN == b.charCNN
            && a.charEmbeddingDim == b.charEmbeddingDim && a.charFilters == b.charFilters && a.charWindow == b.charWindow
            && a.dropout == b.dropout && a.layerDropout == b.layerDropout && a.crf == b.crf
            && a.wordCount == b.wordCount && a.charCount == b.charCount && a.labelCount == b.labelCount
            && a.distinctLayerSizes == b.distinctLayerSizes
    }

    /// `layerHiddenSizes`, nil when it only repeats `hiddenSize`: the one test of "the layers differ in width", so the
    /// two spellings of one model compare equal and are written alike (builds no array from `layers`, which may not be
    /// validated yet).
    public var distinctLayerSizes: [Int]? {
        guard let sizes = layerHiddenSizes, sizes.contains(where: { $0 != hiddenSize }) else { return nil }
        return sizes
    }
}

/// One named tensor inside the flat parameter buffer.
public struct ParameterEntry: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// The flat buffer's table of contents, in PyTorch's names and layouts, so the
/// checkpoint is a straight dump of the buffer.
public struct ParameterLayout: Sendable, Equatable {
    public private(set) var entries: [ParameterEntry] = []
    public private(set) var totalCount = 0

    public init(configuration c: TaggerConfiguration) {
        add("word_embedding.weight", [c.wordCount, c.wordEmbeddingDim])
        if c.charCNN {
            add("char_embedding.weight", [c.charCount, c.charEmbeddingDim])
            add("char_cnn.weight", [c.charFilters, c.charEmbeddingDim, c.charWindow])
            add("char_cnn.bias", [c.charFilters])
        }
        for layer in 0..<c.layers {
            for direction in 0..<c.directionCount {
                let names = ParameterLayout.recurrentNames(cell: c.cell, layer: layer, direction: direction)
                let G = c.gateSize(layer: layer)
                add(names.inputWeight, [G, c.layerInputSize(layer)])
                add(names.hiddenWeight, [G, c.hiddenSize(layer: layer)])
                add(names.inputBias, [G])
                add(names.hiddenBias, [G])
            }
        }
        add("hidden2tag.weight", [c.labelCount, c.outputSize])
        add("hidden2tag.bias", [c.labelCount])
        if c.crf { add(LinearChainCRF.tensorName, [c.labelCount + 2, c.labelCount + 2]) }
    }

    /// PyTorch's names of one layer and direction's tensors, inside the
    /// module the cell names: `lstm.weight_ih_l1_reverse` and so on.
    public static func recurrentNames(
        cell: CellKind, layer: Int, direction: Int
    ) -> (inputWeight: String, hiddenWeight: String, inputBias: String, hiddenBias: String) {
        let prefix = cell.tensorPrefix + "."
        let suffix = "_l\(layer)" + (direction == 0 ? "" : "_reverse")
        return (prefix + "weight_ih" + suffix, prefix + "weight_hh" + suffix, prefix + "bias_ih" + suffix, prefix + "bias_hh" + suffix)
    }

    /// The name a tensor has in a checkpoint of `formatVersion`: format 1
    /// named every cell's tensors `lstm.…` (a GRU's too).
    public static func storedName(_ name: String, cell: CellKind, formatVersion: Int) -> String {
        let prefix = cell.tensorPrefix + "."
        guard formatVersion == 1, name.hasPrefix(prefix) else { return name }
        return "lstm." + name.dropFirst(prefix.count)
    }

    /// Sizes are validated before a layout is built (`Checkpoint.validate`,
    /// `TrainingRequest.requireMemory`, the flags' checks); a configuration
    /// that skipped them and overflows stops here rather than corrupting memory
    /// (release builds drop the overflow checks of `+` and `*`).
    private mutating func add(_ name: String, _ shape: [Int]) {
        guard let count = MemoryEstimate.exactProduct(shape), let total = MemoryEstimate.exactSum([totalCount, count]) else {
            fatalError("parameter \(name) of shape \(shape) overflows: check the configuration's memory estimate first")
        }
        entries.append(ParameterEntry(name: name, shape: shape, offset: totalCount))
        totalCount = total
    }

    public func entry(_ name: String) -> ParameterEntry? {
        entries.first { $0.name == name }
    }

    public func offset(_ name: String) -> Int {
        guard let entry = entry(name) else { preconditionFailure("no parameter \(name)") }
        return entry.offset
    }
}

/// Offsets of every tensor the kernels touch, resolved once.
public struct ParameterOffsets: Sendable {
    public struct Direction: Sendable {
        public var inputWeight: Int
        public var hiddenWeight: Int
        public var inputBias: Int
        public var hiddenBias: Int

        /// One layer and direction's input projection for every token, one GEMM:
        /// `projection [N, G] = input [N, width] · W_ihᵀ + b_ih`, plus b_hh when the
        /// cell folds it (`CellKind.foldsHiddenBias`). `bias`: G values of scratch.
        @_specialize(where T == Float)
        public func project<T: Scalar>(
            parameters p: UnsafePointer<T>, cell: CellKind, input: UnsafePointer<T>, tokens N: Int, width: Int, gateSize G: Int,
            into projection: UnsafeMutablePointer<T>, bias: UnsafeMutablePointer<T>
        ) {
            BLAS.gemm(
                transposeB: true, m: N, n: G, k: width,
                a: input, lda: width, b: p + inputWeight, ldb: width, c: projection, ldc: G)
            for gate in 0..<G { bias[gate] = p[inputBias + gate] + (cell.foldsHiddenBias ? p[hiddenBias + gate] : 0) }
            for token in 0..<N { Kernels.axpy(projection + token * G, 1, bias, G) }
        }
    }

    public var wordEmbedding: Int
    public var charEmbedding: Int
    public var charWeight: Int
    public var charBias: Int
    /// `recurrent[layer][direction]`, bottom layer first.
    public var recurrent: [[Direction]]
    public var outputWeight: Int
    public var outputBias: Int
    /// `crf.transitions` (`[m + 2, m + 2]`), nil without a CRF.
    public var transitions: Int?
    /// Everything from here to the end is small and dense; the word embedding
    /// before it gets sparse, per-row gradients.
    public var denseStart: Int

    public init(layout: ParameterLayout, configuration c: TaggerConfiguration) {
        wordEmbedding = layout.offset("word_embedding.weight")
        charEmbedding = c.charCNN ? layout.offset("char_embedding.weight") : 0
        charWeight = c.charCNN ? layout.offset("char_cnn.weight") : 0
        charBias = c.charCNN ? layout.offset("char_cnn.bias") : 0
        recurrent = (0..<c.layers).map { layer in
            (0..<c.directionCount).map { direction in
                let names = ParameterLayout.recurrentNames(cell: c.cell, layer: layer, direction: direction)
                return Direction(
                    inputWeight: layout.offset(names.inputWeight), hiddenWeight: layout.offset(names.hiddenWeight),
                    inputBias: layout.offset(names.inputBias), hiddenBias: layout.offset(names.hiddenBias))
            }
        }
        outputWeight = layout.offset("hidden2tag.weight")
        outputBias = layout.offset("hidden2tag.bias")
        transitions = c.crf ? layout.offset(LinearChainCRF.tensorName) : nil
        denseStart = c.wordCount * c.wordEmbeddingDim
    }
}
