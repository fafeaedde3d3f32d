import DissectCore
import DissectKernels

/// The recurrent layers run forward only, over many sentences at once, with
/// chosen hidden units of one layer forced to a value v_i(t) after every step
/// (zero, as the paper, or a `Replacement`) — both in that layer's output and
/// in the state it carries to its next step (an LSTM's cell state is not
/// touched). This is "recurrent" ablation: setting h_i changes every later
/// step, and every layer above, which then runs normally.
///
/// The masked layer's input projections do not depend on the mask, so they
/// are computed once (from a normal forward pass, and kept in the order the
/// groups read them, step by step, so each step copies one contiguous block)
/// and only its recurrence reruns; each layer above gets its projection from one GEMM over
/// all tokens. Sentences are grouped by length and stepped together, so each
/// step is one `[rows, H] × [H, G]` product (`Kernels.addRowsTimesPanels`, the
/// batched recurrence's, with W_hhᵀ packed in panels once) instead of `rows`
/// matrix-vector products; the pointwise part of each step is the cell's own
/// (`LSTMCell.forwardPointwiseRows` over all the step's rows, `GRUCell.forwardPointwise` and the like row by row).
public final class MaskedRecurrence {
    public let configuration: TaggerConfiguration
    /// The layer whose units are masked, 0-based.
    public let layer: Int
    let parameters: [Float]
    let offsets: ParameterOffsets
    /// The masked layer's projections per direction `[N, G]`, in group order: group by group,
    /// step by step, the rows still running (the token each reads in that direction).
    let packedProjected: [[Float]]
    /// Where each group's rows start in `packedProjected`, in rows.
    let groupStarts: [Int]
    /// Token offset of each sentence, `sentenceCount + 1` values.
    let sentenceStarts: [Int]
    /// Groups of sentence indices, each sorted by decreasing length.
    let groups: [[Int]]
    let groupShards: [Range<Int>]
    /// W_hhᵀ `[H, G]` of every layer from `layer` up in `Kernels.packPanels` layout, `[layer − self.layer][direction]`.
    let panels: [[[Float]]]

    public static let groupSize = 32

    /// - Parameters:
    ///   - layer: the masked layer, 0-based, below `configuration.layers`.
    ///   - projected: that layer's input projections per direction (`TaggerShard.projectedInput`).
    public init(configuration: TaggerConfiguration, parameters: [Float], layer: Int, projected: [[Float]], sentenceStarts: [Int]) {
        self.configuration = configuration
        self.parameters = parameters
        self.layer = layer
        let layout = ParameterLayout(configuration: configuration)
        offsets = ParameterOffsets(layout: layout, configuration: configuration)
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
        // The group that crosses the half goes to the first shard when that leaves the shards closer.
        if split < groups.count && 2 * (running + costs[split]) - total < total - 2 * running { split += 1 }
        groupShards = [0..<split, split..<groups.count]
        var starts = [0]
        for cost in costs { starts.append(starts[starts.count - 1] + cost) }
        groupStarts = starts
        let G = configuration.gateSize(layer: layer), N = sentenceStarts[count]
        packedProjected = projected.enumerated().map { direction, tokenOrder in
            // `copySpan` past the last row's end reads up to 7 more values.
            var packed = [Float](repeating: 0, count: N * G + MaskedRecurrence.copySlack)
            var row = 0
            for group in groups {
                let lengths = group.map { sentenceStarts[$0 + 1] - sentenceStarts[$0] }
                for step in 0..<(lengths.first ?? 0) {
                    for (index, sentence) in group.enumerated() where lengths[index] > step {
                        let token = sentenceStarts[sentence] + (direction == 1 ? lengths[index] - 1 - step : step)
                        for gate in 0..<G { packed[row * G + gate] = tokenOrder[token * G + gate] }
                        row += 1
                    }
                }
            }
            return packed
        }
        let recurrent = offsets.recurrent
        panels = recurrent.indices.dropFirst(layer).map { current in
            let H = configuration.hiddenSize(layer: current), G = configuration.gateSize(layer: current)
            return recurrent[current].map { direction in
                var result = [Float](repeating: 0, count: Kernels.panelCount(k: H, n: G))
                parameters.withUnsafeBufferPointer {
                    Kernels.packPanels($0.baseAddress! + direction.hiddenWeight, k: H, n: G, transposed: true, into: &result)
                }
                return result
            }
        }
    }

    /// What an ablated unit's h_i(t) is set to after every step of the masked layer, v_i(t).
    /// Units are numbered [forward; backward] within the layer (O = H · directions, N tokens);
    /// t is the token the step reads, so a backward unit at token t gets v_i(t) of that token.
    public enum Replacement: Sendable {
        /// v_i(t) = 0: h is multiplied by `keep` (the paper's ablation, the fastest path).
        case zero
        /// v_i(t) = values[i], one per unit, `[O]` (e.g. its mean).
        case constant([Float])
        /// v_i(t) = values[i · N + t], per unit and token, unit-major `[O][N]` (e.g. a resampled value).
        case perToken([Float])
    }

    /// One direction's ablated units (0..<H) and where their values are: v = values[bases[j] + token · tokenStride].
    struct Substitution {
        var units: [Int]
        var bases: [Int]
        var tokenStride: Int
        var values: UnsafePointer<Float>?
    }

    /// Scratch for one core.
    final class Workspace {
        let gates = Buffer<Float>()
        let state = Buffer<Float>()
        let cell = Buffer<Float>()
        let recurrent = Buffer<Float>()
        let auxiliary = Buffer<Float>()
        /// One group's states in `runMasks`.
        let groupStates = Buffer<Float>()
    }

    /// Fills `hidden [N, O]` (O = H · directions) with the top layer's states
    /// when the units of layer `layer` with `keep[i] = 0` are ablated (numbered
    /// [forward; backward] within the layer); every other `keep[i]` is 1.
    /// An ablated unit's h_i(t) becomes v_i(t) of `replacement` after every step:
    /// `.zero` multiplies h by `keep`, the others set the ablated units' values.
    ///
    /// With `parallel` the two shards of groups run on both cores; without, one after the other on the
    /// caller's thread (for callers that run several reruns at once). Each group's arithmetic is the same
    /// either way, so the result is too.
    public func run(
        keep: [Float], replacement: Replacement = .zero, parallel: Bool = true, into hidden: UnsafeMutablePointer<Float>
    ) {
        let c = configuration
        // O and H of the masked layer; each layer above has its own (`runGroup`).
        let N = sentenceStarts[sentenceStarts.count - 1], O = c.outputSize(layer: layer), H = c.hiddenSize(layer: layer)
        precondition(keep.count == O, "keep has \(keep.count) values for \(O) units")
        let (table, tokenStride, isZero) = replacementTable(replacement)
        let workspaces = [Workspace(), Workspace()]
        let top = c.layers - 1
        // Layers below the top write into `below`; the top writes into `hidden`.
        let belowWidth = (layer..<top).map { c.outputSize(layer: $0) }.max() ?? 0
        let below = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, N * belowWidth))
        defer { below.deallocate() }
        var upperProjected = [[Float]](repeating: [], count: layer < top ? c.directionCount : 0)
        keep.withUnsafeBufferPointer { keepAll in
            table.withUnsafeBufferPointer { tableBuffer in
                // Per direction, the ablated units and the offsets of their values in the table.
                let substitutions = isZero ? nil : self.substitutions(keep: keepAll, table: tableBuffer, tokenStride: tokenStride)
                for current in layer...top {
                    let output = current == top ? hidden : below.baseAddress!
                    if current > layer {
                        // The layer below's output (now in `below`) projected by this layer's input weights.
                        for direction in 0..<c.directionCount {
                            upperProjected[direction] = project(UnsafePointer(below.baseAddress!), layer: current, direction: direction, tokens: N)
                        }
                    }
                    // The masked layer reads its projections in group order, the layers above in token order.
                    let inputs = current == layer ? packedProjected : upperProjected
                    let mask = current == layer && isZero ? keepAll.baseAddress : nil
                    func runShard(_ shard: Int, workspace: Workspace) {
                        for groupIndex in self.groupShards[shard] {
                            for direction in 0..<c.directionCount {
                                inputs[direction].withUnsafeBufferPointer { input in
                                    self.runGroup(
                                        groupIndex, layer: current, direction: direction,
                                        input: input.baseAddress!, inGroupOrder: current == layer, mask: mask.map { $0 + direction * H },
                                        substitution: current == layer ? substitutions?[direction] : nil,
                                        output: output, workspace: workspace)
                                }
                            }
                        }
                    }
                    if parallel {
                        parallelFor(2) { shard in runShard(shard, workspace: workspaces[shard]) }
                    } else {
                        for shard in 0..<2 { runShard(shard, workspace: workspaces[0]) }
                    }
                }
            }
        }
    }

    /// The replacement's values as one table, its stride per token (0: one value per unit), and whether it is `.zero`.
    private func replacementTable(_ replacement: Replacement) -> (table: [Float], tokenStride: Int, isZero: Bool) {
        let N = sentenceStarts[sentenceStarts.count - 1], O = configuration.outputSize(layer: layer)
        let result: (table: [Float], tokenStride: Int, isZero: Bool)
        switch replacement {
        case .zero: result = ([], 0, true)
        case .constant(let values): result = (values, 0, false)
        case .perToken(let values): result = (values, 1, false)
        }
        precondition(result.isZero || result.table.count == (result.tokenStride == 0 ? O : O * N), "the replacement has \(result.table.count) values")
        return result
    }

    /// Per direction, the units with `keep[i] = 0` and the offsets of their values in `table`.
    private func substitutions(keep: UnsafeBufferPointer<Float>, table: UnsafeBufferPointer<Float>, tokenStride: Int) -> [Substitution] {
        let c = configuration, H = c.hiddenSize(layer: layer), N = sentenceStarts[sentenceStarts.count - 1]
        return (0..<c.directionCount).map { direction in
            let units = (0..<H).filter { keep[direction * H + $0] == 0 }
            return Substitution(
                units: units, bases: units.map { (direction * H + $0) * (tokenStride == 0 ? 1 : N) },
                tokenStride: tokenStride, values: table.baseAddress)
        }
    }

    /// Whether `runMasks` applies: the masked layer is the top one, so a group's states are final once it has run.
    public var masksTopLayer: Bool { layer == configuration.layers - 1 }

    /// One group's top-layer states under one mask, as `runMasks` hands them over (valid only during the call).
    public struct GroupStates {
        /// The group's sentences (indices into the data), longest first.
        public let sentences: [Int]
        /// Where each sentence starts in `hidden`, in tokens: `sentences.count + 1` values, from 0.
        public let starts: UnsafeBufferPointer<Int>
        /// `[starts.last, O]`: the states of the group's tokens, sentence by sentence.
        public let hidden: UnsafePointer<Float>
    }

    /// `run` for every mask of `keeps` at once, group by group: each group runs under every mask in turn while
    /// its projections are in cache, where `run` per mask streams all N · G of them from memory each time
    /// (a seventh of a paper-model rerun, by `perf`). `consume(mask, shard, states)` gets each group's states
    /// under each mask; the shard (0 or 1) says which core's scratch to use. A group's arithmetic is `run`'s,
    /// so its states are bit for bit those of `run` with the same mask. The top layer only (`masksTopLayer`).
    public func runMasks(
        _ keeps: [[Float]], replacement: Replacement = .zero, parallel: Bool = true,
        consume: (_ mask: Int, _ shard: Int, _ states: GroupStates) -> Void
    ) {
        precondition(masksTopLayer, "runMasks needs the masked layer to be the top one")
        let c = configuration, O = c.outputSize(layer: layer), H = c.hiddenSize(layer: layer)
        for keep in keeps { precondition(keep.count == O, "keep has \(keep.count) values for \(O) units") }
        let (table, tokenStride, isZero) = replacementTable(replacement)
        let workspaces = [Workspace(), Workspace()]
        // A group's tokens are its rows in `packedProjected`.
        let longest = zip(groupStarts.dropFirst(), groupStarts).map { $0 - $1 }.max() ?? 0
        let compacts = isZero && c.cell == .lstm ? compactMasks(keeps) : keeps.map { _ in [CompactMask?](repeating: nil, count: c.directionCount) }
        table.withUnsafeBufferPointer { tableBuffer in
            let substitutions: [[Substitution]?] = keeps.map { keep in
                isZero ? nil : keep.withUnsafeBufferPointer { self.substitutions(keep: $0, table: tableBuffer, tokenStride: tokenStride) }
            }
            func runShard(_ shard: Int) {
                let workspace = workspaces[shard]
                let hidden = workspace.groupStates.reserve(max(1, longest * O))
                for groupIndex in groupShards[shard] {
                    let group = groups[groupIndex]
                    var starts = [0]
                    for sentence in group { starts.append(starts[starts.count - 1] + sentenceStarts[sentence + 1] - sentenceStarts[sentence]) }
                    starts.withUnsafeBufferPointer { startsBuffer in
                        for (maskIndex, keep) in keeps.enumerated() {
                            keep.withUnsafeBufferPointer { keepAll in
                                for direction in 0..<c.directionCount {
                                    packedProjected[direction].withUnsafeBufferPointer { input in
                                        if let compact = compacts[maskIndex][direction] {
                                            runCompactGroup(
                                                groupIndex, direction: direction, input: input.baseAddress!, compact: compact, output: hidden,
                                                outputStarts: startsBuffer.baseAddress!, workspace: workspace)
                                            return
                                        }
                                        runGroup(
                                            groupIndex, layer: layer, direction: direction, input: input.baseAddress!, inGroupOrder: true,
                                            mask: isZero ? keepAll.baseAddress.map { $0 + direction * H } : nil,
                                            substitution: substitutions[maskIndex]?[direction], output: hidden,
                                            outputStarts: startsBuffer.baseAddress, workspace: workspace)
                                    }
                                }
                            }
                            consume(maskIndex, shard, GroupStates(sentences: group, starts: startsBuffer, hidden: UnsafePointer(hidden)))
                        }
                    }
                }
            }
            if parallel {
                parallelFor(2) { shard in runShard(shard) }
            } else {
                for shard in 0..<2 { runShard(shard) }
            }
        }
    }

    /// One direction of one mask of the masked LSTM layer with only its live units (`runCompactGroup`).
    struct CompactMask {
        /// H′, the units kept (keep = 1); `masked` the rest, ascending.
        let liveCount: Int
        let masked: [Int]
        /// The 4H′ gate columns of the live units ([i f g o] block by block, into a row of `[G]`) as runs of
        /// consecutive columns, and the live units as runs of consecutive units: the gather and the scatter copy
        /// blocks, not values one by one (which took a fifth of the compacted rerun).
        let gateRuns: [Run]
        let liveRuns: [Run]
        /// W_hhᵀ restricted to the live units' rows and gate columns, `[H′, 4H′]` in `Kernels.packPanels` layout.
        let panels: [Float]

        /// `count` values from `source` (in the wide row) to `destination` (in the compact one).
        struct Run {
            var source: Int
            var destination: Int
            var count: Int
        }

        /// The runs of consecutive values in `indices` (ascending), each with its position in `indices`.
        static func runs(_ indices: [Int]) -> [Run] {
            var result: [Run] = []
            for (position, index) in indices.enumerated() {
                if let last = result.last, last.source + last.count == index {
                    result[result.count - 1].count += 1
                } else {
                    result.append(Run(source: index, destination: position, count: 1))
                }
            }
            return result
        }
    }

    /// At most this many floats of compacted W_hhᵀ per `runMasks` call (16 MiB); masks past it run in full.
    public static let compactPanelBudget = 1 << 22

    /// Per mask and direction, its `CompactMask`, or nil where nothing is ablated, a keep is not 0 or 1, or
    /// the budget is spent (the masked layer is an LSTM and the replacement `.zero`).
    ///
    /// Why it keeps the bits: an ablated unit's h_i is 0 after every step, so its row of the panel product adds
    /// s·0 to each sum (which leaves a sum that starts at +0 unchanged, the kernel's order over k being
    /// ascending), and its own gates and cell feed only h_i, so they need not be computed at all. A
    /// mask that ablates a quarter of the units leaves (3/4)² of the product and 3/4 of the pointwise work.
    func compactMasks(_ keeps: [[Float]]) -> [[CompactMask?]] {
        let c = configuration, H = c.hiddenSize(layer: layer), G = c.gateSize(layer: layer)
        var budget = Self.compactPanelBudget
        return keeps.map { keep in
            (0..<c.directionCount).map { direction -> CompactMask? in
                let values = keep[(direction * H)..<((direction + 1) * H)]
                guard values.contains(0), values.allSatisfy({ $0 == 0 || $0 == 1 }) else { return nil }
                let live = (0..<H).filter { keep[direction * H + $0] == 1 }, masked = (0..<H).filter { keep[direction * H + $0] == 0 }
                let columns = (0..<4).flatMap { block in live.map { block * H + $0 } }
                let size = Kernels.panelCount(k: live.count, n: columns.count)
                guard size <= budget else { return nil }
                budget -= size
                // W_hh `[G, H]` restricted to the live gates (rows) and live units (columns), then packed transposed.
                let hiddenWeight = offsets.recurrent[layer][direction].hiddenWeight
                var restricted = [Float](repeating: 0, count: columns.count * live.count)
                for (row, gate) in columns.enumerated() {
                    precondition(gate < G)
                    for (column, unit) in live.enumerated() { restricted[row * live.count + column] = parameters[hiddenWeight + gate * H + unit] }
                }
                var panels = [Float](repeating: 0, count: size)
                if size > 0 {
                    restricted.withUnsafeBufferPointer {
                        Kernels.packPanels($0.baseAddress!, k: live.count, n: columns.count, transposed: true, into: &panels)
                    }
                }
                return CompactMask(
                    liveCount: live.count, masked: masked, gateRuns: CompactMask.runs(columns),
                    liveRuns: CompactMask.runs(live), panels: panels)
            }
        }
    }

    /// The lengths of group `groupIndex`'s sentences, longest first.
    private func groupLengths(_ groupIndex: Int) -> [Int] {
        groups[groupIndex].map { sentenceStarts[$0 + 1] - sentenceStarts[$0] }
    }

    /// How many of a group's sentences (`lengths`, decreasing) are still running at `step`: a prefix of the rows.
    @inline(__always)
    private static func activeRows(_ lengths: [Int], step: Int) -> Int {
        var active = lengths.count
        while active > 0 && lengths[active - 1] <= step { active -= 1 }
        return active
    }

    /// `runGroup` of the masked LSTM layer under a `.zero` mask with only the live units: their gate columns of
    /// the projections gathered, the product `[rows, H′] × [H′, 4H′]`, the pointwise step over H′ units; the
    /// ablated units' outputs are 0. The same bits as `runGroup` (see `compactMasks`).
    private func runCompactGroup(
        _ groupIndex: Int, direction: Int, input: UnsafePointer<Float>, compact: CompactMask,
        output: UnsafeMutablePointer<Float>, outputStarts: UnsafePointer<Int>, workspace: Workspace
    ) {
        let c = configuration
        let H = c.hiddenSize(layer: layer), G = c.gateSize(layer: layer), O = c.outputSize(layer: layer)
        let rows = groups[groupIndex].count, lengths = groupLengths(groupIndex)
        var packedRow = groupStarts[groupIndex]
        guard let longest = lengths.first, longest > 0 else { return }
        let live = compact.liveCount, liveGates = 4 * live
        let gates = workspace.gates.reserve(rows * liveGates + Self.copySlack)
        let state = workspace.state.zero(rows * live + Self.copySlack)
        let wide = workspace.recurrent.reserve(H + Self.copySlack)
        let cells = workspace.cell.zero(max(1, rows * live))
        let auxiliary = workspace.auxiliary.reserve(max(1, rows * live))
        let reverse = direction == 1
        compact.panels.withUnsafeBufferPointer { panelBuffer in
        compact.gateRuns.withUnsafeBufferPointer { gateRuns in
        compact.liveRuns.withUnsafeBufferPointer { liveRuns in
        compact.masked.withUnsafeBufferPointer { maskedUnits in
            for step in 0..<longest {
                let active = Self.activeRows(lengths, step: step)
                if live > 0 {
                    for row in 0..<active {
                        let source = input + (packedRow + row) * G, gate = gates + row * liveGates
                        for run in gateRuns { Self.copySpan(gate + run.destination, source + run.source, count: run.count) }
                    }
                    if step > 0, let panels = panelBuffer.baseAddress {
                        Kernels.addRowsTimesPanels(gates, outStride: liveGates, state, xStride: live, panels, rows: active, k: live, n: liveGates)
                    }
                    LSTMCell.forwardPointwiseRows(
                        rows: active, hiddenSize: live, gates: gates, cellPrevious: UnsafePointer(cells), cell: cells,
                        tanhCell: auxiliary, hidden: state)
                }
                packedRow += active
                for row in 0..<active {
                    let token = outputStarts[row] + (reverse ? lengths[row] - 1 - step : step)
                    let h = state + row * live
                    // The row is spread in `wide` first, then copied exactly: a span's overshoot in `output` could
                    // reach a row the other direction, or another sentence, has written.
                    for run in liveRuns { Self.copySpan(wide + run.source, h + run.destination, count: run.count) }
                    for unit in maskedUnits { wide[unit] = 0 }
                    Self.copyExactly(output + token * O + direction * H, wide, count: H)
                }
            }
        }
        }
        }
        }
    }

    /// Values that `copySpan` may read and write past a span's end.
    static let copySlack = 8

    /// `count` values from `source` to `destination` in blocks of eight, so up to 7 values past the end are read
    /// and written: a compacted row's runs are short (a few values), where a `memmove` per run cost more than the
    /// copying. The caller writes the spans of a row in ascending order, so each overshoot is overwritten by the
    /// next span (in a spread row, by the next span or the masked units' zeros), and leaves `copySlack` values after
    /// the last one.
    @inline(__always)
    static func copySpan(_ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
        var offset = 0
        while offset < count {
            UnsafeMutableRawPointer(destination + offset).storeBytes(
                of: UnsafeRawPointer(source + offset).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            offset += 8
        }
    }

    /// `count` values from `source` to `destination`, eight at a time and the last 0–7 one by one.
    @inline(__always)
    static func copyExactly(_ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
        var offset = 0
        while offset + 8 <= count {
            UnsafeMutableRawPointer(destination + offset).storeBytes(
                of: UnsafeRawPointer(source + offset).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            offset += 8
        }
        while offset < count { destination[offset] = source[offset]; offset += 1 }
    }

    /// `[N, G]`: `input [N, O]` · W_ihᵀ + b_ih (+ b_hh when the cell folds it) for one layer and direction.
    private func project(_ input: UnsafePointer<Float>, layer: Int, direction: Int, tokens N: Int) -> [Float] {
        let c = configuration
        let G = c.gateSize(layer: layer)
        var result = [Float](repeating: 0, count: N * G)
        var bias = [Float](repeating: 0, count: G)
        parameters.withUnsafeBufferPointer { p in
            offsets.recurrent[layer][direction].project(
                parameters: p.baseAddress!, cell: c.cell, input: input, tokens: N, width: c.layerInputSize(layer),
                gateSize: G, into: &result, bias: &bias)
        }
        return result
    }

    /// One group of sentences through one layer and direction; after every step `mask` (H values)
    /// multiplies h, or `substitution` sets its units to their values at the step's token.
    /// - Parameters:
    ///   - inGroupOrder: `input` is `packedProjected` (this group's rows from `groupStarts`), not by token.
    ///   - outputStarts: where each of the group's sentences starts in `output`, in tokens (nil: its place in the data).
    private func runGroup(
        _ groupIndex: Int, layer: Int, direction: Int, input: UnsafePointer<Float>, inGroupOrder: Bool, mask: UnsafePointer<Float>?,
        substitution: Substitution?, output: UnsafeMutablePointer<Float>, outputStarts: UnsafePointer<Int>? = nil, workspace: Workspace
    ) {
        let c = configuration
        let H = c.hiddenSize(layer: layer), G = c.gateSize(layer: layer), O = c.outputSize(layer: layer)
        let group = groups[groupIndex], rows = group.count, lengths = groupLengths(groupIndex)
        var packedRow = groupStarts[groupIndex]
        guard let longest = lengths.first, longest > 0 else { return }
        let gates = workspace.gates.reserve(rows * G)
        let state = workspace.state.zero(rows * H)
        let cells = workspace.cell.zero(rows * H)
        let auxiliary = workspace.auxiliary.reserve(rows * H)
        let recurrent = workspace.recurrent.reserve(rows * G)
        let reverse = direction == 1
        let weights = offsets.recurrent[layer][direction]
        parameters.withUnsafeBufferPointer { p in
        panels[layer - self.layer][direction].withUnsafeBufferPointer { panelBuffer in
            let hiddenPanels = panelBuffer.baseAddress!
            for step in 0..<longest {
                let active = Self.activeRows(lengths, step: step)
                if inGroupOrder {
                    gates.update(from: input + packedRow * G, count: active * G)
                    packedRow += active
                } else {
                    for row in 0..<active {
                        let token = sentenceStarts[group[row]] + (reverse ? lengths[row] - 1 - step : step)
                        (gates + row * G).update(from: input + token * G, count: G)
                    }
                }
                switch c.cell {
                case .lstm:
                    if step > 0 {
                        Kernels.addRowsTimesPanels(gates, outStride: G, state, xStride: H, hiddenPanels, rows: active, k: H, n: G)
                    }
                    LSTMCell.forwardPointwiseRows(
                        rows: active, hiddenSize: H, gates: gates, cellPrevious: UnsafePointer(cells), cell: cells,
                        tanhCell: auxiliary, hidden: state)
                case .gru:
                    // The recurrent part (with b_hh) is kept apart for the reset gate.
                    for row in 0..<active { (recurrent + row * G).update(from: p.baseAddress! + weights.hiddenBias, count: G) }
                    if step > 0 {
                        Kernels.addRowsTimesPanels(recurrent, outStride: G, state, xStride: H, hiddenPanels, rows: active, k: H, n: G)
                    }
                    for row in 0..<active {
                        GRUCell.forwardPointwise(
                            hiddenSize: H, input: gates + row * G, recurrent: recurrent + row * G,
                            hiddenPrevious: state + row * H, gates: gates + row * G, candidate: auxiliary + row * H,
                            hidden: state + row * H)
                    }
                case .rnn:
                    if step > 0 {
                        Kernels.addRowsTimesPanels(gates, outStride: G, state, xStride: H, hiddenPanels, rows: active, k: H, n: G)
                    }
                    for row in 0..<active {
                        RNNCell.forwardPointwise(hiddenSize: H, gates: gates + row * G, hidden: state + row * H)
                    }
                }
                if let mask {
                    for row in 0..<active {
                        let h = state + row * H
                        // An ablated h_i is +0 (not h·0, which is −0 for negative h), as in `runCompactGroup`.
                        for unit in 0..<H { h[unit] = mask[unit] == 0 ? 0 : h[unit] * mask[unit] }
                    }
                } else if let substitution, let values = substitution.values {
                    for row in 0..<active {
                        let token = sentenceStarts[group[row]] + (reverse ? lengths[row] - 1 - step : step)
                        let h = state + row * H, offset = token * substitution.tokenStride
                        for (unit, base) in zip(substitution.units, substitution.bases) { h[unit] = values[base + offset] }
                    }
                }
                for row in 0..<active {
                    let start = outputStarts?[row] ?? sentenceStarts[group[row]]
                    let token = start + (reverse ? lengths[row] - 1 - step : step)
                    (output + token * O + direction * H).update(from: state + row * H, count: H)
                }
            }
        }
        }
    }
}
