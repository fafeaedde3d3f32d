import DissectCore
import DissectKernels

/// The recurrent layer run forward only, over many sentences at once, with
/// chosen hidden units forced to zero after every step — both in the output
/// and in the state carried to the next step (the LSTM cell state is not
/// touched). This is "recurrent" ablation: zeroing h_i changes later steps.
///
/// The input projections do not depend on the mask, so they are computed once
/// (`projected`, from a normal forward pass) and only the recurrence reruns.
/// Sentences are grouped by length and stepped together, so each step is one
/// `[rows, H] × [H, G]` GEMM instead of `rows` matrix-vector products.
public final class MaskedRecurrence {
    public let configuration: TaggerConfiguration
    let parameters: [Float]
    let offsets: ParameterOffsets
    /// Per direction, `[N, G]`.
    let projected: [[Float]]
    /// Token offset of each sentence, `sentenceCount + 1` values.
    let sentenceStarts: [Int]
    /// Groups of sentence indices, each sorted by decreasing length.
    let groups: [[Int]]
    let groupShards: [Range<Int>]
    let transposed: [[Float]]

    public static let groupSize = 32

    public init(configuration: TaggerConfiguration, parameters: [Float], projected: [[Float]], sentenceStarts: [Int]) {
        self.configuration = configuration
        self.parameters = parameters
        let layout = ParameterLayout(configuration: configuration)
        offsets = ParameterOffsets(layout: layout, configuration: configuration)
        self.projected = projected
        self.sentenceStarts = sentenceStarts
        let count = sentenceStarts.count - 1
        let byLength = (0..<count).sorted {
            let a = sentenceStarts[$0 + 1] - sentenceStarts[$0], b = sentenceStarts[$1 + 1] - sentenceStarts[$1]
            return a != b ? a > b : $0 < $1
        }
        var groups: [[Int]] = []
        var index = 0
        while index < byLength.count {
            groups.append(Array(byLength[index..<min(index + MaskedRecurrence.groupSize, byLength.count)]))
            index += MaskedRecurrence.groupSize
        }
        self.groups = groups
        // Two shards of about equal steps × rows.
        let costs = groups.map { group in group.reduce(0) { $0 + sentenceStarts[$1 + 1] - sentenceStarts[$1] } }
        let total = costs.reduce(0, +)
        var split = 0, running = 0
        while split < groups.count && running + costs[split] <= total / 2 { running += costs[split]; split += 1 }
        groupShards = [0..<split, split..<groups.count]
        let H = configuration.hiddenSize, G = configuration.gateSize
        transposed = offsets.directions.map { direction in
            var result = [Float](repeating: 0, count: H * G)
            for gate in 0..<G { for unit in 0..<H { result[unit * G + gate] = parameters[direction.hiddenWeight + gate * H + unit] } }
            return result
        }
    }

    /// Scratch for one core.
    final class Workspace {
        let gates = Buffer<Float>()
        let state = Buffer<Float>()
        let cell = Buffer<Float>()
        let recurrent = Buffer<Float>()
    }

    /// Fills `hidden [N, O]` (O = H · directions) with the masked hidden
    /// states; `keep[i]` is 0 for an ablated neuron i (numbered [forward; backward]) and 1 otherwise.
    public func run(keep: [Float], into hidden: UnsafeMutablePointer<Float>) {
        let workspaces = [Workspace(), Workspace()]
        parallelFor(2) { shard in
            let workspace = workspaces[shard]
            for groupIndex in self.groupShards[shard] {
                for direction in 0..<self.configuration.directionCount {
                    self.runGroup(self.groups[groupIndex], direction: direction, keep: keep, hidden: hidden, workspace: workspace)
                }
            }
        }
    }

    private func runGroup(_ group: [Int], direction: Int, keep: [Float], hidden: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let c = configuration
        let H = c.hiddenSize, G = c.gateSize, O = c.outputSize
        let rows = group.count
        let lengths = group.map { sentenceStarts[$0 + 1] - sentenceStarts[$0] }
        guard let longest = lengths.first, longest > 0 else { return }
        let gates = workspace.gates.reserve(rows * G)
        let state = workspace.state.zero(rows * H)
        let cells = workspace.cell.zero(rows * H)
        let reverse = direction == 1
        let weights = offsets.directions[direction]
        parameters.withUnsafeBufferPointer { p in
        projected[direction].withUnsafeBufferPointer { input in
        transposed[direction].withUnsafeBufferPointer { transposedWeight in
        keep.withUnsafeBufferPointer { keepAll in
            let mask = keepAll.baseAddress! + direction * H
            for step in 0..<longest {
                // Rows are sorted by decreasing length, so the active ones are a prefix.
                var active = rows
                while active > 0 && lengths[active - 1] <= step { active -= 1 }
                for row in 0..<active {
                    let token = sentenceStarts[group[row]] + (reverse ? lengths[row] - 1 - step : step)
                    (gates + row * G).update(from: input.baseAddress! + token * G, count: G)
                }
                if c.cell == .gru {
                    // GRU: the recurrent part (with b_hh) is kept apart for the reset gate.
                    let recurrent = workspace.recurrent.reserve(rows * G)
                    for row in 0..<active { (recurrent + row * G).update(from: p.baseAddress! + weights.hiddenBias, count: G) }
                    if step > 0 {
                        BLAS.gemm(m: active, n: G, k: H, a: state, lda: H, b: transposedWeight.baseAddress!, ldb: G,
                                  beta: 1, c: recurrent, ldc: G)
                    }
                    for row in 0..<active {
                        let g = gates + row * G, r = recurrent + row * G, h = state + row * H
                        for unit in 0..<H {
                            let reset = Float.sigmoid(g[unit] + r[unit])
                            let update = Float.sigmoid(g[H + unit] + r[H + unit])
                            let newGate = Float.tanh(g[2 * H + unit] + reset * r[2 * H + unit])
                            h[unit] = ((1 - update) * newGate + update * h[unit]) * mask[unit]
                        }
                    }
                } else {
                    if step > 0 {
                        BLAS.gemm(m: active, n: G, k: H, a: state, lda: H, b: transposedWeight.baseAddress!, ldb: G,
                                  beta: 1, c: gates, ldc: G)
                    }
                    // One sigmoid pass over every active row: tanh(x) = 2σ(2x) − 1 for the g gate.
                    for row in 0..<active { for unit in 0..<H { gates[row * G + 2 * H + unit] *= 2 } }
                    Kernels.sigmoidInPlace(gates, active * G)
                    for row in 0..<active {
                        let g = gates + row * G, h = state + row * H, cell = cells + row * H
                        for unit in 0..<H { g[2 * H + unit] = 2 * g[2 * H + unit] - 1 }
                        for unit in 0..<H { cell[unit] = g[H + unit] * cell[unit] + g[unit] * g[2 * H + unit] }
                        h.update(from: cell, count: H)
                        Kernels.tanhInPlace(h, H)
                        for unit in 0..<H { h[unit] = g[3 * H + unit] * h[unit] * mask[unit] }
                    }
                }
                for row in 0..<active {
                    let token = sentenceStarts[group[row]] + (reverse ? lengths[row] - 1 - step : step)
                    (hidden + token * O + direction * H).update(from: state + row * H, count: H)
                }
            }
        }
        }
        }
        }
    }
}
