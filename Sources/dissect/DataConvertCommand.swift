import ArgumentParser
import DissectCore
import DissectCorpus
import Foundation

/// `dissect data convert`: IOB1 or IOBES tags to IOB2 (BIO).
struct DataConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Rewrite the IOB1 or IOBES tags of a CoNLL file as IOB2 (BIO).",
        discussion: """
            Only the tag column changes: every other column, separator, blank line and -DOCSTART- line is kept byte for byte. \
            An I-X that starts an entity becomes B-X, S-X becomes B-X and E-X becomes I-X. The output is written atomically \
            and may not be the input file.
            """)

    @Option(help: "The tag scheme to write; only `bio` (IOB2) is supported.")
    var to: String

    @Option(help: "The CoNLL file to convert.")
    var data: String

    @Option(help: "The file that receives the converted text.")
    var out: String

    @Option(help: "The 1-based column that holds the label (default: the last column).")
    var tagColumn: Int?

    func validate() throws {
        guard to.lowercased() == "bio" || to.lowercased() == "iob2" else {
            throw ValidationError("--to must be bio (IOB2), the only scheme dissect converts to.")
        }
        try OptionChecks.tagColumn(tagColumn)
        try OptionChecks.distinctFiles(input: data, output: out, message: "--out must differ from --data: convert never overwrites its input.")
    }

    func run() throws {
        guard let contents = FileManager.default.contents(atPath: data) else {
            throw DissectError(.input, file: data, problem: "the CoNLL file does not exist or cannot be read", fix: "check the --data path; " + DataSources.sentence)
        }
        let result = try TagConversion.toBIO([UInt8](contents), path: data, tagColumn: tagColumn)
        try AtomicFile.write(Data(result.bytes), to: out)
        print("\(out): \(result.changed) tags changed to IOB2 (BIO)")
    }
}
