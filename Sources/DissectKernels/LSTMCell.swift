import DissectCore

/// The LSTM cell, as `torch.nn.LSTM` (gate order i, f, g, o; G = 4H):
///
///     [i f g o] = x·W_ihᵀ + b_ih + h(t−1)·W_hhᵀ + b_hh
///     i, f, o = σ(·),  g = tanh(·)
///     c(t) = f ⊙ c(t−1) + i ⊙ g,   h(t) = o ⊙ tanh(c(t))
///
/// This file is the only place these equations are written: the pointwise
/// step (fast path and the naive reference it is tested against), the
/// pointwise backward step, and the recurrence over one sentence that
/// training, prediction and hidden-state caching run. Recurrent ablation
/// (`MaskedRecurrence`) calls the same pointwise step over all of a step's rows (`forwardPointwiseRows`).
///
/// Buffers in `RecurrenceBuffers`: `state` holds c(t), `auxiliary` tanh c(t).
/// The caller folds b_hh into the projection (`CellKind.foldsHiddenBias`).
public enum LSTMCell {
    public static let gateCount = 4

    /// One step's pointwise part for one row (H units, or only `units`).
    /// - Parameters:
    ///   - gates: in the pre-activations `[4H]`, out the activations i, f, g, o.
    ///   - cellPrevious: c(t−1) `[H]`, nil for zeros (the first step); may alias `cell`.
    ///   - cell, tanhCell, hidden: out `[H]`: c(t), tanh c(t), h(t).
    ///   - units: the units to compute (all by default); the others are left as they are.
    ///     Every value is elementwise, so a unit gets the same bits whatever range it is computed in.
    @_specialize(where T == Float)
    @inline(__always)
    public static func forwardPointwise<T: Scalar>(
        hiddenSize H: Int, gates: UnsafeMutablePointer<T>, cellPrevious: UnsafePointer<T>?,
        cell: UnsafeMutablePointer<T>, tanhCell: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>,
        units: Range<Int>? = nil
    ) {
        let units = units ?? 0..<H
        let first = units.lowerBound, width = units.count
        // One sigmoid pass over the 4 gate blocks (8 lanes at a time on the Float
        // path; one pass over all 4H when every unit runs), with tanh(x) = 2σ(2x) − 1 for the candidate g.
        for unit in units { gates[2 * H + unit] *= 2 }
        if width == H {
            Kernels.sigmoidInPlace(gates, 4 * H)
        } else {
            for block in 0..<4 { Kernels.sigmoidInPlace(gates + block * H + first, width) }
        }
        for unit in units { gates[2 * H + unit] = 2 * gates[2 * H + unit] - 1 }
        if let cellPrevious {
            for unit in units { cell[unit] = gates[H + unit] * cellPrevious[unit] + gates[unit] * gates[2 * H + unit] }
        } else {
            for unit in units { cell[unit] = gates[unit] * gates[2 * H + unit] }
        }
        (tanhCell + first).update(from: cell + first, count: width)
        Kernels.tanhInPlace(tanhCell + first, width)
        for unit in units { hidden[unit] = gates[3 * H + unit] * tanhCell[unit] }
    }

    /// `forwardPointwise` for `rows` consecutive rows at once, in Float (gates `[rows, 4H]`; cellPrevious, cell,
    /// tanhCell and hidden `[rows, H]`; cellPrevious nil for zeros, and it may alias `cell`): the same values bit
    /// for bit, since every operation is elementwise, with one sigmoid pass over all the rows' gates and one tanh
    /// pass over all their cells instead of one of each per row (recurrent ablation runs up to 32 rows a step).
    public static func forwardPointwiseRows(
        rows: Int, hiddenSize H: Int, gates: UnsafeMutablePointer<Float>, cellPrevious: UnsafePointer<Float>?,
        cell: UnsafeMutablePointer<Float>, tanhCell: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>
    ) {
        let G = 4 * H
        for row in 0..<rows {
            let candidate = gates + row * G + 2 * H
            for unit in 0..<H { candidate[unit] *= 2 }
        }
        FloatKernels.sigmoidInPlace(gates, rows * G)
        for row in 0..<rows {
            let a = gates + row * G, c = cell + row * H
            for unit in 0..<H { a[2 * H + unit] = 2 * a[2 * H + unit] - 1 }
            if let cellPrevious {
                let previous = cellPrevious + row * H
                for unit in 0..<H { c[unit] = a[H + unit] * previous[unit] + a[unit] * a[2 * H + unit] }
            } else {
                for unit in 0..<H { c[unit] = a[unit] * a[2 * H + unit] }
            }
        }
        tanhCell.update(from: cell, count: rows * H)
        FloatKernels.tanhInPlace(tanhCell, rows * H)
        for row in 0..<rows {
            let a = gates + row * G, h = hidden + row * H, t = tanhCell + row * H
            for unit in 0..<H { h[unit] = a[3 * H + unit] * t[unit] }
        }
    }

    /// The same step written plainly with the scalar σ and tanh: the reference the fast path is tested against.
    public static func referenceForwardPointwise<T: Scalar>(
        hiddenSize H: Int, gates: UnsafeMutablePointer<T>, cellPrevious: UnsafePointer<T>?,
        cell: UnsafeMutablePointer<T>, tanhCell: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>
    ) {
        for unit in 0..<H {
            let i = T.sigmoid(gates[unit]), f = T.sigmoid(gates[H + unit])
            let g = T.tanh(gates[2 * H + unit]), o = T.sigmoid(gates[3 * H + unit])
            gates[unit] = i; gates[H + unit] = f; gates[2 * H + unit] = g; gates[3 * H + unit] = o
            cell[unit] = f * (cellPrevious?[unit] ?? 0) + i * g
            tanhCell[unit] = T.tanh(cell[unit])
            hidden[unit] = o * tanhCell[unit]
        }
    }

    /// One step of backpropagation, pointwise, for one row:
    ///
    ///     dh = upstream + dhNext,   dc = dcNext + dh ⊙ o ⊙ (1 − tanh²c)
    ///     d[i f g o] = [dc⊙g⊙i(1−i), dc⊙c(t−1)⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh c⊙o(1−o)]
    ///     dcNext ← dc ⊙ f
    ///
    /// - Parameters: gates `[4H]` activations, tanhCell `[H]`, upstream `[H]`
    ///   (dLoss/dh(t) from above), cellPrevious `[H]` (nil: zeros), dhNext `[H]`
    ///   (dLoss/dh(t) through h(t+1)), dcNext `[H]` in/out, dPre out `[4H]`.
    @inline(__always)
    public static func backwardPointwise<T: Scalar>(
        hiddenSize H: Int, gates: UnsafePointer<T>, tanhCell: UnsafePointer<T>, upstream: UnsafePointer<T>,
        cellPrevious: UnsafePointer<T>?, dhNext: UnsafePointer<T>, dcNext: UnsafeMutablePointer<T>,
        dPre: UnsafeMutablePointer<T>, units: Range<Int>? = nil
    ) {
        if T.self == Float.self {
            floatBackwardPointwise(
                hiddenSize: H, gates: Kernels.float(gates), tanhCell: Kernels.float(tanhCell), upstream: Kernels.float(upstream),
                cellPrevious: cellPrevious.map { Kernels.float($0) }, dhNext: Kernels.float(dhNext),
                dcNext: Kernels.float(dcNext), dPre: Kernels.float(dPre), units: units ?? 0..<H)
            return
        }
        referenceBackwardPointwise(
            hiddenSize: H, gates: gates, tanhCell: tanhCell, upstream: upstream, cellPrevious: cellPrevious,
            dhNext: dhNext, dcNext: dcNext, dPre: dPre, units: units)
    }

    /// The plain loop over `units` (all H by default; the fast path's tail passes the last few).
    /// Units outside `units` are left as they are, so threads may compute disjoint ranges of one row.
    public static func referenceBackwardPointwise<T: Scalar>(
        hiddenSize H: Int, gates: UnsafePointer<T>, tanhCell: UnsafePointer<T>, upstream: UnsafePointer<T>,
        cellPrevious: UnsafePointer<T>?, dhNext: UnsafePointer<T>, dcNext: UnsafeMutablePointer<T>,
        dPre: UnsafeMutablePointer<T>, units: Range<Int>? = nil
    ) {
        for unit in units ?? 0..<H {
            let i = gates[unit], f = gates[H + unit], g = gates[2 * H + unit], o = gates[3 * H + unit]
            let tc = tanhCell[unit]
            let dh = upstream[unit] + dhNext[unit]
            let dc = dcNext[unit] + dh * o * (1 - tc * tc)
            let cPrev: T = cellPrevious?[unit] ?? 0
            dPre[unit] = dc * g * i * (1 - i)
            dPre[H + unit] = dc * cPrev * f * (1 - f)
            dPre[2 * H + unit] = dc * i * (1 - g * g)
            dPre[3 * H + unit] = dh * tc * o * (1 - o)
            dcNext[unit] = dc * f
        }
    }

    /// `referenceBackwardPointwise` eight units at a time, with the same formulas for the tail.
    static func floatBackwardPointwise(
        hiddenSize H: Int, gates: UnsafePointer<Float>, tanhCell: UnsafePointer<Float>, upstream: UnsafePointer<Float>,
        cellPrevious: UnsafePointer<Float>?, dhNext: UnsafePointer<Float>, dcNext: UnsafeMutablePointer<Float>,
        dPre: UnsafeMutablePointer<Float>, units: Range<Int>
    ) {
        typealias K = FloatKernels
        var unit = units.lowerBound
        while unit + 8 <= units.upperBound {
            let i = K.load(gates, unit), f = K.load(gates, H + unit), g = K.load(gates, 2 * H + unit), o = K.load(gates, 3 * H + unit)
            let tc = K.load(tanhCell, unit)
            let dh = K.load(upstream, unit) + K.load(dhNext, unit)
            let dc = K.load(dcNext, unit) + dh * o * (1 - tc * tc)
            let cPrev = cellPrevious.map { K.load($0, unit) } ?? SIMD8<Float>()
            K.store(dc * g * i * (1 - i), dPre, unit)
            K.store(dc * cPrev * f * (1 - f), dPre, H + unit)
            K.store(dc * i * (1 - g * g), dPre, 2 * H + unit)
            K.store(dh * tc * o * (1 - o), dPre, 3 * H + unit)
            K.store(dc * f, dcNext, unit)
            unit += 8
        }
        referenceBackwardPointwise(
            hiddenSize: H, gates: gates, tanhCell: tanhCell, upstream: upstream, cellPrevious: cellPrevious,
            dhNext: dhNext, dcNext: dcNext, dPre: dPre, units: unit..<units.upperBound)
    }

    /// The recurrence over one sentence of `steps` ≥ 1 tokens, t = 0 … T−1
    /// (T−1 … 0 when `reverse`), h and c starting at 0. Uses `projected`,
    /// `hiddenWeightTransposed`; writes `activations`, `state` (c), `auxiliary`
    /// (tanh c), `previousHidden` and `hidden`.
    @_specialize(where T == Float)
    public static func forward<T: Scalar>(steps: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        let G = 4 * H
        for s in 0..<steps {
            let (t, previous) = RecurrenceBuffers<T>.step(s, of: steps, reverse: reverse)
            let gates = b.activations + t * G
            gates.update(from: b.projected + t * G, count: G)
            b.addRecurrentProduct(token: t, previous: previous, hiddenSize: H, gateSize: G, into: gates)
            forwardPointwise(
                hiddenSize: H, gates: gates, cellPrevious: previous >= 0 ? UnsafePointer(b.state + previous * H) : nil,
                cell: b.state + t * H, tanhCell: b.auxiliary + t * H, hidden: b.hidden + t * b.hiddenStride)
        }
    }

    /// Backpropagation through time over one sentence: fills `inputPreGradient`
    /// `[T, G]` with dLoss/d(gate pre-activations) from `hiddenGradient`; the
    /// caller turns it into dW_ih, dW_hh (with `previousHidden`), both biases
    /// and dx. `recurrentPreGradient` is the same array for an LSTM. Scratch: 2H values.
    @_specialize(where T == Float)
    public static func backward<T: Scalar>(steps: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        let G = 4 * H
        let dhNext = b.scratch
        let dcNext = b.scratch + H
        dhNext.update(repeating: 0, count: H)
        dcNext.update(repeating: 0, count: H)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let (t, previous) = RecurrenceBuffers<T>.step(s, of: steps, reverse: reverse)
            let dPre = b.inputPreGradient + t * G
            backwardPointwise(
                hiddenSize: H, gates: b.activations + t * G, tanhCell: b.auxiliary + t * H,
                upstream: b.hiddenGradient + t * b.hiddenStride,
                cellPrevious: previous >= 0 ? UnsafePointer(b.state + previous * H) : nil,
                dhNext: dhNext, dcNext: dcNext, dPre: dPre)
            if s > 0 {
                // dh(t−1) = W_hhᵀ · dPre, as H dot products with the rows of W_hhᵀ.
                Kernels.setMatrixTimesVector(dhNext, b.hiddenWeightTransposed, UnsafePointer(dPre), rows: H, columns: G)
            }
        }
    }
}

/// The pointers one direction's recurrence over one sentence uses
/// (H hidden units, G = gates · H, T steps). Which of `state` and `auxiliary`
/// a cell uses, and for what, its file says.
public struct RecurrenceBuffers<T: Scalar> {
    /// `[T, G]`: x·W_ihᵀ + b_ih, plus b_hh for cells that fold it (`CellKind.foldsHiddenBias`).
    public var projected: UnsafePointer<T>
    /// `[G, H]` W_hh as stored, and `[H, G]` its transpose.
    public var hiddenWeight: UnsafePointer<T>
    public var hiddenWeightTransposed: UnsafePointer<T>
    /// `[G]` b_hh (read by cells that keep it apart).
    public var hiddenBias: UnsafePointer<T>
    /// `[T, G]` post-activation gates; `[T, H]` state and auxiliary values; `[T, H]` h(t−1).
    public var activations: UnsafeMutablePointer<T>
    public var state: UnsafeMutablePointer<T>
    public var auxiliary: UnsafeMutablePointer<T>
    public var previousHidden: UnsafeMutablePointer<T>
    /// Row t of h at `hidden + t * hiddenStride`; dLoss/dh(t) likewise in `hiddenGradient`.
    public var hidden: UnsafeMutablePointer<T>
    public var hiddenGradient: UnsafePointer<T>
    public var hiddenStride: Int
    /// `[T, G]` out: dLoss/d(input pre-activations) and dLoss/d(recurrent pre-activations, with b_hh).
    public var inputPreGradient: UnsafeMutablePointer<T>
    public var recurrentPreGradient: UnsafeMutablePointer<T>
    /// `RecurrenceBuffers.scratchCount(hiddenSize:)` values.
    public var scratch: UnsafeMutablePointer<T>

    public init(
        projected: UnsafePointer<T>, hiddenWeight: UnsafePointer<T>, hiddenWeightTransposed: UnsafePointer<T>,
        hiddenBias: UnsafePointer<T>, activations: UnsafeMutablePointer<T>, state: UnsafeMutablePointer<T>,
        auxiliary: UnsafeMutablePointer<T>, previousHidden: UnsafeMutablePointer<T>,
        hidden: UnsafeMutablePointer<T>, hiddenGradient: UnsafePointer<T>, hiddenStride: Int,
        inputPreGradient: UnsafeMutablePointer<T>, recurrentPreGradient: UnsafeMutablePointer<T>,
        scratch: UnsafeMutablePointer<T>
    ) {
        self.projected = projected
        self.hiddenWeight = hiddenWeight
        self.hiddenWeightTransposed = hiddenWeightTransposed
        self.hiddenBias = hiddenBias
        self.activations = activations
        self.state = state
        self.auxiliary = auxiliary
        self.previousHidden = previousHidden
        self.hidden = hidden
        self.hiddenGradient = hiddenGradient
        self.hiddenStride = hiddenStride
        self.inputPreGradient = inputPreGradient
        self.recurrentPreGradient = recurrentPreGradient
        self.scratch = scratch
    }

    /// Step s (0-based, in the order the direction walks) of a sentence of
    /// `steps` tokens: its token t and the token before it in that order (−1 at the first step).
    @inline(__always)
    public static func step(_ s: Int, of steps: Int, reverse: Bool) -> (token: Int, previous: Int) {
        let t = reverse ? steps - 1 - s : s
        return (t, s == 0 ? -1 : (reverse ? t + 1 : t - 1))
    }

    /// Keeps h(t−1) in row t of `previousHidden` (zeros at the first step)
    /// and adds h(t−1)·W_hhᵀ to `recurrent` `[G]`: every cell's recurrent product.
    @_specialize(where T == Float)
    @inline(__always)
    public func addRecurrentProduct(token t: Int, previous: Int, hiddenSize H: Int, gateSize G: Int, into recurrent: UnsafeMutablePointer<T>) {
        let hPrev = previousHidden + t * H
        if previous >= 0 {
            hPrev.update(from: hidden + previous * hiddenStride, count: H)
            Kernels.addVectorTimesMatrix(recurrent, hPrev, hiddenWeightTransposed, k: H, n: G)
        } else {
            hPrev.update(repeating: 0, count: H)
        }
    }

    /// Scratch values any cell's forward or backward needs: 4H (a GRU's recurrent part is 3H, an LSTM's backward 2H).
    public static func scratchCount(hiddenSize: Int) -> Int { 4 * hiddenSize }

    /// The same buffers moved to the sentence starting at token `start` (G = gates · H).
    public func offset(by start: Int, hiddenSize H: Int, gateSize G: Int, hiddenColumn: Int) -> RecurrenceBuffers {
        var moved = self
        moved.projected = projected + start * G
        moved.activations = activations + start * G
        moved.state = state + start * H
        moved.auxiliary = auxiliary + start * H
        moved.previousHidden = previousHidden + start * H
        moved.hidden = hidden + start * hiddenStride + hiddenColumn
        moved.hiddenGradient = hiddenGradient + start * hiddenStride + hiddenColumn
        moved.inputPreGradient = inputPreGradient + start * G
        moved.recurrentPreGradient = recurrentPreGradient + start * G
        return moved
    }
}

extension LSTMCell {
    /// Values `packForwardPanels` writes for `units`.
    public static func forwardPanelCount(hiddenSize H: Int, units: Range<Int>) -> Int {
        units.count == H ? Kernels.panelCount(k: H, n: gateCount * H) : gateCount * Kernels.panelCount(k: H, n: units.count)
    }

    /// The forward product's W_hhᵀ `[H, G]` for the hidden units `units`, in `Kernels.packPanels`
    /// layout: all of it when `units` is every unit; else, for each gate block i, f, g, o, its
    /// columns block·H + units, block after block, so threads owning disjoint unit ranges never
    /// share a panel. (Per block always would cost a padded panel per block when H is not a
    /// multiple of 16, and lone-row steps more single panels: 26 % slower at LSTM 100, measured.)
    /// - Parameters: hiddenWeight W_hh `[G, H]`; packed: `forwardPanelCount` values.
    public static func packForwardPanels<T: Scalar>(
        hiddenWeight: UnsafePointer<T>, hiddenSize H: Int, units: Range<Int>, into packed: UnsafeMutablePointer<T>
    ) {
        if units.count == H {
            Kernels.packPanels(hiddenWeight, k: H, n: gateCount * H, transposed: true, into: packed)
            return
        }
        let blockCount = Kernels.panelCount(k: H, n: units.count)
        for block in 0..<gateCount {
            Kernels.packPanels(
                hiddenWeight + (block * H + units.lowerBound) * H, k: H, n: units.count, transposed: true,
                into: packed + block * blockCount)
        }
    }

    /// Values `packBackwardPanels` writes for `units`.
    public static func backwardPanelCount(hiddenSize H: Int, units: Range<Int>) -> Int {
        Kernels.panelCount(k: gateCount * H, n: units.count)
    }

    /// The backward product's W_hh `[G, H]` for the hidden units `units`: its columns
    /// `units` in `Kernels.packPanels` layout. packed: `backwardPanelCount` values.
    public static func packBackwardPanels<T: Scalar>(
        hiddenWeight: UnsafePointer<T>, hiddenSize H: Int, units: Range<Int>, into packed: UnsafeMutablePointer<T>
    ) {
        Kernels.packPanels(
            hiddenWeight + units.lowerBound, k: gateCount * H, n: units.count, transposed: false, sourceStride: H,
            into: packed)
    }

    /// The recurrence over a packed group of sentences alone (`RecurrencePacking`), all
    /// units; `batch`'s panels from `packForwardPanels` over 0..<H. See `forwardBatched(hiddenSize:reverse:_:)`.
    @_specialize(where T == Float)
    public static func forwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        alone(hiddenSize: H, b, batch) { forwardBatched(hiddenSize: H, reverse: reverse, $0) }
    }

    /// Backpropagation through time alone, all units; `batch`'s panels from `packBackwardPanels`
    /// over 0..<H. See `backwardBatched(hiddenSize:reverse:_:)`.
    @_specialize(where T == Float)
    public static func backwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        alone(hiddenSize: H, b, batch) { backwardBatched(hiddenSize: H, reverse: reverse, $0) }
    }

    /// `body` given one member's share of all H units, no team: how a pass runs alone.
    @inline(__always)
    static func alone<T: Scalar>(
        hiddenSize H: Int, _ b: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>, _ body: (RecurrenceShare<T>) -> Void
    ) {
        var member = RecurrenceMember(buffers: b, batch: batch)
        withUnsafePointer(to: &member) { members in
            body(RecurrenceShare(members: members, memberCount: 1, member: 0, units: 0..<H, team: nil))
        }
    }

    /// The recurrence over packed groups of sentences (`RecurrencePacking`, one per
    /// member), all steps s = 0 … S−1, one product per step and gate block over the k
    /// sentences still running, for this thread's units u of every member (`RecurrenceShare`):
    ///
    ///     gates[k, block·H + u] = projected rows + H_prev[k, H] × W_hhᵀ[H, block·H + u],  then `forwardPointwise` on u
    ///
    /// The same equations as `forward`, which is its reference. One barrier before the
    /// first step (every member's buffers are ready) and one after each step (every unit
    /// of h(t) is written). Writes `activations`, `state` (c), `auxiliary` (tanh c) by
    /// packed row; `previousHidden` and `hidden` by token for this thread's own member.
    @_specialize(where T == Float)
    public static func forwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ share: RecurrenceShare<T>) {
        let G = 4 * H
        let units = share.units, width = units.count, firstUnit = units.lowerBound
        let own = share.members[share.member]
        let panels = own.batch.forwardPanels, blockCount = Kernels.panelCount(k: H, n: width)
        share.meet()
        let longest = share.longest
        for s in 0..<longest {
            // (A thread with no units still meets the others at every step.)
            for index in 0..<share.memberCount where width > 0 {
                let b = share.members[index].buffers, batch = share.members[index].batch, packing = batch.packing
                guard s < packing.longest else { continue }
                let first = packing.stepStart(s), active = packing.activeCount(s)
                let gates = b.activations + first * G
                for row in 0..<active {
                    let source = b.projected + packing.token(step: s, row: row, reverse: reverse) * G
                    for block in 0..<gateCount {
                        (gates + row * G + block * H + firstUnit).update(from: source + block * H + firstUnit, count: width)
                    }
                }
            }
            if s > 0 && width > 0 {
                // Every member's rows in one product. Odd steps run the panels backwards, so each step
                // starts where the last one ended (in L2).
                let backwards = s & 1 == 1
                for index in 0..<(width == H ? 1 : gateCount) {
                    let block = width == H ? 0 : backwards ? gateCount - 1 - index : index
                    let offset = width == H ? 0 : block * H + firstUnit
                    Kernels.addRowSetsTimesPanels(
                        count: share.memberCount, panels + block * blockCount, k: H, n: width == H ? G : width, backwards: backwards
                    ) { member in
                        let b = share.members[member].buffers, batch = share.members[member].batch, packing = batch.packing
                        guard s < packing.longest else { return nil }
                        return Kernels.RowSet(
                            out: b.activations + packing.stepStart(s) * G + offset, outStride: G,
                            x: batch.packedHidden + packing.stepStart(s - 1) * H, xStride: H, rows: packing.activeCount(s))
                    }
                }
            }
            for index in 0..<share.memberCount where width > 0 {
                let b = share.members[index].buffers, batch = share.members[index].batch, packing = batch.packing
                guard s < packing.longest else { continue }
                let first = packing.stepStart(s), active = packing.activeCount(s)
                let previousFirst = s > 0 ? packing.stepStart(s - 1) : 0
                let gates = b.activations + first * G
                for row in 0..<active {
                    forwardPointwise(
                        hiddenSize: H, gates: gates + row * G,
                        cellPrevious: s > 0 ? UnsafePointer(b.state + (previousFirst + row) * H) : nil,
                        cell: b.state + (first + row) * H, tanhCell: b.auxiliary + (first + row) * H,
                        hidden: batch.packedHidden + (first + row) * H, units: units)
                }
            }
            share.meet()
            let packing = own.batch.packing
            if s < packing.longest {
                let active = packing.activeCount(s)
                own.batch.keepPreviousHidden(step: s, active: active, hiddenSize: H, reverse: reverse, own.buffers)
                own.batch.scatterHidden(step: s, active: active, hiddenSize: H, reverse: reverse, own.buffers)
            }
        }
    }

    /// Backpropagation through time over packed groups (after `forwardBatched`),
    /// steps S−1 … 0, for this thread's units u of every member:
    ///
    ///     dPre[k, block·H + u] by `backwardPointwise` on u,  dH_prev[k, u] = dPre[k, G] × W_hh[G, u]
    ///
    /// One barrier before the first step and one between each step's pointwise part
    /// (every column of dPre is written) and its product; dPre alternates between two
    /// halves of `stepRows` by step, so a thread writing step s − 1 never overwrites
    /// what another still reads of step s. Fills `inputPreGradient` `[N, G]` by token,
    /// as `backward` (its reference) does.
    @_specialize(where T == Float)
    public static func backwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ share: RecurrenceShare<T>) {
        let G = 4 * H
        let units = share.units, width = units.count, firstUnit = units.lowerBound
        let panels = share.members[share.member].batch.backwardPanels
        share.meet()
        let longest = share.longest
        for s in stride(from: longest - 1, through: 0, by: -1) {
            for index in 0..<share.memberCount where width > 0 {
                let b = share.members[index].buffers, batch = share.members[index].batch, packing = batch.packing
                guard s < packing.longest else { continue }
                let first = packing.stepStart(s), active = packing.activeCount(s)
                let dPreRows = batch.stepRows + (s & 1) * packing.sentenceCount * G
                // Sentences whose last step is this one get nothing from later steps.
                for row in packing.activeCount(s + 1)..<active {
                    (batch.dhNext + row * H + firstUnit).update(repeating: 0, count: width)
                    (batch.dcNext + row * H + firstUnit).update(repeating: 0, count: width)
                }
                for row in 0..<active {
                    let t = packing.token(step: s, row: row, reverse: reverse)
                    let dPre = dPreRows + row * G
                    backwardPointwise(
                        hiddenSize: H, gates: b.activations + (first + row) * G, tanhCell: b.auxiliary + (first + row) * H,
                        upstream: b.hiddenGradient + t * b.hiddenStride,
                        cellPrevious: s > 0 ? UnsafePointer(b.state + (packing.stepStart(s - 1) + row) * H) : nil,
                        dhNext: batch.dhNext + row * H, dcNext: batch.dcNext + row * H, dPre: dPre, units: units)
                    for block in 0..<gateCount {
                        (b.inputPreGradient + t * G + block * H + firstUnit).update(from: dPre + block * H + firstUnit, count: width)
                    }
                }
            }
            share.meet()
            guard s > 0 else { continue }
            guard width > 0 else { continue }
            for index in 0..<share.memberCount {
                let batch = share.members[index].batch, packing = batch.packing
                guard s < packing.longest else { continue }
                for row in 0..<packing.activeCount(s) { (batch.dhNext + row * H + firstUnit).update(repeating: 0, count: width) }
            }
            // Every member's rows in one product.
            Kernels.addRowSetsTimesPanels(count: share.memberCount, panels, k: G, n: width, backwards: s & 1 == 1) { member in
                let batch = share.members[member].batch, packing = batch.packing
                guard s < packing.longest else { return nil }
                return Kernels.RowSet(
                    out: batch.dhNext + firstUnit, outStride: H, x: batch.stepRows + (s & 1) * packing.sentenceCount * G, xStride: G,
                    rows: packing.activeCount(s))
            }
        }
    }
}
