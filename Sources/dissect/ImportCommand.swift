import ArgumentParser
import DissectCore
import DissectModel
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a PyTorch tagger (a state dict in safetensors and a JSON mapping) into a dissect checkpoint.",
        discussion: """
            The mapping names the state dict's word embedding, recurrent module (torch.nn.LSTM, GRU or RNN, any number \
            of layers, one or two directions), output layer and, when present, the char CNN and the CRF transitions \
            ([labels + 2]² with START and STOP, or pytorch-crf's [labels]² with start and end scores); it gives the \
            words, labels and chars (inline or as files of one per line) and the lookup rule (lower-casing, digits to \
            0, the unknown word). Every size is read from the tensors' shapes and checked against the others. \
            tools/export_to_dissect.py writes both files from a live PyTorch module.
            """)

    @Option(help: "The state dict as a safetensors file (float32 tensors).")
    var safetensors: String

    @Option(help: "The JSON mapping from the state dict's names to the tagger's parts.")
    var mapping: String

    @Option(help: "The new checkpoint directory (it must not hold a model already).")
    var out: String

    func run() throws {
        if FileManager.default.fileExists(atPath: Checkpoint.metadataPath(out)) {
            throw DissectError(.usage, file: out, problem: "already holds a model (model.json)", fix: "pass --out a new directory")
        }
        let description = try ModelImport.readMapping(path: mapping)
        let size = ((try? FileManager.default.attributesOfItem(atPath: safetensors)[.size]) as? Int) ?? 0
        // The file's bytes, its decoded tensors and the model's buffer are held at once.
        try MemoryBudget.require(
            MemoryEstimate(bytes: Double(size) * 3), for: "importing \(size) bytes of tensors", kind: .input, file: safetensors,
            fix: "import on a machine with more memory")
        guard let data = FileManager.default.contents(atPath: safetensors) else {
            throw DissectError(.input, file: safetensors, problem: "cannot be read", fix: "pass --safetensors the state dict saved with safetensors.torch.save_file")
        }
        let tensors = try SafeTensors.decode(data, path: safetensors)
        let checkpoint = try ModelImport.checkpoint(tensors: tensors, safetensorsPath: safetensors, mapping: description, mappingPath: mapping)
        try checkpoint.save(to: out)
        let c = checkpoint.model.configuration
        print("imported a \(c.layers)-layer \(c.bidirectional ? "bidirectional " : "")\(c.cell.rawValue.uppercased()) of \(c.hiddenSize) per direction, "
            + "\(c.wordCount) words × \(c.wordEmbeddingDim)\(c.charCNN ? ", char CNN \(c.charFilters) filters" : ""), \(c.labelCount) labels"
            + "\(c.crf ? ", CRF" : "") (\(checkpoint.metadata.lowercaseFallback == false ? "exact" : "exact, then lower-case") word lookup); wrote \(out)")
    }
}
