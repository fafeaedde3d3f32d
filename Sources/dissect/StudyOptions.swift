import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectModel
import DissectReport
import DissectStudy
import Foundation

/// The flags `reproduce` and `study` share: the data, the training of each
/// seed, the ablation depth and controls, and how sure the analyses are.
struct StudyOptions: ParsableArguments {
    @OptionGroup var corpus: CorpusOptions

    @Option(help: "A GloVe or word2vec text file of word vectors (default: the 50-d GloVe subset under data/ or ../shared/data when present).")
    var embeddings: String?

    @Option(help: "The training seeds: comma-separated seeds and inclusive ranges, e.g. 1,2,3,4 or 1-100 or 1-3,10 (at most 10,000).")
    var seeds = "1,2,3,4"

    @Option(help: "Threads per run (default 2, this machine's cores): seeds train side by side, one per thread, and each analysis uses them all; results never depend on it.")
    var threads = 2

    @Option(help: "The output folder (default: runs/paper for reproduce, runs/study for study, runs/sweep for sweep); a rerun with the same folder keeps every finished seed whose inputs and options match and trains the others again from their start.")
    var out: String?

    @Option(help: "Training epochs per seed.")
    var epochs = 10

    @Option(help: "The SGD learning rate (the paper's model uses NCRF++'s 0.015).")
    var lr = 0.015

    @Option(help: "Sentences per mini-batch (NCRF++: 10).")
    var batchSize = 10

    @Option(help: "Dropout probability (NCRF++: 0.5).")
    var dropout = 0.5

    @Option(parsing: .unconditional, help: "The largest number of ablated neurons K.")
    var steps = 25

    @Option(parsing: .unconditional, help: "How many random ablation orders form the control band in readout mode (claim (b) uses their 95th percentile from 100 orders).")
    var random = 100

    @Option(parsing: .unconditional, help: "How many random ablation orders form the control band in recurrent mode, where each order is a rerun of the recurrence.")
    var recurrentRandom = 20

    @Option(parsing: .unconditional, help: "Bootstrap resamples for the intervals of every sensitivity matrix (sentences) and label correlation (neurons); 0 for none.")
    var bootstrap = 1000

    @Option(parsing: .unconditional, help: "Permutations of the per-cell significance test of every sensitivity matrix; 0 for none.")
    var permutations = 1000

    @Flag(help: "Also ablate with mean and resample values in both modes, train and analyse a control-task model per seed, and run the hidden-size study of the first seed.")
    var all = false

    static let maximumResamples = SensitivityStatistics.largestCount

    func validate() throws {
        if case .failure(let error) = SeedList.parse(seeds) { throw ValidationError(error.description + ".") }
        try OptionChecks.threads(threads)
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1.") }
        guard steps >= 0 else { throw ValidationError("--steps must be 0 or more.") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number.") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1).") }
        guard random >= 0 else { throw ValidationError("--random must be 0 or more.") }
        guard recurrentRandom >= 0 else { throw ValidationError("--recurrent-random must be 0 or more.") }
        guard (0...Self.maximumResamples).contains(bootstrap) else {
            throw ValidationError("--bootstrap must be from 0 to \(Self.maximumResamples).")
        }
        guard (0...Self.maximumResamples).contains(permutations) else {
            throw ValidationError("--permutations must be from 0 to \(Self.maximumResamples).")
        }
        // The seeds' models and random orders at the smallest vocabulary; the pipeline checks again with the data's.
        var request = ReproduceRequest(trainPath: "", devPath: "", testPath: "", outputDirectory: out ?? "")
        apply(to: &request)
        do {
            try ReproducePipeline.requireMemory(
                request: request, configuration: TaggerConfiguration().withSmallestVocabulary, dev: nil, test: nil)
        } catch let error as DissectError {
            throw ValidationError(error.description)
        }
    }

    var parsedSeeds: [UInt64]? { try? SeedList.parse(seeds).get() }

    /// Every shared flag into the request's fields.
    func apply(to request: inout ReproduceRequest) {
        request.tagColumn = corpus.tagColumn
        request.seeds = parsedSeeds ?? [1, 2, 3, 4]
        request.epochs = epochs
        request.steps = steps
        request.randomCount = random
        request.recurrentRandomCount = recurrentRandom
        request.learningRate = lr
        request.batchSize = batchSize
        request.dropout = dropout
        request.bootstrap = bootstrap
        request.permutations = permutations
        request.values = all ? AblationValue.allCases : [.zero]
        request.controlTask = all
        request.sizesStudy = all
    }

    /// The request for the resolved files: `command` names the subcommand in messages.
    func request(command: String, defaultOut: String, embeddingsPath: String?) throws -> ReproduceRequest {
        let files = try corpus.resolve()
        guard let testPath = files.test else {
            throw DissectError(.usage, problem: "\(command) needs a test file", fix: "pass --test FILE or a --data-dir holding test.txt")
        }
        var request = ReproduceRequest(trainPath: files.train, devPath: files.dev, testPath: testPath, outputDirectory: out ?? defaultOut)
        request.embeddingsPath = embeddingsPath
        apply(to: &request)
        request.command = (["dissect"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        return request
    }

    /// Runs the pipeline with progress on stderr, writes summary.json, the
    /// figures, report.md and report.html, and prints what was found.
    static func run(_ request: ReproduceRequest, finished verb: String) throws {
        let out = request.outputDirectory
        let pipeline = ReproducePipeline(request: request, renderers: AnalysisArtifacts.renderers, report: progressReporter(epochs: request.epochs))
        let summary = try pipeline.run()
        let claims = try writeReport(summary, request: request)
        for seed in summary.seeds {
            let record = seed.record
            print("seed \(seed.seed): dev F1 \(format(record.devF1 ?? 0)) (NCRF++ \(format(record.devF1NCRF ?? 0))), "
                + "test F1 \(format(record.testF1 ?? 0)) (NCRF++ \(format(record.testF1NCRF ?? 0))), best epoch \(record.bestEpoch)")
        }
        let paperClaims = claims.filter { !$0.robustness }
        let holding = paperClaims.filter { $0.verdict == .holds }.count
        let untested = paperClaims.filter { $0.verdict == .untested }.count
        print("\(holding) of \(paperClaims.count) claims of the paper hold in full, \(untested) untested (see the report for each rule and verdict)")
        print("\(verb) in \(format(summary.run.totalSeconds, 1)) s; open \(out)/report.html (also report.md, summary.json, figures/, explorer.html)")
    }

    /// Progress on stderr: each step, each training epoch, warnings and reused seeds.
    static func progressReporter(epochs: Int) -> (ReproduceEvent) -> Void {
        var lastDraw = -1.0
        return { event in
            switch event {
            case .step(let number, let total, let description, let elapsed, let remaining):
                let left = remaining.map { ", about \(Int($0.rounded())) s left" } ?? ""
                Terminal.log("[\(number)/\(total)] \(description) (\(Int(elapsed.rounded())) s elapsed\(left))")
            case .reused(let seed, let directory):
                Terminal.log("seed \(seed): finished checkpoint found in \(directory); not retrained")
            case .warning(let text):
                Terminal.warn(text)
            case .training(let model, let trainingEvent):
                // Seeds may train side by side: each line names its model.
                switch trainingEvent {
                case .batch(let epoch, let done, let total, _, let seconds):
                    guard Terminal.isInteractive, done == total || seconds - lastDraw >= 0.1 || seconds < lastDraw else { break }
                    lastDraw = seconds
                    Terminal.status("\(model): training, epoch \(epoch)/\(epochs) \(Terminal.bar(Double(done) / Double(max(total, 1))))")
                case .epoch(let log):
                    let scores = log.devF1.map { "dev F1 \(format($0)) (NCRF++ \(format(log.devF1NCRF ?? 0)))" } ?? "dev accuracy \(format(log.devAccuracy))"
                    Terminal.log("  \(model), epoch \(log.epoch)/\(epochs): \(format(log.trainSeconds)) s, \(scores)\(log.best ? " *" : "")")
                case .warning(let text):
                    Terminal.warn(text)
                case .loaded:
                    break
                }
            }
        }
    }

    /// summary.json, the figures, report.md, report.html and the first seed's explorer, into the request's folder.
    @discardableResult
    static func writeReport(_ summary: ReproduceSummary, request: ReproduceRequest) throws -> [Claim] {
        let out = request.outputDirectory
        let claims = ReproduceClaims.evaluate(summary)
        try AtomicFile.write(try AnalysisArtifacts.json(summary), to: out + "/summary.json")
        try AtomicFile.makeDirectory(out + "/figures")
        for figure in ReproduceReport.figures(summary) {
            try AtomicFile.write(figure.svg, to: out + "/figures/" + figure.name)
        }
        try AtomicFile.write(ReproduceReport.markdown(summary, claims: claims), to: out + "/report.md")
        try AtomicFile.write(ReproduceReport.html(summary, claims: claims), to: out + "/report.html")
        // The explorer of the first seed on dev, with the other seeds as summaries and matches.
        if let first = summary.seeds.first {
            let context = ExplorerWriter.RunContext.from(summary: summary, model: first.directory, source: out + "/summary.json")
            let page = try ExplorerWriter.page(
                model: first.directory, data: request.devPath, layer: nil, tagColumn: request.tagColumn, context: context)
            try AtomicFile.write(page.html, to: out + "/explorer.html")
        }
        return claims
    }
}
