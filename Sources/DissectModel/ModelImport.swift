import DissectCore
import Foundation

/// What `dissect import --mapping FILE` reads: which tensors of a PyTorch state dict (as safetensors)
/// are the tagger's parts, its vocabularies, and how it looks words up.
///
///     {
///       "cell": "lstm",                        // lstm | gru | rnn (torch.nn.LSTM / GRU / RNN)
///       "layers": 1, "bidirectional": false,
///       "tensors": {
///         "word_embedding": "embedding.weight",                      // [V, D]
///         "recurrent": "lstm",                                       // the module: lstm.weight_ih_l0, …_reverse
///         "output_weight": "hidden2tag.weight", "output_bias": "hidden2tag.bias",   // [m, H·dirs], [m]
///         "char_embedding": "…", "char_cnn_weight": "…", "char_cnn_bias": "…",      // all three or none: [C, c], [F, c, w], [F]
///         "crf_transitions": "crf.transitions",                      // [m+2, m+2] (START = m, STOP = m+1), or [m, m] with:
///         "crf_start": "crf.start_transitions", "crf_end": "crf.end_transitions"    // [m] each (pytorch-crf)
///       },
///       "words": ["<unk>", …] or "words_file": "words.txt",          // index order; a file has one entry per line
///       "labels": [...] or "labels_file": "…", "chars": [...] or "chars_file": "…",
///       "lookup": {"lowercase": false, "digits_to_zero": true, "unknown_word": "<unk>", "unknown_char": "<unk>"}
///     }
///
/// Files are relative to the mapping's folder. Every size comes from the tensors' shapes and must agree.
public struct ImportMapping: Codable, Sendable, Equatable {
    public struct Tensors: Codable, Sendable, Equatable {
        public var wordEmbedding: String
        public var recurrent: String
        public var outputWeight: String
        public var outputBias: String
        public var charEmbedding: String?
        public var charCNNWeight: String?
        public var charCNNBias: String?
        public var crfTransitions: String?
        public var crfStart: String?
        public var crfEnd: String?
        enum CodingKeys: String, CodingKey {
            case recurrent
            case wordEmbedding = "word_embedding", outputWeight = "output_weight", outputBias = "output_bias"
            case charEmbedding = "char_embedding", charCNNWeight = "char_cnn_weight", charCNNBias = "char_cnn_bias"
            case crfTransitions = "crf_transitions", crfStart = "crf_start", crfEnd = "crf_end"
        }
    }

    public struct Lookup: Codable, Sendable, Equatable {
        /// The model was trained on lower-cased words (then every vocabulary word must be lower case).
        public var lowercase: Bool
        public var digitsToZero: Bool
        public var unknownWord: String
        public var unknownChar: String?
        enum CodingKeys: String, CodingKey {
            case lowercase
            case digitsToZero = "digits_to_zero", unknownWord = "unknown_word", unknownChar = "unknown_char"
        }
    }

    public var cell: String
    public var layers: Int
    public var bidirectional: Bool
    public var tensors: Tensors
    public var words: [String]?
    public var wordsFile: String?
    public var labels: [String]?
    public var labelsFile: String?
    public var chars: [String]?
    public var charsFile: String?
    public var lookup: Lookup
    enum CodingKeys: String, CodingKey {
        case cell, layers, bidirectional, tensors, words, labels, chars, lookup
        case wordsFile = "words_file", labelsFile = "labels_file", charsFile = "chars_file"
    }
}

/// Builds a dissect checkpoint from a PyTorch state dict and an `ImportMapping`, checking every name and shape.
public enum ModelImport {
    /// The largest mapping file read (a vocabulary belongs in its own file).
    public static let largestMappingBytes = 256 << 20

    /// The bytes of a file of at most `limit` bytes.
    static let mappingFix = "write the mapping as README's `import` section describes (tools/export_to_dissect.py writes one)"

    public static func readMapping(path: String) throws -> ImportMapping {
        try decodeMapping(try JSONInput.read(path: path, limit: largestMappingBytes, fix: mappingFix), path: path)
    }

    /// The mapping in `data` (the JSON of a mapping file at `path`).
    public static func decodeMapping(_ data: Data, path: String) throws -> ImportMapping {
        try JSONInput.decode(ImportMapping.self, from: data, path: path, what: "mapping", fix: mappingFix)
    }

    /// A list given inline or as a file of one entry per line (relative to `base`); nil when neither is given.
    static func list(_ inline: [String]?, file: String?, name: String, base: String, mappingPath: String) throws -> [String]? {
        if inline != nil && file != nil {
            throw DissectError(.input, file: mappingPath, problem: "gives both \(name) and \(name)_file", fix: "keep one of them")
        }
        if let inline { return inline }
        guard let file else { return nil }
        let path = file.hasPrefix("/") ? file : base + "/" + file
        let data = try JSONInput.read(path: path, limit: largestMappingBytes, fix: "point \(name)_file at a file of one entry per line")
        guard let text = String(data: data, encoding: .utf8) else {
            throw DissectError(file: path, problem: "is not UTF-8 text", fix: "write the \(name) as UTF-8, one per line")
        }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }

    /// The checkpoint the mapping describes. Errors name the mapping or the safetensors file, one line each.
    public static func checkpoint(tensors: [String: SafeTensors.Tensor], safetensorsPath: String, mapping: ImportMapping, mappingPath: String) throws -> Checkpoint {
        let base = (mappingPath as NSString).deletingLastPathComponent.isEmpty ? "." : (mappingPath as NSString).deletingLastPathComponent
        func mappingError(_ problem: String, fix: String) -> DissectError { DissectError(.input, file: mappingPath, problem: problem, fix: fix) }
        func tensor(_ name: String, _ role: String) throws -> SafeTensors.Tensor {
            guard let found = tensors[name] else {
                let near = tensors.keys.sorted().prefix(12).joined(separator: ", ")
                throw DissectError(
                    .input, file: safetensorsPath, problem: "has no tensor \(name) (the mapping's \(role)); it has \(near)\(tensors.count > 12 ? ", …" : "")",
                    fix: "name the state dict's tensor in \(mappingPath)")
            }
            return found
        }
        func shape(_ t: SafeTensors.Tensor, _ expected: [Int], _ role: String, _ meaning: String) throws {
            guard t.shape == expected else {
                throw DissectError(
                    .input, file: safetensorsPath, problem: "tensor \(t.name) (\(role)) has shape \(t.shape), expected \(expected) (\(meaning))",
                    fix: "check the mapping's \(role) and the model's sizes")
            }
        }
        guard let cell = CellKind(rawValue: mapping.cell) else {
            throw mappingError("cell \(mapping.cell.debugDescription) is not one dissect supports",
                               fix: "use lstm, gru or rnn (torch.nn.LSTM, GRU or RNN); other encoders cannot be imported")
        }
        guard (1...Checkpoint.maximumLayers).contains(mapping.layers) else {
            throw mappingError("layers is \(mapping.layers), outside 1 to \(Checkpoint.maximumLayers)", fix: "give the recurrent module's num_layers")
        }
        guard let words = try list(mapping.words, file: mapping.wordsFile, name: "words", base: base, mappingPath: mappingPath) else {
            throw mappingError("gives no words", fix: "add \"words\": [...] or \"words_file\": FILE, in the embedding's row order")
        }
        guard let labels = try list(mapping.labels, file: mapping.labelsFile, name: "labels", base: base, mappingPath: mappingPath) else {
            throw mappingError("gives no labels", fix: "add \"labels\": [...] or \"labels_file\": FILE, in the output layer's row order")
        }
        let chars = try list(mapping.chars, file: mapping.charsFile, name: "chars", base: base, mappingPath: mappingPath) ?? []

        // Sizes from the shapes.
        let embedding = try tensor(mapping.tensors.wordEmbedding, "word_embedding")
        guard embedding.shape.count == 2 else { throw DissectError(.input, file: safetensorsPath, problem: "tensor \(embedding.name) (word_embedding) has shape \(embedding.shape), expected [words, dimensions]", fix: "name the embedding's weight") }
        try shape(embedding, [words.count, embedding.shape[1]], "word_embedding", "one row per word of the mapping's \(words.count)")
        let charParts = [mapping.tensors.charEmbedding, mapping.tensors.charCNNWeight, mapping.tensors.charCNNBias]
        guard charParts.allSatisfy({ $0 == nil }) || charParts.allSatisfy({ $0 != nil }) else {
            throw mappingError("names only some of char_embedding, char_cnn_weight and char_cnn_bias",
                               fix: "name all three (a char CNN of dissect's or NCRF++'s shape: embedding, Conv1d, max-pooling) or none")
        }
        var c = TaggerConfiguration()
        c.cell = cell
        c.layers = mapping.layers
        c.bidirectional = mapping.bidirectional
        c.wordEmbeddingDim = embedding.shape[1]
        c.wordCount = words.count
        c.charCNN = mapping.tensors.charEmbedding != nil
        c.dropout = 0
        var imported: [String: [Float]] = ["word_embedding.weight": embedding.values]
        if c.charCNN, let e = mapping.tensors.charEmbedding, let w = mapping.tensors.charCNNWeight, let b = mapping.tensors.charCNNBias {
            let charEmbedding = try tensor(e, "char_embedding"), weight = try tensor(w, "char_cnn_weight"), bias = try tensor(b, "char_cnn_bias")
            guard charEmbedding.shape.count == 2, weight.shape.count == 3 else {
                throw DissectError(.input, file: safetensorsPath, problem: "the char encoder's tensors have shapes \(charEmbedding.shape) and \(weight.shape), not a char embedding [chars, dimensions] and a Conv1d weight [filters, dimensions, window]",
                                   fix: "only a char CNN (embedding, Conv1d, max-pooling) can be imported; other char encoders are unsupported")
            }
            guard !chars.isEmpty else { throw mappingError("names a char CNN but gives no chars", fix: "add \"chars\" or \"chars_file\" in the char embedding's row order") }
            try shape(charEmbedding, [chars.count, charEmbedding.shape[1]], "char_embedding", "one row per char of the mapping's \(chars.count)")
            let window = weight.shape[2]
            guard window % 2 == 1 else {
                throw DissectError(.input, file: safetensorsPath, problem: "the char CNN's window is \(window); dissect pads by (window − 1) / 2 on each side, so it must be odd",
                                   fix: "only odd windows with 'same' padding can be imported")
            }
            try shape(weight, [weight.shape[0], charEmbedding.shape[1], window], "char_cnn_weight", "[filters, char dimensions, window]")
            try shape(bias, [weight.shape[0]], "char_cnn_bias", "one per filter")
            c.charCount = chars.count
            c.charEmbeddingDim = charEmbedding.shape[1]
            c.charFilters = weight.shape[0]
            c.charWindow = window
            imported["char_embedding.weight"] = charEmbedding.values
            imported["char_cnn.weight"] = weight.values
            imported["char_cnn.bias"] = bias.values
        } else {
            c.charCount = max(1, chars.count)
        }
        // The recurrent module: its first weight fixes the hidden size.
        let firstName = mapping.tensors.recurrent + ".weight_hh_l0"
        let first = try tensor(firstName, "recurrent")
        guard first.shape.count == 2, first.shape[1] >= 1, first.shape[0] == cell.gateCount * first.shape[1] else {
            throw DissectError(.input, file: safetensorsPath, problem: "tensor \(firstName) has shape \(first.shape), not that of a \(cell.rawValue) ([\(cell.gateCount)·H, H])",
                               fix: "check the mapping's cell (lstm has 4 gate blocks, gru 3, rnn 1)")
        }
        c.hiddenSize = first.shape[1]
        for layer in 0..<c.layers {
            for direction in 0..<c.directionCount {
                let ours = ParameterLayout.recurrentNames(cell: cell, layer: layer, direction: direction)
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let input = c.layerInputSize(layer)
                for (theirs, name, expected, meaning) in [
                    ("weight_ih", ours.inputWeight, [c.gateSize, input], "[gates·H, layer input]"),
                    ("weight_hh", ours.hiddenWeight, [c.gateSize, c.hiddenSize], "[gates·H, H]"),
                    ("bias_ih", ours.inputBias, [c.gateSize], "[gates·H]"),
                    ("bias_hh", ours.hiddenBias, [c.gateSize], "[gates·H]"),
                ] {
                    let t = try tensor(mapping.tensors.recurrent + "." + theirs + suffix, "recurrent")
                    try shape(t, expected, "recurrent", meaning)
                    imported[name] = t.values
                }
            }
            if !c.bidirectional, tensors[mapping.tensors.recurrent + ".weight_ih_l\(layer)_reverse"] != nil {
                throw mappingError("says bidirectional is false, but the state dict has \(mapping.tensors.recurrent).weight_ih_l\(layer)_reverse",
                                   fix: "set \"bidirectional\": true")
            }
        }
        if tensors[mapping.tensors.recurrent + ".weight_ih_l\(c.layers)"] != nil {
            throw mappingError("says layers is \(c.layers), but the state dict has \(mapping.tensors.recurrent).weight_ih_l\(c.layers)",
                               fix: "set \"layers\" to the module's num_layers")
        }
        // Output and labels.
        let weight = try tensor(mapping.tensors.outputWeight, "output_weight"), bias = try tensor(mapping.tensors.outputBias, "output_bias")
        guard weight.shape.count == 2, weight.shape[0] == labels.count else {
            throw DissectError(.input, file: safetensorsPath, problem: "tensor \(weight.name) (output_weight) has \(weight.shape.first ?? 0) rows but the mapping lists \(labels.count) labels",
                               fix: "list one label per output row, in order (drop reserved rows from the model or name them as labels)")
        }
        try shape(weight, [labels.count, c.outputSize], "output_weight", "[labels, H·directions]")
        try shape(bias, [labels.count], "output_bias", "one per label")
        c.labelCount = labels.count
        imported["hidden2tag.weight"] = weight.values
        imported["hidden2tag.bias"] = bias.values
        let m = labels.count
        if let transitionsName = mapping.tensors.crfTransitions {
            c.crf = true
            let transitions = try tensor(transitionsName, "crf_transitions")
            switch (mapping.tensors.crfStart, mapping.tensors.crfEnd) {
            case (nil, nil):
                try shape(transitions, [m + 2, m + 2], "crf_transitions", "[labels + 2, labels + 2] with START = labels, STOP = labels + 1")
                imported[LinearChainCRF.tensorName] = transitions.values
            case (let start?, let end?):
                try shape(transitions, [m, m], "crf_transitions", "[labels, labels], from → to")
                let startScores = try tensor(start, "crf_start"), endScores = try tensor(end, "crf_end")
                try shape(startScores, [m], "crf_start", "one per label")
                try shape(endScores, [m], "crf_end", "one per label")
                let width = m + 2, startRow = LinearChainCRF.startIndex(labels: m), stopColumn = LinearChainCRF.stopIndex(labels: m)
                var full = [Float](repeating: Float(LinearChainCRF.forbidden), count: width * width)
                for i in 0..<m {
                    for j in 0..<m { full[i * width + j] = transitions.values[i * m + j] }
                    full[startRow * width + i] = startScores.values[i]
                    full[i * width + stopColumn] = endScores.values[i]
                }
                imported[LinearChainCRF.tensorName] = full
            default:
                throw mappingError("names only one of crf_start and crf_end", fix: "name both (pytorch-crf's start_transitions and end_transitions) or neither")
            }
        } else if mapping.tensors.crfStart != nil || mapping.tensors.crfEnd != nil {
            throw mappingError("names crf_start or crf_end without crf_transitions", fix: "name the transitions too, or drop them")
        }
        // Lookup.
        guard let unknownWord = words.firstIndex(of: mapping.lookup.unknownWord) else {
            throw mappingError("lookup.unknown_word \(mapping.lookup.unknownWord.debugDescription) is not among the words",
                               fix: "name the vocabulary's unknown token (every model needs one for unseen words)")
        }
        var unknownChar = 0
        if c.charCNN {
            guard let name = mapping.lookup.unknownChar, let index = chars.firstIndex(of: name) else {
                throw mappingError("lookup.unknown_char is missing or not among the chars", fix: "name the char vocabulary's unknown token")
            }
            unknownChar = index
        }
        if mapping.lookup.lowercase, let upper = words.first(where: { $0 != mapping.lookup.unknownWord && $0.lowercased() != $0 }) {
            throw mappingError("lookup.lowercase is true but the words include \(upper.debugDescription)",
                               fix: "a model that lower-cases every word has a lower-case vocabulary; set lowercase to false if it does not")
        }
        if mapping.lookup.digitsToZero, let digit = words.first(where: { $0.unicodeScalars.contains { ("1"..."9").contains($0) } }) {
            throw mappingError("lookup.digits_to_zero is true but the words include \(digit.debugDescription), which that lookup can never reach",
                               fix: "set digits_to_zero to false, or normalise the vocabulary's digits to 0")
        }
        // Every tensor of dissect's layout, in its place.
        var model = TaggerModel<Float>(configuration: c)
        for entry in model.layout.entries {
            guard let values = imported[entry.name], values.count == entry.count else {
                throw mappingError("leaves dissect's tensor \(entry.name) without a source", fix: "name it in the mapping")
            }
            for index in 0..<entry.count { model.parameters[entry.offset + index] = values[index] }
        }
        var metadata = CheckpointMetadata(
            configuration: c, vocabulary: VocabularyLists(words: words, chars: c.charCNN ? chars : (chars.isEmpty ? ["<unk>"] : chars), labels: labels),
            unknownWordIndex: unknownWord, unknownCharIndex: unknownChar, digitsToZero: mapping.lookup.digitsToZero, training: nil)
        // A model that lower-cases every word (lower-case vocabulary) is served by dissect's rule as it is; one that
        // looked words up exactly must not get the lower-case second try.
        if !mapping.lookup.lowercase {
            metadata.lowercaseFallback = false
            metadata.lookup = Checkpoint.exactLookupRule
        }
        try Checkpoint.validate(metadata, path: mappingPath)
        return Checkpoint(metadata: metadata, model: model)
    }
}
