import DissectCore
import DissectKernels
import Foundation

public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd
    case adam
}

/// How to train; the defaults are NCRF++'s.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var epochs = 10
    public var batchSize = 10
    public var optimizer: OptimizerKind = .sgd
    /// Step size; SGD decays it as lr / (1 + decay · epoch), epoch counted from 0.
    public var learningRate = 0.015
    public var learningRateDecay = 0.05
    /// L2 penalty added to the gradient (`weight_decay` of torch.optim).
    public var l2 = 1e-8
    /// Rescale the gradient to this global norm when it is larger (off when nil).
    public var clip: Double? = nil
    public var seed: UInt64 = 1
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8

    public init() {}

    public func learningRate(epoch: Int) -> Double {
        optimizer == .sgd ? learningRate / (1 + learningRateDecay * Double(epoch)) : learningRate
    }

    enum CodingKeys: String, CodingKey {
        case epochs, optimizer, l2, clip, seed
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case learningRateDecay = "learning_rate_decay"
        case adamBeta1 = "adam_beta1"
        case adamBeta2 = "adam_beta2"
        case adamEpsilon = "adam_epsilon"
    }
}

/// Mini-batch training on two cores. Each batch's sentences are split into
/// two shards of about equal tokens; each core runs forward and backward on
/// its shard with its own dropout stream, and the two gradients are added in
/// a fixed order — so a seed gives the same bits whatever the scheduling.
/// For batched LSTM layers the two cores also share each recurrence (the
/// shards' `RecurrenceTeam`): at every step each core computes half of the
/// hidden units of both shards' sentences, with the bits of each shard alone.
///
/// Word-embedding gradients stay sparse: only rows of words in the batch are
/// touched, so a word never seen in training keeps its pretrained vector.
public final class Trainer {
    public let configuration: TaggerConfiguration
    public let options: TrainingOptions
    let layout: ParameterLayout
    let offsets: ParameterOffsets
    let shards: [TaggerShard<Float>]
    /// The parameters, at a stable address for the worker threads.
    public let parameters: Buffer<Float>
    let gradient: Buffer<Float>
    var rowStamp: [Int32]
    var touchedRows: [Int32] = []
    var stamp: Int32 = 0
    var firstMoment: Buffer<Float>?
    var secondMoment: Buffer<Float>?
    var adamStep = 0

    public static let shardCount = 2
    /// The shards' team when they share their batched LSTM recurrences (`RecurrenceTeam.shares`): each core
    /// then computes half of every recurrent step of both shards instead of all of its own shard's.
    let team: RecurrenceTeam<Float>?
    /// The threads that run the shards of each batch, one each (nil under a `--threads` cap below the
    /// shard count: then they run one after another). A team rather than `parallelFor`: its threads
    /// wait for the next batch spinning, where a pool's sleeping thread woke too late to take a shard
    /// at small hidden sizes (`ThreadTeam.spinsBeforeSleep`).
    let shardThreads: ThreadTeam?

    /// - Parameters:
    ///   - recurrenceKernel: the shards' kernel (default: the configuration's, `RecurrenceKernel.rule`; tests pick one).
    ///   - shareRecurrences: whether the shards share their batched LSTM recurrences: by default where
    ///     `RecurrenceTeam.shares` says it pays; true shares any batched LSTM (tests), false none. The
    ///     checkpoint is the same bits either way (tested).
    public init(
        model: TaggerModel<Float>, options: TrainingOptions, recurrenceKernel: RecurrenceKernel? = nil,
        shareRecurrences: Bool? = nil
    ) {
        configuration = model.configuration
        self.options = options
        layout = model.layout
        offsets = model.offsets
        let kernel = recurrenceKernel ?? model.configuration.recurrenceKernel
        shards = (0..<Trainer.shardCount).map { _ in
            let shard = TaggerShard<Float>(configuration: model.configuration)
            shard.recurrenceKernel = kernel
            return shard
        }
        let c = model.configuration
        // Sharing needs a thread per shard, so a `--threads` cap below the shard count turns it off (the same bits).
        let threadsAllowed = Parallelism.threadLimit == 0 || Parallelism.threadLimit >= Trainer.shardCount
        let share = c.cell == .lstm && kernel == .batched && threadsAllowed
            && (shareRecurrences ?? RecurrenceTeam<Float>.shares(cell: c.cell, hiddenSize: c.hiddenSize))
        if share {
            let team = RecurrenceTeam<Float>(size: Trainer.shardCount)
            for (member, shard) in shards.enumerated() { shard.cooperation = (team, member) }
            self.team = team
            shardThreads = team.threads
        } else {
            team = nil
            shardThreads = threadsAllowed ? ThreadTeam(size: Trainer.shardCount) : nil
        }
        let buffer = Buffer<Float>(capacity: model.layout.totalCount)
        model.parameters.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: $0.count) }
        parameters = buffer
        gradient = Buffer<Float>(capacity: layout.totalCount)
        gradient.zero(layout.totalCount)
        rowStamp = Array(repeating: -1, count: configuration.wordCount)
        if options.optimizer == .adam {
            firstMoment = Buffer<Float>(capacity: layout.totalCount)
            secondMoment = Buffer<Float>(capacity: layout.totalCount)
            firstMoment?.zero(layout.totalCount)
            secondMoment?.zero(layout.totalCount)
        }
    }

    /// A copy of the current parameters as a model.
    public var model: TaggerModel<Float> {
        TaggerModel(configuration: configuration, parameters: parameters.array(layout.totalCount))
    }

    public struct EpochResult: Sendable {
        public var loss: Double
        public var tokens: Int
        public var sentences: Int
        public var seconds: Double
        /// True when the epoch stopped early because an interruption was requested.
        public var interrupted = false
        /// Set when the epoch stopped at a batch whose loss, gradient or
        /// updated weights were not finite. A bad loss or gradient is found
        /// before that batch's optimizer step, so the weights stay as they were.
        public var divergence: Divergence? = nil
    }

    /// One pass over `sentences` in an order shuffled by (seed, epoch). It stops
    /// early at an interruption or at the first batch that diverges (see
    /// `EpochResult.divergence`); training must not go on after a divergence.
    /// - Parameter progress: called after each batch with (sentences done, summed loss so far).
    public func runEpoch(
        _ epoch: Int, sentences: [EncodedSentence], progress: ((Int, Double) -> Void)? = nil
    ) -> EpochResult {
        let started = DispatchTime.now().uptimeNanoseconds
        var order = Array(sentences.indices)
        var shuffler = SplitMix64(seed: options.seed, stream: 0x5348_5546, UInt64(epoch))
        shuffler.shuffle(&order)
        let shuffled = order.map { sentences[$0] }
        let learningRate = Float(options.learningRate(epoch: epoch))
        var totalLoss = 0.0
        var tokens = 0
        var batchStart = 0
        var batchNumber = 0
        var interrupted = false
        var divergence: Divergence?
        while batchStart < shuffled.count {
            if Interruption.requested {
                interrupted = true
                break
            }
            let batchEnd = min(batchStart + options.batchSize, shuffled.count)
            let ranges = Sharding.split(shuffled, into: shards.count, range: batchStart..<batchEnd)
            var losses = [Double](repeating: 0, count: shards.count)
            let p = UnsafePointer(parameters.pointer)
            let seed = options.seed
            let batch = UInt64(batchNumber)
            losses.withUnsafeMutableBufferPointer { lossBuffer in
                let out = lossBuffer
                // A team gives every shard its own thread, which the shared recurrence's barriers need.
                func run(_ body: (Int) -> Void) {
                    if let shardThreads { shardThreads.run(body) } else { parallelFor(shards.count, body) }
                }
                run { shardIndex in
                    var rng = SplitMix64(seed: seed, stream: UInt64(epoch), batch, UInt64(shardIndex))
                    let shard = shards[shardIndex]
                    out[shardIndex] = withUnsafeMutablePointer(to: &rng) { rngPointer in
                        shard.forward(
                            parameters: p, sentences: shuffled, range: ranges[shardIndex],
                            dropoutRNG: rngPointer, withLoss: true)
                    }
                    shard.backward(parameters: p)
                }
            }
            if let value = FloatKernels.nonFinite(losses) {
                divergence = Divergence(epoch: epoch + 1, batch: batchNumber + 1, quantity: .loss, value: value)
                break
            }
            for loss in losses { totalLoss += loss }
            for index in batchStart..<batchEnd { tokens += shuffled[index].count }
            if let failure = applyGradients(learningRate: learningRate) {
                divergence = Divergence(epoch: epoch + 1, batch: batchNumber + 1, quantity: failure.quantity, value: failure.value)
                break
            }
            batchStart = batchEnd
            batchNumber += 1
            progress?(batchStart, totalLoss)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return EpochResult(
            loss: totalLoss, tokens: tokens, sentences: shuffled.count, seconds: seconds, interrupted: interrupted,
            divergence: divergence)
    }

    /// Adds the shards' gradients (shard 0 first), then takes one optimizer step.
    ///
    /// The summed gradient is checked before the step, and the weights the
    /// step moved after it; the first that is not finite is returned (nil when
    /// all is well). With a non-finite gradient no step is taken. The checks
    /// ride along in loops that run anyway (the last shard's addition, the SGD
    /// step); only the touched embedding rows get a pass of their own.
    func applyGradients(learningRate: Float) -> (quantity: Divergence.Quantity, value: Divergence.Value)? {
        let base = offsets.denseStart
        let denseCount = layout.totalCount - base
        let g = gradient.pointer
        let dense = g + base
        // The two shards' sum also finds its largest magnitude, for the finiteness check below.
        let first = shards[0].denseGradient.pointer, second = shards[1].denseGradient.pointer
        var largest = forHalves(of: denseCount) { range in
            FloatKernels.sum(first + range.lowerBound, second + range.lowerBound, into: dense + range.lowerBound, range.count)
        }

        stamp &+= 1
        touchedRows.removeAll(keepingCapacity: true)
        let Dw = configuration.wordEmbeddingDim, D = configuration.inputSize
        for shard in shards {
            for token in 0..<shard.tokenCount {
                let row = Int(shard.wordIndices.pointer[token])
                if rowStamp[row] != stamp {
                    rowStamp[row] = stamp
                    touchedRows.append(Int32(row))
                }
                Kernels.axpy(g + row * Dw, 1, shard.inputGradient.pointer + token * D, Dw)
            }
        }
        // Every row touched here is zeroed again on the way out, whatever happens.
        defer { for row in touchedRows { (g + Int(row) * Dw).update(repeating: 0, count: Dw) } }

        for row in touchedRows { largest = max(largest, FloatKernels.largestMagnitudeBits(g + Int(row) * Dw, Dw)) }
        if let value = FloatKernels.nonFinite(largestMagnitudeBits: largest) { return (.gradient, value) }

        if let clip = options.clip {
            var squares = 0.0
            for index in 0..<denseCount { squares += Double(dense[index] * dense[index]) }
            for row in touchedRows {
                let start = g + Int(row) * Dw
                for k in 0..<Dw { squares += Double(start[k] * start[k]) }
            }
            let norm = squares.squareRoot()
            if norm > clip {
                let scale = Float(clip / (norm + 1e-6))
                for index in 0..<denseCount { dense[index] *= scale }
                for row in touchedRows {
                    let start = g + Int(row) * Dw
                    for k in 0..<Dw { start[k] *= scale }
                }
            }
        }

        let p = parameters.pointer
        let l2 = Float(options.l2)
        switch options.optimizer {
        case .sgd:
            // SGD moves the dense weights and the touched rows only; each step reports the largest magnitude it wrote.
            largest = forHalves(of: denseCount) { range in
                FloatKernels.sgdStep(p + base + range.lowerBound, dense + range.lowerBound, range.count, learningRate: learningRate, l2: l2)
            }
            for row in touchedRows { largest = max(largest, FloatKernels.sgdStep(p + Int(row) * Dw, g + Int(row) * Dw, Dw, learningRate: learningRate, l2: l2)) }
        case .adam:
            adamStep += 1
            adam(learningRate: learningRate, l2: l2, dense: base..<layout.totalCount)
            // Adam also moves every row that ever had a gradient.
            largest = FloatKernels.largestMagnitudeBits(p + base, denseCount)
            for row in 0..<configuration.wordCount where rowStamp[row] != -1 {
                largest = max(largest, FloatKernels.largestMagnitudeBits(p + row * Dw, Dw))
            }
        }
        if let value = FloatKernels.nonFinite(largestMagnitudeBits: largest) { return (.weights, value) }
        return nil
    }

    /// `body` over the two halves of 0..<count, returning the larger of their results: on the shard
    /// threads when count is large enough to pay for the handoff (at hidden 400 the dense gradient is
    /// 3 MB, and one core adding and stepping it took 7 % of the samples of training while the other waited), else on
    /// this thread. Elementwise work only, so where the halves run changes no bit.
    private func forHalves(of count: Int, _ body: (Range<Int>) -> UInt32) -> UInt32 {
        let middle = count / 2
        let halves = [0..<middle, middle..<count]
        guard count >= parallelDenseCount, let shardThreads else { return halves.map(body).max() ?? 0 }
        var results: [UInt32] = [0, 0]
        results.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            shardThreads.run { half in out[half] = body(halves[half]) }
        }
        return max(results[0], results[1])
    }

    /// Dense parameters from which `forHalves` splits the optimizer's elementwise work between the cores
    /// (the paper model's tens of thousands take microseconds, about what a handoff costs); tests lower it.
    var parallelDenseCount = 1 << 18

    /// torch.optim.Adam with L2 added to the gradient. Rows of the word
    /// embedding that have never had a gradient stay put: their L2 term is
    /// left out, since with Adam it alone would move them by ~lr per step.
    private func adam(learningRate: Float, l2: Float, dense: Range<Int>) {
        guard let m = firstMoment?.pointer, let v = secondMoment?.pointer else { return }
        let p = parameters.pointer, g = gradient.pointer
        let beta1 = Float(options.adamBeta1), beta2 = Float(options.adamBeta2), epsilon = Float(options.adamEpsilon)
        let correction1 = 1 - Float(pow(options.adamBeta1, Double(adamStep)))
        let correction2 = 1 - Float(pow(options.adamBeta2, Double(adamStep)))
        func step(_ index: Int, withL2: Bool) {
            let grad = g[index] + (withL2 ? l2 * p[index] : 0)
            m[index] = beta1 * m[index] + (1 - beta1) * grad
            v[index] = beta2 * v[index] + (1 - beta2) * grad * grad
            let update = (m[index] / correction1) / ((v[index] / correction2).squareRoot() + epsilon)
            p[index] -= learningRate * update
        }
        for index in dense { step(index, withL2: true) }
        let Dw = configuration.wordEmbeddingDim
        for row in 0..<configuration.wordCount {
            let touched = rowStamp[row] == stamp
            if !touched && rowStamp[row] == -1 { continue }
            for k in 0..<Dw { step(row * Dw + k, withL2: touched) }
        }
    }
}
