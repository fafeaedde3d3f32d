import Testing
import Foundation
import DissectCore
@testable import DissectModel
@testable import DissectKernels
import CKernels

/// The fast Float kernels against their naive references.
@Suite struct KernelTests {
    @Test(arguments: [(50, 200), (200, 50), (3, 12), (7, 37), (1, 8)])
    func simdVectorTimesMatrixMatchesReference(k: Int, n: Int) {
        var rng = SplitMix64(seed: UInt64(k * 1000 + n))
        let x = (0..<k).map { _ in Float(rng.uniform(-1, 1)) }
        let matrix = (0..<(k * n)).map { _ in Float(rng.uniform(-1, 1)) }
        let start = (0..<n).map { _ in Float(rng.uniform(-1, 1)) }
        var fast = start, slow = start
        FloatKernels.addVectorTimesMatrix(&fast, x, matrix, k: k, n: n)
        Kernels.referenceAddVectorTimesMatrix(&slow, x, matrix, k: k, n: n)
        for index in 0..<n { #expect(abs(fast[index] - slow[index]) < 1e-5, "column \(index)") }
    }

    /// The batched recurrence's product: rows × a `[k, n]` matrix in panels, against
    /// the plain loop on the unpacked matrix, for every row count the row-group paths
    /// split differently (up to six a pass), with and without a partial last panel, from either source layout.
    @Test(arguments: [(50, 200), (200, 50), (3, 12), (7, 37), (1, 8), (16, 16), (9, 33)])
    func rowsTimesPanelsMatchesReference(k: Int, n: Int) {
        var rng = SplitMix64(seed: UInt64(k * 1000 + n))
        let matrix = (0..<(k * n)).map { _ in Float(rng.uniform(-1, 1)) }
        var transposed = [Float](repeating: 0, count: k * n)
        Kernels.transpose(matrix, rows: k, columns: n, into: &transposed)
        var panels = [Float](repeating: .nan, count: Kernels.panelCount(k: k, n: n))
        var panelsFromTransposed = panels
        Kernels.packPanels(matrix, k: k, n: n, transposed: false, into: &panels)
        Kernels.packPanels(transposed, k: k, n: n, transposed: true, into: &panelsFromTransposed)
        #expect(panels == panelsFromTransposed)
        // A block of columns packed in place (sourceStride) is the block copied out and packed.
        if n > 5 {
            let columns = 3..<(n - 2), width = n - 5
            var block = [Float](repeating: 0, count: k * width), blockPanels = [Float](repeating: .nan, count: Kernels.panelCount(k: k, n: width))
            for inner in 0..<k { for column in columns { block[inner * width + column - 3] = matrix[inner * n + column] } }
            var inPlace = blockPanels
            Kernels.packPanels(block, k: k, n: width, transposed: false, into: &blockPanels)
            matrix.withUnsafeBufferPointer {
                Kernels.packPanels($0.baseAddress! + 3, k: k, n: width, transposed: false, sourceStride: n, into: &inPlace)
            }
            #expect(inPlace == blockPanels)
        }
        for rows in 1...13 {
            let xStride = k + 2, outStride = n + 3
            let x = (0..<(rows * xStride)).map { _ in Float(rng.uniform(-1, 1)) }
            let start = (0..<(rows * outStride)).map { _ in Float(rng.uniform(-1, 1)) }
            var fast = start, slow = start, plain = start
            FloatKernels.addRowsTimesPanels(&fast, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n)
            Kernels.referenceAddRowsTimesPanels(&slow, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n)
            for row in 0..<rows {
                plain.withUnsafeMutableBufferPointer { out in
                    x.withUnsafeBufferPointer { xs in
                        Kernels.referenceAddVectorTimesMatrix(out.baseAddress! + row * outStride, xs.baseAddress! + row * xStride, matrix, k: k, n: n)
                    }
                }
            }
            // The panels taken backwards give the very same bits (each output is one chain of sums either way).
            var backwards = start
            FloatKernels.addRowsTimesPanels(&backwards, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n, backwards: true)
            #expect(backwards == fast, "rows \(rows) backwards")
            // Each row alone gets the very bits it gets beside the others (one order of sums on every path).
            for row in 0..<rows {
                var alone = Array(start[(row * outStride)..<((row + 1) * outStride)])
                let xRow = Array(x[(row * xStride)..<((row + 1) * xStride)])
                FloatKernels.addRowsTimesPanels(&alone, outStride: outStride, xRow, xStride: xStride, panels, rows: 1, k: k, n: n)
                #expect(alone == Array(fast[(row * outStride)..<((row + 1) * outStride)]), "rows \(rows), row \(row) alone")
            }
            for index in start.indices {
                // Padding columns between rows stay untouched.
                if index % outStride >= n { #expect(fast[index] == start[index] && slow[index] == start[index]); continue }
                #expect(abs(fast[index] - plain[index]) < 1e-4, "rows \(rows), element \(index)")
                #expect(abs(slow[index] - plain[index]) < 1e-4, "rows \(rows), element \(index)")
            }
        }
    }
}

@Suite struct CheckpointTests {
    func sampleCheckpoint() -> Checkpoint {
        let c = tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: true)
        let model: TaggerModel<Float> = randomModel(c, seed: 2)
        let vocabulary = VocabularyLists(
            words: (0..<c.wordCount).map { "w\($0)" }, chars: (0..<c.charCount).map { "c\($0)" },
            labels: (0..<c.labelCount).map { "L\($0)" })
        var record = TrainingRecord(
            seed: 3, epochs: 2, bestEpoch: 1, selectionMetric: "f1", seconds: 1.5,
            options: TrainingOptions(), vocabularyRule: "train+embeddings")
        record.devF1 = 80.5
        let metadata = CheckpointMetadata(
            configuration: c, vocabulary: vocabulary, unknownWordIndex: 0, unknownCharIndex: 0,
            digitsToZero: true, training: record)
        return Checkpoint(metadata: metadata, model: model)
    }

    @Test func roundTripIsExact() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/dissect-checkpoint-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let checkpoint = sampleCheckpoint()
        try checkpoint.save(to: directory)
        let loaded = try Checkpoint.load(from: directory)
        #expect(loaded.metadata == checkpoint.metadata)
        #expect(loaded.model.parameters == checkpoint.model.parameters)
        // No temporary files are left behind.
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["model.json", "model.safetensors"])
    }

    @Test func safetensorsLayoutIsStandard() throws {
        let data = SafeTensors.encode([SafeTensors.Tensor(name: "a.weight", shape: [2, 1], values: [1.5, -2])])
        let bytes = [UInt8](data)
        var length = 0
        for index in 0..<8 { length |= Int(bytes[index]) << (8 * index) }
        #expect((8 + length) % 8 == 0)
        #expect(bytes.count == 8 + length + 8)
        // 1.5 as little-endian float32 is 00 00 C0 3F.
        #expect(Array(bytes[(8 + length)..<(8 + length + 4)]) == [0x00, 0x00, 0xC0, 0x3F])
        let decoded = try SafeTensors.decode(data, path: "x")
        #expect(decoded["a.weight"]?.values == [1.5, -2])
    }

    @Test func corruptWeightsAreRejectedWithTheFileName() throws {
        let data = SafeTensors.encode([SafeTensors.Tensor(name: "t", shape: [4], values: [1, 2, 3, 4])])
        #expect(throws: DissectError.self) { try SafeTensors.decode(data.prefix(data.count - 3), path: "m.safetensors") }
        var huge = [UInt8](data)
        huge[7] = 0x7F
        do {
            _ = try SafeTensors.decode(Data(huge), path: "m.safetensors")
            Issue.record("a header length past the end was accepted")
        } catch let error as DissectError {
            #expect(error.description.hasPrefix("m.safetensors: the header length"))
        }
    }
}

@Suite struct TrainerTests {
    /// A synthetic task: the label is a function of the word, so a few epochs learn it.
    /// Words are drawn from the first `usedWords` rows of the vocabulary (all by default).
    func syntheticData(count: Int, seed: UInt64, configuration c: TaggerConfiguration, usedWords: Int? = nil) -> [EncodedSentence] {
        var rng = SplitMix64(seed: seed)
        let words = usedWords ?? c.wordCount
        return (0..<count).map { _ in
            let length = 1 + rng.nextIndex(below: 8)
            let words = (0..<length).map { _ in Int32(rng.nextIndex(below: words)) }
            let chars = words.map { [Int32($0 % Int32(c.charCount))] }
            return EncodedSentence(words: words, characters: chars, labels: words.map { $0 % Int32(c.labelCount) })
        }
    }

    /// The word vectors `train(seed:)` starts from: the first draws of `SplitMix64(seed:)`.
    func initialWordVectors(seed: UInt64, configuration c: TaggerConfiguration) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(c.wordCount * c.wordEmbeddingDim)).map { _ in Float(rng.uniform(-1, 1)) }
    }

    func train(
        seed: UInt64, epochs: Int, usedWords: Int? = nil, optimizer: OptimizerKind = .sgd, l2: Double? = nil
    ) -> (Trainer, [EncodedSentence]) {
        var c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true)
        c.hiddenSize = 16
        c.dropout = 0.1
        var rng = SplitMix64(seed: seed)
        let vectors = (0..<(c.wordCount * c.wordEmbeddingDim)).map { _ in Float(rng.uniform(-1, 1)) }
        let model = TaggerModel<Float>.initialized(configuration: c, wordVectors: vectors, rng: &rng)
        var options = TrainingOptions()
        options.seed = seed
        options.learningRate = optimizer == .adam ? 0.01 : 0.05
        options.optimizer = optimizer
        if let l2 { options.l2 = l2 }
        let trainer = Trainer(model: model, options: options)
        let data = syntheticData(count: 200, seed: 99, configuration: c, usedWords: usedWords)
        for epoch in 0..<epochs { _ = trainer.runEpoch(epoch, sentences: data) }
        return (trainer, data)
    }

    @Test func sameSeedGivesIdenticalBits() {
        let first = train(seed: 5, epochs: 2).0.model.parameters
        let second = train(seed: 5, epochs: 2).0.model.parameters
        let other = train(seed: 6, epochs: 2).0.model.parameters
        #expect(first == second)
        #expect(first != other)
    }

    @Test func learnsASyntheticTask() {
        let (trainer, data) = train(seed: 1, epochs: 8)
        let predictor = Predictor<Float>(configuration: trainer.configuration)
        let predicted = predictor.predict(parameters: trainer.model.parameters, sentences: data)
        var correct = 0, total = 0
        for (sentence, labels) in zip(data, predicted) {
            for (gold, guess) in zip(sentence.labels, labels) {
                total += 1
                if gold == guess { correct += 1 }
            }
        }
        #expect(Double(correct) / Double(total) > 0.95)
    }

    /// Rows of words that never occur in the training data get no update at all
    /// (not even L2 decay, which is made large here so that it would show), while
    /// the rows of words that do occur move. The data uses words 0..<6 of 9, so
    /// rows 6, 7 and 8 are unseen.
    @Test(arguments: OptimizerKind.allCases)
    func unseenWordRowsKeepTheirVectors(optimizer: OptimizerKind) {
        let usedWords = 6
        let (trainer, data) = train(seed: 2, epochs: 1, usedWords: usedWords, optimizer: optimizer, l2: 1e-2)
        let c = trainer.configuration
        var used = Set<Int32>()
        for sentence in data { used.formUnion(sentence.words) }
        #expect(used == Set((0..<Int32(usedWords)).map { $0 }), "the data uses exactly the first \(usedWords) words")
        let before = initialWordVectors(seed: 2, configuration: c)
        let after = trainer.model.parameters
        let Dw = c.wordEmbeddingDim
        var unseenChecked = 0, seenMoved = 0
        for row in 0..<c.wordCount {
            let range = (row * Dw)..<((row + 1) * Dw)
            if used.contains(Int32(row)) {
                if Array(after[range]) != Array(before[range]) { seenMoved += 1 }
            } else {
                #expect(Array(after[range]) == Array(before[range]), "unseen word row \(row) changed")
                unseenChecked += 1
            }
        }
        #expect(unseenChecked == c.wordCount - usedWords, "the unseen rows were checked")
        #expect(seenMoved == usedWords, "every seen row was trained")
    }
}

@Suite struct ActivationTests {
    /// The SIMD exp-based activations against libm, over the range that matters.
    @Test func simdActivationsMatchLibm() {
        var values: [Float] = stride(from: -30.0, through: 30.0, by: 0.01).map { Float($0) }
        values += [-100, 100, 0, -0.0, 1e-8, -1e-8, 88, -88]
        var sigmoid = values, tanh = values
        FloatKernels.sigmoidInPlace(&sigmoid, sigmoid.count)
        FloatKernels.tanhInPlace(&tanh, tanh.count)
        for (index, x) in values.enumerated() {
            let exactSigmoid = 1 / (1 + Foundation.exp(-Double(x)))
            #expect(abs(Double(sigmoid[index]) - exactSigmoid) <= 2e-7 + 2e-6 * exactSigmoid, "sigmoid(\(x))")
            #expect(abs(Double(tanh[index]) - Foundation.tanh(Double(x))) <= 3e-7, "tanh(\(x))")
        }
    }
}

@Suite struct InferencePathTests {
    /// Inference tabulates the char convolution; training uses im2col + GEMM.
    /// Both must give the same logits.
    @Test(arguments: [1, 3, 5])
    func tabulatedCharConvolutionMatchesIm2col(window: Int) {
        var c = tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: true)
        c.charWindow = window
        let model: TaggerModel<Double> = randomModel(c, seed: 13)
        let sentences = tinySentences(seed: 14, configuration: c, lengths: [5, 1, 9, 2])
        let shard = TaggerShard<Double>(configuration: c)
        let (training, inference) = model.parameters.withUnsafeBufferPointer { p -> ([Double], [Double]) in
            shard.forward(parameters: p.baseAddress!, sentences: sentences, range: 0..<4, dropoutRNG: nil, withLoss: true)
            let first = shard.logits.array(shard.tokenCount * c.labelCount)
            shard.forward(parameters: p.baseAddress!, sentences: sentences, range: 0..<4, dropoutRNG: nil, withLoss: false)
            return (first, shard.logits.array(shard.tokenCount * c.labelCount))
        }
        #expect(training.count == 17 * c.labelCount)
        for index in training.indices { #expect(abs(training[index] - inference[index]) < 1e-12) }
    }
}

@Suite struct MatrixVectorTests {
    @Test(arguments: [(50, 200), (3, 12), (7, 37), (1, 5), (50, 150)])
    func simdMatrixTimesVectorMatchesReference(rows: Int, columns: Int) {
        var rng = SplitMix64(seed: UInt64(rows * 7 + columns))
        let matrix = (0..<(rows * columns)).map { _ in Float(rng.uniform(-1, 1)) }
        let x = (0..<columns).map { _ in Float(rng.uniform(-1, 1)) }
        var fast = [Float](repeating: 9, count: rows), slow = fast
        FloatKernels.setMatrixTimesVector(&fast, matrix, x, rows: rows, columns: columns)
        Kernels.referenceSetMatrixTimesVector(&slow, matrix, x, rows: rows, columns: columns)
        for index in 0..<rows { #expect(abs(fast[index] - slow[index]) < 1e-4) }
    }

    /// The Float mask's eight-draw loop gives the reference's bits and leaves the generator where it does.
    @Test(arguments: [0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 1001])
    func dropoutMaskMatchesReference(count: Int) {
        for probability in [0.5, 0.3, 0.05] {
            var fastRNG = SplitMix64(seed: UInt64(count) + 11), slowRNG = fastRNG
            var fast = [Float](repeating: -1, count: count), slow = fast
            Dropout.makeMask(&fast, count: count, probability: probability, rng: &fastRNG)
            Dropout.referenceMakeMask(&slow, count: count, probability: probability, rng: &slowRNG)
            #expect(fast == slow, "count \(count), p \(probability)")
            #expect(fastRNG.state == slowRNG.state)
        }
    }

    @Test func dropoutMaskKeepsAboutOneMinusP() {
        var rng = SplitMix64(seed: 1)
        var mask = [Float](repeating: -1, count: 10_001)
        Dropout.makeMask(&mask, count: mask.count, probability: 0.5, rng: &rng)
        #expect(mask.allSatisfy { $0 == 0 || $0 == 2 })
        let kept = mask.filter { $0 == 2 }.count
        #expect(abs(kept - 5000) < 300)
    }
}

/// Each cell's pointwise steps, fast path (SIMD on Float) against the naive
/// reference beside it, at sizes that exercise the 8-lane bodies and every tail.
@Suite struct CellKernelTests {
    static let sizes = [1, 3, 8, 13, 50]

    func random(_ count: Int, _ rng: inout SplitMix64, scale: Double = 3) -> [Float] {
        (0..<count).map { _ in Float(rng.uniform(-scale, scale)) }
    }

    func expectClose(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = 2e-6) {
        #expect(a.count == b.count)
        for index in a.indices { #expect(abs(a[index] - b[index]) <= tolerance * max(1, abs(b[index])), "\(what)[\(index)]: \(a[index]) vs \(b[index])") }
    }

    @Test(arguments: sizes)
    func lstmForwardMatchesReference(hidden H: Int) {
        var rng = SplitMix64(seed: UInt64(H))
        let pre = random(4 * H, &rng), previous = random(H, &rng, scale: 1)
        for first in [true, false] {
            var fastGates = pre, slowGates = pre
            let zeros = [Float](repeating: 0, count: H)
            var fastCell = zeros, fastTanh = zeros, fastHidden = zeros, slowCell = zeros, slowTanh = zeros, slowHidden = zeros
            previous.withUnsafeBufferPointer { p in
                let cellPrevious = first ? nil : p.baseAddress
                LSTMCell.forwardPointwise(
                    hiddenSize: H, gates: &fastGates, cellPrevious: cellPrevious, cell: &fastCell, tanhCell: &fastTanh, hidden: &fastHidden)
                LSTMCell.referenceForwardPointwise(
                    hiddenSize: H, gates: &slowGates, cellPrevious: cellPrevious, cell: &slowCell, tanhCell: &slowTanh, hidden: &slowHidden)
            }
            expectClose(fastGates, slowGates, "gates")
            expectClose(fastCell, slowCell, "cell")
            expectClose(fastTanh, slowTanh, "tanh cell")
            expectClose(fastHidden, slowHidden, "hidden")
        }
    }

    /// All of a step's rows at once give the bits of one row at a time (sizes whose rows · H and rows · 4H
    /// are not multiples of 8, so the lanes of a sigmoid pass straddle rows and end in a tail).
    @Test(arguments: sizes)
    func lstmRowsGiveTheBitsOfOneRowAtATime(hidden H: Int) {
        var rng = SplitMix64(seed: UInt64(200 + H))
        for rows in [1, 3, 7] {
            for first in [true, false] {
                let pre = random(rows * 4 * H, &rng, scale: 4), previous = random(rows * H, &rng, scale: 1)
                var rowGates = pre, oneGates = pre
                var rowCell = previous, oneCell = previous
                var rowTanh = [Float](repeating: 0, count: rows * H), oneTanh = rowTanh, rowHidden = rowTanh, oneHidden = rowTanh
                rowCell.withUnsafeMutableBufferPointer { cell in
                    LSTMCell.forwardPointwiseRows(
                        rows: rows, hiddenSize: H, gates: &rowGates, cellPrevious: first ? nil : UnsafePointer(cell.baseAddress!),
                        cell: cell.baseAddress!, tanhCell: &rowTanh, hidden: &rowHidden)
                }
                oneGates.withUnsafeMutableBufferPointer { gates in
                    oneCell.withUnsafeMutableBufferPointer { cell in
                        oneTanh.withUnsafeMutableBufferPointer { tanhCell in
                            oneHidden.withUnsafeMutableBufferPointer { hidden in
                                for row in 0..<rows {
                                    let c = cell.baseAddress! + row * H
                                    LSTMCell.forwardPointwise(
                                        hiddenSize: H, gates: gates.baseAddress! + row * 4 * H, cellPrevious: first ? nil : UnsafePointer(c),
                                        cell: c, tanhCell: tanhCell.baseAddress! + row * H, hidden: hidden.baseAddress! + row * H)
                                }
                            }
                        }
                    }
                }
                for (name, a, b) in [("gates", rowGates, oneGates), ("cell", rowCell, oneCell), ("tanh cell", rowTanh, oneTanh), ("hidden", rowHidden, oneHidden)] {
                    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "H \(H), \(rows) rows, first \(first): \(name)")
                }
            }
        }
    }

    @Test(arguments: sizes)
    func lstmBackwardMatchesReference(hidden H: Int) {
        var rng = SplitMix64(seed: UInt64(100 + H))
        let gates = random(4 * H, &rng, scale: 1).map { abs($0) }, tanhCell = random(H, &rng, scale: 1)
        let upstream = random(H, &rng), cellPrevious = random(H, &rng), dhNext = random(H, &rng), dcStart = random(H, &rng)
        var fastDc = dcStart, slowDc = dcStart
        var fastPre = [Float](repeating: 0, count: 4 * H), slowPre = fastPre
        LSTMCell.backwardPointwise(hiddenSize: H, gates: gates, tanhCell: tanhCell, upstream: upstream, cellPrevious: cellPrevious, dhNext: dhNext, dcNext: &fastDc, dPre: &fastPre)
        LSTMCell.referenceBackwardPointwise(hiddenSize: H, gates: gates, tanhCell: tanhCell, upstream: upstream, cellPrevious: cellPrevious, dhNext: dhNext, dcNext: &slowDc, dPre: &slowPre)
        expectClose(fastPre, slowPre, "dPre")
        expectClose(fastDc, slowDc, "dcNext")
    }

    @Test(arguments: sizes)
    func gruForwardMatchesReference(hidden H: Int) {
        var rng = SplitMix64(seed: UInt64(200 + H))
        let input = random(3 * H, &rng), recurrent = random(3 * H, &rng), previous = random(H, &rng, scale: 1)
        var fastGates = [Float](repeating: 0, count: 3 * H), slowGates = fastGates
        var fastCandidate = [Float](repeating: 0, count: H), slowCandidate = fastCandidate
        var fastHidden = [Float](repeating: 0, count: H), slowHidden = fastHidden
        GRUCell.forwardPointwise(hiddenSize: H, input: input, recurrent: recurrent, hiddenPrevious: previous, gates: &fastGates, candidate: &fastCandidate, hidden: &fastHidden)
        GRUCell.referenceForwardPointwise(hiddenSize: H, input: input, recurrent: recurrent, hiddenPrevious: previous, gates: &slowGates, candidate: &slowCandidate, hidden: &slowHidden)
        expectClose(fastGates, slowGates, "gates")
        expectClose(fastCandidate, slowCandidate, "candidate")
        expectClose(fastHidden, slowHidden, "hidden")
    }

    @Test(arguments: sizes)
    func rnnForwardMatchesReference(hidden H: Int) {
        var rng = SplitMix64(seed: UInt64(300 + H))
        let pre = random(H, &rng)
        var fastGates = pre, slowGates = pre
        var fastHidden = [Float](repeating: 0, count: H), slowHidden = fastHidden
        RNNCell.forwardPointwise(hiddenSize: H, gates: &fastGates, hidden: &fastHidden)
        RNNCell.referenceForwardPointwise(hiddenSize: H, gates: &slowGates, hidden: &slowHidden)
        expectClose(fastGates, slowGates, "activations")
        expectClose(fastHidden, slowHidden, "hidden")
    }

    /// The arg-max by column (eight tokens at a time) against the one scalar rule, ties included.
    @Test func argmaxByColumnMatchesTheScalarRule() {
        var rng = SplitMix64(seed: 9)
        for (rows, columns) in [(1, 5), (9, 8), (9, 21), (3, 17)] {
            // Values from a small set, so ties are common.
            let matrix = (0..<(rows * columns)).map { _ in Float(rng.nextIndex(below: 3)) }
            var fast = [Int32](repeating: -1, count: columns)
            ArgMax.firstLargestByColumn(matrix, rows: rows, columns: columns, into: &fast)
            for column in 0..<columns {
                let values = (0..<rows).map { matrix[$0 * columns + column] }
                let expected = values.firstIndex(of: values.max() ?? 0) ?? 0
                #expect(Int(fast[column]) == expected, "column \(column) of \(rows)×\(columns)")
            }
        }
    }
}

/// The AVX-512 kernels (CKernels) against their AVX2 twins, bit for bit: which one runs
/// depends on the CPU, so they must not change a result. On a CPU without AVX-512 (the C
/// kernels cannot run there) the same tests check what does run: that the dispatcher took
/// the AVX2 path, and that path against the naive loops.
@Suite struct WideVectorTests {
    static var available: Bool { dissect_cpu_has_avx512() != 0 }

    /// The dispatcher runs the AVX-512 kernels exactly when the CPU has them and
    /// DISSECT_VECTOR_BITS is not 256.
    @Test func theDispatcherFollowsTheCPU() {
        let narrowed = ProcessInfo.processInfo.environment["DISSECT_VECTOR_BITS"] == "256"
        #expect((dissect_use_wide_vectors() != 0) == (Self.available && !narrowed))
    }

    @Test(arguments: [(50, 200), (400, 1600), (400, 800), (200, 50), (3, 12), (7, 37), (1, 8), (16, 16), (9, 33), (50, 150)])
    func rowsTimesPanelsGiveTheSameBits(k: Int, n: Int) throws {
        var rng = SplitMix64(seed: UInt64(k * 31 + n))
        let matrix = (0..<(k * n)).map { _ in Float(rng.uniform(-1, 1)) }
        var panels = [Float](repeating: .nan, count: Kernels.panelCount(k: k, n: n))
        Kernels.packPanels(matrix, k: k, n: n, transposed: false, into: &panels)
        for rows in [1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 32] {
            let xStride = k + 1, outStride = n + 3
            let x = (0..<(rows * xStride)).map { _ in Float(rng.uniform(-1, 1)) }
            let start = (0..<(rows * outStride)).map { _ in Float(rng.uniform(-1, 1)) }
            for backwards in [false, true] {
                var wide = start, portable = start, reference = start
                if Self.available {
                    dissect_add_rows_times_panels_avx512(&wide, outStride, x, xStride, panels, rows, k, n, backwards ? 1 : 0)
                } else {
                    // The C kernel cannot run here: the dispatched product (the AVX2 one) in its place.
                    FloatKernels.addRowsTimesPanels(&wide, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n, backwards: backwards)
                }
                FloatKernels.portableAddRowsTimesPanels(
                    &portable, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n, backwards: backwards)
                #expect(wide.map(\.bitPattern) == portable.map(\.bitPattern), "k \(k), n \(n), rows \(rows), backwards \(backwards)")
                // And both against the naive loop (unfused, so within rounding).
                Kernels.referenceAddRowsTimesPanels(&reference, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n)
                let worst = zip(portable, reference).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * Float(k), "k \(k), n \(n), rows \(rows): off by \(worst)")
            }
        }
    }

    /// Rows from several buffers in one product give each row the bits of one call per buffer,
    /// on the AVX-512 path (rows gathered twelve at a time, more than 256 split) and on the AVX2 one.
    @Test(arguments: [(400, 192), (50, 200), (1600, 208), (7, 37)])
    func rowSetsGiveTheBitsOfOneCallPerSet(k: Int, n: Int) throws {
        var rng = SplitMix64(seed: UInt64(k + 7 * n))
        let matrix = (0..<(k * n)).map { _ in Float(rng.uniform(-1, 1)) }
        var panels = [Float](repeating: .nan, count: Kernels.panelCount(k: k, n: n))
        Kernels.packPanels(matrix, k: k, n: n, transposed: false, into: &panels)
        for rowCounts in [[5, 5], [1, 0, 4], [1], [13, 2, 7], [300, 3]] {
            let outStride = n + 5, xStride = k + 3
            let xs = rowCounts.map { rows in (0..<(rows * xStride)).map { _ in Float(rng.uniform(-1, 1)) } }
            let starts = rowCounts.map { rows in (0..<(rows * outStride)).map { _ in Float(rng.uniform(-1, 1)) } }
            var together = starts, apart = starts
            for backwards in [false, true] {
                for index in rowCounts.indices {
                    FloatKernels.addRowsTimesPanels(
                        &apart[index], outStride: outStride, xs[index], xStride: xStride, panels, rows: rowCounts[index], k: k, n: n,
                        backwards: backwards)
                }
                let outs = together.map { UnsafeMutablePointer<Float>.allocate(capacity: max(1, $0.count)) }
                defer { outs.forEach { $0.deallocate() } }
                for index in rowCounts.indices { outs[index].initialize(from: together[index], count: together[index].count) }
                xs.withUnsafeBufferPointers { xPointers in
                    Kernels.addRowSetsTimesPanels(count: rowCounts.count, panels, k: k, n: n, backwards: backwards) { index in
                        Kernels.RowSet(out: outs[index], outStride: outStride, x: xPointers[index], xStride: xStride, rows: rowCounts[index])
                    }
                }
                for index in rowCounts.indices {
                    together[index] = Array(UnsafeBufferPointer(start: outs[index], count: together[index].count))
                    #expect(together[index].map(\.bitPattern) == apart[index].map(\.bitPattern), "sets \(rowCounts), set \(index), backwards \(backwards)")
                }
            }
        }
    }

}


extension Array where Element == [Float] {
    /// Each inner array's base address, valid inside `body`.
    func withUnsafeBufferPointers<R>(_ body: ([UnsafePointer<Float>]) -> R) -> R {
        func nest(_ index: Int, _ pointers: [UnsafePointer<Float>]) -> R {
            if index == count { return body(pointers) }
            return self[index].withUnsafeBufferPointer { buffer in
                // An empty set's rows are never read; any non-nil address stands in.
                nest(index + 1, pointers + [buffer.baseAddress ?? UnsafePointer(bitPattern: 16)!])
            }
        }
        return nest(0, [])
    }
}

extension WideVectorTests {
    /// The AVX-512 packing of a transposed matrix (a register transpose, 16 × 16 at a time) puts every
    /// value where the Swift loop does: whole and partial panels, k past and short of a multiple of 16,
    /// a source stride wider than k (a block of a wider matrix).
    @Test(arguments: [(50, 200), (400, 1600), (400, 200), (16, 16), (17, 33), (3, 5), (1, 1), (33, 8), (48, 47), (15, 64)])
    func transposedPackingPutsEveryValueWhereTheLoopDoes(k: Int, n: Int) throws {
        // Without AVX-512, `packPanels` is the loop itself, which the checks below still test value by value.
        var rng = SplitMix64(seed: UInt64(k * 17 + n))
        for stride in [k, k + 5] {
            let source = (0..<(n * stride)).map { _ in Float(rng.uniform(-1, 1)) }
            var wide = [Float](repeating: .nan, count: Kernels.panelCount(k: k, n: n)), portable = wide
            source.withUnsafeBufferPointer { matrix in
                Kernels.packPanels(matrix.baseAddress!, k: k, n: n, transposed: true, sourceStride: stride, into: &wide)
                portable.withUnsafeMutableBufferPointer {
                    Kernels.portablePackPanels(matrix.baseAddress!, k: k, n: n, transposed: true, rowStride: stride, into: $0.baseAddress!)
                }
            }
            #expect(wide.map(\.bitPattern) == portable.map(\.bitPattern), "k \(k), n \(n), stride \(stride)")
            // And the loop itself: panel p, line i, lane l holds source[16p + l, i] (zero past n).
            for column in [0, n / 2, n - 1] {
                for inner in [0, k / 2, k - 1] {
                    #expect(portable[(column / 16) * k * 16 + inner * 16 + column % 16] == source[column * stride + inner])
                }
            }
        }
    }
}
