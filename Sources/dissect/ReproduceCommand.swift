import ArgumentParser
import DissectCore
import DissectCorpus
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
            ranked on dev in both modes with controls, correlates labels across the seeds, compares the seeds' neurons \
            (CKA, SVCCA, matching and recurrence, in compare-seeds/), ranks the first seed's neurons by every method of \
            `dissect rank` (in seed-N/rankings/), judges each claim of the paper by a rule fixed before the data, and \
            writes report.html, report.md, summary.json and every figure as an SVG file. `dissect study` runs the same \
            on any tagging corpus.
            """)

    @OptionGroup var options: StudyOptions

    @Option(help: "The folder with the paper's figure CSVs (default: ../shared/paper when present).")
    var paperDir: String?

    func run() throws {
        // Ctrl-C or SIGTERM stops at the next batch or step and leaves every file whole.
        Interruption.install()
        Parallelism.threadLimit = options.threads
        // The paper's model starts from GloVe vectors: unlike `train`, reproduce
        // does not fall back to random ones. A missing flag or file to point at
        // is a usage error (exit 2), like missing CoNLL data.
        _ = try options.corpus.resolve()
        let embeddingsPath = try Self.paperEmbeddings(options, command: "reproduce")
        var request = try options.request(command: "reproduce", defaultOut: "runs/paper", embeddingsPath: embeddingsPath)
        request.kind = .paper
        request.pairs = ReproduceNumbers.paperPairs
        let paper = paperDir ?? "../shared/paper"
        request.paperDirectory = FileManager.default.fileExists(atPath: paper) ? paper : nil
        let anchors = "../shared/anchors/README.md"
        request.anchorsFile = FileManager.default.fileExists(atPath: anchors) ? anchors : nil
        try StudyOptions.run(request, finished: "reproduced")
    }

    /// The embeddings file the paper's model starts from; none found is a usage error (exit 2).
    static func paperEmbeddings(_ options: StudyOptions, command: String) throws -> String {
        guard let embeddingsPath = try options.embeddings ?? DataSearch.embeddingsFile() else {
            throw DissectError(
                .usage,
                problem: "no embeddings file found in $DISSECT_EMBEDDINGS, nor glove/glove.6B.50d.conll2003.txt under $DISSECT_DATA, "
                    + "data/ or ../shared/data/ (\(command) trains the paper's model, which starts from GloVe vectors)",
                fix: "pass --embeddings FILE or set $DISSECT_EMBEDDINGS; " + DataSources.sentence)
        }
        return embeddingsPath
    }
}
