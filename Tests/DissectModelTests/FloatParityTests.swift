import Testing
import DissectCore
@testable import DissectModel
@testable import DissectKernels

/// The Float model is the one that trains and predicts, and it does not run the
/// code that the finite-difference checks cover: on Float, `Kernels` switches to
/// `FloatKernels` (hand-written SIMD products `addVectorTimesMatrix` and
/// `setMatrixTimesVector`, SIMD `sigmoid`/`tanh` built on a polynomial `exp`,
/// the SIMD `lstmBackwardUnits`), and the GEMMs go to `sgemm` instead of `dgemm`.
/// So the Float model is run here against the same model in Double (the
/// reference loops, the gradient-checked path), with the same parameters and the
/// same dropout masks, and every number is compared:
///
/// - the summed loss;
/// - every hidden state and every logit of the training forward pass (im2col char CNN);
/// - every logit and hidden state of the inference forward pass (tabulated char
///   convolution, `withLoss: false`), against the Double training pass;
/// - every element of the gradient of every parameter tensor.
///
/// Each element must satisfy |float − double| ≤ 3e-4 · max(|double|, 0.01 · scale),
/// where scale is the largest |double| of that tensor (of all hidden states, of
/// all logits); the floor keeps elements that are near 0 by cancellation from
/// demanding a relative precision that Float cannot give. The loss must agree to
/// 1e-6 of itself. Variants: LSTM, BiLSTM, GRU, BiGRU, LSTM without chars, BiRNN,
/// a 2-layer BiLSTM-CRF and a 2-layer GRU (with layer dropout), at
/// H = 8, 13 and 50, without dropout and with fixed dropout masks.
@Suite struct FloatParityTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        var cell: CellKind
        var bidirectional: Bool
        var charCNN: Bool
        var hidden: Int
        var layers = 1
        var crf = false
        var testDescription: String {
            "\(bidirectional ? "bi" : "")\(cell)\(charCNN ? "" : " no-char") H=\(hidden)"
                + (layers > 1 ? " layers=\(layers)" : "") + (crf ? " crf" : "")
        }
    }

    /// H = 8: the SIMD bodies only (4H = 32, 3H = 24, H = 8 lanes). H = 13: every
    /// scalar tail (4H = 52 and 3H = 39 after the 32- and 8-wide blocks, 13 = 8 + 5
    /// units, 52 = 3·16 + 4 columns). H = 50: the paper's size (200 = 6·32 + 8, 50 = 48 + 2).
    static let variants: [Variant] = [8, 13, 50].flatMap { hidden in
        [
            Variant(cell: .lstm, bidirectional: false, charCNN: true, hidden: hidden),
            Variant(cell: .lstm, bidirectional: true, charCNN: true, hidden: hidden),
            Variant(cell: .gru, bidirectional: false, charCNN: true, hidden: hidden),
            Variant(cell: .gru, bidirectional: true, charCNN: true, hidden: hidden),
            Variant(cell: .lstm, bidirectional: false, charCNN: false, hidden: hidden),
            Variant(cell: .rnn, bidirectional: true, charCNN: true, hidden: hidden),
            Variant(cell: .lstm, bidirectional: true, charCNN: true, hidden: hidden, layers: 2, crf: true),
            Variant(cell: .gru, bidirectional: false, charCNN: true, hidden: hidden, layers: 2),
        ]
    }

    /// Measured on this machine, the worst element over all variants is 3.3e-5 of
    /// max(|double|, 1e-2·scale) (gradients; hidden states 3.4e-5, logits 1.5e-5),
    /// and the loss differs by 1.4e-8 of itself: the bounds leave a margin of about 10.
    static let tolerance = 3e-4
    static let floor = 1e-2
    static let lossTolerance = 1e-6

    static func configuration(_ variant: Variant) -> TaggerConfiguration {
        var c = TaggerConfiguration()
        c.cell = variant.cell
        c.layers = variant.layers
        c.layerDropout = variant.layers > 1 ? 0.3 : 0
        c.crf = variant.crf
        c.bidirectional = variant.bidirectional
        c.charCNN = variant.charCNN
        c.hiddenSize = variant.hidden
        c.wordEmbeddingDim = 12
        c.charEmbeddingDim = 5
        c.charFilters = 9
        c.wordCount = 30
        c.charCount = 11
        c.labelCount = 9
        c.dropout = 0.5
        return c
    }

    /// The Float model with PyTorch's initialisation (as training starts) and the
    /// same parameters, exactly, in Double.
    static func models(_ c: TaggerConfiguration, seed: UInt64) -> (TaggerModel<Float>, TaggerModel<Double>) {
        var rng = SplitMix64(seed: seed)
        let vectors = (0..<(c.wordCount * c.wordEmbeddingDim)).map { _ in Float(rng.uniform(-1, 1)) }
        let float = TaggerModel<Float>.initialized(configuration: c, wordVectors: vectors, rng: &rng)
        return (float, float.converted(to: Double.self))
    }

    struct Pass {
        var loss: Double
        var hidden: [Double]
        var logits: [Double]
        var gradient: [Double]
        var inferenceHidden: [Double]
        var inferenceLogits: [Double]
    }

    /// Forward with loss, backward, then an inference forward, on one shard.
    static func run<T: Scalar>(_ model: TaggerModel<T>, _ sentences: [EncodedSentence], dropoutSeed: UInt64?) -> Pass {
        let c = model.configuration
        let shard = TaggerShard<T>(configuration: c)
        var rng = SplitMix64(seed: dropoutSeed ?? 0)
        var gradient = [T](repeating: 0, count: model.parameters.count)
        let loss = model.parameters.withUnsafeBufferPointer { p in
            withUnsafeMutablePointer(to: &rng) { rngPointer in
                shard.forward(
                    parameters: p.baseAddress!, sentences: sentences, range: 0..<sentences.count,
                    dropoutRNG: dropoutSeed == nil ? nil : rngPointer, withLoss: true)
            }
        }
        let hidden = shard.hidden.array(shard.tokenCount * c.outputSize).map { Double($0) }
        let logits = shard.logits.array(shard.tokenCount * c.labelCount).map { Double($0) }
        model.parameters.withUnsafeBufferPointer { shard.backward(parameters: $0.baseAddress!) }
        gradient.withUnsafeMutableBufferPointer { shard.addGradient(into: $0.baseAddress!) }
        _ = model.parameters.withUnsafeBufferPointer { p in
            shard.forward(parameters: p.baseAddress!, sentences: sentences, range: 0..<sentences.count, dropoutRNG: nil, withLoss: false)
        }
        return Pass(
            loss: loss, hidden: hidden, logits: logits, gradient: gradient.map { Double($0) },
            inferenceHidden: shard.hidden.array(shard.tokenCount * c.outputSize).map { Double($0) },
            inferenceLogits: shard.logits.array(shard.tokenCount * c.labelCount).map { Double($0) })
    }

    /// Elements of `values` outside the tolerance of `reference`, as messages (at most 5).
    static func mismatches(_ name: String, _ values: ArraySlice<Double>, _ reference: ArraySlice<Double>) -> [String] {
        precondition(values.count == reference.count)
        let scale = reference.reduce(0) { max($0, abs($1)) }
        var found: [String] = []
        for (offset, (value, exact)) in zip(values, reference).enumerated() {
            let allowed = tolerance * max(abs(exact), floor * scale)
            if !(abs(value - exact) <= allowed) {
                if found.count < 5 { found.append("\(name)[\(offset)]: float \(value), double \(exact), allowed ±\(allowed)") }
            }
        }
        return found
    }

    static func compare(_ float: Pass, _ double: Pass, model: TaggerModel<Double>, sentences: [EncodedSentence]) -> [String] {
        var found: [String] = []
        if !(abs(float.loss - double.loss) <= lossTolerance * abs(double.loss)) {
            found.append("loss: float \(float.loss), double \(double.loss)")
        }
        found += mismatches("hidden", float.hidden[...], double.hidden[...])
        found += mismatches("logits", float.logits[...], double.logits[...])
        for entry in model.layout.entries {
            let range = entry.offset..<(entry.offset + entry.count)
            found += mismatches("d" + entry.name, float.gradient[range], double.gradient[range])
        }
        return found
    }

    static let lengths = [9, 1, 17, 4, 30]

    @Test(arguments: variants)
    func floatMatchesDoubleWithoutDropout(variant: Variant) {
        let c = Self.configuration(variant)
        let (float, double) = Self.models(c, seed: 31 + UInt64(variant.hidden))
        let sentences = tinySentences(seed: 7, configuration: c, lengths: Self.lengths)
        let f = Self.run(float, sentences, dropoutSeed: nil)
        let d = Self.run(double, sentences, dropoutSeed: nil)
        #expect(f.gradient.count == d.gradient.count && f.hidden.count == 61 * c.outputSize)
        let found = Self.compare(f, d, model: double, sentences: sentences)
        #expect(found.isEmpty, "\(variant.testDescription): \(found)")
        // Inference (tabulated char convolution, no dropout) gives the training pass's numbers.
        let inference = Self.mismatches("inference hidden", f.inferenceHidden[...], d.hidden[...])
            + Self.mismatches("inference logits", f.inferenceLogits[...], d.logits[...])
        #expect(inference.isEmpty, "\(variant.testDescription): \(inference)")
        // Not a comparison of zeros: every tensor has a gradient.
        for entry in double.layout.entries {
            #expect(d.gradient[entry.offset..<(entry.offset + entry.count)].contains { $0 != 0 }, "\(entry.name)")
        }
    }

    /// Training runs with dropout: the masks come from the same integer draws in
    /// both types, so the two runs see the same masks.
    @Test(arguments: variants)
    func floatMatchesDoubleWithFixedDropoutMasks(variant: Variant) {
        let c = Self.configuration(variant)
        let (float, double) = Self.models(c, seed: 57 + UInt64(variant.hidden))
        let sentences = tinySentences(seed: 8, configuration: c, lengths: Self.lengths)
        let f = Self.run(float, sentences, dropoutSeed: 99)
        let d = Self.run(double, sentences, dropoutSeed: 99)
        let found = Self.compare(f, d, model: double, sentences: sentences)
        #expect(found.isEmpty, "\(variant.testDescription): \(found)")
        // Dropout did act: the training logits differ from the inference ones.
        #expect(d.logits != d.inferenceLogits)
    }
}
