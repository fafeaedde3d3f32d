import DissectCore

/// A linear-chain conditional random field over one sentence: the output layer
/// that scores whole label paths instead of one token at a time.
///
/// Layout (NCRF++'s): with m real labels, the transition matrix is
/// `transitions [m+2, m+2]`, row-major, where `transitions[i·(m+2) + j]` is the
/// score of moving from label i to label j; index m is START and m + 1 is STOP.
/// For emissions `E [T, m]` (row-major, one row per token) the score of a label
/// path y₁…y_T is
///
///     score(y) = trans[START, y₁] + Σ_t E[t, y_t] + Σ_{t≥2} trans[y_{t−1}, y_t] + trans[y_T, STOP]
///
/// (tokens counted from 1 here, as in the CRF literature; E's row for token t
/// is row t − 1, and the functions below count tokens from 0) and the model is
/// p(y | E) = exp(score(y)) / Z, Z = Σ_y' exp(score(y')).
///
/// Only the `[m, m]` block of real labels, row START (`trans[START, j]`, j < m)
/// and column STOP (`trans[i, STOP]`, i < m) enter a path score. Column START
/// (`trans[·, START]`), row STOP (`trans[STOP, ·]`) and `trans[START, STOP]`
/// enter none: they start at NCRF++'s −10000 (`forbidden`) and their gradient is
/// exactly 0, so the loss never moves them (only an L2 penalty does, negligibly). START and STOP are not states here:
/// emissions have m columns, not NCRF++'s m + 2 (NCRF++ lets a path pass
/// through START/STOP at a middle token, but only across −10000 transitions,
/// which contribute exp(−10000) = 0 to Z in both Float and Double; so the two
/// agree on Z, the loss and the Viterbi path).
///
/// Every function reads `E` and `transitions` in the caller's scalar type `T`
/// but computes in Double: the converted inputs are exact, so a Float call and
/// a Double call on the same Float-representable values compute the very same
/// Doubles (the same loss, the same path, even on ties), and a long sentence
/// loses no precision in the log-space recursions.
///
/// Memory: nothing is allocated per call; the caller owns a Double scratch of
/// `scratchCount(steps:labels:)` elements (a `Buffer<Double>` reserved once
/// per shard does), reused for every sentence.
public enum LinearChainCRF {
    /// The checkpoint tensor that holds the transitions, `[m + 2, m + 2]`.
    public static let tensorName = "crf.transitions"

    /// The score of a transition no path may take: NCRF++'s −10000, low enough
    /// that exp(−10000) is 0 in Float and Double.
    public static let forbidden: Double = -10000

    /// Row and column of START in the `[m+2, m+2]` transition matrix: m.
    @inlinable public static func startIndex(labels m: Int) -> Int { m }
    /// Row and column of STOP in the `[m+2, m+2]` transition matrix: m + 1.
    @inlinable public static func stopIndex(labels m: Int) -> Int { m + 1 }
    /// Elements of the transition matrix: (m + 2)².
    @inlinable public static func transitionCount(labels m: Int) -> Int { (m + 2) * (m + 2) }

    /// Doubles of scratch that `negativeLogLikelihood` and `viterbi` need for a
    /// sentence of `steps` ≥ 1 tokens and m ≥ 1 labels: 2·T·m (forward and
    /// backward log-potentials) + m² (transition counts). One scratch of the
    /// longest sentence's size serves every shorter one.
    @inlinable public static func scratchCount(steps: Int, labels m: Int) -> Int {
        2 * steps * m + m * m
    }

    /// NCRF++'s initial transitions `[m+2, m+2]`: 0 everywhere except column
    /// START and row STOP, which are `forbidden` (−10000). m ≥ 1.
    public static func initialTransitions(labels m: Int) -> [Float] {
        initialTransitions(labels: m, as: Float.self)
    }

    /// NCRF++'s initial transitions `[m+2, m+2]` in any scalar type; see
    /// `initialTransitions(labels:)`.
    public static func initialTransitions<T: Scalar>(labels m: Int, as type: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: transitionCount(labels: m)) { buffer, initialized in
            if let base = buffer.baseAddress { writeInitialTransitions(into: base, labels: m) }
            initialized = buffer.count
        }
    }

    /// Writes NCRF++'s initial transitions into `transitions [m+2, m+2]`, e.g.
    /// the CRF slice of a flat parameter buffer. m ≥ 1.
    public static func writeInitialTransitions<T: Scalar>(into transitions: UnsafeMutablePointer<T>, labels m: Int) {
        let width = m + 2, start = startIndex(labels: m), stop = stopIndex(labels: m)
        transitions.update(repeating: 0, count: width * width)
        for row in 0..<width {
            transitions[row * width + start] = T(forbidden)
            transitions[stop * width + row] = T(forbidden)
        }
    }

    /// score(y) of one label path, in Double (the formula in the type's doc).
    /// - Parameters:
    ///   - emissions: `E [T, m]`, row-major.
    ///   - steps: T ≥ 1 tokens.
    ///   - labels: m ≥ 1 real labels.
    ///   - path: T labels, each in 0..<m (checked: −1, the "no label" of
    ///     softmax training, is not a path and traps).
    ///   - transitions: `[m+2, m+2]`, row-major, START = m, STOP = m + 1.
    @_specialize(where T == Float)
    public static func pathScore<T: Scalar>(
        emissions: UnsafePointer<T>, steps: Int, labels m: Int,
        path: UnsafePointer<Int32>, transitions: UnsafePointer<T>
    ) -> Double {
        precondition(steps >= 1 && m >= 1, "a CRF path needs at least one token and one label")
        let width = m + 2
        var previous = startIndex(labels: m)
        var score = 0.0
        for t in 0..<steps {
            let label = Int(path[t])
            precondition(label >= 0 && label < m, "CRF label \(label) at token \(t) is not in 0..<\(m)")
            score += Double(transitions[previous * width + label]) + Double(emissions[t * m + label])
            previous = label
        }
        return score + Double(transitions[previous * width + stopIndex(labels: m)])
    }

    /// The loss of one sentence, −log p(gold | E) = log Z − score(gold), by the
    /// forward algorithm in log space (log-sum-exp with the maximum
    /// subtracted, in Double); tokens are numbered t = 0..<T here:
    ///
    ///     α[0, j] = trans[START, j] + E[0, j]
    ///     α[t, j] = E[t, j] + log Σ_i exp(α[t−1, i] + trans[i, j])
    ///     log Z   = log Σ_j exp(α[T−1, j] + trans[j, STOP])
    ///
    /// With a gradient pointer it also runs the backward recursion
    /// β[T−1, i] = trans[i, STOP], β[t, i] = log Σ_j exp(trans[i, j] + E[t+1, j] + β[t+1, j])
    /// and writes the exact derivatives of the returned loss:
    ///
    ///     dLoss/dE[t, j]         = p(y_t = j) − [gold_t = j]                (marginals − one-hot)
    ///     dLoss/dtrans[i, j]     = Σ_t p(y_t = i, y_{t+1} = j) − #{t : gold_t = i, gold_{t+1} = j}
    ///     dLoss/dtrans[START, j] = p(y_0 = j) − [gold_0 = j]
    ///     dLoss/dtrans[j, STOP]  = p(y_{T−1} = j) − [gold_{T−1} = j]
    ///
    /// with p(y_t = j) = exp(α[t, j] + β[t, j] − log Z) and
    /// p(y_t = i, y_{t+1} = j) = exp(α[t, i] + trans[i, j] + E[t+1, j] + β[t+1, j] − log Z),
    ///
    /// and 0 for column START, row STOP and `trans[START, STOP]`.
    ///
    /// - Parameters:
    ///   - emissions: `E [T, m]`, row-major, finite.
    ///   - steps: T ≥ 1 tokens (an empty sentence has no path; skip it).
    ///   - labels: m ≥ 1 real labels.
    ///   - gold: T labels, each in 0..<m. The caller guarantees this; −1 (the
    ///     "ignored token" of softmax cross-entropy) must not occur in CRF
    ///     training, since a path cannot skip a token (checked: it traps).
    ///   - transitions: `[m+2, m+2]`, row-major; entries may be `forbidden`,
    ///     but for each token at least one label must be reachable (else Z = 0
    ///     and the loss is +∞).
    ///   - emissionGradient: `nil`, or `[T, m]`, OVERWRITTEN with dLoss/dE.
    ///   - transitionGradient: `nil`, or `[m+2, m+2]`; dLoss/dtrans is ADDED to
    ///     it, so one buffer sums a batch. Entries that enter no path get + 0.
    ///   - scratch: at least `scratchCount(steps: T, labels: m)` Doubles, owned
    ///     by the caller; contents on entry do not matter and are clobbered.
    /// - Returns: log Z − score(gold) ≥ 0 (up to rounding), in Double.
    @_specialize(where T == Float)
    @discardableResult
    public static func negativeLogLikelihood<T: Scalar>(
        emissions E: UnsafePointer<T>, steps: Int, labels m: Int,
        gold: UnsafePointer<Int32>, transitions: UnsafePointer<T>,
        emissionGradient: UnsafeMutablePointer<T>?, transitionGradient: UnsafeMutablePointer<T>?,
        scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        let goldScore = pathScore(emissions: E, steps: steps, labels: m, path: gold, transitions: transitions)
        let width = m + 2, start = startIndex(labels: m), stop = stopIndex(labels: m)
        @inline(__always) func trans(_ from: Int, _ to: Int) -> Double { Double(transitions[from * width + to]) }
        @inline(__always) func emission(_ t: Int, _ j: Int) -> Double { Double(E[t * m + j]) }

        // Forward: α [T, m].
        let alpha = scratch
        for j in 0..<m { alpha[j] = trans(start, j) + emission(0, j) }
        for t in 1..<steps {
            let previous = alpha + (t - 1) * m, current = alpha + t * m
            for j in 0..<m {
                current[j] = emission(t, j) + logSumExp(m) { i in previous[i] + trans(i, j) }
            }
        }
        let lastAlpha = alpha + (steps - 1) * m
        let logZ = logSumExp(m) { j in lastAlpha[j] + trans(j, stop) }
        let loss = logZ - goldScore
        guard emissionGradient != nil || transitionGradient != nil else { return loss }

        // Backward: β [T, m].
        let beta = scratch + steps * m
        let lastBeta = beta + (steps - 1) * m
        for i in 0..<m { lastBeta[i] = trans(i, stop) }
        for t in stride(from: steps - 2, through: 0, by: -1) {
            let next = beta + (t + 1) * m, current = beta + t * m
            for i in 0..<m {
                current[i] = logSumExp(m) { j in trans(i, j) + emission(t + 1, j) + next[j] }
            }
        }
        @inline(__always) func marginal(_ t: Int, _ j: Int) -> Double {
            Double.exp(alpha[t * m + j] + beta[t * m + j] - logZ)
        }
        @inline(__always) func isGold(_ t: Int, _ j: Int) -> Double { Int(gold[t]) == j ? 1 : 0 }

        if let dE = emissionGradient {
            for t in 0..<steps {
                for j in 0..<m { dE[t * m + j] = T(marginal(t, j) - isGold(t, j)) }
            }
        }
        if let dTrans = transitionGradient {
            // Counts of the [m, m] block summed over t in Double, so a Float
            // gradient is rounded once per entry, not once per token.
            let counts = scratch + 2 * steps * m
            counts.update(repeating: 0, count: m * m)
            for t in 0..<(steps - 1) {
                let from = alpha + t * m, next = beta + (t + 1) * m
                for i in 0..<m {
                    for j in 0..<m {
                        counts[i * m + j] += Double.exp(from[i] + trans(i, j) + emission(t + 1, j) + next[j] - logZ)
                    }
                }
                counts[Int(gold[t]) * m + Int(gold[t + 1])] -= 1
            }
            for i in 0..<m {
                for j in 0..<m { dTrans[i * width + j] += T(counts[i * m + j]) }
            }
            for j in 0..<m {
                dTrans[start * width + j] += T(marginal(0, j) - isGold(0, j))
                dTrans[j * width + stop] += T(marginal(steps - 1, j) - isGold(steps - 1, j))
            }
        }
        return loss
    }

    /// The highest-scoring label path (Viterbi), in Double, tokens t = 0..<T:
    ///
    ///     δ[0, j]  = trans[START, j] + E[0, j]
    ///     δ[t, j]  = (max_i (δ[t−1, i] + trans[i, j])) + E[t, j]
    ///     bp[t, j] = first argmax_i (δ[t−1, i] + trans[i, j])
    ///     y_{T−1}  = first argmax_j (δ[T−1, j] + trans[j, STOP]),  y_{t−1} = bp[t, y_t]
    ///
    /// Ties go to the LOWEST label index at every max, as `torch.max`/`argmax`
    /// (the first maximal index) does, so among equally good paths this
    /// returns the one whose (y_{T−1}, y_{T−2}, …, y_0) is lexicographically
    /// smallest. δ is kept in Double so ties and near-ties resolve the same way
    /// for Float and Double inputs. Backpointers are not stored: backtracking
    /// recomputes the same first argmax from the stored δ, bit for bit.
    ///
    /// - Parameters:
    ///   - emissions: `E [T, m]`, row-major.
    ///   - steps: T ≥ 1 tokens.
    ///   - labels: m ≥ 1 real labels.
    ///   - transitions: `[m+2, m+2]`, row-major, START = m, STOP = m + 1.
    ///   - path: T labels, written, each in 0..<m.
    ///   - scratch: at least `scratchCount(steps: T, labels: m)` Doubles
    ///     (this uses the first T·m); contents do not matter and are clobbered.
    /// - Returns: the best path's score, max_y score(y) (the recursion's sum
    ///   order, so it may differ from `pathScore` in the last bits).
    @_specialize(where T == Float)
    @discardableResult
    public static func viterbi<T: Scalar>(
        emissions E: UnsafePointer<T>, steps: Int, labels m: Int,
        transitions: UnsafePointer<T>, into path: UnsafeMutablePointer<Int32>,
        scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        precondition(steps >= 1 && m >= 1, "a CRF path needs at least one token and one label")
        let width = m + 2, start = startIndex(labels: m), stop = stopIndex(labels: m)
        @inline(__always) func trans(_ from: Int, _ to: Int) -> Double { Double(transitions[from * width + to]) }

        let delta = scratch
        for j in 0..<m { delta[j] = trans(start, j) + Double(E[j]) }
        for t in 1..<steps {
            let previous = delta + (t - 1) * m, current = delta + t * m
            for j in 0..<m {
                current[j] = firstArgmax(m) { i in previous[i] + trans(i, j) }.value + Double(E[t * m + j])
            }
        }
        let lastDelta = delta + (steps - 1) * m
        let final = firstArgmax(m) { j in lastDelta[j] + trans(j, stop) }
        path[steps - 1] = Int32(final.index)
        for t in stride(from: steps - 1, to: 0, by: -1) {
            let previous = delta + (t - 1) * m, label = Int(path[t])
            path[t - 1] = Int32(firstArgmax(m) { i in previous[i] + trans(i, label) }.index)
        }
        return final.value
    }

    /// log Σ_{k < count} exp(value(k)) with the maximum subtracted, so no term
    /// overflows; −∞ when every term is −∞ (instead of NaN from −∞ − −∞).
    @inline(__always)
    static func logSumExp(_ count: Int, _ value: (Int) -> Double) -> Double {
        var maximum = -Double.infinity
        for k in 0..<count { maximum = max(maximum, value(k)) }
        if maximum == -Double.infinity { return maximum }
        var sum = 0.0
        for k in 0..<count { sum += Double.exp(value(k) - maximum) }
        return maximum + Double.log(sum)
    }

    /// The first index k < count of the largest value(k) (strictly greater
    /// replaces, so the lowest index wins a tie) and that value. count ≥ 1.
    @inline(__always)
    static func firstArgmax(_ count: Int, _ value: (Int) -> Double) -> (index: Int, value: Double) {
        var best = (index: 0, value: value(0))
        for k in 1..<count {
            let candidate = value(k)
            if candidate > best.value { best = (k, candidate) }
        }
        return best
    }
}
