import DissectModel
import Foundation
import Testing

/// `dissect import` end to end: the hand-made LSTM's state dict under a user's own names, and a mapping,
/// become a checkpoint that tags as the original does; mistakes are one error line.
@Suite("dissect import") struct ImportTests {
    /// Writes the hand-made model as `embed.weight`, `encoder.*`, `proj.*` in safetensors, and its mapping.
    static func foreign(_ sandbox: Sandbox, drop: String? = nil) throws -> (safetensors: String, mapping: String, original: String) {
        let original = sandbox.path("hand-made")
        try HandMadeModel.write(to: original)
        let checkpoint = try Checkpoint.load(from: original)
        var tensors: [SafeTensors.Tensor] = []
        for entry in checkpoint.model.layout.entries {
            let name = entry.name.replacingOccurrences(of: "word_embedding.", with: "embed.")
                .replacingOccurrences(of: "lstm.", with: "encoder.").replacingOccurrences(of: "hidden2tag.", with: "proj.")
            if name == drop { continue }
            tensors.append(SafeTensors.Tensor(
                name: name, shape: entry.shape, values: Array(checkpoint.model.parameters[entry.offset..<(entry.offset + entry.count)])))
        }
        let safetensors = sandbox.path("state.safetensors")
        try SafeTensors.encode(tensors).write(to: URL(fileURLWithPath: safetensors))
        try sandbox.write("labels.txt", HandMadeModel.labels.joined(separator: "\n") + "\n")
        let words = HandMadeModel.words.map { "\"\($0)\"" }.joined(separator: ", ")
        let mapping = try sandbox.write("mapping.json", """
            {"cell": "lstm", "layers": 1, "bidirectional": false,
             "tensors": {"word_embedding": "embed.weight", "recurrent": "encoder", "output_weight": "proj.weight", "output_bias": "proj.bias"},
             "words": [\(words)], "labels_file": "labels.txt",
             "lookup": {"lowercase": true, "digits_to_zero": true, "unknown_word": "<unk>"}}
            """)
        return (safetensors, mapping, original)
    }

    @Test("an imported state dict tags the data exactly as the model it came from")
    func importedModelTagsTheSame() async throws {
        let sandbox = try Sandbox()
        let files = try Self.foreign(sandbox)
        let out = sandbox.path("imported")
        let result = try await sandbox.run(["import", "--safetensors", files.safetensors, "--mapping", files.mapping, "--out", out])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("imported a 1-layer LSTM of 2 per direction, 9 words × 2, 3 labels"), "\(result.stdout)")
        let data = try sandbox.write("places.conll", HandMadeModel.data)
        var predictions: [String] = []
        for model in [files.original, out] {
            let file = sandbox.path("predictions-\(predictions.count).txt")
            let evaluated = try await sandbox.run(["evaluate", "--model", model, "--data", data, "--predictions", file])
            #expect(evaluated.status == 0, "\(evaluated)")
            predictions.append(try Files.text(file))
        }
        #expect(predictions[0] == predictions[1] && predictions[0].contains("Paris B-LOC B-LOC"), "\(predictions)")
        // Importing again into the same folder would replace a model: refused.
        let again = try await sandbox.run(["import", "--safetensors", files.safetensors, "--mapping", files.mapping, "--out", out])
        #expect(again.status == 2 && again.stderr.contains("already holds a model"), "\(again)")
    }

    @Test("a tensor the mapping names but the file lacks is one error line, and nothing is written")
    func aMissingTensorIsOneError() async throws {
        let sandbox = try Sandbox()
        let files = try Self.foreign(sandbox, drop: "encoder.bias_hh_l0")
        let out = sandbox.path("imported")
        let result = try await sandbox.run(["import", "--safetensors", files.safetensors, "--mapping", files.mapping, "--out", out])
        #expect(result.status == 1, "\(result)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("has no tensor encoder.bias_hh_l0 (the mapping's recurrent)"), "\(result.stderr)")
        #expect(!Files.exists(out + "/model.json"))
    }

    static let fixtures = DissectBinary.packageRoot.appendingPathComponent("Tests/DissectCLITests/Fixtures/import").path
    static let kinds = [
        "lstm-1-uni-plain-softmax-exact", "lstm-2-bi-chars-crf-exact", "gru-1-bi-plain-crf-lower",
        "gru-2-uni-chars-softmax-exact", "rnn-1-bi-chars-softmax-lower", "rnn-2-uni-plain-crf-exact",
    ]

    /// Taggers written as users write them (tools/make_import_fixtures.py: their own names, forward and Viterbi),
    /// exported by tools/export_to_dissect.py: dissect's predictions must equal PyTorch's, token for token.
    @Test("exported PyTorch taggers of every kind predict in dissect exactly as in PyTorch", arguments: kinds)
    func exportedTaggersPredictAsInPyTorch(kind: String) async throws {
        let sandbox = try Sandbox()
        let directory = Self.fixtures + "/" + kind
        let out = sandbox.path("imported")
        let result = try await sandbox.run([
            "import", "--safetensors", directory + "/state.safetensors", "--mapping", directory + "/mapping.json", "--out", out,
        ])
        #expect(result.status == 0, "\(result)")
        let predictions = sandbox.path("predictions.txt")
        let evaluated = try await sandbox.run(["evaluate", "--model", out, "--data", Self.fixtures + "/data.conll", "--predictions", predictions])
        #expect(evaluated.status == 0, "\(evaluated)")
        let ours = try Files.text(predictions).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: " ").last.map(String.init) ?? "" }
        let theirs = try Files.text(directory + "/predictions.txt").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tokens = theirs.filter { !$0.isEmpty }.count
        #expect(tokens == 25)
        #expect(ours.filter { !$0.isEmpty } == theirs.filter { !$0.isEmpty }, "\(kind): dissect \(ours) against PyTorch \(theirs)")
    }
}
