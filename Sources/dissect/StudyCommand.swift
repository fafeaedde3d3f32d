import ArgumentParser
import DissectCore
import DissectCorpus
import DissectStudy
import Foundation

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run reproduce's pipeline and report on any tagging corpus: train each seed, dissect every model, write report.html.",
        discussion: """
            Does what `reproduce` does on the corpus in --data-dir (train.txt, valid.txt, test.txt) or in --train, \
            --dev and --test, with the same flags. On a BIO label set (O, B-x, I-x, any case, e.g. B-person) the \
            paper's claims about B-x, I-x and O are judged for the entity types present; on another label set \
            (POS tags, --tag-column 2) those claims are untested and say why. The ablated labels are the paper's pairs \
            when all four are in the label set, else the two most frequent labels other than O in the training file \
            form pair 1 and the next two pair 2. Claims (i) and (j) compare with the paper's CoNLL-2003 numbers and are \
            untested here.
            """)

    @OptionGroup var options: StudyOptions

    @Flag(help: "Start every word vector at random instead of reading an embeddings file.")
    var noEmbeddings = false

    func validate() throws {
        if noEmbeddings && options.embeddings != nil { throw ValidationError("--embeddings and --no-embeddings cannot be used together.") }
    }

    func run() throws {
        Interruption.install()
        Parallelism.threadLimit = options.threads
        let corpus = options.corpus
        // study is for a corpus the user names: it does not fall back to the CoNLL-2003 folders.
        guard corpus.dataDir != nil || (corpus.train != nil && corpus.dev != nil) else {
            throw DissectError(
                .usage, problem: "study needs a corpus",
                fix: "pass --data-dir DIR (with train.txt, valid.txt and test.txt) or --train, --dev and --test")
        }
        _ = try corpus.resolve()
        var embeddingsPath: String?
        if !noEmbeddings {
            guard let found = try options.embeddings ?? DataSearch.embeddingsFile() else {
                throw DissectError(
                    .usage,
                    problem: "no embeddings file found in $DISSECT_EMBEDDINGS, nor glove/glove.6B.50d.conll2003.txt under $DISSECT_DATA, "
                        + "data/ or ../shared/data/ (study starts its models from word vectors, as reproduce does)",
                    fix: "pass --embeddings FILE, set $DISSECT_EMBEDDINGS, or pass --no-embeddings to start every word vector at random; " + DataSources.sentence)
            }
            embeddingsPath = found
        }
        var request = try options.request(command: "study", defaultOut: "runs/study", embeddingsPath: embeddingsPath)
        request.kind = .study
        // The pipeline chooses the ablated labels from the label set (AblationPairs.rule).
        request.pairs = nil
        try StudyOptions.run(request, finished: "studied")
    }
}
