import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel

extension ReproducePipeline {
    /// About how much memory `reproduce` holds at its peak, for `seeds` seeds of
    /// `configuration` (twice as many models with `controlTask`) and the request's random orders per mode
    /// (none when `randomCount` is 0): n neurons, m labels, K = min(steps, n), P parameters.
    ///
    ///     per model (kept to the end)  4·P + 2 sensitivity matrices with their statistics
    ///                                  + modes × values × random control
    ///     one model's analyses         predictor + ModelRun on dev and on test (with projections)
    ///                                  + the statistics' working memory on dev + the ablation engine on test
    ///                                  (its costliest value) + the band of the ranked curves
    ///     correlation                  2 × (seeds + 1) matrices of m × m
    ///     across seeds                 each seed's dev activations and the comparison (`AnalysisMemory.compare`)
    ///     rival rankings               one study on dev and test (`AnalysisMemory.ranking`)
    ///
    /// The analyses count only when the dev and test sizes are given.
    public static func memoryEstimate(
        request: ReproduceRequest, configuration c: TaggerConfiguration, seeds: Int, randomCount: Int,
        dev: CorpusSizes?, test: CorpusSizes?
    ) -> MemoryEstimate {
        let n = MemoryEstimate.exactProduct([c.hiddenSize, c.directionCount]) ?? Int.max, m = c.labelCount
        let steps = min(request.steps, n)
        let groups = request.pairs?.count ?? 2
        // The statistics kept per matrix: only its result (the resampling's working memory is counted once below).
        let keptStatistics = AnalysisMemory.sensitivityStatistics(
            neurons: n, labels: m, sentences: 0, tokens: 0, resamples: 0, permutations: 0)
        let perModel = c.parameterMemory + (AnalysisMemory.sensitivity(neurons: n, labels: m) + keptStatistics) * 2
            + request.modes.map { mode in
                AnalysisMemory.randomControl(
                    count: randomCount == 0 ? 0 : request.randomCount(mode), neurons: n, steps: steps, labels: m, groups: groups)
                    * max(1, request.values.count)
            }.reduce(MemoryEstimate.zero, +)
        let models = seeds * (request.controlTask ? 2 : 1)
        var total = perModel * models + AnalysisMemory.correlation(labels: m, matrices: 1) * (2 * (Double(seeds) + 1))
        if let dev, let test {
            let chunk = dev.largestPredictorCall(c).union(test.largestPredictorCall(c))
            let ablationMode: AblationMode = request.modes.contains(.recurrent) ? .recurrent : .readout
            let ablationValue: AblationValue = request.values.contains(.resample) ? .resample : .zero
            total += c.predictionMemory(chunk: chunk)
                + AnalysisMemory.modelRun(configuration: c, sizes: dev, keepProjections: false)
                + AnalysisMemory.modelRun(configuration: c, sizes: test, keepProjections: request.modes.contains(.recurrent))
                + AnalysisMemory.sensitivityStatistics(
                    neurons: n, labels: m, sentences: max(dev.sentenceCount, test.sentenceCount),
                    tokens: max(dev.tokenCount, test.tokenCount), resamples: request.bootstrap, permutations: request.permutations)
                + AnalysisMemory.ablation(configuration: c, tokens: test.tokenCount, mode: ablationMode, value: ablationValue)
                + AnalysisMemory.band(
                    resamples: request.bandResamples, sentences: test.sentenceCount, steps: steps, labels: m, curves: groups * 2)
                + AnalysisMemory.compare(tokens: dev.tokenCount, widths: [Int](repeating: n, count: seeds))
                + AnalysisMemory.ranking(tokens: dev.tokenCount, neurons: n, labels: m, methods: RankMethod.allCases.count, steps: steps)
        }
        return total
    }

    /// Throws unless `memoryEstimate` fits in `available` bytes.
    ///
    /// - Throws: `DissectError` `.usage` when one seed without random orders
    ///   would fit (so --seeds and --random are what is too large), else
    ///   `.input` naming the training file (its vocabulary and labels, or the
    ///   dev and test files' lengths, are).
    public static func requireMemory(
        request: ReproduceRequest, configuration: TaggerConfiguration, dev: CorpusSizes?, test: CorpusSizes?,
        available: UInt64 = MemoryBudget.physicalMemory
    ) throws {
        let total = memoryEstimate(
            request: request, configuration: configuration, seeds: request.seeds.count, randomCount: request.randomCount,
            dev: dev, test: test)
        guard !MemoryBudget.fits(total, available: available) else { return }
        let alone = memoryEstimate(request: request, configuration: configuration, seeds: 1, randomCount: 0, dev: dev, test: test)
        if MemoryBudget.fits(alone, available: available) {
            try MemoryBudget.require(
                total, for: "reproduce with \(request.seeds.count) seeds and --random \(request.randomCount)", kind: .usage,
                fix: "use fewer --seeds or a smaller --random", available: available)
        }
        var what = "reproduce on these files (\(configuration.wordCount) words, \(configuration.labelCount) labels"
        if let test { what += ", \(test.tokenCount) test tokens" }
        try MemoryBudget.require(
            total, for: what + ")", kind: .input, file: request.trainPath,
            fix: "use smaller data files, or break long sentences with blank lines", available: available)
    }

    /// `requireMemory` for this run, once the first model exists (dev and
    /// test given once they are read).
    func requireMemory(first checkpoint: Checkpoint?, dev: Corpus? = nil, test: Corpus? = nil) throws {
        guard let checkpoint else { return }
        try ReproducePipeline.requireMemory(
            request: request, configuration: checkpoint.model.configuration,
            dev: dev.map { CorpusSizes(sentences: $0.sentences) }, test: test.map { CorpusSizes(sentences: $0.sentences) })
    }
}
