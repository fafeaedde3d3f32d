import Foundation
import Testing
import DissectCore
@testable import DissectModel

/// model.json format 2 and the tensor names: PyTorch's, inside a module named
/// after the cell; format 1 (every cell's tensors named `lstm.`) still loads.
@Suite struct FormatTests {
    func checkpoint(_ c: TaggerConfiguration) -> Checkpoint {
        let model: TaggerModel<Float> = randomModel(c, seed: 4)
        let vocabulary = VocabularyLists(
            words: (0..<c.wordCount).map { "w\($0)" }, chars: (0..<c.charCount).map { "c\($0)" },
            labels: (0..<c.labelCount).map { "L\($0)" })
        return Checkpoint(
            metadata: CheckpointMetadata(
                configuration: c, vocabulary: vocabulary, unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil),
            model: model)
    }

    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dissect-format-\(UUID().uuidString)").path
    }

    @Test func tensorsAreNamedAfterTheCellLayerAndDirection() {
        for cell in CellKind.allCases {
            let c = tinyConfiguration(cell: cell, bidirectional: true, charCNN: true, layers: 2, crf: true)
            let names = ParameterLayout(configuration: c).entries.map(\.name)
            let prefix = cell.tensorPrefix
            #expect(names.contains("\(prefix).weight_ih_l1_reverse"))
            #expect(names.contains("\(prefix).bias_hh_l0"))
            #expect(names.filter { $0.hasPrefix(prefix + ".") }.count == 2 * 2 * 4)
            #expect(names.last == "crf.transitions")
            let layout = ParameterLayout(configuration: c)
            #expect(layout.entry("\(prefix).weight_ih_l1")?.shape == [c.gateSize, 2 * c.hiddenSize], "layer 2 reads both directions")
            #expect(layout.entry("crf.transitions")?.shape == [c.labelCount + 2, c.labelCount + 2])
            #expect(Double(layout.totalCount) == c.parameterCountEstimate)
        }
    }

    @Test func formatTwoRoundTripsEveryNewField() throws {
        var c = tinyConfiguration(cell: .rnn, bidirectional: true, charCNN: true, layers: 3, crf: true)
        c.layerDropout = 0.25
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = checkpoint(c)
        try original.save(to: directory)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/model.json"))) as? [String: Any])
        #expect(json["format_version"] as? Int == 2)
        let configuration = try #require(json["configuration"] as? [String: Any])
        #expect(configuration["layers"] as? Int == 3 && configuration["crf"] as? Bool == true)
        #expect(configuration["input_size"] as? Int == c.inputSize && configuration["output_size"] as? Int == 2 * c.hiddenSize)
        let loaded = try Checkpoint.load(from: directory)
        #expect(loaded.metadata == original.metadata)
        #expect(loaded.model.parameters == original.model.parameters)
    }

    /// A format-1 GRU checkpoint, as dissect 0.1 wrote it: `lstm.` names and no layer fields.
    @Test func formatOneGRUCheckpointStillLoads() throws {
        let c = tinyConfiguration(cell: .gru, bidirectional: true, charCNN: true)
        let original = checkpoint(c)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try original.save(to: directory)
        try rewriteAsFormatOne(directory)
        let loaded = try Checkpoint.load(from: directory)
        #expect(loaded.model.parameters == original.model.parameters)
        #expect(loaded.model.configuration == c)
        #expect(loaded.metadata.formatVersion == 2, "in memory the model is in the current format")
        // Saved again, it is format 2 with the cell's own names.
        let again = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: again) }
        try loaded.save(to: again)
        let names = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: again + "/model.safetensors")), path: again).keys
        #expect(names.contains("gru.weight_ih_l0") && !names.contains { $0.hasPrefix("lstm.") })
    }

    @Test func formatOneCannotDeclareWhatOnlyFormatTwoHolds() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try checkpoint(tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true)).save(to: directory)
        try rewriteAsFormatOne(directory) { configuration in configuration["crf"] = true }
        do {
            _ = try Checkpoint.load(from: directory)
            Issue.record("a format-1 checkpoint with a CRF loaded")
        } catch let error as DissectError {
            #expect(error.description.contains("format-1 checkpoint declares layers, a CRF or an RNN cell"), "\(error)")
        }
    }

    @Test(arguments: [("layers", 0.0, "layers is 0"), ("layers", 65.0, "layers is 65"), ("layer_dropout", 1.0, "layer_dropout 1.0")])
    func badLayerFieldsAreRejected(field: String, number: Double, message: String) throws {
        let value: Any = field == "layers" ? Int(number) as Any : number as Any
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try checkpoint(tinyConfiguration(cell: .lstm, bidirectional: false, charCNN: true, layers: 2)).save(to: directory)
        let path = directory + "/model.json"
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var configuration = try #require(json["configuration"] as? [String: Any])
        configuration[field] = value
        json["configuration"] = configuration
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        do {
            _ = try Checkpoint.load(from: directory)
            Issue.record("\(field) \(value) loaded")
        } catch let error as DissectError {
            #expect(error.description.hasPrefix(path + ": "), "\(error)")
            #expect(error.description.contains(message), "\(error)")
        }
    }

    /// Renames every tensor to `lstm.…` and drops format 2's configuration fields.
    func rewriteAsFormatOne(_ directory: String, edit: (inout [String: Any]) -> Void = { _ in }) throws {
        let weightsPath = directory + "/model.safetensors", jsonPath = directory + "/model.json"
        let tensors = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: weightsPath)), path: weightsPath)
        let renamed = tensors.values.map { tensor -> SafeTensors.Tensor in
            var copy = tensor
            for prefix in ["gru.", "rnn."] where copy.name.hasPrefix(prefix) { copy.name = "lstm." + copy.name.dropFirst(prefix.count) }
            return copy
        }
        try SafeTensors.encode(renamed.sorted { $0.name < $1.name }).write(to: URL(fileURLWithPath: weightsPath))
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jsonPath))) as? [String: Any])
        json["format_version"] = 1
        var configuration = try #require(json["configuration"] as? [String: Any])
        for key in ["layers", "layer_dropout", "crf", "input_size", "output_size"] { configuration[key] = nil }
        edit(&configuration)
        json["configuration"] = configuration
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: jsonPath))
    }
}
