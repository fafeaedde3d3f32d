import DissectCore
import DissectKernels

/// How a tagger turns its logits into labels: the arg-max of each token's
/// logits (first on ties, as torch.argmax), or with a CRF the Viterbi path of
/// the sentence. Prediction, evaluation and every ablation decode here.
public enum Decoding: String, Codable, Sendable, CaseIterable {
    case argmax
    case viterbi

    /// Labels for one sentence's logits `logits [steps, m]` into `labels [steps]`;
    /// `transitions` (`crf.transitions`, `[m + 2, m + 2]`) is required for Viterbi
    /// and ignored for arg-max. steps ≥ 1, m ≥ 1.
    @_specialize(where T == Float)
    public func decode<T: Scalar>(
        logits: UnsafePointer<T>, steps: Int, labels m: Int, transitions: UnsafePointer<T>?,
        into labels: UnsafeMutablePointer<Int32>, scratch: Buffer<Double>
    ) {
        switch (self, transitions) {
        case (.viterbi, let transitions?):
            LinearChainCRF.viterbi(
                emissions: logits, steps: steps, labels: m, transitions: transitions, into: labels,
                scratch: scratch.reserve(LinearChainCRF.scratchCount(steps: steps, labels: m)))
        case (.viterbi, nil):
            preconditionFailure("Viterbi decoding needs the CRF's transitions")
        case (.argmax, _):
            for token in 0..<steps { labels[token] = Int32(ArgMax.firstLargest(logits + token * m, count: m)) }
        }
    }
}

extension TaggerConfiguration {
    /// How this model decodes: Viterbi with a CRF, else arg-max.
    public var decoding: Decoding { crf ? .viterbi : .argmax }
}
