import DissectCore

/// One direction of a one-layer GRU over one sentence, as `torch.nn.GRU`:
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h(t) = (1 − z) ⊙ n + z ⊙ h(t−1)
///
/// Gate order r, z, n. The input projection (with b_ih) is one GEMM done by the caller.
public enum GRURecurrence {
    /// - Parameters (H = hidden size, G = 3H):
    ///   - projected: `[T, G]`, x·W_ihᵀ + b_ih.
    ///   - hiddenWeightTransposed: `[H, G]`; hiddenBias: `[G]`.
    ///   - activations: out `[T, G]`, (r, z, n) post-activation.
    ///   - hiddenCandidate: out `[T, H]`, W_hn h(t−1) + b_hn (needed by backward).
    ///   - previousHidden: out `[T, H]`.
    ///   - scratch: `G` values.
    @_specialize(where T == Float)
    public static func forward<T: Scalar>(
        steps: Int, hiddenSize H: Int, reverse: Bool,
        projected: UnsafePointer<T>, hiddenWeightTransposed: UnsafePointer<T>, hiddenBias: UnsafePointer<T>,
        activations: UnsafeMutablePointer<T>, hiddenCandidate: UnsafeMutablePointer<T>,
        previousHidden: UnsafeMutablePointer<T>,
        hidden: UnsafeMutablePointer<T>, hiddenStride: Int, scratch: UnsafeMutablePointer<T>
    ) {
        let G = 3 * H
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let previous = s == 0 ? -1 : (reverse ? t + 1 : t - 1)
            let hPrev = previousHidden + t * H
            let recurrent = scratch
            recurrent.update(from: hiddenBias, count: G)
            if previous >= 0 {
                hPrev.update(from: hidden + previous * hiddenStride, count: H)
                Kernels.addVectorTimesMatrix(recurrent, hPrev, hiddenWeightTransposed, k: H, n: G)
            } else {
                hPrev.update(repeating: 0, count: H)
            }
            let input = projected + t * G
            let gates = activations + t * G
            let candidate = hiddenCandidate + t * H
            let h = hidden + t * hiddenStride
            for unit in 0..<H {
                let reset = T.sigmoid(input[unit] + recurrent[unit])
                let update = T.sigmoid(input[H + unit] + recurrent[H + unit])
                let hn = recurrent[2 * H + unit]
                let newGate = T.tanh(input[2 * H + unit] + reset * hn)
                gates[unit] = reset
                gates[H + unit] = update
                gates[2 * H + unit] = newGate
                candidate[unit] = hn
                h[unit] = (1 - update) * newGate + update * hPrev[unit]
            }
        }
    }

    /// - Parameters:
    ///   - inputGradient: out `[T, G]`, dLoss/d(x·W_ihᵀ + b_ih).
    ///   - recurrentGradient: out `[T, G]`, dLoss/d(W_hh h(t−1) + b_hh).
    ///   - scratch: `H` values.
    @_specialize(where T == Float)
    public static func backward<T: Scalar>(
        steps: Int, hiddenSize H: Int, reverse: Bool,
        activations: UnsafePointer<T>, hiddenCandidate: UnsafePointer<T>, previousHidden: UnsafePointer<T>,
        hiddenWeight: UnsafePointer<T>,
        hiddenGradient: UnsafePointer<T>, hiddenStride: Int,
        inputGradient: UnsafeMutablePointer<T>, recurrentGradient: UnsafeMutablePointer<T>,
        scratch: UnsafeMutablePointer<T>
    ) {
        let G = 3 * H
        let dhNext = scratch
        dhNext.update(repeating: 0, count: H)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = reverse ? steps - 1 - s : s
            let gates = activations + t * G
            let dInput = inputGradient + t * G
            let dRecurrent = recurrentGradient + t * G
            let upstream = hiddenGradient + t * hiddenStride
            let hPrev = previousHidden + t * H
            for unit in 0..<H {
                let reset = gates[unit]
                let update = gates[H + unit]
                let newGate = gates[2 * H + unit]
                let hn = hiddenCandidate[t * H + unit]
                let dh = upstream[unit] + dhNext[unit]
                let dNew = dh * (1 - update) * (1 - newGate * newGate)
                let dUpdate = dh * (hPrev[unit] - newGate) * update * (1 - update)
                let dReset = dNew * hn * reset * (1 - reset)
                dInput[unit] = dReset
                dInput[H + unit] = dUpdate
                dInput[2 * H + unit] = dNew
                dRecurrent[unit] = dReset
                dRecurrent[H + unit] = dUpdate
                dRecurrent[2 * H + unit] = dNew * reset
                dhNext[unit] = dh * update
            }
            if s > 0 {
                Kernels.addVectorTimesMatrix(dhNext, UnsafePointer(dRecurrent), hiddenWeight, k: G, n: H)
            }
        }
    }
}
