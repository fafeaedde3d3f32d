import ArgumentParser
import DissectCore
import DissectModel
import DissectReport
import DissectStudy
import Foundation

struct SizesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sizes",
        abstract: "Measure test F1 against hidden size: pruning by sensitivity, at random and in reverse order, and training from scratch.",
        discussion: """
            For each size: the model pruned to it (`dissect prune --keep`) keeping its most sensitive units (largest \
            |s| over the labels on the development file), random ones (--seed) or the least sensitive, each scored \
            as it is and after --fine-tune epochs; and a model of that size trained from scratch with the model's own \
            settings and seed. Reports, per route, the smallest size within 1 F1 point of the full model. Writes \
            sizes.json, sizes.csv, sizes.svg and sizes.md. A stacked model is cut to each size in every layer, \
            each layer by its own scores (below the top, the activation difference), and trained from scratch with \
            that size in every layer; its layers must have one width.
            """)

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The directory that receives the JSON, CSV, SVG and Markdown files.")
    var out: String

    @Option(help: "The hidden sizes per direction to measure, comma-separated, each below the model's (default: 5, 10, … below it).")
    var sizes: String?

    @Option(help: "Epochs of fine-tuning after each pruning, 0 (none) to 100.")
    var fineTune = 1

    @Option(help: "The seed of the random pruning order.")
    var seed: UInt64 = 1

    @Option(help: "The training file (default: the one the checkpoint records).")
    var train: String?

    @Option(help: "The development file: sensitivity and the best epoch (default: the one the checkpoint records).")
    var dev: String?

    @Option(help: "The file the F1 is measured on (default: the test file the checkpoint records).")
    var test: String?

    @Option(help: "The word vectors the scratch models start from (default: the file the checkpoint records).")
    var embeddings: String?

    @Flag(help: "Start the scratch models' word vectors at random instead of reading an embeddings file.")
    var noEmbeddings = false

    func validate() throws {
        if let sizes, Self.sizeList(sizes) == nil {
            throw ValidationError("--sizes must be hidden sizes of 1 or more separated by commas (e.g. 10,20,30); got '\(sizes)'.")
        }
        guard (0...100).contains(fineTune) else { throw ValidationError("--fine-tune must be 0 to 100; got \(fineTune).") }
        if noEmbeddings && embeddings != nil { throw ValidationError("--embeddings and --no-embeddings cannot be used together.") }
    }

    static func sizeList(_ text: String) -> [Int]? {
        let numbers = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !numbers.isEmpty, numbers.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
        return Array(Set(numbers.compactMap { $0 })).sorted()
    }

    func run() throws {
        Interruption.install()
        let checkpoint = try Checkpoint.load(from: model)
        let c = checkpoint.model.configuration
        if let widths = c.distinctLayerSizes {
            throw DissectError(
                .usage, file: model, problem: "the model's layers differ in width (\(widths.map(String.init).joined(separator: ", "))), so there is no one hidden size to shrink",
                fix: "pass a model whose layers have one width, such as the one it was pruned from")
        }
        let record = checkpoint.metadata.training
        if record?.controlTask != nil {
            throw DissectError(.usage, file: model, problem: "the model was trained on a control task", fix: "pass a model trained on the real labels")
        }
        let chosen = sizes.flatMap(Self.sizeList) ?? SizesStudy.defaultSizes(hiddenSize: c.hiddenSize)
        if let wrong = chosen.first(where: { $0 >= c.hiddenSize }) {
            throw DissectError(
                .usage, file: model, problem: "--sizes asks for \(wrong) units, not below the model's \(c.hiddenSize)",
                fix: "pass sizes from 1 to \(c.hiddenSize - 1)")
        }
        guard !chosen.isEmpty else {
            throw DissectError(.usage, file: model, problem: "the model has \(c.hiddenSize) units, so there is no smaller size of 5, 10, …", fix: "pass --sizes")
        }
        func file(_ given: String?, _ recorded: String?, flag: String) throws -> String {
            guard let path = given ?? recorded else {
                throw DissectError(.usage, file: model, problem: "the checkpoint records no \(flag.dropFirst(2)) file", fix: "pass \(flag) FILE")
            }
            return path
        }
        let trainPath = try file(train, record?.trainFile, flag: "--train")
        let devPath = try file(dev, record?.devFile, flag: "--dev")
        let testPath = try file(test, record?.testFile, flag: "--test")
        var embeddingsPath: String? = nil
        if !noEmbeddings, let path = embeddings ?? record?.embeddingsFile {
            guard embeddings != nil || FileManager.default.isReadableFile(atPath: path) else {
                throw DissectError(
                    .usage, file: model, problem: "the embeddings file the checkpoint records (\(path)) is not readable here",
                    fix: "pass --embeddings FILE, or --no-embeddings to start the scratch models at random")
            }
            embeddingsPath = path
        }
        var request = SizesRequest(
            model: model, checkpoint: checkpoint, trainPath: trainPath, devPath: devPath, testPath: testPath, sizes: chosen,
            workDirectory: out + "/.sizes-work")
        request.embeddingsPath = embeddingsPath
        request.fineTuneEpochs = fineTune
        request.seed = seed
        let document = try SizesStudy.run(request) { line in Terminal.log(line) }
        let files = try SizesArtifacts.files(document)
        try writeArtifacts(files, to: out)
        for line in SizesArtifacts.summaryLines(document) { print(line) }
        print("\(chosen.count) sizes in \(format(document.seconds, 1)) s; wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }
}
