import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectModel
import DissectReport
import DissectStudy
import Foundation

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Reproduce the whole paper: train each seed, dissect every model, and write report.html.",
        discussion: """
            Trains the paper's model for each seed (a finished checkpoint already in the output folder is reused when \
            the SHA-256 of every input file and every option match), \
            measures sensitivity on dev and test, ablates the paper's two pairs (B-PER/B-MISC, B-LOC/I-ORG) on test \
            ranked on dev in both modes with controls, correlates labels across the seeds, and writes \
            report.html, report.md, summary.json and every figure as an SVG file.
            """)

    @OptionGroup var corpus: CorpusOptions

    @Option(help: "A GloVe or word2vec text file of word vectors (default: the 50-d GloVe subset under data/ or ../shared/data when present).")
    var embeddings: String?

    @Option(help: "Comma-separated training seeds.")
    var seeds = "1,2,3,4"

    @Option(help: "The output folder; a rerun with the same folder keeps every finished seed whose inputs and options match and trains the others again from their start.")
    var out = "runs/paper"

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

    @Option(parsing: .unconditional, help: "How many random ablation orders form the control band.")
    var random = 20

    @Option(help: "The folder with the paper's figure CSVs (default: ../shared/paper when present).")
    var paperDir: String?

    func validate() throws {
        guard parsedSeeds != nil else { throw ValidationError("--seeds must be comma-separated whole numbers, e.g. 1,2,3,4.") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1.") }
        guard steps >= 0 else { throw ValidationError("--steps must be 0 or more.") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number.") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1).") }
        guard random >= 0 else { throw ValidationError("--random must be 0 or more.") }
        // The seeds' models and random orders at the smallest vocabulary; the pipeline checks again with the data's.
        var request = ReproduceRequest(trainPath: "", devPath: "", testPath: "", outputDirectory: out)
        request.seeds = parsedSeeds ?? []
        request.steps = steps
        request.randomCount = random
        do {
            try ReproducePipeline.requireMemory(
                request: request, configuration: TaggerConfiguration().withSmallestVocabulary, dev: nil, test: nil)
        } catch let error as DissectError {
            throw ValidationError(error.description)
        }
    }

    var parsedSeeds: [UInt64]? {
        let parts = seeds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { UInt64($0) }
        guard !parts.isEmpty, values.count == parts.count, Set(values).count == values.count else { return nil }
        return values
    }

    func run() throws {
        // Ctrl-C or SIGTERM stops at the next batch or step and leaves every file whole.
        Interruption.install()
        let files = try corpus.resolve()
        guard let testPath = files.test else {
            throw DissectError(.usage, problem: "reproduce needs a test file", fix: "pass --test FILE or a --data-dir holding test.txt")
        }
        // The paper's model starts from GloVe vectors: unlike `train`, reproduce
        // does not fall back to random ones. A missing flag or file to point at
        // is a usage error (exit 2), like missing CoNLL data.
        guard let embeddingsPath = try embeddings ?? DataSearch.embeddingsFile() else {
            throw DissectError(
                .usage,
                problem: "no embeddings file found in $DISSECT_EMBEDDINGS, nor glove/glove.6B.50d.conll2003.txt under $DISSECT_DATA, "
                    + "data/ or ../shared/data/ (reproduce trains the paper's model, which starts from GloVe vectors)",
                fix: "pass --embeddings FILE or set $DISSECT_EMBEDDINGS")
        }
        var request = ReproduceRequest(trainPath: files.train, devPath: files.dev, testPath: testPath, outputDirectory: out)
        request.embeddingsPath = embeddingsPath
        request.tagColumn = corpus.tagColumn
        request.seeds = parsedSeeds ?? [1, 2, 3, 4]
        request.epochs = epochs
        request.steps = steps
        request.randomCount = random
        request.learningRate = lr
        request.batchSize = batchSize
        request.dropout = dropout
        let paper = paperDir ?? "../shared/paper"
        request.paperDirectory = FileManager.default.fileExists(atPath: paper) ? paper : nil
        let anchors = "../shared/anchors/README.md"
        request.anchorsFile = FileManager.default.fileExists(atPath: anchors) ? anchors : nil
        request.command = (["dissect"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let epochs = self.epochs
        var lastDraw = -1.0
        var currentStep = ""
        let pipeline = ReproducePipeline(request: request, renderers: AnalysisArtifacts.renderers) { event in
            switch event {
            case .step(let number, let total, let description, let elapsed, let remaining):
                currentStep = "[\(number)/\(total)] \(description)"
                let left = remaining.map { ", about \(Int($0.rounded())) s left" } ?? ""
                Terminal.log("\(currentStep) (\(Int(elapsed.rounded())) s elapsed\(left))")
            case .reused(let seed, let directory):
                Terminal.log("seed \(seed): finished checkpoint found in \(directory); not retrained")
            case .warning(let text):
                Terminal.warn(text)
            case .training(_, let trainingEvent):
                switch trainingEvent {
                case .batch(let epoch, let done, let total, _, let seconds):
                    guard Terminal.isInteractive, done == total || seconds - lastDraw >= 0.1 || seconds < lastDraw else { break }
                    lastDraw = seconds
                    Terminal.status("\(currentStep): epoch \(epoch)/\(epochs) \(Terminal.bar(Double(done) / Double(max(total, 1))))")
                case .epoch(let log):
                    let scores = log.devF1.map { "dev F1 \(format($0)) (NCRF++ \(format(log.devF1NCRF ?? 0)))" } ?? "dev accuracy \(format(log.devAccuracy))"
                    Terminal.log("  epoch \(log.epoch)/\(epochs): \(format(log.trainSeconds)) s, \(scores)\(log.best ? " *" : "")")
                case .warning(let text):
                    Terminal.warn(text)
                case .loaded:
                    break
                }
            }
        }
        let summary = try pipeline.run()
        let claims = ReproduceClaims.evaluate(summary)
        try AtomicFile.write(try AnalysisArtifacts.json(summary), to: out + "/summary.json")
        try AtomicFile.makeDirectory(out + "/figures")
        for figure in ReproduceReport.figures(summary) {
            try AtomicFile.write(figure.svg, to: out + "/figures/" + figure.name)
        }
        try AtomicFile.write(ReproduceReport.markdown(summary, claims: claims), to: out + "/report.md")
        try AtomicFile.write(ReproduceReport.html(summary, claims: claims), to: out + "/report.html")
        for seed in summary.seeds {
            let record = seed.record
            print("seed \(seed.seed): dev F1 \(format(record.devF1 ?? 0)) (NCRF++ \(format(record.devF1NCRF ?? 0))), "
                + "test F1 \(format(record.testF1 ?? 0)) (NCRF++ \(format(record.testF1NCRF ?? 0))), best epoch \(record.bestEpoch)")
        }
        let holding = claims.filter { $0.verdict == .holds }.count
        print("\(holding) of \(claims.count) claims of the paper hold in full (see the report for each verdict)")
        print("reproduced in \(format(summary.run.totalSeconds, 1)) s; open \(out)/report.html (also report.md, summary.json, figures/)")
    }
}
