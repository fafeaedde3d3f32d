import Foundation
import Testing
import DissectCore
@testable import DissectModel
@testable import DissectKernels

/// A non-finite loss or gradient stops training before the optimizer step;
/// a step that makes a weight non-finite is caught right after it.
@Suite struct DivergenceTests {
    @Test func largestMagnitudeBitsMatchesTheReference() {
        var rng = SplitMix64(seed: 4)
        for count in Array(0...40) + [333, 1000] {
            var values = (0..<count).map { _ in Float(rng.uniform(-3, 3)) }
            values.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                #expect(FloatKernels.largestMagnitudeBits(base, count) == FloatKernels.referenceLargestMagnitudeBits(base, count))
                #expect(FloatKernels.nonFinite(largestMagnitudeBits: FloatKernels.largestMagnitudeBits(base, count)) == nil)
            }
            // One bad value at every position (the SIMD body and the scalar tail).
            for position in 0..<min(count, 40) {
                for (bad, expected) in [(Float.nan, Divergence.Value.nan), (.infinity, .infinite), (-.infinity, .infinite),
                                        (-Float.nan, .nan)] {
                    let saved = values[position]
                    values[position] = bad
                    values.withUnsafeBufferPointer { buffer in
                        guard let base = buffer.baseAddress else { return }
                        let bits = FloatKernels.largestMagnitudeBits(base, count)
                        #expect(bits == FloatKernels.referenceLargestMagnitudeBits(base, count))
                        #expect(FloatKernels.nonFinite(largestMagnitudeBits: bits) == expected, "\(bad) at \(position) of \(count)")
                    }
                    values[position] = saved
                }
            }
        }
        // The largest finite magnitude is still finite; a NaN beats an infinity.
        let edge: [Float] = [-.greatestFiniteMagnitude, .leastNonzeroMagnitude, 0, -0.0]
        edge.withUnsafeBufferPointer { #expect(FloatKernels.nonFinite(largestMagnitudeBits: FloatKernels.largestMagnitudeBits($0.baseAddress!, 4)) == nil) }
        let both: [Float] = [.infinity, .nan, 1]
        both.withUnsafeBufferPointer { #expect(FloatKernels.nonFinite(largestMagnitudeBits: FloatKernels.largestMagnitudeBits($0.baseAddress!, 3)) == .nan) }
        #expect(FloatKernels.nonFinite([1, .infinity, .nan]) == .nan)
        #expect(FloatKernels.nonFinite([1, -.infinity]) == .infinite)
        #expect(FloatKernels.nonFinite([1, 2]) == nil)
    }

    /// The fused sum gives a copy plus axpy bit for bit, and the scan's answer on it.
    @Test func fusedSumMatchesAxpyAndTheScan() {
        var rng = SplitMix64(seed: 8)
        for count in [0, 1, 15, 16, 17, 100, 1000] {
            let x = (0..<count).map { _ in Float(rng.uniform(-2, 2)) }
            var y = (0..<count).map { _ in Float(rng.uniform(-2, 2)) }
            if count > 3 { y[3] = .infinity }
            var fused = [Float](repeating: .nan, count: count), plain = y
            let bits = x.withUnsafeBufferPointer { xs in
                y.withUnsafeBufferPointer { ys in
                    fused.withUnsafeMutableBufferPointer { FloatKernels.sum(ys.baseAddress!, xs.baseAddress!, into: $0.baseAddress!, count) }
                }
            }
            x.withUnsafeBufferPointer { xs in
                plain.withUnsafeMutableBufferPointer { Kernels.axpy($0.baseAddress!, 1, xs.baseAddress!, count) }
            }
            #expect(fused.map(\.bitPattern) == plain.map(\.bitPattern))
            #expect(bits == fused.withUnsafeBufferPointer { FloatKernels.referenceLargestMagnitudeBits($0.baseAddress!, count) })
            #expect((FloatKernels.nonFinite(largestMagnitudeBits: bits) == .infinite) == (count > 3))
        }
    }

    @Test func messages() {
        #expect(Divergence(epoch: 2, batch: 7, quantity: .loss, value: .nan).description
                == "training diverged in epoch 2, batch 7 (loss is NaN)")
        #expect(Divergence(epoch: 1, batch: 1, quantity: .loss, value: .infinite).what == "loss is infinite")
        #expect(Divergence(epoch: 1, batch: 1, quantity: .gradient, value: .nan).what == "gradient is NaN")
        #expect(Divergence(epoch: 1, batch: 1, quantity: .weights, value: .infinite).what == "weights are infinite")
    }

    func trainer(learningRate: Double, optimizer: OptimizerKind = .sgd) -> (Trainer, [EncodedSentence]) {
        var c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true)
        c.dropout = 0
        let model: TaggerModel<Float> = randomModel(c, seed: 3)
        var options = TrainingOptions()
        options.learningRate = learningRate
        options.optimizer = optimizer
        options.batchSize = 2
        return (Trainer(model: model, options: options), tinySentences(seed: 5, configuration: c, lengths: [4, 1, 6, 3, 5, 2, 7, 4]))
    }

    func parameters(_ trainer: Trainer) -> [Float] { trainer.parameters.array(trainer.layout.totalCount) }

    /// lr 1e30: the epoch stops at the batch whose loss or gradient is no longer
    /// finite, numbered from 1, without stepping, so every weight stays finite.
    @Test(arguments: [OptimizerKind.sgd, .adam])
    func hugeLearningRateStopsTraining(optimizer: OptimizerKind) throws {
        let (trainer, sentences) = trainer(learningRate: 1e30, optimizer: optimizer)
        var divergence: Divergence?
        for epoch in 0..<5 {
            let result = trainer.runEpoch(epoch, sentences: sentences)
            #expect(result.loss.isFinite, "the diverged batch's loss is not added")
            if let found = result.divergence {
                divergence = found
                break
            }
        }
        let found = try #require(divergence, "lr 1e30 must diverge")
        #expect(found.batch >= 1 && found.batch <= 4)
        #expect(found.epoch >= 1)
        if found.quantity != .weights {
            #expect(parameters(trainer).allSatisfy { $0.isFinite }, "no step was taken with a non-finite loss or gradient")
        }
    }

    @Test func ordinaryTrainingDoesNotDiverge() {
        let (trainer, sentences) = trainer(learningRate: 0.1)
        for epoch in 0..<3 { #expect(trainer.runEpoch(epoch, sentences: sentences).divergence == nil) }
    }

    /// The optimizer's sum and step split between the shard threads (as from hidden 400 on) give the
    /// weights of one thread bit for bit, and a bad value in either half is still found before the step.
    @Test func optimizerSplitBetweenCoresKeepsTheBits() throws {
        let (alone, sentences) = trainer(learningRate: 0.1)
        let (split, _) = trainer(learningRate: 0.1)
        split.parallelDenseCount = 0
        for epoch in 0..<3 {
            _ = alone.runEpoch(epoch, sentences: sentences)
            _ = split.runEpoch(epoch, sentences: sentences)
        }
        #expect(parameters(alone).map(\.bitPattern) == parameters(split).map(\.bitPattern))
        let shard = split.shards[1], before = parameters(split)
        let denseCount = split.layout.totalCount - split.offsets.denseStart
        for position in [0, denseCount / 2 - 1, denseCount / 2, denseCount - 1] {
            let saved = shard.denseGradient.pointer[position]
            shard.denseGradient.pointer[position] = .nan
            let failure = split.applyGradients(learningRate: 0.1)
            #expect(failure?.quantity == .gradient && failure?.value == .nan, "position \(position) of \(denseCount)")
            #expect(parameters(split) == before, "no step with a bad dense gradient")
            shard.denseGradient.pointer[position] = saved
        }
    }

    /// A NaN or infinity in either part of the summed gradient (dense, or a
    /// touched word row) is found before the step: the weights do not move.
    @Test func nonFiniteGradientIsCaughtBeforeTheStep() throws {
        let (trainer, sentences) = trainer(learningRate: 0.1)
        _ = trainer.runEpoch(0, sentences: sentences)  // leaves the last batch's gradients in the shards
        let shard = try #require(trainer.shards.first { $0.tokenCount > 0 })
        let before = parameters(trainer)
        let denseCount = trainer.layout.totalCount - trainer.offsets.denseStart

        for (bad, expected) in [(Float.nan, Divergence.Value.nan), (-.infinity, .infinite)] {
            let saved = shard.denseGradient.pointer[denseCount - 1]
            shard.denseGradient.pointer[denseCount - 1] = bad
            let failure = trainer.applyGradients(learningRate: 0.1)
            #expect(failure?.quantity == .gradient && failure?.value == expected)
            #expect(parameters(trainer) == before, "no step with a bad dense gradient")
            shard.denseGradient.pointer[denseCount - 1] = saved

            let savedInput = shard.inputGradient.pointer[0]
            shard.inputGradient.pointer[0] = bad
            let rowFailure = trainer.applyGradients(learningRate: 0.1)
            #expect(rowFailure?.quantity == .gradient && rowFailure?.value == expected)
            #expect(parameters(trainer) == before, "no step with a bad embedding-row gradient")
            shard.inputGradient.pointer[0] = savedInput
        }
        // The word-row gradients were cleared on the way out.
        let wordPart = trainer.gradient.array(trainer.offsets.denseStart)
        #expect(wordPart.allSatisfy { $0 == 0 } as Bool)
        // A finite gradient times the largest Float overflows the weights: caught right after the step.
        let overflow = trainer.applyGradients(learningRate: .greatestFiniteMagnitude)
        #expect(overflow?.quantity == .weights)
    }
}

/// model.json and train-log.jsonl go through the one JSON writer: a
/// non-finite figure is written as null, and the file stays valid and loadable.
@Suite struct CheckpointJSONTests {
    @Test func nonFiniteFiguresAreNull() throws {
        let log = EpochLog(
            epoch: 1, loss: .nan, lossPerToken: .infinity, learningRate: 0.015, trainSeconds: 1, sentencesPerSecond: .nan,
            devF1: .nan, devF1NCRF: nil, devAccuracy: 50, testF1: nil, testF1NCRF: nil, testAccuracy: nil,
            evaluationSeconds: 0.1, seconds: 1.1, best: true)
        let line = try Checkpoint.encodeJSONLine(log)
        #expect(line.last == 0x0A && !line.dropLast().contains(0x0A), "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["loss"] is NSNull && object["loss_per_token"] is NSNull && object["dev_f1"] is NSNull)
        #expect(object["dev_accuracy"] as? Double == 50)

        var c = tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: false)
        c.wordCount = 1
        c.labelCount = 1
        var record = TrainingRecord(
            seed: 1, epochs: 1, bestEpoch: 1, selectionMetric: "f1", seconds: 1, options: TrainingOptions(),
            vocabularyRule: "train")
        record.devF1 = .nan
        let metadata = CheckpointMetadata(
            configuration: c, vocabulary: VocabularyLists(words: ["<unk>"], chars: [], labels: ["O"]),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: record)
        let data = try Checkpoint.encodeJSON(metadata)
        let training = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["training"] as? [String: Any])
        #expect(training["dev_f1"] is NSNull)
        // An undefined optional figure reads back as nil.
        let decoded = try Checkpoint.decodeMetadata(data, path: "model.json")
        #expect(decoded.training?.devF1 == nil)
    }
}
