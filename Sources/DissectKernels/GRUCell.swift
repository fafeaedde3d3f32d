import DissectCore

/// The GRU cell, as `torch.nn.GRU` (gate order r, z, n; G = 3H):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h(t) = (1 − z) ⊙ n + z ⊙ h(t−1)
///
/// The only place these equations are written (see `LSTMCell` for the plan).
/// b_hh is not folded into the projection: the reset gate multiplies the
/// recurrent part of n, bias included. Buffers in `RecurrenceBuffers`:
/// `state` holds W_hn h(t−1) + b_hn (needed by backward); `auxiliary` is unused.
public enum GRUCell {
    public static let gateCount = 3

    /// One step's pointwise part for one row.
    /// - Parameters:
    ///   - input: `[3H]` x·W_ihᵀ + b_ih; recurrent: `[3H]` h(t−1)·W_hhᵀ + b_hh.
    ///   - hiddenPrevious: h(t−1) `[H]`; may alias `hidden`.
    ///   - gates: out `[3H]` r, z, n; candidate: out `[H]` W_hn h + b_hn; hidden: out h(t).
    @_specialize(where T == Float)
    @inline(__always)
    public static func forwardPointwise<T: Scalar>(
        hiddenSize H: Int, input: UnsafePointer<T>, recurrent: UnsafePointer<T>, hiddenPrevious: UnsafePointer<T>,
        gates: UnsafeMutablePointer<T>, candidate: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>
    ) {
        // r and z as one sigmoid pass over 2H values, then n as one tanh pass (8 lanes at a time on the Float path).
        for index in 0..<(2 * H) { gates[index] = input[index] + recurrent[index] }
        Kernels.sigmoidInPlace(gates, 2 * H)
        for unit in 0..<H {
            candidate[unit] = recurrent[2 * H + unit]
            gates[2 * H + unit] = input[2 * H + unit] + gates[unit] * recurrent[2 * H + unit]
        }
        Kernels.tanhInPlace(gates + 2 * H, H)
        for unit in 0..<H {
            let update = gates[H + unit]
            hidden[unit] = (1 - update) * gates[2 * H + unit] + update * hiddenPrevious[unit]
        }
    }

    /// The same step with the scalar σ and tanh: the reference the fast path is tested against.
    public static func referenceForwardPointwise<T: Scalar>(
        hiddenSize H: Int, input: UnsafePointer<T>, recurrent: UnsafePointer<T>, hiddenPrevious: UnsafePointer<T>,
        gates: UnsafeMutablePointer<T>, candidate: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>
    ) {
        for unit in 0..<H {
            let reset = T.sigmoid(input[unit] + recurrent[unit])
            let update = T.sigmoid(input[H + unit] + recurrent[H + unit])
            let hn = recurrent[2 * H + unit]
            let newGate = T.tanh(input[2 * H + unit] + reset * hn)
            gates[unit] = reset
            gates[H + unit] = update
            gates[2 * H + unit] = newGate
            candidate[unit] = hn
            hidden[unit] = (1 - update) * newGate + update * hiddenPrevious[unit]
        }
    }

    /// One step of backpropagation, pointwise, for one row:
    ///
    ///     dh = upstream + dhNext
    ///     dn = dh ⊙ (1 − z) ⊙ (1 − n²),  dz = dh ⊙ (h(t−1) − n) ⊙ z(1 − z),  dr = dn ⊙ (W_hn h + b_hn) ⊙ r(1 − r)
    ///     dInput = [dr, dz, dn],  dRecurrent = [dr, dz, dn ⊙ r],  dhNext ← dh ⊙ z  (+ W_hhᵀ dRecurrent, by the caller)
    public static func backwardPointwise<T: Scalar>(
        hiddenSize H: Int, gates: UnsafePointer<T>, candidate: UnsafePointer<T>, hiddenPrevious: UnsafePointer<T>,
        upstream: UnsafePointer<T>, dhNext: UnsafeMutablePointer<T>,
        dInput: UnsafeMutablePointer<T>, dRecurrent: UnsafeMutablePointer<T>
    ) {
        for unit in 0..<H {
            let reset = gates[unit], update = gates[H + unit], newGate = gates[2 * H + unit]
            let dh = upstream[unit] + dhNext[unit]
            let dNew = dh * (1 - update) * (1 - newGate * newGate)
            let dUpdate = dh * (hiddenPrevious[unit] - newGate) * update * (1 - update)
            let dReset = dNew * candidate[unit] * reset * (1 - reset)
            dInput[unit] = dReset
            dInput[H + unit] = dUpdate
            dInput[2 * H + unit] = dNew
            dRecurrent[unit] = dReset
            dRecurrent[H + unit] = dUpdate
            dRecurrent[2 * H + unit] = dNew * reset
            dhNext[unit] = dh * update
        }
    }

    /// The recurrence over one sentence (see `LSTMCell.forward`). Uses
    /// `projected` (without b_hh), `hiddenWeightTransposed`, `hiddenBias`;
    /// writes `activations`, `state` (W_hn h + b_hn), `previousHidden`, `hidden`. Scratch: 3H.
    @_specialize(where T == Float)
    public static func forward<T: Scalar>(steps: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        let G = 3 * H
        let recurrent = b.scratch
        for s in 0..<steps {
            let (t, previous) = RecurrenceBuffers<T>.step(s, of: steps, reverse: reverse)
            recurrent.update(from: b.hiddenBias, count: G)
            b.addRecurrentProduct(token: t, previous: previous, hiddenSize: H, gateSize: G, into: recurrent)
            forwardPointwise(
                hiddenSize: H, input: b.projected + t * G, recurrent: recurrent, hiddenPrevious: b.previousHidden + t * H,
                gates: b.activations + t * G, candidate: b.state + t * H, hidden: b.hidden + t * b.hiddenStride)
        }
    }

    /// Backpropagation through time over one sentence: fills `inputPreGradient`
    /// (dLoss/d(x·W_ihᵀ + b_ih)) and `recurrentPreGradient` (dLoss/d(W_hh h + b_hh)), `[T, G]` each. Scratch: H.
    @_specialize(where T == Float)
    public static func backward<T: Scalar>(steps: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        let G = 3 * H
        let dhNext = b.scratch
        dhNext.update(repeating: 0, count: H)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = RecurrenceBuffers<T>.step(s, of: steps, reverse: reverse).token
            let dRecurrent = b.recurrentPreGradient + t * G
            backwardPointwise(
                hiddenSize: H, gates: b.activations + t * G, candidate: b.state + t * H,
                hiddenPrevious: b.previousHidden + t * H, upstream: b.hiddenGradient + t * b.hiddenStride,
                dhNext: dhNext, dInput: b.inputPreGradient + t * G, dRecurrent: dRecurrent)
            if s > 0 {
                Kernels.addVectorTimesMatrix(dhNext, UnsafePointer(dRecurrent), b.hiddenWeight, k: G, n: H)
            }
        }
    }
}

extension GRUCell {
    /// The recurrence over a packed group of sentences (see `LSTMCell.forwardBatched`):
    /// per step, recurrent[k, G] = b_hh + H_prev[k, H] × W_hhᵀ [H, G] in one GEMM,
    /// then `forwardPointwise` per row. `forward` is its reference. Writes
    /// `activations` and `state` (W_hn h + b_hn) by packed row, `previousHidden` and `hidden` by token.
    @_specialize(where T == Float)
    public static func forwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        let G = 3 * H
        let packing = batch.packing
        let recurrent = batch.stepRows
        for s in 0..<packing.longest {
            let first = packing.stepStart(s), active = packing.activeCount(s)
            for row in 0..<active { (recurrent + row * G).update(from: b.hiddenBias, count: G) }
            batch.keepPreviousHidden(step: s, active: active, hiddenSize: H, reverse: reverse, b)
            if s > 0 {
                Kernels.addRowsTimesPanels(
                    recurrent, outStride: G, batch.packedHidden + packing.stepStart(s - 1) * H, xStride: H,
                    batch.forwardPanels, rows: active, k: H, n: G)
            }
            for row in 0..<active {
                let t = packing.token(step: s, row: row, reverse: reverse)
                forwardPointwise(
                    hiddenSize: H, input: b.projected + t * G, recurrent: recurrent + row * G,
                    hiddenPrevious: b.previousHidden + t * H, gates: b.activations + (first + row) * G,
                    candidate: b.state + (first + row) * H, hidden: batch.packedHidden + (first + row) * H)
            }
            batch.scatterHidden(step: s, active: active, hiddenSize: H, reverse: reverse, b)
        }
    }

    /// Backpropagation through time over a packed group (after `forwardBatched`):
    /// per step `backwardPointwise` per row, then dH_prev[k, H] += dRecurrent[k, G] × W_hh [G, H]
    /// in one GEMM. Fills `inputPreGradient` and `recurrentPreGradient` by token, as `backward`.
    @_specialize(where T == Float)
    public static func backwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        let G = 3 * H
        let packing = batch.packing
        for s in stride(from: packing.longest - 1, through: 0, by: -1) {
            let first = packing.stepStart(s), active = packing.activeCount(s)
            batch.clearCarried(rows: packing.activeCount(s + 1)..<active, hiddenSize: H, cell: false)
            for row in 0..<active {
                let t = packing.token(step: s, row: row, reverse: reverse)
                let dRecurrent = batch.stepRows + row * G
                backwardPointwise(
                    hiddenSize: H, gates: b.activations + (first + row) * G, candidate: b.state + (first + row) * H,
                    hiddenPrevious: b.previousHidden + t * H, upstream: b.hiddenGradient + t * b.hiddenStride,
                    dhNext: batch.dhNext + row * H, dInput: b.inputPreGradient + t * G, dRecurrent: dRecurrent)
                (b.recurrentPreGradient + t * G).update(from: dRecurrent, count: G)
            }
            if s > 0 {
                Kernels.addRowsTimesPanels(
                    batch.dhNext, outStride: H, batch.stepRows, xStride: G, batch.backwardPanels,
                    rows: active, k: G, n: H)
            }
        }
    }
}
