import DissectModel
import Foundation
import Testing

/// A hand-made LSTM whose neurons are known: neuron 0 fires on "Paris", neuron 1 on "London"
/// (input gate and output gate open, forget gate shut, g = tanh(4·x)), both push the output
/// towards B-LOC, so the explorer's neuron card of 0 must list the Paris tokens first.
enum HandMadeModel {
    static let labels = ["O", "B-LOC", "B-PER"]
    static let words = ["<unk>", "paris", "london", "the", "in", "visited", "office", "and", "smith"]

    static func write(to directory: String) throws {
        var c = TaggerConfiguration()
        c.charCNN = false
        c.hiddenSize = 2
        c.wordEmbeddingDim = 2
        c.wordCount = words.count
        c.charCount = 2
        c.labelCount = labels.count
        var model = TaggerModel<Float>(configuration: c)
        func set(_ name: String, _ index: Int, _ value: Float) {
            guard let entry = model.layout.entry(name) else { preconditionFailure("no tensor \(name)") }
            model.parameters[entry.offset + index] = value
        }
        // Embeddings [V, 2]: paris → (1, 0), london → (0, 1), the rest 0.
        set("word_embedding.weight", 1 * 2 + 0, 1)
        set("word_embedding.weight", 2 * 2 + 1, 1)
        // weight_ih [4H, D] = [8, 2], gates i, f, g, o; g rows 4 and 5 read x0 and x1.
        let names = ParameterLayout.recurrentNames(cell: .lstm, layer: 0, direction: 0)
        set(names.inputWeight, 4 * 2 + 0, 4)
        set(names.inputWeight, 5 * 2 + 1, 4)
        for unit in 0..<2 {
            set(names.inputBias, 0 + unit, 4)    // input gate open
            set(names.inputBias, 2 + unit, -4)   // forget gate shut
            set(names.inputBias, 6 + unit, 4)    // output gate open
        }
        // hidden2tag [m, n]: B-LOC = 5·h0 + 5·h1 − 1, O = 0, B-PER = −5.
        set("hidden2tag.weight", 1 * 2 + 0, 5)
        set("hidden2tag.weight", 1 * 2 + 1, 5)
        set("hidden2tag.bias", 1, -1)
        set("hidden2tag.bias", 2, -5)
        let metadata = CheckpointMetadata(
            configuration: c, vocabulary: VocabularyLists(words: words, chars: ["<unk>", "a"], labels: labels),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil)
        try Checkpoint(metadata: metadata, model: model).save(to: directory)
    }

    /// Paris three times, London twice, Smith (B-PER, never predicted) once.
    static let data = """
        I O
        visited O
        Paris B-LOC

        The O
        London B-LOC
        office O

        Paris B-LOC
        and O
        London B-LOC

        Smith B-PER
        visited O
        Paris B-LOC

        """
}

@Suite("dissect explore") struct ExploreTests {
    /// Debian's Python, where python3-selenium imports (scripts/setup.sh --browser installs it with chromium).
    static let python = "/usr/bin/python3"

    static func browserCheck(page: String, expect: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [DissectBinary.packageRoot.appendingPathComponent("tools/browser_check.py").path, "--page", page, "--expect", expect]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The hand-made model's explorer page, written by the binary: its sandbox (which deletes the files when it goes),
    /// the page's path and what the command printed.
    static func handMadePage() async throws -> (sandbox: Sandbox, page: String, result: RunResult) {
        let sandbox = try Sandbox()
        let model = sandbox.path("hand-made")
        try HandMadeModel.write(to: model)
        let data = try sandbox.write("places.conll", HandMadeModel.data)
        let out = sandbox.path("explore")
        let result = try await sandbox.run(["explore", "--model", model, "--data", data, "--out", out])
        return (sandbox, out + "/explorer.html", result)
    }

    @Test("a hand-made model: the page is self-contained and, in Chromium, lists the neurons and top tokens the weights dictate")
    func handMadeModelInABrowser() async throws {
        let (sandbox, page, result) = try await Self.handMadePage()
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("explorer for 2 neurons, 3 labels, 12 tokens"), "\(result.stdout)")
        let html = try Files.text(page)
        // One file: no network, no external script or style.
        #expect(!html.contains("http:") && !html.contains("https:") && !html.contains("src=\""), "no network references")
        #expect(html.contains("<script type=\"application/json\" id=\"explorer-data\">"))
        // The data itself: neuron 0's top tokens are the three Paris tokens (2, 6, 11), neuron 1's the two London ones (4, 8).
        let json = try #require(html.range(of: "id=\"explorer-data\">").flatMap { start in
            html.range(of: "</script>", range: start.upperBound..<html.endIndex).map { String(html[start.upperBound..<$0.lowerBound]) }
        })
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let top = try #require(document["topTokens"] as? [[Int]])
        #expect(Array(top[0].prefix(3)).sorted() == [2, 6, 11], "\(top[0])")
        #expect(Array(top[1].prefix(2)).sorted() == [4, 8], "\(top[1])")
        // B-LOC is predicted exactly on the five place names, so both neurons rank for it; B-PER is never predicted.
        let rankings = try #require((document["rankings"] as? [String: [String: [Int]]])?["sensitivity"])
        #expect(rankings["B-LOC"]?.count == 2)
        #expect(rankings["B-PER"] == [])
        #expect(FileManager.default.isExecutableFile(atPath: Self.python), "\(Self.python) is missing: run scripts/setup.sh --browser")
        let check = try Self.browserCheck(page: page, expect: """
            {"label": "B-LOC", "rows": 2, "neuron": 0, "top_words": ["Paris", "Paris", "Paris"], "restore_neuron": 1, "restore_top_words": ["London", "London"],
             "search": {"word": "paris", "sentences": 3}, "span": {"token": 2, "first_match": 0, "extend_from": 6, "extend_to": 8}}
            """)
        #expect(check.status == 0, "browser check failed (scripts/setup.sh --browser installs chromium, chromium-driver and python3-selenium):\n\(check.output)")
        withExtendedLifetime(sandbox) {}
    }

    @Test("the browser check fails on a page whose top tokens are not the expected ones")
    func theBrowserCheckCanFail() async throws {
        let (sandbox, page, result) = try await Self.handMadePage()
        #expect(result.status == 0, "\(result)")
        let check = try Self.browserCheck(page: page, expect: """
            {"label": "B-LOC", "rows": 2, "neuron": 0, "top_words": ["London"]}
            """)
        #expect(check.status == 1, "\(check.output)")
        #expect(check.output.contains("neuron 0's top tokens are ['Paris'], expected ['London']"), "\(check.output)")
        withExtendedLifetime(sandbox) {}
    }

    @Test("--run reads a compare folder (matches) and a rank folder (rival rankings); another model's folder is an error")
    func runFolders() async throws {
        let sandbox = try Sandbox()
        let model = sandbox.path("hand-made"), copy = sandbox.path("hand-made-copy")
        try HandMadeModel.write(to: model)
        try HandMadeModel.write(to: copy)
        let data = try sandbox.write("places.conll", HandMadeModel.data)
        let compared = try await sandbox.run(["compare", "--models", model, copy, "--data", data, "--out", sandbox.path("compare")])
        #expect(compared.status == 0, "\(compared)")
        let ranked = try await sandbox.run(["rank", "--model", model, "--rank-on", data, "--data", data, "--steps", "2", "--out", sandbox.path("rank")])
        #expect(ranked.status == 0, "\(ranked)")

        let withMatches = try await sandbox.run(["explore", "--model", model, "--data", data, "--run", sandbox.path("compare"), "--out", sandbox.path("e1")])
        #expect(withMatches.status == 0 && withMatches.stdout.contains("1 other seeds"), "\(withMatches)")
        let page = try Files.text(sandbox.path("e1") + "/explorer.html")
        // A copy matches itself neuron for neuron with r = 1.
        #expect(page.contains("\"matches\":[{\"correlation\":1,\"neuron\":0},{\"correlation\":1,\"neuron\":1}]"), "\(page.prefix(0))")

        let withRankings = try await sandbox.run(["explore", "--model", model, "--data", data, "--run", sandbox.path("rank"), "--out", sandbox.path("e2")])
        #expect(withRankings.status == 0, "\(withRankings)")
        let ranks = try Files.text(sandbox.path("e2") + "/explorer.html")
        for method in ["probeless", "probe", "single"] { #expect(ranks.contains("\"\(method)\":{\"B-LOC\":"), "\(method)") }

        let other = try await sandbox.run(["explore", "--model", copy, "--data", data, "--run", sandbox.path("rank"), "--out", sandbox.path("e3")])
        #expect(other.status == 1 && other.stderr.contains("ranks \(model), not \(copy)"), "\(other)")
    }

    @Test("bad input: a missing model, a layer above the top, a run folder with nothing dissect wrote")
    func badInput() async throws {
        let sandbox = try Sandbox()
        let model = sandbox.path("hand-made")
        try HandMadeModel.write(to: model)
        let data = try sandbox.write("places.conll", HandMadeModel.data)
        let missing = try await sandbox.run(["explore", "--model", sandbox.path("none"), "--data", data, "--out", sandbox.path("o1")])
        #expect(missing.status == 1 && missing.stderr.contains("pass --model a directory written by `dissect train`"), "\(missing)")
        let layer = try await sandbox.run(["explore", "--model", model, "--data", data, "--layer", "2", "--out", sandbox.path("o2")])
        #expect(layer.status == 2 && layer.stderr.contains("--layer 2"), "\(layer)")
        let zero = try await sandbox.run(["explore", "--model", model, "--data", data, "--layer", "0", "--out", sandbox.path("o3")])
        #expect(zero.status == 2, "\(zero)")
        let empty = sandbox.path("empty-run")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let run = try await sandbox.run(["explore", "--model", model, "--data", data, "--run", empty, "--out", sandbox.path("o4")])
        #expect(run.status == 1 && run.stderr.contains("holds no summary.json, compare.json or rankings.json"), "\(run)")
        #expect(!Files.exists(sandbox.path("o4") + "/explorer.html"), "nothing written after an error")
        for result in [missing, layer, run] {
            #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1, "\(result.stderr)")
        }
    }
}
