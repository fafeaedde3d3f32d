import DissectCore
import DissectCorpus
import DissectModel
import Foundation

/// Memory estimates of the analyses, checked before their arrays are
/// allocated. N tokens, S sentences, n neurons (H × directions), m labels,
/// G gate rows per direction, K ablation steps. Every figure is in bytes,
/// taken in floating point (`MemoryEstimate`), and errs upwards.
public enum AnalysisMemory {
    /// A `ModelRun` and the sensitivity computed from it:
    ///
    ///     cache        4·N·(n + m + 3) + 8·S, and 2·4·dirs·N·G with the projections
    ///     sensitivity  n·m·(8 + 16) for the sums and values, n·m·256 for the files (JSON, CSV, SVG)
    public static func modelRun(configuration c: TaggerConfiguration, sizes: CorpusSizes, keepProjections: Bool) -> MemoryEstimate {
        let N = sizes.tokenCount, n = neurons(c), m = c.labelCount
        var total = MemoryEstimate.floats(N, n) + MemoryEstimate.floats(N, m) + MemoryEstimate.floats(N) * 3
            + MemoryEstimate.words(sizes.sentenceCount) + MemoryEstimate.words(1)
        if keepProjections {
            total += MemoryEstimate.floats(c.directionCount, N, c.cell.gateCount, c.widestHiddenSize) * 2
        }
        return total + sensitivity(neurons: n, labels: m)
    }

    /// A sensitivity matrix and the files written from it: n·m·(8 + 16 + 256).
    public static func sensitivity(neurons: Int, labels: Int) -> MemoryEstimate {
        MemoryEstimate.elements([neurons, labels], bytesEach: 8 + 16 + 256)
    }

    /// An `AblationEngine` over N tokens, beside the `ModelRun` it reads:
    ///
    ///     readout    4·N·n + 4·N·m (transposed copies) + 2 cores × 4·N·(m + 1) (working logits and predictions)
    ///     recurrent  + 2 reruns at once × (4·N·(n + m + 1) + the masks' compacted W_hhᵀ, at most
    ///                4·min(n·dirs·H·G, `MaskedRecurrence.compactPanelBudget`): at most n masks) + the transposed
    ///                recurrent weights 4·L·dirs·H·G,
    ///                and below the top layer 4·N·n (a layer's output) + 4·dirs·N·G (the next one's projections)
    ///     CRF        + 2 cores × 4·N·m (token-major logits for Viterbi)
    ///     resample   + 4·N·n (the drawn values v_i(t), neuron-major; mean keeps n values)
    public static func ablation(
        configuration c: TaggerConfiguration, tokens N: Int, mode: AblationMode, value: AblationValue = .zero
    ) -> MemoryEstimate {
        let n = neurons(c), m = c.labelCount
        let perToken = MemoryEstimate.floats(n) + MemoryEstimate.floats(m) + (MemoryEstimate.floats(m) + MemoryEstimate.floats(1)) * 2
            + MemoryEstimate.elements([1], bytesEach: 2)
        var total = perToken * N
        if mode == .recurrent {
            total += (MemoryEstimate.floats(n) + MemoryEstimate.floats(m) + MemoryEstimate.floats(1)) * N * 2
                + MemoryEstimate.floats(max(1, c.layers), c.directionCount, c.widestHiddenSize, c.cell.gateCount, c.widestHiddenSize)
            if c.cell == .lstm {
                let perMask = c.directionCount * c.widestHiddenSize * c.cell.gateCount * c.widestHiddenSize
                let compacted = min(n * perMask, MaskedRecurrence.compactPanelBudget)
                total += MemoryEstimate.floats(compacted) * 2
            }
            if c.layers > 1 {
                total += MemoryEstimate.floats(N, n) + MemoryEstimate.floats(c.directionCount, N, c.cell.gateCount, c.widestHiddenSize)
            }
        }
        if c.crf { total += MemoryEstimate.floats(N, m) * 2 }
        if value == .resample { total += MemoryEstimate.floats(N, n) }
        return total
    }

    /// `dissect rank` beside its two runs and their ablation engines: the probe's standardised
    /// copy of --rank-on's activations and its raw rows, 2·8·T·n, its scores and gradient 8·T·m,
    /// and per method and label the ranking and scores (n of each) and the curve (K + 1), kept as
    /// Doubles and as JSON and CSV text (64 bytes a number).
    public static func ranking(tokens T: Int, neurons n: Int, labels m: Int, methods: Int, steps K: Int) -> MemoryEstimate {
        MemoryEstimate.words(T, n) * 2 + MemoryEstimate.words(T, m)
            + MemoryEstimate.elements([max(1, methods), max(1, m), 2 * n + K + 1], bytesEach: 8 + 64)
    }

    /// The bootstrap bands of `curves` ranked curves (`CurveBootstrap`), B resamples of S sentences,
    /// K steps, m labels (so at most m + 2 accuracy keys):
    ///
    ///     weights           8·B·S
    ///     per curve, 2 at once (readout runs two)
    ///                       8·(K + 1)·(m + 2)·S correct counts + 8·(m + 2)·S totals
    ///                       + 8·B·((K + 1)·(m + 2) + (m + 2)) resampled sums + 8·B sorted values
    ///     kept per curve    2·(K + 1)·(m + 2) bounds, as Doubles and JSON and CSV text (64 bytes a number)
    public static func band(resamples: Int, sentences: Int, steps: Int, labels: Int, curves: Int) -> MemoryEstimate {
        guard resamples > 0 else { return MemoryEstimate(bytes: 0) }
        let B = Double(resamples), S = Double(max(1, sentences)), points = Double(max(0, steps)) + 1
        let keys = Double(max(0, labels)) + 2
        let perCurve = 8 * (points * keys * S + keys * S + B * (points * keys + keys) + B)
        let kept = 2 * points * keys * (8 + 64)
        return MemoryEstimate(bytes: 8 * B * S + 2 * perCurve + Double(max(1, curves)) * kept)
    }

    /// The random-order control: `count` permutations of n neurons, kept as
    /// orders, jobs and in the document (3 × 8·n each), and per order and
    /// group one curve of K + 1 points of m + 2 accuracies and F1, with its
    /// JSON text (32 bytes a number).
    public static func randomControl(count: Int, neurons: Int, steps: Int, labels: Int, groups: Int) -> MemoryEstimate {
        let points = Double(max(0, steps)) + 1, values = Double(max(0, labels)) + 3
        let perOrder = MemoryEstimate.words(neurons) * 3 + MemoryEstimate(bytes: 32 * Double(max(1, groups)) * points * values)
        return perOrder * count
    }

    /// The bootstrap and permutation test of one sensitivity matrix (`SensitivityStatistics`),
    /// over N tokens in S sentences, B resamples and P permutations, c = the machine's cores:
    ///
    ///     bootstrap    8·S·W per-sentence sums, W = (m + 1)·n + m + 1; 12·B·m·n resampled values
    ///                  and ranks, 8·B·m overlaps; c blocks of 32 × (8·S + 8·W) at a time;
    ///                  2 × 8·B gathered per label at a time, c at once
    ///     permutation  8·N sparse labels and 8·8·S strata and offsets; c blocks of 8·S and
    ///                  32 × (4·S + 8·(m + 1)·n + 8·m·n) at a time; 8·m·n counts per block of 32
    ///     both         4·N labels (a copy), 8·W weights and sums of the full sample
    ///     result       n·m·(10·16 + 512): its matrices of optional values and the files they go to
    public static func sensitivityStatistics(
        neurons n: Int, labels m: Int, sentences S: Int, tokens N: Int, resamples B: Int, permutations P: Int,
        cores: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> MemoryEstimate {
        let width = (Double(max(0, m)) + 1) * Double(max(0, n)) + Double(max(0, m)) + 1
        let parallel = Double(max(1, cores))
        var total = MemoryEstimate.zero
        if B > 0 {
            total += MemoryEstimate(bytes: 8 * Double(max(0, S)) * width)
            total += MemoryEstimate.elements([B, m, n], bytesEach: 12) + MemoryEstimate.words(B, m)
            total += MemoryEstimate(bytes: parallel * 32 * 8 * (Double(max(0, S)) + width))
            total += MemoryEstimate.words(B) * 2 * parallel
        }
        if P > 0 {
            total += MemoryEstimate.words(N) + MemoryEstimate.words(S) * 8
            let cells = Double(max(0, m)) * Double(max(0, n))
            total += MemoryEstimate(bytes: parallel * (8 * Double(max(0, S)) + 32 * (4 * Double(max(0, S)) + 8 * width + 8 * cells)))
            total += MemoryEstimate.words(m, n) * Double(P / 32 + 1)
        }
        if B > 0 || P > 0 { total += MemoryEstimate.floats(N) + MemoryEstimate(bytes: 8 * width) }
        return total + MemoryEstimate.elements([n, m], bytesEach: 10 * 16 + 512)
    }

    /// `matrices` label-correlation matrices of m × m optional Doubles, with
    /// their reordered copies, JSON and heatmaps: m²·(3·16 + 256) each.
    public static func correlation(labels: Int, matrices: Int) -> MemoryEstimate {
        MemoryEstimate.elements([labels, labels, max(1, matrices)], bytesEach: 3 * 16 + 256)
    }

    /// The explorer page of N tokens, n neurons, m labels, beside its `ModelRun`: the int8 activations
    /// and their base64 text twice (the document, then the page), N·n·(1 + 2 · 4/3) bytes; per token its word
    /// index, labels and their text, about 64 bytes; per neuron its top tokens and histograms, 8·(2·20 + 2·m·20).
    public static func explorer(tokens N: Int, neurons n: Int, labels m: Int) -> MemoryEstimate {
        MemoryEstimate.elements([N, n], bytesEach: 4) + MemoryEstimate.elements([N], bytesEach: 64)
            + MemoryEstimate.elements([n, 40 + 40 * max(1, m)], bytesEach: 8)
    }

    /// `dissect compare` of models of widths n_1 … n_K over N tokens, beside one `ModelRun` at a time:
    ///
    ///     per model   8·N·n (centred Double activations) + 3 × 8·n² (Gram, covariance, eigenvectors)
    ///     per pair    3 × 8·n_A·n_B (cross product, correlations, |r| for the assignment) + 64·n_A·n_B of text
    public static func compare(tokens N: Int, widths: [Int]) -> MemoryEstimate {
        var total = MemoryEstimate.zero
        for (index, n) in widths.enumerated() {
            total += MemoryEstimate.words(N, n) + MemoryEstimate.words(n, n) * 3
            for other in widths[(index + 1)...] {
                total += MemoryEstimate.words(n, other) * 3 + MemoryEstimate.elements([n, other], bytesEach: 64)
            }
        }
        return total
    }

    /// n = H × directions, taken without overflow for any stored size.
    static func neurons(_ c: TaggerConfiguration) -> Int {
        MemoryEstimate.exactProduct([c.widestHiddenSize, c.directionCount]) ?? Int.max
    }

    /// Throws (`.input`, naming `path`) unless loading `checkpoint`'s model and
    /// running it over `corpus` for sensitivity (and ablation in `ablation`
    /// mode, replacing by `value`) fits in the machine's memory and in 32-bit offsets.
    public static func requireModelRun(
        checkpoint: Checkpoint, corpus: Corpus, path: String, keepProjections: Bool, ablation: AblationMode? = nil,
        value: AblationValue = .zero, available: UInt64 = MemoryBudget.physicalMemory
    ) throws {
        let c = checkpoint.model.configuration
        let sizes = CorpusSizes(sentences: corpus.sentences)
        var extra = modelRun(configuration: c, sizes: sizes, keepProjections: keepProjections)
        if let ablation { extra += AnalysisMemory.ablation(configuration: c, tokens: sizes.tokenCount, mode: ablation, value: value) }
        try Checkpoint.requireInferenceMemory(
            configuration: c, sizes: sizes, path: path, extra: extra,
            what: ablation == nil ? "the analysis of this file" : "the ablation on this file", available: available)
    }
}
