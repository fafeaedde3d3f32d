import DissectCore

/// The plain (Elman) cell, as `torch.nn.RNN(nonlinearity: "tanh")` (G = H):
///
///     h(t) = tanh(x·W_ihᵀ + b_ih + h(t−1)·W_hhᵀ + b_hh)
///
/// The only place this equation is written (see `LSTMCell` for the plan). The
/// caller folds b_hh into the projection. `activations` holds h(t) itself;
/// `state` and `auxiliary` are unused.
public enum RNNCell {
    public static let gateCount = 1

    /// One step's pointwise part for one row: `gates` `[H]` in the pre-activation, out tanh of it; `hidden` out h(t).
    @_specialize(where T == Float)
    @inline(__always)
    public static func forwardPointwise<T: Scalar>(hiddenSize H: Int, gates: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>) {
        Kernels.tanhInPlace(gates, H)
        hidden.update(from: gates, count: H)
    }

    /// The same with the scalar tanh: the reference the fast path is tested against.
    public static func referenceForwardPointwise<T: Scalar>(hiddenSize H: Int, gates: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>) {
        for unit in 0..<H {
            gates[unit] = T.tanh(gates[unit])
            hidden[unit] = gates[unit]
        }
    }

    /// One step of backpropagation: dh = upstream + dhNext, dPre = dh ⊙ (1 − h²).
    public static func backwardPointwise<T: Scalar>(
        hiddenSize H: Int, activations: UnsafePointer<T>, upstream: UnsafePointer<T>, dhNext: UnsafePointer<T>,
        dPre: UnsafeMutablePointer<T>
    ) {
        for unit in 0..<H {
            let h = activations[unit]
            dPre[unit] = (upstream[unit] + dhNext[unit]) * (1 - h * h)
        }
    }

    /// The recurrence over one sentence (see `LSTMCell.forward`). Uses
    /// `projected` (with b_hh), `hiddenWeightTransposed`; writes `activations`, `previousHidden`, `hidden`.
    @_specialize(where T == Float)
    public static func forward<T: Scalar>(steps: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        for s in 0..<steps {
            let (t, previous) = RecurrenceBuffers<T>.step(s, of: steps, reverse: reverse)
            let gates = b.activations + t * H
            gates.update(from: b.projected + t * H, count: H)
            b.addRecurrentProduct(token: t, previous: previous, hiddenSize: H, gateSize: H, into: gates)
            forwardPointwise(hiddenSize: H, gates: gates, hidden: b.hidden + t * b.hiddenStride)
        }
    }

    /// Backpropagation through time over one sentence into `inputPreGradient` `[T, H]`
    /// (`recurrentPreGradient` is the same array). Scratch: H.
    @_specialize(where T == Float)
    public static func backward<T: Scalar>(steps: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        let dhNext = b.scratch
        dhNext.update(repeating: 0, count: H)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = RecurrenceBuffers<T>.step(s, of: steps, reverse: reverse).token
            let dPre = b.inputPreGradient + t * H
            backwardPointwise(
                hiddenSize: H, activations: b.activations + t * H, upstream: b.hiddenGradient + t * b.hiddenStride,
                dhNext: dhNext, dPre: dPre)
            if s > 0 {
                Kernels.setMatrixTimesVector(dhNext, b.hiddenWeightTransposed, UnsafePointer(dPre), rows: H, columns: H)
            }
        }
    }
}

extension RNNCell {
    /// The recurrence over a packed group of sentences (see `LSTMCell.forwardBatched`):
    /// per step gates[k, H] = projected rows + H_prev[k, H] × W_hhᵀ [H, H] in one GEMM,
    /// then `forwardPointwise` per row. `forward` is its reference. Writes `activations`
    /// (h itself) by packed row, `previousHidden` and `hidden` by token.
    @_specialize(where T == Float)
    public static func forwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        let packing = batch.packing
        for s in 0..<packing.longest {
            let first = packing.stepStart(s), active = packing.activeCount(s)
            let gates = b.activations + first * H
            for row in 0..<active {
                (gates + row * H).update(from: b.projected + packing.token(step: s, row: row, reverse: reverse) * H, count: H)
            }
            batch.keepPreviousHidden(step: s, active: active, hiddenSize: H, reverse: reverse, b)
            if s > 0 {
                Kernels.addRowsTimesPanels(
                    gates, outStride: H, batch.packedHidden + packing.stepStart(s - 1) * H, xStride: H,
                    batch.forwardPanels, rows: active, k: H, n: H)
            }
            for row in 0..<active {
                forwardPointwise(hiddenSize: H, gates: gates + row * H, hidden: batch.packedHidden + (first + row) * H)
            }
            batch.scatterHidden(step: s, active: active, hiddenSize: H, reverse: reverse, b)
        }
    }

    /// Backpropagation through time over a packed group (after `forwardBatched`): per step
    /// `backwardPointwise` per row, then dH_prev[k, H] = dPre[k, H] × W_hh [H, H] in one GEMM.
    /// Fills `inputPreGradient` by token, as `backward`.
    @_specialize(where T == Float)
    public static func backwardBatched<T: Scalar>(hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>, _ batch: BatchedRecurrenceBuffers<T>) {
        let packing = batch.packing
        for s in stride(from: packing.longest - 1, through: 0, by: -1) {
            let first = packing.stepStart(s), active = packing.activeCount(s)
            batch.clearCarried(rows: packing.activeCount(s + 1)..<active, hiddenSize: H, cell: false)
            for row in 0..<active {
                let t = packing.token(step: s, row: row, reverse: reverse)
                let dPre = batch.stepRows + row * H
                backwardPointwise(
                    hiddenSize: H, activations: b.activations + (first + row) * H, upstream: b.hiddenGradient + t * b.hiddenStride,
                    dhNext: batch.dhNext + row * H, dPre: dPre)
                (b.inputPreGradient + t * H).update(from: dPre, count: H)
            }
            if s > 0 {
                batch.dhNext.update(repeating: 0, count: active * H)
                Kernels.addRowsTimesPanels(
                    batch.dhNext, outStride: H, batch.stepRows, xStride: H, batch.backwardPanels,
                    rows: active, k: H, n: H)
            }
        }
    }
}
