import DissectCore
import DissectKernels
import DissectCorpus
import DissectModel

/// How "setting h_i to 0" (the paper's ablation) is read.
public enum AblationMode: String, Codable, Sendable, CaseIterable {
    /// h_i is zeroed only where it enters the linear layer; the LSTM runs unchanged.
    case readout
    /// h_i is also zeroed in the state carried to the next step, so later steps change.
    case recurrent
}

/// What an ablated neuron's h_i is replaced by.
public enum AblationValue: String, Codable, Sendable, CaseIterable {
    /// 0, as in the paper.
    case zero
    /// Its mean over the `--rank-on` data.
    case mean
    /// Its value at a random token of the `--rank-on` data, drawn afresh for every token (seeded).
    case resample
}

/// A bootstrap band around one curve: sentences of the data drawn with replacement.
public struct CurveBand: Codable, Sendable, Equatable {
    public var resamples: Int
    /// The band's coverage, 0.95: the 2.5th and 97.5th percentiles per k.
    public var level: Double
    /// Per key of `AblationCurve.accuracy`: bounds per k, in [0, 1].
    public var lower: [String: [Double]]
    public var upper: [String: [Double]]

    public init(resamples: Int, level: Double, lower: [String: [Double]], upper: [String: [Double]]) {
        self.resamples = resamples
        self.level = level
        self.lower = lower
        self.upper = upper
    }
}

/// Scores of one ablation curve, k = 0 … K ablated neurons.
public struct AblationCurve: Codable, Sendable, Equatable {
    /// The ablation order's first K neurons.
    public var neurons: [Int]
    /// Per gold label (only labels present in the data), "others" (when any token's
    /// gold label is none of the ablated rankings' labels) and "all":
    /// share of tokens predicted correctly, in [0, 1], one value per k.
    public var accuracy: [String: [Double]]
    /// Entity F1 by conlleval's rules, in percent, one value per k.
    public var f1: [Double]
    /// A bootstrap band over the data's sentences; nil when none was computed.
    public var band: CurveBand?
}

/// Ablation of ordered neurons on one file: rankings, reverse rankings and
/// random orders, in either mode.
///
/// Readout mode never reruns the LSTM: it keeps every token's logits in
/// label-major order and subtracts one neuron's contribution W[i, :]·h_i(t)
/// per step, then takes the argmax of eight tokens at a time. It exists only
/// for the top layer, the one `hidden2tag` reads. Recurrent mode reruns the
/// analysed layer's recurrence (its input projections are cached) and every
/// layer above it, sentences grouped by length, on both cores. With a CRF the
/// predictions are Viterbi paths, as the model decodes.
public final class AblationEngine {
    public let run: ModelRun
    /// Sets of labels whose rankings are ablated together (a pair, in the paper);
    /// for each set, "others" are the tokens whose gold label is none of its labels.
    public let focusSets: [[String]]
    public let steps: Int
    let n: Int, m: Int, N: Int
    /// `[n][N]` neuron-major hidden states.
    let hiddenByNeuron: [Float]
    /// `[m][N]` label-major logits.
    let logitsByLabel: [Float]
    /// `W[i][j]` = hidden2tag.weight[j, i], `[n][m]`.
    let weight: [Float]
    let scorer: ChunkScorer
    let goldLabelTotals: [Int]
    /// Per focus set: whether each token's gold label is outside the set, and how many are.
    let isOther: [[Bool]]
    let otherTotal: [Int]
    let presentLabels: [Int]
    /// `crf.transitions` when the model has a CRF.
    let transitions: [Float]?

    public convenience init(run: ModelRun, focusLabels: [String], steps: Int) {
        self.init(run: run, focusSets: [focusLabels], steps: steps)
    }

    public init(run: ModelRun, focusSets: [[String]], steps: Int) {
        self.run = run
        self.focusSets = focusSets
        self.steps = steps
        n = run.neuronCount
        m = run.labels.count
        N = run.tokenCount
        var byNeuron = [Float](repeating: 0, count: n * N)
        for token in 0..<N { for neuron in 0..<n { byNeuron[neuron * N + token] = run.hidden[token * n + neuron] } }
        hiddenByNeuron = byNeuron
        var byLabel = [Float](repeating: 0, count: m * N)
        for token in 0..<N { for label in 0..<m { byLabel[label * N + token] = run.logits[token * m + label] } }
        logitsByLabel = byLabel
        let outputWeight = Array(run.outputWeight)
        var w = [Float](repeating: 0, count: n * m)
        for neuron in 0..<n { for label in 0..<m { w[neuron * m + label] = outputWeight[label * n + neuron] } }
        weight = w
        scorer = ChunkScorer(labels: run.labels, gold: run.goldLabels)
        var totals = [Int](repeating: 0, count: m)
        for label in run.gold where label >= 0 { totals[Int(label)] += 1 }
        goldLabelTotals = totals
        presentLabels = (0..<m).filter { totals[$0] > 0 }
        isOther = focusSets.map { labels in
            let focus = Set(labels)
            return run.goldLabels.flatMap { $0.map { !focus.contains($0) } }
        }
        otherTotal = isOther.map { $0.filter { $0 }.count }
        transitions = run.checkpoint.model.tensor(LinearChainCRF.tensorName).map { Array($0) }
    }

    /// The model's output for token-major logits `[N, m]`, sentence by sentence
    /// (`Decoding`: each token's arg-max, or with a CRF each sentence's Viterbi path).
    func decode(tokenMajor logits: UnsafePointer<Float>, into predicted: UnsafeMutablePointer<Int32>, scratch: Buffer<Double>) {
        let starts = run.sentenceStarts
        let decoding = run.checkpoint.model.configuration.decoding
        (transitions ?? []).withUnsafeBufferPointer { table in
            for sentence in 0..<(starts.count - 1) {
                let start = starts[sentence], steps = starts[sentence + 1] - start
                if steps == 0 { continue }
                decoding.decode(
                    logits: logits + start * m, steps: steps, labels: m, transitions: table.baseAddress, into: predicted + start,
                    scratch: scratch)
            }
        }
    }

    /// Per-k scores of one prediction vector, appended to `curve`.
    /// - Parameter focus: which focus set defines "others".
    func measure(_ predicted: UnsafePointer<Int32>, focus: Int, into curve: inout AblationCurve) {
        var correct = [Int](repeating: 0, count: m)
        var allCorrect = 0, otherCorrect = 0
        run.gold.withUnsafeBufferPointer { goldBuffer in
            isOther[focus].withUnsafeBufferPointer { otherBuffer in
                let gold = goldBuffer.baseAddress!, other = otherBuffer.baseAddress!
                for token in 0..<N {
                    let label = gold[token]
                    guard label >= 0, label == predicted[token] else { continue }
                    allCorrect += 1
                    correct[Int(label)] += 1
                    if other[token] { otherCorrect += 1 }
                }
            }
        }
        let otherTotal = self.otherTotal[focus]
        for label in presentLabels {
            curve.accuracy[run.labels[label], default: []].append(Double(correct[label]) / Double(goldLabelTotals[label]))
        }
        // "others" exists only when some token's gold label is none of the focus labels.
        if otherTotal > 0 { curve.accuracy["others", default: []].append(Double(otherCorrect) / Double(otherTotal)) }
        curve.accuracy["all", default: []].append(N > 0 ? Double(allCorrect) / Double(N) : 0)
        let counts = scorer.count(predicted: predicted)
        curve.f1.append(ChunkScorer.f1(correct: counts.correct, found: counts.found, gold: counts.gold))
    }

    /// Curves for several orders, each measured with focus set 0.
    public func curves(orders: [[Int]], mode: AblationMode) -> [AblationCurve] {
        curves(jobs: orders.map { ($0, [0]) }, mode: mode).map { $0[0] }
    }

    /// Curves for several orders, each measured once per listed focus set:
    /// an order shared by several sets (a random control) is ablated once.
    /// Readout orders are split between the cores; recurrent mode uses both
    /// cores inside each rerun.
    public func curves(jobs: [(order: [Int], focusSets: [Int])], mode: AblationMode) -> [[AblationCurve]] {
        switch mode {
        case .readout:
            var results = [[AblationCurve]](repeating: [], count: jobs.count)
            let shards = 2
            results.withUnsafeMutableBufferPointer { buffer in
                let out = buffer
                parallelFor(shards) { shard in
                    let workspace = ReadoutWorkspace(labels: m, tokens: N, crf: transitions != nil)
                    for index in stride(from: shard, to: jobs.count, by: shards) {
                        out[index] = measuredCurves(jobs[index]) { body in readout(order: jobs[index].order, workspace: workspace, body) }
                    }
                }
            }
            return results
        case .recurrent:
            let recurrence = makeRecurrence()
            return jobs.map { job in measuredCurves(job) { body in recurrent(order: job.order, recurrence: recurrence, body) } }
        }
    }

    private func measuredCurves(
        _ job: (order: [Int], focusSets: [Int]), _ ablate: ((Int, UnsafePointer<Int32>) -> Void) -> Void
    ) -> [AblationCurve] {
        let neurons = Array(job.order.prefix(min(steps, job.order.count)))
        var curves = job.focusSets.map { _ in AblationCurve(neurons: neurons, accuracy: [:], f1: []) }
        ablate { _, predicted in
            for (slot, focus) in job.focusSets.enumerated() { measure(predicted, focus: focus, into: &curves[slot]) }
        }
        return curves
    }

    final class ReadoutWorkspace {
        var logits: [Float]
        var predicted: [Int32]
        /// With a CRF: the logits token-major for Viterbi, and its scratch.
        var tokenMajor: [Float]
        let crfScratch = Buffer<Double>()
        init(labels: Int, tokens: Int, crf: Bool) {
            logits = [Float](repeating: 0, count: labels * tokens)
            predicted = [Int32](repeating: 0, count: tokens)
            tokenMajor = [Float](repeating: 0, count: crf ? labels * tokens : 0)
        }
    }

    /// Predictions after ablating the first k neurons of `order`, k = 0 … K.
    public func predictions(order: [Int], mode: AblationMode) -> [[Int32]] {
        var result: [[Int32]] = []
        switch mode {
        case .readout:
            readout(order: order, workspace: ReadoutWorkspace(labels: m, tokens: N, crf: transitions != nil)) { _, predicted in
                result.append(Array(UnsafeBufferPointer(start: predicted, count: N)))
            }
        case .recurrent:
            recurrent(order: order, recurrence: makeRecurrence()) { _, predicted in
                result.append(Array(UnsafeBufferPointer(start: predicted, count: N)))
            }
        }
        return result
    }

    /// Calls `body(k, predictions)` for k = 0 … K with the first k neurons of `order` zeroed at the readout
    /// (top layer only: a lower layer has no readout to zero).
    func readout(order: [Int], workspace: ReadoutWorkspace, _ body: (Int, UnsafePointer<Int32>) -> Void) {
        precondition(run.isTopLayer, "readout ablation needs the top layer; use recurrent mode for layer \(run.layer + 1)")
        let K = min(steps, order.count)
        workspace.logits.withUnsafeMutableBufferPointer { logitsBuffer in
            workspace.predicted.withUnsafeMutableBufferPointer { predictedBuffer in
                hiddenByNeuron.withUnsafeBufferPointer { hiddenBuffer in
                    let logits = logitsBuffer.baseAddress!, predicted = predictedBuffer.baseAddress!
                    let hidden = hiddenBuffer.baseAddress!
                    logitsByLabel.withUnsafeBufferPointer { logits.update(from: $0.baseAddress!, count: m * N) }
                    for k in 0...K {
                        if k > 0 {
                            let neuron = order[k - 1]
                            for label in 0..<m {
                                let w = weight[neuron * m + label]
                                if w != 0 {
                                    ReadoutKernels.subtractScaled(logits + label * N, w, hidden + neuron * N, N)
                                }
                            }
                        }
                        if transitions == nil {
                            ArgMax.firstLargestByColumn(logits, rows: m, columns: N, into: predicted)
                        } else {
                            workspace.tokenMajor.withUnsafeMutableBufferPointer { tokenMajor in
                                let byToken = tokenMajor.baseAddress!
                                for label in 0..<m { for token in 0..<N { byToken[token * m + label] = logits[label * N + token] } }
                                decode(tokenMajor: byToken, into: predicted, scratch: workspace.crfScratch)
                            }
                        }
                        body(k, predicted)
                    }
                }
            }
        }
    }

    func makeRecurrence() -> MaskedRecurrence {
        let configuration = run.checkpoint.model.configuration
        return MaskedRecurrence(
            configuration: configuration, parameters: run.checkpoint.model.parameters, layer: run.layer,
            projected: run.projected ?? [], sentenceStarts: run.sentenceStarts)
    }

    /// The same with the neurons also zeroed in the recurrent state. k = 0 is
    /// the model's own prediction (nothing to rerun).
    func recurrent(order: [Int], recurrence: MaskedRecurrence, _ body: (Int, UnsafePointer<Int32>) -> Void) {
        let K = min(steps, order.count)
        run.predicted.withUnsafeBufferPointer { body(0, $0.baseAddress!) }
        guard K > 0 else { return }
        var keep = [Float](repeating: 1, count: n)
        var hidden = [Float](repeating: 0, count: N * n)
        var logits = [Float](repeating: 0, count: N * m)
        var predicted = [Int32](repeating: 0, count: N)
        let crfScratch = Buffer<Double>()
        let bias = Array(run.outputBias), outputWeight = Array(run.outputWeight)
        for k in 1...K {
            keep[order[k - 1]] = 0
            hidden.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, into: $0.baseAddress!) }
            for token in 0..<N { for label in 0..<m { logits[token * m + label] = bias[label] } }
            BLAS.gemm(transposeB: true, m: N, n: m, k: n, a: hidden, lda: n, b: outputWeight, ldb: n, beta: 1, c: &logits, ldc: m)
            logits.withUnsafeBufferPointer { logitsBuffer in
                predicted.withUnsafeMutableBufferPointer { decode(tokenMajor: logitsBuffer.baseAddress!, into: $0.baseAddress!, scratch: crfScratch) }
            }
            predicted.withUnsafeBufferPointer { body(k, $0.baseAddress!) }
        }
    }
}

/// The Float kernels of readout ablation, over tokens eight at a time.
enum ReadoutKernels {
    /// `row[t] -= scale · values[t]` for t in 0..<count.
    static func subtractScaled(_ row: UnsafeMutablePointer<Float>, _ scale: Float, _ values: UnsafePointer<Float>, _ count: Int) {
        let factor = SIMD8<Float>(repeating: scale)
        let target = UnsafeMutableRawPointer(row), source = UnsafeRawPointer(values)
        var index = 0
        while index + 8 <= count {
            let old = target.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            let value = source.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            target.storeBytes(of: old - factor * value, toByteOffset: index * 4, as: SIMD8<Float>.self)
            index += 8
        }
        while index < count {
            row[index] -= scale * values[index]
            index += 1
        }
    }
}
