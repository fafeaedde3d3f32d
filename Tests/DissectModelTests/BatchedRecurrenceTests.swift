import Testing
import DissectCore
@testable import DissectModel
@testable import DissectKernels

/// The batched recurrence (time-major packing, one GEMM per step) against the
/// per-sentence recurrence it replaces for wide layers: forward hidden states,
/// loss and every gradient, for each cell, both directions and stacked layers,
/// on sentences of different lengths (1 included, ties included).
@Suite struct BatchedRecurrenceTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        var cell: CellKind, bidirectional: Bool, layers = 1, crf = false
        var testDescription: String { "\(cell) bi=\(bidirectional) layers=\(layers) crf=\(crf)" }
    }

    static let variants: [Variant] = CellKind.allCases.flatMap { cell in
        [Variant(cell: cell, bidirectional: false), Variant(cell: cell, bidirectional: true),
         Variant(cell: cell, bidirectional: true, layers: 2)]
    } + [Variant(cell: .lstm, bidirectional: false, layers: 2), Variant(cell: .lstm, bidirectional: true, crf: true)]

    /// Lengths with a 1, ties, and an empty-free mix longer and shorter than the rest.
    static let lengths = [4, 1, 6, 6, 2, 9, 1, 3]

    /// A tiny tagger with 9 hidden units, so the Float pointwise kernels run both their 8-lane part and their tail.
    static func configuration(_ variant: Variant) -> TaggerConfiguration {
        var c = tinyConfiguration(cell: variant.cell, bidirectional: variant.bidirectional, charCNN: true, layers: variant.layers, crf: variant.crf)
        c.hiddenSize = 9
        c.layerDropout = variant.layers > 1 ? 0.3 : 0
        return c
    }

    /// Elements where `values` and `reference` differ by more than `relative` of the larger magnitude (plus `absolute`).
    static func mismatches<T: Scalar>(_ name: String, _ values: [T], _ reference: [T], relative: Double, absolute: Double) -> [String] {
        guard values.count == reference.count else { return ["\(name): \(values.count) values, \(reference.count) expected"] }
        var found: [String] = []
        for index in values.indices {
            let a = Double(values[index]), b = Double(reference[index])
            if abs(a - b) > absolute + relative * max(abs(a), abs(b)) { found.append("\(name)[\(index)]: \(a) vs \(b)") }
        }
        return found
    }

    static func compareKernels<T: Scalar>(_ type: T.Type, _ variant: Variant, relative: Double, absolute: Double) -> [String] {
        let c = configuration(variant)
        let model: TaggerModel<T> = randomModel(c, seed: 21)
        let sentences = tinySentences(seed: 22, configuration: c, lengths: lengths)
        let reference = lossGradientAndHidden(model, sentences, dropoutSeed: 41, kernel: .perSentence)
        let batched = lossGradientAndHidden(model, sentences, dropoutSeed: 41, kernel: .batched)
        var found = mismatches("loss", [batched.lossAndGradient.loss], [reference.lossAndGradient.loss], relative: relative, absolute: absolute)
        for layer in 0..<c.layers {
            found += mismatches("hidden layer \(layer)", batched.hidden[layer], reference.hidden[layer], relative: relative, absolute: absolute)
        }
        for entry in model.layout.entries {
            let range = entry.offset..<(entry.offset + entry.count)
            found += mismatches(
                entry.name, Array(batched.lossAndGradient.gradient[range]), Array(reference.lossAndGradient.gradient[range]),
                relative: relative, absolute: absolute)
        }
        return found
    }

    @Test(arguments: variants)
    func batchedMatchesPerSentenceInDouble(variant: Variant) {
        let found = Self.compareKernels(Double.self, variant, relative: 1e-12, absolute: 1e-14)
        #expect(found.isEmpty, "\(variant.testDescription): \(found.prefix(5))")
    }

    @Test(arguments: variants)
    func batchedMatchesPerSentenceInFloat(variant: Variant) {
        // Absolute 1e-5: a gradient summed over every token cancels to ~1e-2 in places, and OpenBLAS's
        // GEMMs (whose kernel and order of sums differ by CPU) leave ~1e-6 there (seen: 1.4e-6 on a Xeon).
        let found = Self.compareKernels(Float.self, variant, relative: 1e-5, absolute: 1e-5)
        #expect(found.isEmpty, "\(variant.testDescription): \(found.prefix(5))")
    }

    /// Central finite differences on every parameter, through the batched kernel, in Double.
    @Test(arguments: CellKind.allCases.flatMap { [Variant(cell: $0, bidirectional: false), Variant(cell: $0, bidirectional: true, layers: 2)] })
    func batchedGradientMatchesFiniteDifferences(variant: Variant) {
        var c = tinyConfiguration(cell: variant.cell, bidirectional: variant.bidirectional, charCNN: true, layers: variant.layers)
        c.hiddenSize = 4
        let model: TaggerModel<Double> = randomModel(c, seed: 3)
        let sentences = tinySentences(seed: 5, configuration: c, lengths: [4, 1, 6, 6, 2])
        let analytic = lossAndGradient(model, sentences, kernel: .batched).gradient
        let mismatches = GradientChecker().mismatches(parameters: model.parameters, analytic: analytic) { values in
            lossAndGradient(TaggerModel(configuration: c, parameters: values), sentences, kernel: .batched).loss
        }
        #expect(mismatches.isEmpty, "\(variant.testDescription): \(mismatches.prefix(5))")
    }

    @Test func packingSortsByDecreasingLengthStably() {
        // Sentences of lengths 2, 0, 3, 1, 3 at these token offsets.
        let sentenceStarts: [Int32] = [0, 2, 2, 5, 6, 9]
        let count = 5
        let longest = RecurrencePacking.longest(sentenceStarts: sentenceStarts, count: count)
        #expect(longest == 3)
        var starts = [Int32](repeating: -1, count: count), lengths = [Int32](repeating: -1, count: count)
        var stepStarts = [Int32](repeating: -1, count: longest + 1), histogram = [Int32](repeating: 0, count: longest + 1)
        RecurrencePacking.pack(
            sentenceStarts: sentenceStarts, count: count, longest: longest,
            starts: &starts, lengths: &lengths, stepStarts: &stepStarts, histogram: &histogram)
        #expect(lengths == [3, 3, 2, 1, 0])
        #expect(starts == [2, 6, 0, 5, 2])
        // Four sentences run at step 0, three at step 1, two at step 2: 9 tokens in all.
        #expect(stepStarts == [0, 4, 7, 9])
        stepStarts.withUnsafeBufferPointer { steps in
            starts.withUnsafeBufferPointer { s in
                lengths.withUnsafeBufferPointer { l in
                    let packing = RecurrencePacking(
                        starts: s.baseAddress!, lengths: l.baseAddress!, stepStarts: steps.baseAddress!,
                        sentenceCount: count, longest: longest)
                    #expect((0...3).map { packing.activeCount($0) } == [4, 3, 2, 0])
                    // The reverse direction's first step reads each sentence's last token.
                    #expect((0..<4).map { packing.token(step: 0, row: $0, reverse: true) } == [4, 8, 1, 5])
                    #expect((0..<2).map { packing.token(step: 2, row: $0, reverse: false) } == [4, 8])
                }
            }
        }
    }

    /// The rule depends on the configuration only: the paper's model stays per sentence, wide layers batch.
    @Test func ruleDependsOnTheShapeOnly() {
        var paper = TaggerConfiguration()
        #expect(paper.recurrenceKernel == .perSentence)
        paper.hiddenSize = 400
        #expect(paper.recurrenceKernel == .batched)
        for cell in CellKind.allCases {
            let threshold = RecurrenceKernel.batchedThreshold(cell: cell)
            #expect(RecurrenceKernel.rule(cell: cell, hiddenSize: threshold) == .batched)
            #expect(RecurrenceKernel.rule(cell: cell, hiddenSize: threshold - 1) == .perSentence)
        }
        #expect(TaggerShard<Float>(configuration: paper).recurrenceKernel == .batched)
        #expect(RecurrenceKernel.batchedThreshold(cell: .lstm) == 100 && RecurrenceKernel.batchedThreshold(cell: .rnn) == 150)
        // Trainers share the recurrences of LSTMs from 256 units per direction, and no other cell's.
        #expect(RecurrenceTeam<Float>.shares(cell: .lstm, hiddenSize: 256))
        #expect(!RecurrenceTeam<Float>.shares(cell: .lstm, hiddenSize: 255))
        #expect(!RecurrenceTeam<Float>.shares(cell: .gru, hiddenSize: 400) && !RecurrenceTeam<Float>.shares(cell: .rnn, hiddenSize: 400))
        var wide = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: false)
        wide.hiddenSize = 256
        let model: TaggerModel<Float> = randomModel(wide, seed: 1)
        #expect(Trainer(model: model, options: TrainingOptions()).team != nil)
        #expect(Trainer(model: model, options: TrainingOptions(), shareRecurrences: false).team == nil)
    }

    /// The shared recurrence (each thread computes its units of both shards) gives the bits of
    /// each shard alone: uni, bi, stacked and CRF LSTMs, hidden sizes whose units split as
    /// 16 + 24 (40), 0 + 9 (9: one thread computes nothing) and 16 + 17 (33), dropout on;
    /// batches of one sentence leave one shard empty at every step.
    @Test(arguments: [(40, false, 1, false, 7), (9, true, 1, false, 1), (33, true, 2, false, 7), (40, false, 2, true, 3), (33, false, 1, false, 1)])
    func sharedRecurrenceGivesTheBitsOfEachShardAlone(hidden: Int, bidirectional: Bool, layers: Int, crf: Bool, batch: Int) {
        func train(share: Bool) -> [Float] {
            var c = tinyConfiguration(cell: .lstm, bidirectional: bidirectional, charCNN: true, layers: layers, crf: crf)
            c.hiddenSize = hidden
            c.dropout = 0.2
            c.layerDropout = layers > 1 ? 0.3 : 0
            var rng = SplitMix64(seed: 11)
            let vectors = (0..<(c.wordCount * c.wordEmbeddingDim)).map { _ in Float(rng.uniform(-1, 1)) }
            let model = TaggerModel<Float>.initialized(configuration: c, wordVectors: vectors, rng: &rng)
            var options = TrainingOptions()
            options.seed = 11
            options.learningRate = 0.05
            options.batchSize = batch
            let trainer = Trainer(model: model, options: options, recurrenceKernel: .batched, shareRecurrences: share)
            #expect((trainer.team != nil) == share)
            var data = SplitMix64(seed: 12)
            // 45 sentences: in batches of 7 the last has 3.
            var sentences = (0..<44).map { _ in
                tinySentences(seed: data.next(), configuration: c, lengths: [1 + data.nextIndex(below: 11)])[0]
            }
            sentences.append(tinySentences(seed: 13, configuration: c, lengths: [25])[0])
            for epoch in 0..<2 { _ = trainer.runEpoch(epoch, sentences: sentences) }
            return trainer.model.parameters
        }
        let alone = train(share: false), shared = train(share: true)
        #expect(alone.count == shared.count)
        let differing = alone.indices.filter { alone[$0].bitPattern != shared[$0].bitPattern }
        #expect(differing.isEmpty, "\(differing.count) parameters differ, first \(differing.prefix(3))")
    }

    /// The units each member computes: whole panels, disjoint, covering 0..<H.
    @Test func sharedUnitsSplitByPanels() {
        #expect(RecurrenceShare<Float>.units(member: 0, of: 2, hiddenSize: 400) == 0..<192)
        #expect(RecurrenceShare<Float>.units(member: 1, of: 2, hiddenSize: 400) == 192..<400)
        #expect(RecurrenceShare<Float>.units(member: 0, of: 2, hiddenSize: 9) == 0..<0)
        #expect(RecurrenceShare<Float>.units(member: 1, of: 2, hiddenSize: 9) == 0..<9)
        #expect(RecurrenceShare<Float>.units(member: 0, of: 1, hiddenSize: 50) == 0..<50)
    }

    /// Two trainings of one configuration and seed give the same bits, with either kernel.
    @Test(arguments: RecurrenceKernel.allCases)
    func trainingIsDeterministic(kernel: RecurrenceKernel) {
        func train() -> [Float] {
            var c = tinyConfiguration(cell: .lstm, bidirectional: true, charCNN: true)
            c.hiddenSize = 12
            c.dropout = 0.2
            var rng = SplitMix64(seed: 7)
            let vectors = (0..<(c.wordCount * c.wordEmbeddingDim)).map { _ in Float(rng.uniform(-1, 1)) }
            let model = TaggerModel<Float>.initialized(configuration: c, wordVectors: vectors, rng: &rng)
            var options = TrainingOptions()
            options.seed = 7
            options.learningRate = 0.05
            let trainer = Trainer(model: model, options: options)
            for shard in trainer.shards { shard.recurrenceKernel = kernel }
            var data = SplitMix64(seed: 8)
            let sentences = (0..<60).map { _ in
                tinySentences(seed: data.next(), configuration: c, lengths: [1 + data.nextIndex(below: 9)])[0]
            }
            for epoch in 0..<2 { _ = trainer.runEpoch(epoch, sentences: sentences) }
            return trainer.model.parameters
        }
        let first = train(), second = train()
        #expect(first == second)
    }
}

/// `MaskedRecurrence` on groups wide enough for the four-row product (more than 32
/// sentences, so two groups), against the naive reference of
/// `MaskedRecurrenceReplacementTests`, with no unit and with two units ablated.
@Suite struct MaskedRecurrenceGroupTests {
    @Test(arguments: CellKind.allCases)
    func wideGroupsMatchTheNaiveReference(cell: CellKind) {
        var c = tinyConfiguration(cell: cell, bidirectional: true, charCNN: true, layers: 2)
        c.hiddenSize = 9
        let model: TaggerModel<Float> = randomModel(c, seed: 31)
        var rng = SplitMix64(seed: 32)
        let lengths = (0..<41).map { _ in 1 + rng.nextIndex(below: 9) }
        let sentences = tinySentences(seed: 33, configuration: c, lengths: lengths)
        let (recurrence, starts, projected) = MaskedRecurrenceReplacementTests.maskedRecurrence(c, model, sentences: sentences, layer: 0)
        let N = starts[starts.count - 1], O = c.outputSize
        for ablated in [Set<Int>(), [0, O - 1]] {
            var keep = [Float](repeating: 1, count: O)
            for unit in ablated { keep[unit] = 0 }
            var hidden = [Float](repeating: .nan, count: N * O)
            hidden.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, into: $0.baseAddress!) }
            let expected = MaskedRecurrenceReplacementTests.reference(
                configuration: c, parameters: model.parameters, layer: 0, projected: projected, starts: starts,
                ablated: ablated, value: { _, _ in 0 })
            let mismatches = hidden.indices.filter { abs(hidden[$0] - expected[$0]) >= 1e-5 }
            #expect(mismatches.isEmpty, "\(cell) ablated \(ablated.sorted()): \(mismatches.prefix(5))")
        }
    }
}
