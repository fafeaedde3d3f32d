import DissectCore
import DissectKernels

/// The whole tagger's forward and backward pass over a group of sentences,
/// with all its scratch memory. Training gives each core one shard of every
/// batch; evaluation gives each core a slice of the file.
///
/// Shapes (N tokens, Nc characters in the shard, Dw word dim, C char dim,
/// F filters, D = Dw + F, H hidden per direction, G = gates·H, O = H·directions,
/// L layers, m labels): word vectors and char features → `input [N, D]` →
/// layer 0 → `[N, O]` → … → layer L−1 → `hidden [N, O]` → `logits [N, m]`
/// (the emission scores when the model has a CRF). Each layer and direction
/// projects its input with one GEMM, `projected [N, G]`, then runs its
/// cell's recurrence: sentence by sentence, or for wide layers all of the
/// shard's sentences at once in time-major packing (`RecurrenceKernel`,
/// chosen from the configuration alone).
public final class TaggerShard<T: Scalar> {
    public let configuration: TaggerConfiguration
    public let offsets: ParameterOffsets
    public let layout: ParameterLayout

    public private(set) var tokenCount = 0
    public private(set) var charCount = 0
    public private(set) var sentenceCount = 0
    /// Whether the last forward drew dropout masks on the input/output and between layers.
    private var outputDropout = false
    private var layerDropout = false

    /// The recurrence kernel; `configuration.recurrenceKernel` unless a test picks one.
    public var recurrenceKernel: RecurrenceKernel

    /// The team this shard shares its batched LSTM recurrences with, and its member index
    /// (nil: it runs them alone). Every member must run the same calls at once, one thread
    /// each (`ThreadTeam.run`), with the same `recurrenceKernel`; the result is the same bits either way.
    public var cooperation: (team: RecurrenceTeam<T>, member: Int)?

    // Indices of the current shard.
    let sentenceStarts = IndexBuffer()
    /// The shard's time-major packing for the batched kernel (`RecurrencePacking`), made by `gather`.
    let packedStarts = IndexBuffer()
    let packedLengths = IndexBuffer()
    let stepStarts = IndexBuffer()
    let lengthHistogram = IndexBuffer()
    private var longestSentence = 0
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
    /// Per layer and direction, at `layer * directionCount + direction`.
    let projected: [Buffer<T>]
    let activations: [Buffer<T>]
    let state: [Buffer<T>]
    let auxiliary: [Buffer<T>]
    let previousHidden: [Buffer<T>]
    let hiddenWeightTransposed: [Buffer<T>]
    /// Per layer: its output `[N, O]`, and (below the top) the dropout mask and the dropped copy the next layer reads.
    let layerOutput: [Buffer<T>]
    let layerMask: [Buffer<T>]
    let layerDropped: [Buffer<T>]
    let hiddenMask = Buffer<T>()
    let hiddenDropped = Buffer<T>()
    public let logits = Buffer<T>()

    // Backward values.
    let logitsGradient = Buffer<T>()
    /// Per layer: dLoss/d output `[N, O]`.
    let layerOutputGradient: [Buffer<T>]
    /// dLoss/d input `[N, D]`; its first Dw columns are the word-vector gradients.
    public let inputGradient = Buffer<T>()
    let inputPreGradient: [Buffer<T>]
    let recurrentPreGradient: [Buffer<T>]
    let columnsGradient = Buffer<T>()
    let charEmbeddedGradient = Buffer<T>()
    let scratch = Buffer<T>()
    /// The batched kernel's working rows (`BatchedRecurrenceBuffers`), shared by every layer and direction.
    let packedHidden = Buffer<T>()
    let stepRows = Buffer<T>()
    let dhNext = Buffer<T>()
    let dcNext = Buffer<T>()
    /// W_hh of the layer and direction being run in panels (`Kernels.packPanels`), for the batched products.
    let hiddenPanels = Buffer<T>()
    /// The CRF: dLoss/d transitions of the last forward, and the forward–backward and Viterbi scratch.
    let transitionGradient = Buffer<T>()
    let crfScratch = Buffer<Double>()
    /// Gradients of every parameter after the word embedding, at `offset − offsets.denseStart`.
    public let denseGradient = Buffer<T>()

    public init(configuration: TaggerConfiguration) {
        self.configuration = configuration
        recurrenceKernel = configuration.recurrenceKernel
        layout = ParameterLayout(configuration: configuration)
        offsets = ParameterOffsets(layout: layout, configuration: configuration)
        let streams = configuration.layers * configuration.directionCount
        func buffers(_ count: Int) -> [Buffer<T>] { (0..<count).map { _ in Buffer<T>() } }
        projected = buffers(streams)
        activations = buffers(streams)
        state = buffers(streams)
        auxiliary = buffers(streams)
        previousHidden = buffers(streams)
        hiddenWeightTransposed = buffers(streams)
        inputPreGradient = buffers(streams)
        recurrentPreGradient = buffers(streams)
        layerOutput = buffers(configuration.layers)
        layerMask = buffers(configuration.layers)
        layerDropped = buffers(configuration.layers)
        layerOutputGradient = buffers(configuration.layers)
    }

    public var denseCount: Int { layout.totalCount - offsets.denseStart }

    /// The top layer's output `[N, O]` from the last forward: the neurons the paper dissects.
    public var hidden: Buffer<T> { layerOutput[configuration.layers - 1] }

    /// Layer `layer`'s output (0-based, bottom first) from the last forward, `[N, O]`.
    public func hidden(layer: Int) -> UnsafePointer<T> { UnsafePointer(layerOutput[layer].pointer) }

    /// Runs the model over `sentences[range]`.
    /// - Parameters:
    ///   - parameters: the flat buffer, `layout.totalCount` values.
    ///   - dropoutRNG: draws the dropout masks; `nil` runs in evaluation mode (no dropout).
    ///   - withLoss: also computes the summed loss and dLoss/dlogits (needs labels).
    /// - Returns: the summed loss (0 when `withLoss` is false): token cross-entropy,
    ///   or with a CRF each sentence's negative log-likelihood.
    @_specialize(where T == Float)
    @discardableResult
    public func forward(
        parameters p: UnsafePointer<T>, sentences: [EncodedSentence], range: Range<Int>,
        dropoutRNG: UnsafeMutablePointer<SplitMix64>?, withLoss: Bool
    ) -> Double {
        let c = configuration
        outputDropout = dropoutRNG != nil && c.dropout > 0
        layerDropout = dropoutRNG != nil && c.layerDropout > 0 && c.layers > 1
        gather(sentences, range)
        let N = tokenCount, Nc = charCount
        let Dw = c.wordEmbeddingDim, D = c.inputSize
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
                if outputDropout, let rng = dropoutRNG {
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
        if outputDropout, let rng = dropoutRNG {
            let mask = inputMask.reserve(N * D)
            Dropout.makeMask(mask, count: N * D, probability: c.dropout, rng: &rng.pointee)
            Dropout.apply(x, mask: mask, count: N * D)
        }

        // The recurrent layers, bottom first; each reads the one below (after layer dropout).
        var layerInput = UnsafePointer(x)
        for layer in 0..<c.layers {
            let width = c.outputSize(layer: layer)
            let h = layerOutput[layer].reserve(N * width)
            for direction in 0..<c.directionCount {
                runRecurrence(parameters: p, layer: layer, direction: direction, input: layerInput, output: h)
            }
            if layer < c.layers - 1 {
                layerInput = UnsafePointer(h)
                if layerDropout, let rng = dropoutRNG {
                    let mask = layerMask[layer].reserve(N * width)
                    Dropout.makeMask(mask, count: N * width, probability: c.layerDropout, rng: &rng.pointee)
                    let dropped = layerDropped[layer].reserve(N * width)
                    dropped.update(from: h, count: N * width)
                    Dropout.apply(dropped, mask: mask, count: N * width)
                    layerInput = UnsafePointer(dropped)
                }
            }
        }

        // Output dropout and the linear layer.
        let h = layerOutput[c.layers - 1].pointer
        var readout = UnsafePointer(h)
        if outputDropout, let rng = dropoutRNG {
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
        let dLogits = logitsGradient.reserve(N * m)
        guard let transitions = offsets.transitions else {
            return SoftmaxCrossEntropy.forwardBackward(
                logits: out, labels: labelIndices.pointer, count: N, classes: m, gradient: dLogits)
        }
        let dTransitions = transitionGradient.zero((m + 2) * (m + 2))
        var loss = 0.0
        forEachSentence { start, steps in
            loss += LinearChainCRF.negativeLogLikelihood(
                emissions: out + start * m, steps: steps, labels: m, gold: labelIndices.pointer + start,
                transitions: p + transitions, emissionGradient: dLogits + start * m,
                transitionGradient: dTransitions,
                scratch: crfScratch.reserve(LinearChainCRF.scratchCount(steps: steps, labels: m)))
        }
        return loss
    }

    /// The pointers of layer `layer`, direction `direction` over the whole shard.
    private func recurrenceBuffers(
        parameters p: UnsafePointer<T>, layer: Int, direction: Int, output: UnsafeMutablePointer<T>,
        outputGradient: UnsafePointer<T>
    ) -> RecurrenceBuffers<T> {
        let stream = layer * configuration.directionCount + direction
        let weights = offsets.recurrent[layer][direction]
        return RecurrenceBuffers(
            projected: UnsafePointer(projected[stream].pointer), hiddenWeight: p + weights.hiddenWeight,
            hiddenWeightTransposed: UnsafePointer(hiddenWeightTransposed[stream].pointer),
            hiddenBias: p + weights.hiddenBias, activations: activations[stream].pointer,
            state: state[stream].pointer, auxiliary: auxiliary[stream].pointer,
            previousHidden: previousHidden[stream].pointer, hidden: output, hiddenGradient: outputGradient,
            hiddenStride: configuration.outputSize(layer: layer), inputPreGradient: inputPreGradient[stream].pointer,
            recurrentPreGradient: configuration.cell.foldsHiddenBias ? inputPreGradient[stream].pointer : recurrentPreGradient[stream].pointer,
            scratch: scratch.pointer)
    }

    /// One layer and direction forward: the input projection (one GEMM, biases
    /// added), then the cell's recurrence (per sentence or batched, `recurrenceKernel`) into its H columns of `output`.
    @_specialize(where T == Float)
    private func runRecurrence(
        parameters p: UnsafePointer<T>, layer: Int, direction: Int, input: UnsafePointer<T>, output: UnsafeMutablePointer<T>
    ) {
        let c = configuration
        let N = tokenCount, H = c.hiddenSize(layer: layer), G = c.gateSize(layer: layer), width = c.layerInputSize(layer)
        let stream = layer * c.directionCount + direction
        let weights = offsets.recurrent[layer][direction]
        weights.project(
            parameters: p, cell: c.cell, input: input, tokens: N, width: width, gateSize: G,
            into: projected[stream].reserve(N * G), bias: scratch.reserve(RecurrenceBuffers<T>.scratchCount(hiddenSize: H)))
        if recurrenceKernel == .perSentence {
            // The batched kernel reads W_hh in panels instead (`batchedBuffers`).
            Kernels.transpose(p + weights.hiddenWeight, rows: G, columns: H, into: hiddenWeightTransposed[stream].reserve(H * G))
        }
        activations[stream].reserve(N * G)
        state[stream].reserve(N * H)
        auxiliary[stream].reserve(N * H)
        previousHidden[stream].reserve(N * H)
        let all = recurrenceBuffers(parameters: p, layer: layer, direction: direction, output: output, outputGradient: output)
        let reverse = direction == 1
        switch recurrenceKernel {
        case .perSentence:
            forEachSentence { start, steps in
                c.cell.forward(steps: steps, hiddenSize: H, reverse: reverse, all.offset(by: start, hiddenSize: H, gateSize: G, hiddenColumn: direction * H))
            }
        case .batched:
            runBatched(
                forward: true, reverse: reverse, hiddenSize: H, all.offset(by: 0, hiddenSize: H, gateSize: G, hiddenColumn: direction * H),
                batchedBuffers(forward: true, hiddenWeight: p + weights.hiddenWeight, hiddenSize: H))
        }
    }

    /// The hidden units of a layer of `H` units this shard's thread computes in a batched LSTM recurrence (all when alone).
    private func sharedUnits(hiddenSize H: Int) -> Range<Int> {
        guard configuration.cell == .lstm, let (team, member) = cooperation else { return 0..<H }
        return RecurrenceShare<T>.units(member: member, of: team.size, hiddenSize: H)
    }

    /// One batched recurrence, forward or backward: an LSTM's shared with the team when there is
    /// one, every other cell's (and an LSTM's without a team) over this shard alone.
    private func runBatched(
        forward: Bool, reverse: Bool, hiddenSize H: Int, _ buffers: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>
    ) {
        let c = configuration
        guard c.cell == .lstm, let (team, member) = cooperation else {
            if forward {
                c.cell.forwardBatched(hiddenSize: H, reverse: reverse, buffers, batch)
            } else {
                c.cell.backwardBatched(hiddenSize: H, reverse: reverse, buffers, batch)
            }
            return
        }
        team.members[member] = RecurrenceMember(buffers: buffers, batch: batch)
        let share = RecurrenceShare(
            members: UnsafePointer(team.members), memberCount: team.size, member: member, units: sharedUnits(hiddenSize: H), team: team.threads)
        if forward {
            LSTMCell.forwardBatched(hiddenSize: H, reverse: reverse, share)
        } else {
            LSTMCell.backwardBatched(hiddenSize: H, reverse: reverse, share)
        }
    }

    /// The batched kernel's packing and working rows for the current shard (their room reserved).
    /// Packs this layer and direction's W_hh into `hiddenPanels` first: transposed for the forward product, as stored
    /// for the backward; an LSTM's only for the units this shard's thread computes (`LSTMCell.packForwardPanels`).
    private func batchedBuffers(forward: Bool, hiddenWeight: UnsafePointer<T>, hiddenSize H: Int) -> BatchedRecurrenceBuffers<T> {
        let G = configuration.cell.gateCount * H, n = max(1, sentenceCount)
        let panels: UnsafeMutablePointer<T>
        if configuration.cell == .lstm {
            let units = sharedUnits(hiddenSize: H)
            if forward {
                panels = hiddenPanels.reserve(max(1, LSTMCell.forwardPanelCount(hiddenSize: H, units: units)))
                LSTMCell.packForwardPanels(hiddenWeight: hiddenWeight, hiddenSize: H, units: units, into: panels)
            } else {
                panels = hiddenPanels.reserve(max(1, LSTMCell.backwardPanelCount(hiddenSize: H, units: units)))
                LSTMCell.packBackwardPanels(hiddenWeight: hiddenWeight, hiddenSize: H, units: units, into: panels)
            }
        } else if forward {
            panels = hiddenPanels.reserve(Kernels.panelCount(k: H, n: G))
            Kernels.packPanels(hiddenWeight, k: H, n: G, transposed: true, into: panels)
        } else {
            panels = hiddenPanels.reserve(Kernels.panelCount(k: G, n: H))
            Kernels.packPanels(hiddenWeight, k: G, n: H, transposed: false, into: panels)
        }
        let packing = RecurrencePacking(
            starts: UnsafePointer(packedStarts.pointer), lengths: UnsafePointer(packedLengths.pointer),
            stepStarts: UnsafePointer(stepStarts.pointer), sentenceCount: sentenceCount, longest: longestSentence)
        return BatchedRecurrenceBuffers(
            packing: packing, packedHidden: packedHidden.reserve(forward ? max(1, tokenCount * H) : 1),
            stepRows: stepRows.reserve(2 * n * G), dhNext: dhNext.reserve(forward ? 1 : n * H),
            dcNext: dcNext.reserve(forward ? 1 : n * H),
            forwardPanels: UnsafePointer(panels), backwardPanels: UnsafePointer(panels))
    }

    /// Backpropagates the loss of the last `forward(withLoss: true)` into
    /// `denseGradient` (overwritten) and `inputGradient` (word part: the
    /// caller scatters it into the word-embedding rows of `wordIndices`).
    @_specialize(where T == Float)
    public func backward(parameters p: UnsafePointer<T>) {
        let c = configuration
        let N = tokenCount, Nc = charCount
        let Dw = c.wordEmbeddingDim, D = c.inputSize
        let O = c.outputSize, m = c.labelCount
        let base = offsets.denseStart
        let g = denseGradient.zero(denseCount)
        let dLogits = UnsafePointer(logitsGradient.pointer)
        let top = c.layers - 1
        let readout = UnsafePointer(outputDropout ? hiddenDropped.pointer : layerOutput[top].pointer)

        // Linear layer (and the CRF's transitions, whose gradient forward found).
        BLAS.gemm(
            transposeA: true, m: m, n: O, k: N,
            a: dLogits, lda: m, b: readout, ldb: O, beta: 1, c: g + (offsets.outputWeight - base), ldc: O)
        addColumnSums(dLogits, rows: N, columns: m, into: g + (offsets.outputBias - base))
        if let transitions = offsets.transitions {
            (g + (transitions - base)).update(from: transitionGradient.pointer, count: (m + 2) * (m + 2))
        }
        let dTop = layerOutputGradient[top].reserve(N * O)
        BLAS.gemm(m: N, n: O, k: m, a: dLogits, lda: m, b: p + offsets.outputWeight, ldb: O, c: dTop, ldc: O)
        if outputDropout { Dropout.apply(dTop, mask: hiddenMask.pointer, count: N * O) }

        // The recurrent layers, top first: each passes dLoss/d(its input) to the one below.
        let dx = inputGradient.reserve(N * D)
        for layer in stride(from: top, through: 0, by: -1) {
            let width = c.layerInputSize(layer), H = c.hiddenSize(layer: layer), G = c.gateSize(layer: layer)
            let layerInput: UnsafePointer<T> = layer == 0
                ? UnsafePointer(input.pointer)
                : UnsafePointer(layerDropout ? layerDropped[layer - 1].pointer : layerOutput[layer - 1].pointer)
            let dInput = layer == 0 ? dx : layerOutputGradient[layer - 1].reserve(N * width)
            for direction in 0..<c.directionCount {
                let stream = layer * c.directionCount + direction
                let weights = offsets.recurrent[layer][direction]
                inputPreGradient[stream].reserve(N * G)
                if !c.cell.foldsHiddenBias { recurrentPreGradient[stream].reserve(N * G) }
                scratch.reserve(RecurrenceBuffers<T>.scratchCount(hiddenSize: H))
                let all = recurrenceBuffers(
                    parameters: p, layer: layer, direction: direction, output: layerOutput[layer].pointer,
                    outputGradient: UnsafePointer(layerOutputGradient[layer].pointer))
                // One array for both pre-activation gradients when the cell folds b_hh (`recurrenceBuffers` decides).
                let dInputPre = all.inputPreGradient, dRecurrentPre = all.recurrentPreGradient
                let reverse = direction == 1
                switch recurrenceKernel {
                case .perSentence:
                    forEachSentence { start, steps in
                        c.cell.backward(steps: steps, hiddenSize: H, reverse: reverse, all.offset(by: start, hiddenSize: H, gateSize: G, hiddenColumn: direction * H))
                    }
                case .batched:
                    runBatched(
                        forward: false, reverse: reverse, hiddenSize: H, all.offset(by: 0, hiddenSize: H, gateSize: G, hiddenColumn: direction * H),
                        batchedBuffers(forward: false, hiddenWeight: p + weights.hiddenWeight, hiddenSize: H))
                }
                BLAS.gemm(
                    transposeA: true, m: G, n: width, k: N,
                    a: dInputPre, lda: G, b: layerInput, ldb: width, beta: 1, c: g + (weights.inputWeight - base), ldc: width)
                BLAS.gemm(
                    transposeA: true, m: G, n: H, k: N,
                    a: dRecurrentPre, lda: G, b: previousHidden[stream].pointer, ldb: H,
                    beta: 1, c: g + (weights.hiddenWeight - base), ldc: H)
                addColumnSums(dInputPre, rows: N, columns: G, into: g + (weights.inputBias - base))
                addColumnSums(dRecurrentPre, rows: N, columns: G, into: g + (weights.hiddenBias - base))
                BLAS.gemm(
                    m: N, n: width, k: G, a: dInputPre, lda: G, b: p + weights.inputWeight, ldb: width,
                    beta: direction == 0 ? 0 : 1, c: dInput, ldc: width)
            }
            if layer > 0 && layerDropout { Dropout.apply(dInput, mask: layerMask[layer - 1].pointer, count: N * width) }
        }
        if outputDropout { Dropout.apply(dx, mask: inputMask.pointer, count: N * D) }

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
            if outputDropout { Dropout.apply(dEmbedded, mask: charMask.pointer, count: Nc * C) }
            let table = g + (offsets.charEmbedding - base)
            for position in 0..<Nc {
                Kernels.axpy(table + Int(charIndices.pointer[position]) * C, 1, dEmbedded + position * C, C)
            }
        }
    }

    /// The model's prediction for sentence `index` of the last forward, one
    /// label index per token into `labels`: the arg-max of each token's
    /// logits (the first on ties, as torch.argmax), or with a CRF the Viterbi path.
    @_specialize(where T == Float)
    public func decode(parameters p: UnsafePointer<T>, sentence index: Int, into labels: UnsafeMutablePointer<Int32>) {
        let m = configuration.labelCount
        let start = sentenceStart(index), steps = sentenceStart(index + 1) - start
        guard steps > 0 else { return }
        configuration.decoding.decode(
            logits: UnsafePointer(logits.pointer + start * m), steps: steps, labels: m,
            transitions: offsets.transitions.map { p + $0 }, into: labels, scratch: crfScratch)
    }

    /// Calls `body(start, steps)` for each non-empty sentence of the shard, in order.
    @inline(__always)
    func forEachSentence(_ body: (_ start: Int, _ steps: Int) -> Void) {
        for sentence in 0..<sentenceCount {
            let start = sentenceStart(sentence), steps = sentenceStart(sentence + 1) - start
            if steps > 0 { body(start, steps) }
        }
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
        if recurrenceKernel == .batched {
            let count = range.count
            longestSentence = RecurrencePacking.longest(sentenceStarts: starts, count: count)
            RecurrencePacking.pack(
                sentenceStarts: starts, count: count, longest: longestSentence,
                starts: packedStarts.reserve(max(1, count)), lengths: packedLengths.reserve(max(1, count)),
                stepStarts: stepStarts.reserve(longestSentence + 1), histogram: lengthHistogram.reserve(longestSentence + 1))
        }
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
    /// The input projection of layer `layer`, direction `direction` from the last
    /// forward: `[tokenCount, G]`, x·W_ihᵀ + b_ih (+ b_hh when the cell folds it).
    public func projectedInput(layer: Int, direction: Int) -> UnsafePointer<T> {
        UnsafePointer(projected[layer * configuration.directionCount + direction].pointer)
    }
}
