import ArgumentParser

/// `dissect data`: checks and prepares the corpus and embeddings; only configures.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Check and prepare the CoNLL data and the GloVe embeddings.",
        discussion: """
            `check` counts sentences, tokens and labels, names the tag scheme and tells the standard CoNLL-2003 splits; \
            `convert` rewrites IOB1 or IOBES tags as IOB2 (BIO); `glove` writes the corpus-restricted GloVe subset that training reads.
            """,
        subcommands: [DataCheckCommand.self, DataConvertCommand.self, DataGloveCommand.self])
}
