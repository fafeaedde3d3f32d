import DissectCore
import DissectKernels

/// The whole tagger's forward and backward pass over a group of sentences,
/// with all its scratch memory. Training gives each core one shard of every
/// batch; evaluation gives each core a slice of the file.
///
/// Shapes (N tokens, Nc characters in the shard, Dw word dim, C char dim,
/// F filters, D = Dw + F, H hidden, G = gates·H, O = H·directions, m labels):
/// word vectors and char features → `input [N, D]` → per direction
/// `projected [N, G]` → recurrence → `hidden [N, O]` → `logits [N, m]`.
public final class TaggerShard<T: Scalar> {
    public let configuration: TaggerConfiguration
    public let offsets: ParameterOffsets
    public let layout: ParameterLayout

    public private(set) var tokenCount = 0
    public private(set) var charCount = 0
    public private(set) var sentenceCount = 0
    private var training = false

    // Indices of the current shard.
    let sentenceStarts = IndexBuffer()
    public let wordIndices = IndexBuffer()
    let labelIndices = IndexBuffer()
    let charIndices = IndexBuffer()
    let wordCharStarts = IndexBuffer()
    let charArgmax = IndexBuffer()

    // Forward values.
    let charEmbedded = Buffer<T>()
    let charMask = Buffer<T>()
    let columns = Buffer<T>()
    let convolution = Buffer<T>()
    let charTable = Buffer<T>()
    public let input = Buffer<T>()
    let inputMask = Buffer<T>()
    let projected: [Buffer<T>]
    let activations: [Buffer<T>]
    let cell: [Buffer<T>]
    let tanhCell: [Buffer<T>]
    let previousHidden: [Buffer<T>]
    let hiddenWeightTransposed: [Buffer<T>]
    public let hidden = Buffer<T>()
    let hiddenMask = Buffer<T>()
    let hiddenDropped = Buffer<T>()
    public let logits = Buffer<T>()

    // Backward values.
    let logitsGradient = Buffer<T>()
    let hiddenGradient = Buffer<T>()
    /// dLoss/d input `[N, D]`; its first Dw columns are the word-vector gradients.
    public let inputGradient = Buffer<T>()
    let inputPreGradient: [Buffer<T>]
    let recurrentPreGradient: [Buffer<T>]
    let columnsGradient = Buffer<T>()
    let charEmbeddedGradient = Buffer<T>()
    let scratch = Buffer<T>()
    /// Gradients of every parameter after the word embedding, at `offset − offsets.denseStart`.
    public let denseGradient = Buffer<T>()

    public init(configuration: TaggerConfiguration) {
        self.configuration = configuration
        layout = ParameterLayout(configuration: configuration)
        offsets = ParameterOffsets(layout: layout, configuration: configuration)
        let directions = configuration.directionCount
        projected = (0..<directions).map { _ in Buffer<T>() }
        activations = (0..<directions).map { _ in Buffer<T>() }
        cell = (0..<directions).map { _ in Buffer<T>() }
        tanhCell = (0..<directions).map { _ in Buffer<T>() }
        previousHidden = (0..<directions).map { _ in Buffer<T>() }
        hiddenWeightTransposed = (0..<directions).map { _ in Buffer<T>() }
        inputPreGradient = (0..<directions).map { _ in Buffer<T>() }
        recurrentPreGradient = (0..<directions).map { _ in Buffer<T>() }
    }

    public var denseCount: Int { layout.totalCount - offsets.denseStart }

    /// Runs the model over `sentences[range]`.
    /// - Parameters:
    ///   - parameters: the flat buffer, `layout.totalCount` values.
    ///   - dropoutRNG: draws the dropout masks; `nil` runs in evaluation mode (no dropout).
    ///   - withLoss: also computes the summed loss and dLoss/dlogits (needs labels).
    /// - Returns: the summed cross-entropy (0 when `withLoss` is false).
    @_specialize(where T == Float)
    @discardableResult
    public func forward(
        parameters p: UnsafePointer<T>, sentences: [EncodedSentence], range: Range<Int>,
        dropoutRNG: UnsafeMutablePointer<SplitMix64>?, withLoss: Bool
    ) -> Double {
        let c = configuration
        training = dropoutRNG != nil && c.dropout > 0
        gather(sentences, range)
        let N = tokenCount, Nc = charCount
        let Dw = c.wordEmbeddingDim, D = c.inputSize, H = c.hiddenSize, G = c.gateSize
        let O = c.outputSize, m = c.labelCount

        let x = input.reserve(N * D)
        // Word vectors.
        for token in 0..<N {
            (x + token * D).update(from: p + offsets.wordEmbedding + Int(wordIndices.pointer[token]) * Dw, count: Dw)
        }
        // Char features.
        if c.charCNN {
            let C = c.charEmbeddingDim, F = c.charFilters, width = C * c.charWindow
            let conv = convolution.reserve(Nc * F)
            if withLoss {
                // Training path: keep the im2col rows for backward.
                let embedded = charEmbedded.reserve(Nc * C)
                for position in 0..<Nc {
                    (embedded + position * C).update(
                        from: p + offsets.charEmbedding + Int(charIndices.pointer[position]) * C, count: C)
                }
                if training, let rng = dropoutRNG {
                    let mask = charMask.reserve(Nc * C)
                    Dropout.makeMask(mask, count: Nc * C, probability: c.dropout, rng: &rng.pointee)
                    Dropout.apply(embedded, mask: mask, count: Nc * C)
                }
                let cols = columns.reserve(Nc * width)
                CharCNN.im2col(
                    embedded: embedded, dimension: C, window: c.charWindow,
                    wordStarts: wordCharStarts.pointer, wordCount: N, columns: cols)
                BLAS.gemm(
                    transposeB: true, m: Nc, n: F, k: width,
                    a: cols, lda: width, b: p + offsets.charWeight, ldb: width, c: conv, ldc: F)
            } else {
                CharCNN.convolveByTable(
                    embedding: p + offsets.charEmbedding, charCount: c.charCount, dimension: C, filters: F,
                    window: c.charWindow, weight: p + offsets.charWeight, chars: charIndices.pointer,
                    wordStarts: wordCharStarts.pointer, wordCount: N,
                    table: charTable.reserve(c.charCount * c.charWindow * F), convolution: conv)
            }
            CharCNN.maxPool(
                convolution: conv, filters: F, bias: p + offsets.charBias,
                wordStarts: wordCharStarts.pointer, wordCount: N,
                output: x + Dw, outputStride: D, argmax: charArgmax.reserve(N * F))
        }
        if training, let rng = dropoutRNG {
            let mask = inputMask.reserve(N * D)
            Dropout.makeMask(mask, count: N * D, probability: c.dropout, rng: &rng.pointee)
            Dropout.apply(x, mask: mask, count: N * D)
        }

        // Recurrent layer, one direction at a time.
        let h = hidden.reserve(N * O)
        for direction in 0..<c.directionCount {
            let weights = offsets.directions[direction]
            let projection = projected[direction].reserve(N * G)
            BLAS.gemm(
                transposeB: true, m: N, n: G, k: D,
                a: x, lda: D, b: p + weights.inputWeight, ldb: D, c: projection, ldc: G)
            let bias = scratch.reserve(G)
            for gate in 0..<G {
                bias[gate] = p[weights.inputBias + gate] + (c.cell == .lstm ? p[weights.hiddenBias + gate] : 0)
            }
            for token in 0..<N { Kernels.axpy(projection + token * G, 1, bias, G) }
            let transposed = hiddenWeightTransposed[direction].reserve(H * G)
            Kernels.transpose(p + weights.hiddenWeight, rows: G, columns: H, into: transposed)
            let acts = activations[direction].reserve(N * G)
            let cells = cell[direction].reserve(N * H)
            let tanhCells = tanhCell[direction].reserve(N * H)
            let previous = previousHidden[direction].reserve(N * H)
            let stepScratch = scratch.reserve(G)
            for sentence in 0..<sentenceCount {
                let start = Int(sentenceStarts.pointer[sentence])
                let steps = Int(sentenceStarts.pointer[sentence + 1]) - start
                if steps == 0 { continue }
                let reverse = direction == 1
                switch c.cell {
                case .lstm:
                    LSTMRecurrence.forward(
                        steps: steps, hiddenSize: H, reverse: reverse,
                        projected: projection + start * G, hiddenWeightTransposed: transposed,
                        activations: acts + start * G, cell: cells + start * H,
                        tanhCell: tanhCells + start * H, previousHidden: previous + start * H,
                        hidden: h + start * O + direction * H, hiddenStride: O)
                case .gru:
                    GRURecurrence.forward(
                        steps: steps, hiddenSize: H, reverse: reverse,
                        projected: projection + start * G, hiddenWeightTransposed: transposed,
                        hiddenBias: p + weights.hiddenBias,
                        activations: acts + start * G, hiddenCandidate: cells + start * H,
                        previousHidden: previous + start * H,
                        hidden: h + start * O + direction * H, hiddenStride: O, scratch: stepScratch)
                }
            }
        }

        // Output dropout and the linear layer.
        var readout = UnsafePointer(h)
        if training, let rng = dropoutRNG {
            let mask = hiddenMask.reserve(N * O)
            Dropout.makeMask(mask, count: N * O, probability: c.dropout, rng: &rng.pointee)
            let dropped = hiddenDropped.reserve(N * O)
            dropped.update(from: h, count: N * O)
            Dropout.apply(dropped, mask: mask, count: N * O)
            readout = UnsafePointer(dropped)
        }
        let out = logits.reserve(N * m)
        for token in 0..<N { (out + token * m).update(from: p + offsets.outputBias, count: m) }
        BLAS.gemm(
            transposeB: true, m: N, n: m, k: O,
            a: readout, lda: O, b: p + offsets.outputWeight, ldb: O, beta: 1, c: out, ldc: m)
        guard withLoss else { return 0 }
        return SoftmaxCrossEntropy.forwardBackward(
            logits: out, labels: labelIndices.pointer, count: N, classes: m,
            gradient: logitsGradient.reserve(N * m))
    }

    /// Backpropagates the loss of the last `forward(withLoss: true)` into
    /// `denseGradient` (overwritten) and `inputGradient` (word part: the
    /// caller scatters it into the word-embedding rows of `wordIndices`).
    @_specialize(where T == Float)
    public func backward(parameters p: UnsafePointer<T>) {
        let c = configuration
        let N = tokenCount, Nc = charCount
        let Dw = c.wordEmbeddingDim, D = c.inputSize, H = c.hiddenSize, G = c.gateSize
        let O = c.outputSize, m = c.labelCount
        let base = offsets.denseStart
        let g = denseGradient.zero(denseCount)
        let dLogits = UnsafePointer(logitsGradient.pointer)
        let readout = UnsafePointer(training ? hiddenDropped.pointer : hidden.pointer)

        // Linear layer.
        BLAS.gemm(
            transposeA: true, m: m, n: O, k: N,
            a: dLogits, lda: m, b: readout, ldb: O, beta: 1, c: g + (offsets.outputWeight - base), ldc: O)
        addColumnSums(dLogits, rows: N, columns: m, into: g + (offsets.outputBias - base))
        let dHidden = hiddenGradient.reserve(N * O)
        BLAS.gemm(m: N, n: O, k: m, a: dLogits, lda: m, b: p + offsets.outputWeight, ldb: O, c: dHidden, ldc: O)
        if training { Dropout.apply(dHidden, mask: hiddenMask.pointer, count: N * O) }

        // Recurrent layer.
        let x = UnsafePointer(input.pointer)
        let dx = inputGradient.reserve(N * D)
        for direction in 0..<c.directionCount {
            let weights = offsets.directions[direction]
            let dInputPre = inputPreGradient[direction].reserve(N * G)
            let dRecurrentPre = c.cell == .gru ? recurrentPreGradient[direction].reserve(N * G) : dInputPre
            let stepScratch = scratch.reserve(3 * H)
            for sentence in 0..<sentenceCount {
                let start = Int(sentenceStarts.pointer[sentence])
                let steps = Int(sentenceStarts.pointer[sentence + 1]) - start
                if steps == 0 { continue }
                let reverse = direction == 1
                switch c.cell {
                case .lstm:
                    LSTMRecurrence.backward(
                        steps: steps, hiddenSize: H, reverse: reverse,
                        activations: activations[direction].pointer + start * G,
                        cell: cell[direction].pointer + start * H,
                        tanhCell: tanhCell[direction].pointer + start * H,
                        hiddenWeightTransposed: hiddenWeightTransposed[direction].pointer,
                        hiddenGradient: dHidden + start * O + direction * H, hiddenStride: O,
                        preactivationGradient: dInputPre + start * G, scratch: stepScratch)
                case .gru:
                    GRURecurrence.backward(
                        steps: steps, hiddenSize: H, reverse: reverse,
                        activations: activations[direction].pointer + start * G,
                        hiddenCandidate: cell[direction].pointer + start * H,
                        previousHidden: previousHidden[direction].pointer + start * H,
                        hiddenWeight: p + weights.hiddenWeight,
                        hiddenGradient: dHidden + start * O + direction * H, hiddenStride: O,
                        inputGradient: dInputPre + start * G, recurrentGradient: dRecurrentPre + start * G,
                        scratch: stepScratch)
                }
            }
            BLAS.gemm(
                transposeA: true, m: G, n: D, k: N,
                a: dInputPre, lda: G, b: x, ldb: D, beta: 1, c: g + (weights.inputWeight - base), ldc: D)
            BLAS.gemm(
                transposeA: true, m: G, n: H, k: N,
                a: dRecurrentPre, lda: G, b: previousHidden[direction].pointer, ldb: H,
                beta: 1, c: g + (weights.hiddenWeight - base), ldc: H)
            addColumnSums(dInputPre, rows: N, columns: G, into: g + (weights.inputBias - base))
            addColumnSums(dRecurrentPre, rows: N, columns: G, into: g + (weights.hiddenBias - base))
            BLAS.gemm(
                m: N, n: D, k: G, a: dInputPre, lda: G, b: p + weights.inputWeight, ldb: D,
                beta: direction == 0 ? 0 : 1, c: dx, ldc: D)
        }
        if training { Dropout.apply(dx, mask: inputMask.pointer, count: N * D) }

        // Char CNN and char embeddings.
        if c.charCNN {
            let C = c.charEmbeddingDim, F = c.charFilters, width = C * c.charWindow
            let dColumns = columnsGradient.zero(Nc * width)
            CharCNN.backward(
                featureGradient: dx + Dw, featureStride: D, wordCount: N, filters: F, width: width,
                argmax: charArgmax.pointer, columns: columns.pointer, weight: p + offsets.charWeight,
                weightGradient: g + (offsets.charWeight - base), biasGradient: g + (offsets.charBias - base),
                columnsGradient: dColumns)
            let dEmbedded = charEmbeddedGradient.reserve(Nc * C)
            CharCNN.col2im(
                columnsGradient: dColumns, dimension: C, window: c.charWindow,
                wordStarts: wordCharStarts.pointer, wordCount: N, embeddedGradient: dEmbedded)
            if training { Dropout.apply(dEmbedded, mask: charMask.pointer, count: Nc * C) }
            let table = g + (offsets.charEmbedding - base)
            for position in 0..<Nc {
                Kernels.axpy(table + Int(charIndices.pointer[position]) * C, 1, dEmbedded + position * C, C)
            }
        }
    }

    /// Index of the largest logit of `token` (the first on ties, as torch.argmax).
    @_specialize(where T == Float)
    public func prediction(token: Int) -> Int {
        let m = configuration.labelCount
        let row = logits.pointer + token * m
        var best = 0
        for j in 1..<m where row[j] > row[best] { best = j }
        return best
    }

    /// Token offset of sentence `index` of the shard (0..<sentenceCount+1).
    public func sentenceStart(_ index: Int) -> Int { Int(sentenceStarts.pointer[index]) }

    private func gather(_ sentences: [EncodedSentence], _ range: Range<Int>) {
        var tokens = 0, chars = 0
        for index in range {
            tokens += sentences[index].count
            chars += sentences[index].chars.count
        }
        tokenCount = tokens
        charCount = chars
        sentenceCount = range.count
        let starts = sentenceStarts.reserve(range.count + 1)
        let words = wordIndices.reserve(tokens)
        let labels = labelIndices.reserve(tokens)
        let charList = charIndices.reserve(chars)
        let wordStarts = wordCharStarts.reserve(tokens + 1)
        var token = 0, char = 0, sentenceNumber = 0
        for index in range {
            let sentence = sentences[index]
            starts[sentenceNumber] = Int32(token)
            sentenceNumber += 1
            for t in 0..<sentence.count {
                words[token + t] = sentence.words[t]
                labels[token + t] = sentence.labels.isEmpty ? -1 : sentence.labels[t]
                wordStarts[token + t] = Int32(char) + sentence.charStarts[t]
            }
            for k in 0..<sentence.chars.count { charList[char + k] = sentence.chars[k] }
            token += sentence.count
            char += sentence.chars.count
        }
        starts[sentenceNumber] = Int32(token)
        wordStarts[token] = Int32(char)
    }
}

extension TaggerShard {
    /// Adds this shard's gradient into a full-layout buffer: the dense part
    /// as is, and each token's word-vector gradient into its embedding row.
    @_specialize(where T == Float)
    public func addGradient(into full: UnsafeMutablePointer<T>) {
        let base = offsets.denseStart
        Kernels.axpy(full + base, 1, denseGradient.pointer, denseCount)
        let Dw = configuration.wordEmbeddingDim, D = configuration.inputSize
        for token in 0..<tokenCount {
            let row = full + offsets.wordEmbedding + Int(wordIndices.pointer[token]) * Dw
            Kernels.axpy(row, 1, inputGradient.pointer + token * D, Dw)
        }
    }
}

extension TaggerShard {
    /// The input projection of direction `direction` from the last forward:
    /// `[tokenCount, G]`, x·W_ihᵀ + b_ih (+ b_hh for an LSTM).
    public func projectedInput(direction: Int) -> UnsafePointer<T> {
        UnsafePointer(projected[direction].pointer)
    }
}
