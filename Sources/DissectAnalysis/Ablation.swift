import DissectCore
import DissectKernels
import DissectCorpus
import DissectModel

/// How "setting h_i to 0" (the paper's ablation, or to another `AblationValue`) is read.
public enum AblationMode: String, Codable, Sendable, CaseIterable {
    /// h_i is replaced only where it enters the linear layer; the LSTM runs unchanged.
    case readout
    /// h_i is also replaced in the state carried to the next step, so later steps change.
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

/// The values v_i(t) an ablated neuron's h_i(t) is replaced by, taken from
/// the `--rank-on` run (N_r tokens, its analysed layer's output h):
///
///     zero      v_i(t) = 0
///     mean      v_i(t) = μ_i = (1/N_r) Σ_u h_i(u), summed in Double over the rank-on tokens
///     resample  v_i(t) = h_i(u_i(t)), u_i(t) uniform in 0..<N_r, drawn by
///               SplitMix64(seed, stream 'RSMP', i, t) (`sourceToken`)
///
/// t is a token of the ablated (`--data`) run. The resample draw is a pure
/// function of (seed, neuron, token): the same neuron at the same token gets
/// the same value in every curve, whatever the order, k, or thread split.
/// With a rank-on run of no tokens every v is 0.
public struct AblationReplacement: Sendable {
    public let value: AblationValue
    public let seed: UInt64
    /// n, the width of h.
    public let neuronCount: Int
    /// N_r, the rank-on run's tokens.
    public let sourceTokens: Int
    /// μ_i, `[n]`; empty unless `value` is mean.
    public let means: [Float]
    /// The rank-on run's states `[N_r, n]`, token-major; empty unless `value` is resample.
    let source: [Float]

    /// The SplitMix64 stream of the resample draws.
    public static let resampleStream: UInt64 = 0x5253_4D50

    /// v = 0, the paper's ablation; needs no rank-on run.
    public static let zero = AblationReplacement(value: .zero, seed: 0, neuronCount: 0, sourceTokens: 0, means: [], source: [])

    init(value: AblationValue, seed: UInt64, neuronCount: Int, sourceTokens: Int, means: [Float], source: [Float]) {
        self.value = value
        self.seed = seed
        self.neuronCount = neuronCount
        self.sourceTokens = sourceTokens
        self.means = means
        self.source = source
    }

    /// - Parameters:
    ///   - rankRun: the `--rank-on` run, whose `hidden` the values come from.
    ///   - seed: the resample draws' seed (unused by zero and mean).
    public init(value: AblationValue, rankRun: ModelRun, seed: UInt64) {
        let n = rankRun.neuronCount, count = rankRun.tokenCount
        var means: [Float] = []
        if value == .mean {
            var sums = [Double](repeating: 0, count: n)
            rankRun.hidden.withUnsafeBufferPointer { hidden in
                for token in 0..<count { for neuron in 0..<n { sums[neuron] += Double(hidden[token * n + neuron]) } }
            }
            means = sums.map { count > 0 ? Float($0 / Double(count)) : 0 }
        }
        self.init(
            value: value, seed: seed, neuronCount: n, sourceTokens: count, means: means,
            source: value == .resample ? rankRun.hidden : [])
    }

    /// u_i(t): the rank-on token whose h_i replaces neuron i at data token t (resample), in 0..<N_r.
    public func sourceToken(neuron: Int, token: Int) -> Int {
        var generator = SplitMix64(seed: seed, stream: Self.resampleStream, UInt64(neuron), UInt64(token))
        return generator.nextIndex(below: max(1, sourceTokens))
    }

    /// v_i(t) for neuron i (0..<n) at data token t.
    public func value(neuron: Int, token: Int) -> Float {
        switch value {
        case .zero: return 0
        case .mean: return neuron < means.count ? means[neuron] : 0
        case .resample: return sourceTokens > 0 ? source[sourceToken(neuron: neuron, token: token) * neuronCount + neuron] : 0
        }
    }

    /// v_i(t) for every neuron and t in 0..<tokens, neuron-major `[n][tokens]` (resample's table).
    /// Each neuron's generator state is mixed once and only the token is mixed per
    /// draw, which is `sourceToken` exactly (SplitMix64's stream mixing is one step per part).
    func table(tokens: Int) -> [Float] {
        let n = neuronCount
        var result = [Float](repeating: 0, count: n * tokens)
        guard value != .zero, tokens > 0 else { return result }
        result.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            parallelFor(2) { shard in
                for neuron in stride(from: shard, to: n, by: 2) {
                    let row = out.baseAddress! + neuron * tokens
                    switch value {
                    case .zero: break
                    case .mean: for token in 0..<tokens { row[token] = means[neuron] }
                    case .resample:
                        guard sourceTokens > 0 else { continue }
                        let neuronState = SplitMix64(seed: seed, stream: Self.resampleStream, UInt64(neuron)).state
                        source.withUnsafeBufferPointer { source in
                            for token in 0..<tokens {
                                var mixer = SplitMix64(seed: neuronState ^ (UInt64(token) &* 0x9E37_79B9_7F4A_7C15))
                                var generator = SplitMix64(seed: mixer.next())
                                row[token] = source[generator.nextIndex(below: sourceTokens) * n + neuron]
                            }
                        }
                    }
                }
            }
        }
        return result
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

/// One ablation order for `AblationEngine.curves(jobs:)`.
public struct AblationJob: Sendable {
    public var order: [Int]
    /// The focus sets (indices into `AblationEngine.focusSets`) it is measured with, one curve each.
    public var focusSets: [Int]
    /// Whether its curves get a sentence-bootstrap band (`CurveBand`).
    public var band: Bool

    public init(order: [Int], focusSets: [Int], band: Bool = false) {
        self.order = order
        self.focusSets = focusSets
        self.band = band
    }
}

/// Ablation of ordered neurons on one file: rankings, reverse rankings and
/// random orders, in either mode, with any `AblationReplacement` v_i(t).
///
/// Readout mode never reruns the LSTM: it keeps every token's logits in
/// label-major order and subtracts one neuron's change W[i, :]·(h_i(t) − v_i(t))
/// per step (W[i, :]·h_i(t) for zero), then takes the argmax of eight tokens at a
/// time. It exists only for the top layer, the one `hidden2tag` reads. Recurrent
/// mode reruns the analysed layer's recurrence (its input projections are cached)
/// with each ablated h_i set to v_i(t) after every step, and every layer above
/// it, sentences grouped by length, on both cores. With a CRF the predictions
/// are Viterbi paths, as the model decodes.
public final class AblationEngine {
    public let run: ModelRun
    /// Sets of labels whose rankings are ablated together (a pair, in the paper);
    /// for each set, "others" are the tokens whose gold label is none of its labels.
    public let focusSets: [[String]]
    public let steps: Int
    /// What an ablated neuron is set to.
    public let replacement: AblationReplacement
    let n: Int, m: Int, N: Int
    /// `[n][N]` neuron-major h_i(t) − v_i(t), what readout ablation removes per neuron (h_i(t) itself for zero).
    let readoutChange: [Float]
    /// v_i(t) in recurrent mode: nothing for zero, μ `[n]` for mean, the table `[n][N]` for resample.
    let recurrentReplacement: MaskedRecurrence.Replacement
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

    public convenience init(run: ModelRun, focusLabels: [String], steps: Int, replacement: AblationReplacement = .zero) {
        self.init(run: run, focusSets: [focusLabels], steps: steps, replacement: replacement)
    }

    /// - Parameter replacement: v_i(t), made from the `--rank-on` run of the same model and layer
    ///   (`AblationReplacement(value:rankRun:seed:)`); `.zero` for the paper's ablation.
    public init(run: ModelRun, focusSets: [[String]], steps: Int, replacement: AblationReplacement = .zero) {
        self.run = run
        self.focusSets = focusSets
        self.steps = steps
        self.replacement = replacement
        n = run.neuronCount
        m = run.labels.count
        N = run.tokenCount
        precondition(replacement.value == .zero || replacement.neuronCount == n,
                     "the replacement has \(replacement.neuronCount) neurons for \(n)")
        var change = [Float](repeating: 0, count: n * N)
        for token in 0..<N { for neuron in 0..<n { change[neuron * N + token] = run.hidden[token * n + neuron] } }
        switch replacement.value {
        case .zero:
            recurrentReplacement = .zero
        case .mean:
            for neuron in 0..<n {
                let mean = replacement.means[neuron]
                for token in 0..<N { change[neuron * N + token] -= mean }
            }
            recurrentReplacement = .constant(replacement.means)
        case .resample:
            let table = replacement.table(tokens: N)
            for index in change.indices { change[index] -= table[index] }
            recurrentReplacement = .perToken(table)
        }
        readoutChange = change
        var byLabel = [Float](repeating: 0, count: m * N)
        for token in 0..<N { for label in 0..<m { byLabel[label * N + token] = run.logits[token * m + label] } }
        logitsByLabel = byLabel
        // W by neuron, for readout ablation, which reads the top layer only: below it the layer's width is not W's.
        let outputWeight = Array(run.outputWeight)
        var w = [Float](repeating: 0, count: run.isTopLayer ? n * m : 0)
        if run.isTopLayer {
            for neuron in 0..<n { for label in 0..<m { w[neuron * m + label] = outputWeight[label * n + neuron] } }
        }
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
        for sentence in 0..<(starts.count - 1) {
            let start = starts[sentence]
            decodeSentence(logits: logits + start * m, steps: starts[sentence + 1] - start, into: predicted + start, scratch: scratch)
        }
    }

    /// One sentence's labels from its logits `[steps, m]` (token-major), by the model's decoding.
    func decodeSentence(logits: UnsafePointer<Float>, steps: Int, into predicted: UnsafeMutablePointer<Int32>, scratch: Buffer<Double>) {
        guard steps > 0 else { return }
        (transitions ?? []).withUnsafeBufferPointer { table in
            run.checkpoint.model.configuration.decoding.decode(
                logits: logits, steps: steps, labels: m, transitions: table.baseAddress, into: predicted, scratch: scratch)
        }
    }

    /// The accuracy keys of a curve measured with focus set `focus`, in the order of `SentenceCounts`:
    /// the labels present in the data, "others" when any token is outside the set, and "all".
    func accuracyKeys(focus: Int) -> [String] {
        presentLabels.map { run.labels[$0] } + (otherTotal[focus] > 0 ? ["others"] : []) + ["all"]
    }

    /// Per-sentence totals of each accuracy key, `[keys][S]`: the denominators of `measure` split by sentence.
    func sentenceTotals(focus: Int) -> [Double] {
        let keys = accuracyKeys(focus: focus).count, S = run.sentenceStarts.count - 1
        var keyOfLabel = [Int](repeating: -1, count: m)
        for (index, label) in presentLabels.enumerated() { keyOfLabel[label] = index }
        let otherKey = otherTotal[focus] > 0 ? presentLabels.count : -1, allKey = keys - 1
        var totals = [Double](repeating: 0, count: keys * S)
        for sentence in 0..<S {
            for token in run.sentenceStarts[sentence]..<run.sentenceStarts[sentence + 1] {
                let label = run.gold[token]
                if label >= 0 { totals[keyOfLabel[Int(label)] * S + sentence] += 1 }
                if otherKey >= 0 && isOther[focus][token] { totals[otherKey * S + sentence] += 1 }
                totals[allKey * S + sentence] += 1
            }
        }
        return totals
    }

    /// Per-k scores of one prediction vector, appended to `curve`; with `counts`, also each
    /// sentence's correct tokens per accuracy key (for the band).
    /// - Parameter focus: which focus set defines "others".
    func measure(_ predicted: UnsafePointer<Int32>, focus: Int, into curve: inout AblationCurve, counts: inout SentenceCounts?) {
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
        let counted = scorer.count(predicted: predicted)
        curve.f1.append(ChunkScorer.f1(correct: counted.correct, found: counted.found, gold: counted.gold))
        if counts != nil { counts?.append(sentencesOf: predicted, engine: self, focus: focus) }
    }

    /// Curves for several orders, each measured with focus set 0.
    public func curves(orders: [[Int]], mode: AblationMode) -> [AblationCurve] {
        curves(jobs: orders.map { AblationJob(order: $0, focusSets: [0]) }, mode: mode).map { $0[0] }
    }

    /// The same with the jobs as (order, focus sets) pairs, without bands.
    public func curves(jobs: [(order: [Int], focusSets: [Int])], mode: AblationMode) -> [[AblationCurve]] {
        curves(jobs: jobs.map { AblationJob(order: $0.order, focusSets: $0.focusSets) }, mode: mode)
    }

    /// Curves for several orders, each measured once per listed focus set:
    /// an order shared by several sets (a random control) is ablated once.
    /// Orders are split between the cores (a single recurrent order uses both
    /// cores inside each rerun instead).
    /// - Parameters:
    ///   - bandResamples: B, the sentence resamples of each band (`CurveBootstrap`); 0 gives no band.
    ///   - bandSeed: their seed; every banded curve uses the same B multiplicity vectors.
    public func curves(jobs: [AblationJob], mode: AblationMode, bandResamples: Int = 0, bandSeed: UInt64 = 0) -> [[AblationCurve]] {
        let bootstrap = bandResamples > 0 && jobs.contains(where: \.band)
            ? CurveBootstrap(resamples: bandResamples, sentences: run.sentenceStarts.count - 1, seed: bandSeed) : nil
        switch mode {
        case .readout:
            var results = [[AblationCurve]](repeating: [], count: jobs.count)
            let shards = 2
            results.withUnsafeMutableBufferPointer { buffer in
                let out = buffer
                parallelFor(shards) { shard in
                    let workspace = ReadoutWorkspace(labels: m, tokens: N, crf: transitions != nil)
                    for index in stride(from: shard, to: jobs.count, by: shards) {
                        out[index] = measuredCurves(jobs[index], bootstrap: bootstrap) { body in
                            readout(order: jobs[index].order, workspace: workspace, body)
                        }
                    }
                }
            }
            return results
        case .recurrent:
            let recurrence = makeRecurrence()
            guard jobs.count > 1 else {
                return jobs.map { job in
                    measuredCurves(job, bootstrap: bootstrap) { body in recurrent(order: job.order, recurrence: recurrence, body) }
                }
            }
            // Several orders: one per core, each rerun on one core, so the scoring between reruns runs in parallel too.
            var results = [[AblationCurve]](repeating: [], count: jobs.count)
            let shards = 2
            results.withUnsafeMutableBufferPointer { buffer in
                let out = buffer
                parallelFor(shards) { shard in
                    for index in stride(from: shard, to: jobs.count, by: shards) {
                        out[index] = measuredCurves(jobs[index], bootstrap: bootstrap) { body in
                            recurrent(order: jobs[index].order, recurrence: recurrence, parallel: false, body)
                        }
                    }
                }
            }
            return results
        }
    }

    private func measuredCurves(
        _ job: AblationJob, bootstrap: CurveBootstrap?, _ ablate: ((Int, UnsafePointer<Int32>) -> Void) -> Void
    ) -> [AblationCurve] {
        let neurons = Array(job.order.prefix(min(steps, job.order.count)))
        var curves = job.focusSets.map { _ in AblationCurve(neurons: neurons, accuracy: [:], f1: []) }
        var counts: [SentenceCounts?] = job.focusSets.map { focus in
            job.band && bootstrap != nil
                ? SentenceCounts(keys: accuracyKeys(focus: focus).count, points: neurons.count + 1, sentences: run.sentenceStarts.count - 1)
                : nil
        }
        ablate { _, predicted in
            for (slot, focus) in job.focusSets.enumerated() { measure(predicted, focus: focus, into: &curves[slot], counts: &counts[slot]) }
        }
        if let bootstrap {
            for (slot, focus) in job.focusSets.enumerated() {
                guard let counted = counts[slot] else { continue }
                curves[slot].band = bootstrap.band(
                    keys: accuracyKeys(focus: focus), correct: counted.correct, totals: sentenceTotals(focus: focus))
            }
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

    /// Calls `body(k, predictions)` for k = 0 … K with the first k neurons of `order` ablated at the readout:
    /// `logits[t, :] −= W[i, :]·(h_i(t) − v_i(t))` for each (top layer only: a lower layer has no readout).
    func readout(order: [Int], workspace: ReadoutWorkspace, _ body: (Int, UnsafePointer<Int32>) -> Void) {
        precondition(run.isTopLayer, "readout ablation needs the top layer; use recurrent mode for layer \(run.layer + 1)")
        let K = min(steps, order.count)
        workspace.logits.withUnsafeMutableBufferPointer { logitsBuffer in
            workspace.predicted.withUnsafeMutableBufferPointer { predictedBuffer in
                readoutChange.withUnsafeBufferPointer { changeBuffer in
                    let logits = logitsBuffer.baseAddress!, predicted = predictedBuffer.baseAddress!
                    let change = changeBuffer.baseAddress!
                    logitsByLabel.withUnsafeBufferPointer { logits.update(from: $0.baseAddress!, count: m * N) }
                    for k in 0...K {
                        if k > 0 {
                            let neuron = order[k - 1]
                            for label in 0..<m {
                                let w = weight[neuron * m + label]
                                if w != 0 {
                                    ReadoutKernels.subtractScaled(logits + label * N, w, change + neuron * N, N)
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

    /// The same with each ablated h_i also set to v_i(t) in the recurrent state
    /// after every step (`MaskedRecurrence.Replacement`). k = 0 is the model's
    /// own prediction (nothing to rerun).
    func recurrent(
        order: [Int], recurrence: MaskedRecurrence, parallel: Bool = true, _ body: (Int, UnsafePointer<Int32>) -> Void
    ) {
        let K = min(steps, order.count)
        run.predicted.withUnsafeBufferPointer { body(0, $0.baseAddress!) }
        guard K > 0 else { return }
        if recurrence.masksTopLayer {
            recurrentAllAtOnce(order: order, steps: K, recurrence: recurrence, parallel: parallel, body)
            return
        }
        // keep has the masked layer's n units; the rerun's states are the top layer's, of width O (n on the top layer).
        let O = run.checkpoint.model.configuration.outputSize
        var keep = [Float](repeating: 1, count: n)
        var hidden = [Float](repeating: 0, count: N * O)
        var logits = [Float](repeating: 0, count: N * m)
        var predicted = [Int32](repeating: 0, count: N)
        let crfScratch = Buffer<Double>()
        let bias = Array(run.outputBias), outputWeight = Array(run.outputWeight)
        for k in 1...K {
            keep[order[k - 1]] = 0
            hidden.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, replacement: recurrentReplacement, parallel: parallel, into: $0.baseAddress!) }
            Self.readout(hidden: hidden, tokens: N, width: O, bias: bias, weight: outputWeight, into: &logits)
            logits.withUnsafeBufferPointer { logitsBuffer in
                predicted.withUnsafeMutableBufferPointer { decode(tokenMajor: logitsBuffer.baseAddress!, into: $0.baseAddress!, scratch: crfScratch) }
            }
            predicted.withUnsafeBufferPointer { body(k, $0.baseAddress!) }
        }
    }

    /// A rerun's logits `[tokens, m]` = b + hidden `[tokens, O]` · Wᵀ (W `[m, O]`, b `[m]`): the bias first, then
    /// one GEMM adding the product, so every rerun path gets the same bits for a token.
    static func readout(
        hidden: UnsafePointer<Float>, tokens: Int, width O: Int, bias: [Float], weight: UnsafePointer<Float>,
        into logits: UnsafeMutablePointer<Float>
    ) {
        let m = bias.count
        for token in 0..<tokens { for label in 0..<m { logits[token * m + label] = bias[label] } }
        BLAS.gemm(transposeB: true, m: tokens, n: m, k: O, a: hidden, lda: O, b: weight, ldb: O, beta: 1, c: logits, ldc: m)
    }

    /// `recurrent` on the top layer: the K reruns of `order` at once (`MaskedRecurrence.runMasks`), each group
    /// under every mask while it is in cache, its logits and labels found as soon as it has run; then
    /// `body(k, predictions)` for k = 1 … K. The same logits, row by row, as `recurrent`'s one GEMM over all tokens.
    private func recurrentAllAtOnce(
        order: [Int], steps K: Int, recurrence: MaskedRecurrence, parallel: Bool, _ body: (Int, UnsafePointer<Int32>) -> Void
    ) {
        let O = run.checkpoint.model.configuration.outputSize
        let masks: [[Float]] = (1...K).map { k in
            var keep = [Float](repeating: 1, count: n)
            for neuron in order.prefix(k) { keep[neuron] = 0 }
            return keep
        }
        var predicted = [Int32](repeating: 0, count: K * N)
        let logitBuffers = [Buffer<Float>(), Buffer<Float>()], decodeScratch = [Buffer<Double>(), Buffer<Double>()]
        let bias = Array(run.outputBias), outputWeight = Array(run.outputWeight)
        let starts = run.sentenceStarts
        predicted.withUnsafeMutableBufferPointer { predictedBuffer in
            outputWeight.withUnsafeBufferPointer { weightBuffer in
                let all = predictedBuffer.baseAddress!, weights = weightBuffer.baseAddress!
                recurrence.runMasks(masks, replacement: recurrentReplacement, parallel: parallel) { mask, shard, states in
                    let tokens = states.starts[states.sentences.count]
                    let logits = logitBuffers[shard].reserve(max(1, tokens * m))
                    Self.readout(hidden: states.hidden, tokens: tokens, width: O, bias: bias, weight: weights, into: logits)
                    for (index, sentence) in states.sentences.enumerated() {
                        let start = states.starts[index]
                        decodeSentence(
                            logits: logits + start * m, steps: states.starts[index + 1] - start,
                            into: all + mask * N + starts[sentence], scratch: decodeScratch[shard])
                    }
                }
            }
        }
        predicted.withUnsafeBufferPointer { buffer in
            for k in 1...K { body(k, buffer.baseAddress! + (k - 1) * N) }
        }
    }
}

/// Each sentence's correct tokens per accuracy key for every k of one curve:
/// `correct [points · keys][S]`, appended one k at a time, keys in `AblationEngine.accuracyKeys` order.
struct SentenceCounts {
    let keys: Int
    var correct: [Double] = []

    /// - Parameter points: K + 1, reserved up front (`AnalysisMemory.band`).
    init(keys: Int, points: Int, sentences: Int) {
        self.keys = keys
        correct.reserveCapacity(keys * points * sentences)
    }

    mutating func append(sentencesOf predicted: UnsafePointer<Int32>, engine: AblationEngine, focus: Int) {
        let run = engine.run, S = run.sentenceStarts.count - 1
        var keyOfLabel = [Int](repeating: -1, count: engine.m)
        for (index, label) in engine.presentLabels.enumerated() { keyOfLabel[label] = index }
        let otherKey = engine.otherTotal[focus] > 0 ? engine.presentLabels.count : -1, allKey = keys - 1
        let base = correct.count
        correct.append(contentsOf: repeatElement(0, count: keys * S))
        correct.withUnsafeMutableBufferPointer { buffer in
            let rows = buffer.baseAddress! + base
            engine.isOther[focus].withUnsafeBufferPointer { other in
                for sentence in 0..<S {
                    for token in run.sentenceStarts[sentence]..<run.sentenceStarts[sentence + 1] {
                        let label = run.gold[token]
                        guard label >= 0, label == predicted[token] else { continue }
                        rows[keyOfLabel[Int(label)] * S + sentence] += 1
                        if otherKey >= 0 && other[token] { rows[otherKey * S + sentence] += 1 }
                        rows[allKey * S + sentence] += 1
                    }
                }
            }
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
