import DissectCore

/// The character CNN of NCRF++ (Ma & Hovy 2016), one word at a time:
///
///     feature[f] = b[f] + max_p Σ_{c,k} W[f, c, k] · e[p + k − pad, c]
///
/// over the word's own characters p (zero outside the word, pad = (window − 1) / 2),
/// with no nonlinearity. Words are never padded to a batch's longest word, so
/// a word's feature does not depend on which batch it is in.
public enum CharCNN {
    /// Lays out each character's window as one row, so the convolution of
    /// every character of the batch is one GEMM with `W` viewed as `[F, C·window]`.
    /// - Parameters:
    ///   - embedded: `[Nc, C]` char vectors (after dropout).
    ///   - wordStarts: `N + 1` offsets of each word's chars.
    ///   - columns: out `[Nc, C·window]`, element `c·window + k`.
    @_specialize(where T == Float)
    public static func im2col<T: Scalar>(
        embedded: UnsafePointer<T>, dimension C: Int, window: Int,
        wordStarts: UnsafePointer<Int32>, wordCount: Int, columns: UnsafeMutablePointer<T>
    ) {
        let pad = (window - 1) / 2
        let width = C * window
        for word in 0..<wordCount {
            let start = Int(wordStarts[word]), end = Int(wordStarts[word + 1])
            for position in start..<end {
                let row = columns + position * width
                for k in 0..<window {
                    let source = position + k - pad
                    if source >= start && source < end {
                        let vector = embedded + source * C
                        for c in 0..<C { row[c * window + k] = vector[c] }
                    } else {
                        for c in 0..<C { row[c * window + k] = 0 }
                    }
                }
            }
        }
    }

    /// Max over each word's positions of `convolution [Nc, F]`, plus bias;
    /// writes `feature[t]` at `output + t * outputStride` and the winning
    /// positions into `argmax [N, F]`.
    @_specialize(where T == Float)
    public static func maxPool<T: Scalar>(
        convolution: UnsafePointer<T>, filters F: Int, bias: UnsafePointer<T>,
        wordStarts: UnsafePointer<Int32>, wordCount: Int,
        output: UnsafeMutablePointer<T>, outputStride: Int, argmax: UnsafeMutablePointer<Int32>
    ) {
        for word in 0..<wordCount {
            let start = Int(wordStarts[word]), end = Int(wordStarts[word + 1])
            let best = output + word * outputStride
            let where_ = argmax + word * F
            best.update(from: convolution + start * F, count: F)
            where_.update(repeating: Int32(start), count: F)
            for position in (start + 1)..<max(end, start + 1) {
                let row = convolution + position * F
                for filter in 0..<F where row[filter] > best[filter] {
                    best[filter] = row[filter]
                    where_[filter] = Int32(position)
                }
            }
            for filter in 0..<F { best[filter] += bias[filter] }
        }
    }

    /// Backward of max pool + convolution: only the winning position of each
    /// (word, filter) gets gradient, so this is `N·F` small axpys instead of a GEMM.
    /// - Parameters:
    ///   - featureGradient: dLoss/dfeature at `featureGradient + t * stride`, F values.
    ///   - weightGradient: `[F, C·window]` (+=); biasGradient: `[F]` (+=).
    ///   - columnsGradient: `[Nc, C·window]` (+=), zeroed by the caller.
    @_specialize(where T == Float)
    public static func backward<T: Scalar>(
        featureGradient: UnsafePointer<T>, featureStride: Int, wordCount: Int, filters F: Int, width: Int,
        argmax: UnsafePointer<Int32>, columns: UnsafePointer<T>, weight: UnsafePointer<T>,
        weightGradient: UnsafeMutablePointer<T>, biasGradient: UnsafeMutablePointer<T>,
        columnsGradient: UnsafeMutablePointer<T>
    ) {
        for word in 0..<wordCount {
            let gradient = featureGradient + word * featureStride
            for filter in 0..<F {
                let g = gradient[filter]
                if g == 0 { continue }
                let position = Int(argmax[word * F + filter])
                biasGradient[filter] += g
                Kernels.axpy(weightGradient + filter * width, g, columns + position * width, width)
                Kernels.axpy(columnsGradient + position * width, g, weight + filter * width, width)
            }
        }
    }

    /// The transpose of `im2col`: adds each window element's gradient back to
    /// the character it came from. `embeddedGradient [Nc, C]` is overwritten.
    @_specialize(where T == Float)
    public static func col2im<T: Scalar>(
        columnsGradient: UnsafePointer<T>, dimension C: Int, window: Int,
        wordStarts: UnsafePointer<Int32>, wordCount: Int, embeddedGradient: UnsafeMutablePointer<T>
    ) {
        let pad = (window - 1) / 2
        let width = C * window
        let total = Int(wordStarts[wordCount])
        embeddedGradient.update(repeating: 0, count: total * C)
        for word in 0..<wordCount {
            let start = Int(wordStarts[word]), end = Int(wordStarts[word + 1])
            for position in start..<end {
                let row = columnsGradient + position * width
                for k in 0..<window {
                    let source = position + k - pad
                    guard source >= start && source < end else { continue }
                    let target = embeddedGradient + source * C
                    for c in 0..<C { target[c] += row[c * window + k] }
                }
            }
        }
    }
}

/// Inverted dropout as `torch.nn.Dropout`: keep with probability 1 − p and
/// scale kept values by 1 / (1 − p). The mask is kept for backward.
public enum Dropout {
    @_specialize(where T == Float)
    public static func makeMask<T: Scalar>(
        _ mask: UnsafeMutablePointer<T>, count: Int, probability: Double, rng: inout SplitMix64
    ) {
        // Two 32-bit uniforms per draw: drop when u < p·2³².
        let keep = T(1 / (1 - probability))
        let threshold = UInt64((probability * 4_294_967_296).rounded(.down))
        var index = 0
        if T.self == Float.self {
            // SplitMix64 is a counter: draw d mixes state + (d + 1)·γ, so eight draws are mixed at once
            // and give the bits, and the state, of eight calls of `next()`.
            let out = UnsafeMutableRawPointer(mask).assumingMemoryBound(to: Float.self)
            let keepFloat = Float(1 / (1 - probability))
            let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
            let offsets = SIMD8<UInt64>(1, 2, 3, 4, 5, 6, 7, 8) &* gamma
            let limit = SIMD8<UInt64>(repeating: threshold), low32 = SIMD8<UInt64>(repeating: 0xFFFF_FFFF)
            while index + 16 <= count {
                var z = SIMD8<UInt64>(repeating: rng.state) &+ offsets
                rng.state &+= 8 &* gamma
                z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
                z = z ^ (z &>> 31)
                let dropLow = (z & low32) .< limit, dropHigh = (z &>> 32) .< limit
                for lane in 0..<8 {
                    out[index + 2 * lane] = dropLow[lane] ? 0 : keepFloat
                    out[index + 2 * lane + 1] = dropHigh[lane] ? 0 : keepFloat
                }
                index += 16
            }
        }
        while index < count {
            let bits = rng.next()
            mask[index] = (bits & 0xFFFF_FFFF) < threshold ? 0 : keep
            if index + 1 < count { mask[index + 1] = (bits >> 32) < threshold ? 0 : keep }
            index += 2
        }
    }

    /// The same one draw at a time: the reference the Float path's eight-draw loop is tested against.
    public static func referenceMakeMask<T: Scalar>(
        _ mask: UnsafeMutablePointer<T>, count: Int, probability: Double, rng: inout SplitMix64
    ) {
        let keep = T(1 / (1 - probability))
        let threshold = UInt64((probability * 4_294_967_296).rounded(.down))
        var index = 0
        while index < count {
            let bits = rng.next()
            mask[index] = (bits & 0xFFFF_FFFF) < threshold ? 0 : keep
            if index + 1 < count { mask[index + 1] = (bits >> 32) < threshold ? 0 : keep }
            index += 2
        }
    }

    /// `values *= mask`, elementwise; also the backward (`gradient *= mask`).
    @_specialize(where T == Float)
    public static func apply<T: Scalar>(_ values: UnsafeMutablePointer<T>, mask: UnsafePointer<T>, count: Int) {
        for index in 0..<count { values[index] *= mask[index] }
    }
}

/// Softmax cross-entropy summed over tokens, as
/// `F.cross_entropy(logits, labels, reduction="sum")`.
public enum SoftmaxCrossEntropy {
    /// - Parameters: logits `[N, m]`; labels `N` (−1 = ignored).
    /// - Returns: the summed loss; writes `gradient [N, m]` = softmax − one-hot (0 for ignored rows).
    @_specialize(where T == Float)
    public static func forwardBackward<T: Scalar>(
        logits: UnsafePointer<T>, labels: UnsafePointer<Int32>, count N: Int, classes m: Int,
        gradient: UnsafeMutablePointer<T>
    ) -> Double {
        var loss = 0.0
        for token in 0..<N {
            let row = logits + token * m
            let out = gradient + token * m
            let label = Int(labels[token])
            if label < 0 {
                out.update(repeating: 0, count: m)
                continue
            }
            var maximum = row[0]
            for j in 1..<m where row[j] > maximum { maximum = row[j] }
            var sum: T = 0
            for j in 0..<m {
                let e = T.exp(row[j] - maximum)
                out[j] = e
                sum += e
            }
            let inverse = 1 / sum
            for j in 0..<m { out[j] *= inverse }
            loss += Double(T.log(sum) + maximum - row[label])
            out[label] -= 1
        }
        return loss
    }
}

/// Column sums: `out[j] += Σ_t matrix[t, j]` for a `[rows, columns]` matrix.
@_specialize(where T == Float)
@inline(__always)
public func addColumnSums<T: Scalar>(_ matrix: UnsafePointer<T>, rows: Int, columns: Int, into out: UnsafeMutablePointer<T>) {
    for row in 0..<rows { Kernels.axpy(out, 1, matrix + row * columns, columns) }
}

extension CharCNN {
    /// Inference without im2col: with no dropout the convolution is linear in
    /// fixed char vectors, so each (char, window offset) contributes a fixed
    /// `[F]` vector, tabulated once per call:
    ///
    ///     table[char, k, f] = Σ_c W[f, c, k] · E[char, c]
    ///     convolution[p] = Σ_k table[chars[p + k − pad], k]   (inside the word)
    ///
    /// - Parameters:
    ///   - embedding: `[charCount, C]`; weight: `[F, C, window]`.
    ///   - table: scratch `[charCount, window, F]`.
    ///   - convolution: out `[Nc, F]` (no bias, as the GEMM path).
    @_specialize(where T == Float)
    public static func convolveByTable<T: Scalar>(
        embedding: UnsafePointer<T>, charCount: Int, dimension C: Int, filters F: Int, window: Int,
        weight: UnsafePointer<T>, chars: UnsafePointer<Int32>, wordStarts: UnsafePointer<Int32>, wordCount: Int,
        table: UnsafeMutablePointer<T>, convolution: UnsafeMutablePointer<T>
    ) {
        for char in 0..<charCount {
            let vector = embedding + char * C
            for k in 0..<window {
                let out = table + (char * window + k) * F
                for filter in 0..<F {
                    var sum: T = 0
                    let row = weight + filter * C * window + k
                    for c in 0..<C { sum += row[c * window] * vector[c] }
                    out[filter] = sum
                }
            }
        }
        let pad = (window - 1) / 2
        for word in 0..<wordCount {
            let start = Int(wordStarts[word]), end = Int(wordStarts[word + 1])
            for position in start..<end {
                let out = convolution + position * F
                out.update(repeating: 0, count: F)
                for k in 0..<window {
                    let source = position + k - pad
                    guard source >= start && source < end else { continue }
                    Kernels.axpy(out, 1, table + (Int(chars[source]) * window + k) * F, F)
                }
            }
        }
    }
}
