import DissectCore

/// One direction of a one-layer LSTM over one sentence, as `torch.nn.LSTM`:
///
///     [i f g o] = x·W_ihᵀ + b_ih + h(t−1)·W_hhᵀ + b_hh     (gate order i, f, g, o)
///     i, f, o = σ(·),  g = tanh(·)
///     c(t) = f ⊙ c(t−1) + i ⊙ g,   h(t) = o ⊙ tanh(c(t))
///
/// The input projection of every step is one GEMM done by the caller; these
/// functions run only the recurrence. `reverse` walks t = T−1 … 0 (the
/// `_reverse` direction of a bidirectional LSTM), with h and c starting at 0.
public enum LSTMRecurrence {
    /// - Parameters (H = hidden size, G = 4H, T = steps ≥ 1):
    ///   - projected: `[T, G]`, x·W_ihᵀ + b_ih + b_hh for each step.
    ///   - hiddenWeightTransposed: `[H, G]`, W_hhᵀ.
    ///   - activations: out `[T, G]`, post-activation i, f, g, o.
    ///   - cell, tanhCell, previousHidden: out `[T, H]`.
    ///   - hidden: out, row t at `hidden + t * hiddenStride`, H values.
    @_specialize(where T == Float)
    public static func forward<T: Scalar>(
        steps: Int, hiddenSize H: Int, reverse: Bool,
        projected: UnsafePointer<T>, hiddenWeightTransposed: UnsafePointer<T>,
        activations: UnsafeMutablePointer<T>, cell: UnsafeMutablePointer<T>,
        tanhCell: UnsafeMutablePointer<T>, previousHidden: UnsafeMutablePointer<T>,
        hidden: UnsafeMutablePointer<T>, hiddenStride: Int
    ) {
        let G = 4 * H
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let previous = s == 0 ? -1 : (reverse ? t + 1 : t - 1)
            let gates = activations + t * G
            gates.update(from: projected + t * G, count: G)
            let hPrev = previousHidden + t * H
            if previous >= 0 {
                hPrev.update(from: hidden + previous * hiddenStride, count: H)
                Kernels.addVectorTimesMatrix(gates, hPrev, hiddenWeightTransposed, k: H, n: G)
            } else {
                hPrev.update(repeating: 0, count: H)
            }
            // Gate activations as one sigmoid pass over all 4H values (8 lanes at a time
            // on the Float path), with tanh(x) = 2σ(2x) − 1 for the candidate g.
            for unit in 0..<H { gates[2 * H + unit] *= 2 }
            Kernels.sigmoidInPlace(gates, G)
            for unit in 0..<H { gates[2 * H + unit] = 2 * gates[2 * H + unit] - 1 }
            let c = cell + t * H
            let tc = tanhCell + t * H
            let h = hidden + t * hiddenStride
            if previous >= 0 {
                let cPrev = cell + previous * H
                for unit in 0..<H { c[unit] = gates[H + unit] * cPrev[unit] + gates[unit] * gates[2 * H + unit] }
            } else {
                for unit in 0..<H { c[unit] = gates[unit] * gates[2 * H + unit] }
            }
            tc.update(from: c, count: H)
            Kernels.tanhInPlace(tc, H)
            for unit in 0..<H { h[unit] = gates[3 * H + unit] * tc[unit] }
        }
    }

    /// Backpropagation through time.
    /// - Parameters:
    ///   - hiddenWeightTransposed: `[H, G]`, W_hhᵀ (as in forward).
    ///   - hiddenGradient: `[T, ·]` at `hiddenStride`, dLoss/dh(t) from the layer above.
    ///   - preactivationGradient: out `[T, G]`, dLoss/d(gate pre-activations); the
    ///     caller turns it into dW_ih, dW_hh (with `previousHidden`), both biases and dx.
    ///   - scratch: `3H` values.
    @_specialize(where T == Float)
    public static func backward<T: Scalar>(
        steps: Int, hiddenSize H: Int, reverse: Bool,
        activations: UnsafePointer<T>, cell: UnsafePointer<T>, tanhCell: UnsafePointer<T>,
        hiddenWeightTransposed: UnsafePointer<T>,
        hiddenGradient: UnsafePointer<T>, hiddenStride: Int,
        preactivationGradient: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>
    ) {
        let G = 4 * H
        let dhNext = scratch
        let dcNext = scratch + H
        dhNext.update(repeating: 0, count: H)
        dcNext.update(repeating: 0, count: H)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = reverse ? steps - 1 - s : s
            let previous = s == 0 ? -1 : (reverse ? t + 1 : t - 1)
            let gates = activations + t * G
            let dPre = preactivationGradient + t * G
            let upstream = hiddenGradient + t * hiddenStride
            if T.self == Float.self {
                FloatKernels.lstmBackwardUnits(
                    H: H, gates: Kernels.float(gates), tanhCell: Kernels.float(tanhCell + t * H), upstream: Kernels.float(upstream),
                    cellPrevious: previous >= 0 ? Kernels.float(cell + previous * H) : nil,
                    dhNext: Kernels.float(dhNext), dcNext: Kernels.float(dcNext), dPre: Kernels.float(dPre))
            } else {
                for unit in 0..<H {
                    let inputGate = gates[unit]
                    let forgetGate = gates[H + unit]
                    let candidate = gates[2 * H + unit]
                    let outputGate = gates[3 * H + unit]
                    let tanhC = tanhCell[t * H + unit]
                    let dh = upstream[unit] + dhNext[unit]
                    let dc = dcNext[unit] + dh * outputGate * (1 - tanhC * tanhC)
                    let cPrev: T = previous >= 0 ? cell[previous * H + unit] : 0
                    dPre[unit] = dc * candidate * inputGate * (1 - inputGate)
                    dPre[H + unit] = dc * cPrev * forgetGate * (1 - forgetGate)
                    dPre[2 * H + unit] = dc * inputGate * (1 - candidate * candidate)
                    dPre[3 * H + unit] = dh * tanhC * outputGate * (1 - outputGate)
                    dcNext[unit] = dc * forgetGate
                }
            }
            if s > 0 {
                // dh(t−1) = W_hhᵀ · dPre, as H dot products with the rows of W_hhᵀ.
                Kernels.setMatrixTimesVector(dhNext, hiddenWeightTransposed, UnsafePointer(dPre), rows: H, columns: G)
            }
        }
    }
}
