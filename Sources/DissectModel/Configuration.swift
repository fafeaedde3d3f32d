import DissectCore

/// The recurrent cell. Gate order follows `torch.nn.LSTM` (i, f, g, o) and
/// `torch.nn.GRU` (r, z, n).
public enum CellKind: String, Codable, Sendable, CaseIterable {
    case lstm
    case gru

    /// Rows of `weight_ih` per hidden unit: 4 for an LSTM, 3 for a GRU.
    public var gateCount: Int { self == .lstm ? 4 : 3 }
}

/// Everything that fixes the shapes of a tagger. The defaults are the paper's
/// model: GloVe + char CNN → dropout → uni-LSTM(50) → dropout → linear.
public struct TaggerConfiguration: Codable, Sendable, Equatable {
    public var cell: CellKind = .lstm
    /// Hidden units per direction, ≥ 1.
    public var hiddenSize: Int = 50
    public var bidirectional: Bool = false
    /// Width of a word vector (from the embeddings file), ≥ 1.
    public var wordEmbeddingDim: Int = 50
    public var charCNN: Bool = true
    public var charEmbeddingDim: Int = 30
    public var charFilters: Int = 50
    /// Convolution window, odd, zero-padded by (window − 1) / 2 on each side.
    public var charWindow: Int = 3
    /// Dropout probability in [0, 1): on char embeddings, the LSTM input and the LSTM output.
    public var dropout: Double = 0.5
    public var wordCount: Int = 0
    public var charCount: Int = 0
    public var labelCount: Int = 0

    public init() {}

    public var directionCount: Int { bidirectional ? 2 : 1 }
    /// Width of the LSTM input: word vector followed by the char feature.
    public var inputSize: Int { wordEmbeddingDim + (charCNN ? charFilters : 0) }
    /// Width of h(t): hiddenSize × directions, the neurons the analysis dissects.
    public var outputSize: Int { hiddenSize * directionCount }
    public var gateSize: Int { cell.gateCount * hiddenSize }

    enum CodingKeys: String, CodingKey {
        case cell, bidirectional, dropout
        case hiddenSize = "hidden_size"
        case wordEmbeddingDim = "word_embedding_dim"
        case charCNN = "char_cnn"
        case charEmbeddingDim = "char_embedding_dim"
        case charFilters = "char_filters"
        case charWindow = "char_window"
        case wordCount = "word_count"
        case charCount = "char_count"
        case labelCount = "label_count"
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
        for direction in 0..<c.directionCount {
            let suffix = direction == 0 ? "" : "_reverse"
            add("lstm.weight_ih_l0" + suffix, [c.gateSize, c.inputSize])
            add("lstm.weight_hh_l0" + suffix, [c.gateSize, c.hiddenSize])
            add("lstm.bias_ih_l0" + suffix, [c.gateSize])
            add("lstm.bias_hh_l0" + suffix, [c.gateSize])
        }
        add("hidden2tag.weight", [c.labelCount, c.outputSize])
        add("hidden2tag.bias", [c.labelCount])
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
    }

    public var wordEmbedding: Int
    public var charEmbedding: Int
    public var charWeight: Int
    public var charBias: Int
    public var directions: [Direction]
    public var outputWeight: Int
    public var outputBias: Int
    /// Everything from here to the end is small and dense; the word embedding
    /// before it gets sparse, per-row gradients.
    public var denseStart: Int

    public init(layout: ParameterLayout, configuration c: TaggerConfiguration) {
        wordEmbedding = layout.offset("word_embedding.weight")
        charEmbedding = c.charCNN ? layout.offset("char_embedding.weight") : 0
        charWeight = c.charCNN ? layout.offset("char_cnn.weight") : 0
        charBias = c.charCNN ? layout.offset("char_cnn.bias") : 0
        directions = (0..<c.directionCount).map { direction in
            let suffix = direction == 0 ? "" : "_reverse"
            return Direction(
                inputWeight: layout.offset("lstm.weight_ih_l0" + suffix),
                hiddenWeight: layout.offset("lstm.weight_hh_l0" + suffix),
                inputBias: layout.offset("lstm.bias_ih_l0" + suffix),
                hiddenBias: layout.offset("lstm.bias_hh_l0" + suffix))
        }
        outputWeight = layout.offset("hidden2tag.weight")
        outputBias = layout.offset("hidden2tag.bias")
        denseStart = c.wordCount * c.wordEmbeddingDim
    }
}
