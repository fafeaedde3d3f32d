import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `dissect reproduce` end to end on the tiny synthetic corpus: 2 seeds,
/// 1 epoch, short ablation curves. Every artefact must exist and parse, and a
/// rerun must reuse finished seeds and retrain an unfinished one.
@Suite("dissect reproduce", .serialized)
struct ReproduceTests {
    static func arguments(_ files: (train: String, dev: String, test: String), out: String) -> [String] {
        ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--seeds", "1,2", "--epochs", "2",
         "--lr", "0.1", "--batch-size", "2", "--dropout", "0",
         "--steps", "3", "--random", "2", "--out", out, "--embeddings", SyntheticEmbeddings.path(besides: files.train)]
    }

    static func parsesAsXML(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("<!DOCTYPE html>") { text = String(text.dropFirst("<!DOCTYPE html>".count)) }
        return XMLParser(data: Data(text.utf8)).parse()
    }

    @Test("two seeds, two epochs: every artefact exists and parses; a rerun reuses finished seeds")
    func endToEnd() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        let out = sandbox.path("paper")
        let first = try await sandbox.run(Self.arguments(files, out: out), timeout: 300)
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("reproduced in"), "\(first)")
        // Progress names each step with its number.
        #expect(first.stderr.contains("[1/6] seed 1: training"), "\(first.stderr)")

        let summary = try Files.json(out + "/summary.json")
        let seeds = try #require(summary["seeds"] as? [[String: Any]])
        #expect(seeds.count == 2)
        #expect(seeds.allSatisfy { ($0["reused"] as? Bool) == false })
        for seed in [1, 2] {
            let directory = out + "/seed-\(seed)"
            for file in ["model.json", "model.safetensors", "train-log.jsonl",
                         "sensitivity-dev/sensitivity.json", "sensitivity-test/sensitivity.json",
                         "sensitivity-dev/sensitivity.csv", "sensitivity-dev/rankings.csv"] {
                #expect(Files.exists(directory + "/" + file), "missing \(directory)/\(file)")
            }
            for svg in ["sensitivity-dev/sensitivity.svg", "sensitivity-dev/sensitivity-top10.svg"] {
                #expect(Self.parsesAsXML(directory + "/" + svg), "\(svg) does not parse")
            }
            // The synthetic corpus has no MISC, so the first pair shrinks to B-PER (with a warning).
            for mode in ["readout", "recurrent"] {
                for pair in ["B-PER", "B-LOC-I-ORG"] {
                    let folder = directory + "/ablation-\(mode)-\(pair)"
                    let ablation = try Files.json(folder + "/ablation.json")
                    #expect(ablation["mode"] as? String == mode)
                    let curves = try #require(ablation["curves"] as? [String: [String: Any]])
                    #expect(Set(curves.keys) == Set(pair == "B-PER" ? ["B-PER"] : ["B-LOC", "I-ORG"]), "\(curves.keys)")
                    for (_, curve) in curves { #expect((curve["f1"] as? [Double])?.count == 4) }
                    for svg in Files.listing(folder) where svg.hasSuffix(".svg") {
                        #expect(Self.parsesAsXML(folder + "/" + svg), "\(svg) does not parse")
                    }
                }
            }
        }
        #expect(first.stderr.contains("warning:"), "the missing MISC labels are reported")
        // The report: well-formed, self-contained, with every figure as its own SVG.
        #expect(Self.parsesAsXML(out + "/report.html"), "report.html is not well-formed")
        let html = try Files.text(out + "/report.html")
        #expect(!html.contains("<script"), "no JavaScript")
        // No network references: the only URLs are the XHTML and SVG namespace names.
        let withoutNamespaces = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/1999/xhtml\"", with: "")
            .replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespaces.contains("http:") && !withoutNamespaces.contains("https:"), "no network references")
        #expect(!withoutNamespaces.contains("src=\"//") && !withoutNamespaces.contains("href=\"//"), "no remote resources")
        let markdown = try Files.text(out + "/report.md")
        #expect(markdown.contains("|"), "report.md has tables")
        let figures = Files.listing(out + "/figures").filter { $0.hasSuffix(".svg") }
        #expect(figures.count >= 6, "\(figures)")
        for figure in figures { #expect(Self.parsesAsXML(out + "/figures/" + figure), "\(figure) does not parse") }
        // The seeds compared, and the first seed's rival rankings, each in its folder and in the summary and report.
        let comparison = try Files.json(out + "/compare-seeds/compare.json")
        #expect((comparison["models"] as? [String]) == ["seed 1", "seed 2"])
        #expect((comparison["pairs"] as? [Any])?.count == 1)
        #expect(Self.parsesAsXML(out + "/compare-seeds/cka.svg"))
        let rankings = try Files.json(out + "/seed-1/rankings/rankings.json")
        #expect((rankings["methods"] as? [[String: Any]])?.compactMap { $0["method"] as? String } == ["sensitivity", "probeless", "probe", "single"])
        #expect(!Files.exists(out + "/seed-2/rankings/rankings.json"), "rival rankings for the first seed only")
        #expect(summary["seedComparison"] is [String: Any] && summary["rankings"] is [String: Any])
        #expect(html.contains("<section id=\"seeds\">") && html.contains("<section id=\"rankers\">"))
        #expect(html.contains("Across the 1 pair of the 2 seeds"))
        // The explorer of the first seed, with the second as a summary and matches.
        let explorer = try Files.text(out + "/explorer.html")
        #expect(explorer.contains("\"name\":\"seed 1\""), "the explorer knows its seed")
        #expect(explorer.contains("\"seeds\":[{") && explorer.contains("\"name\":\"seed 2\""), "the other seed is in the explorer")
        #expect(explorer.contains("\"probeless\":{"), "the first seed's rival rankings are in the explorer")
        for split in ["dev", "test"] {
            let correlation = try Files.json(out + "/correlation-\(split)/correlation.json")
            #expect((correlation["models"] as? [Any])?.count == 2)
            #expect(Self.parsesAsXML(out + "/correlation-\(split)/correlation.svg"))
        }

        // Rerun: both seeds are reused, their weights untouched.
        let weights = try Files.bytes(out + "/seed-1/model.safetensors")
        let second = try await sandbox.run(Self.arguments(files, out: out), timeout: 300)
        #expect(second.status == 0, "\(second)")
        #expect(second.stderr.contains("seed 1: finished checkpoint found"), "\(second.stderr)")
        #expect(second.stderr.contains("seed 2: finished checkpoint found"), "\(second.stderr)")
        #expect(!second.stderr.contains("epoch 1/2"), "nothing is retrained")
        #expect(try Files.bytes(out + "/seed-1/model.safetensors") == weights)
        let again = try Files.json(out + "/summary.json")
        #expect((again["seeds"] as? [[String: Any]])?.allSatisfy { ($0["reused"] as? Bool) == true } == true)

        // An unfinished seed (as an interrupted run leaves it) is trained again; the finished one is not.
        let metadataPath = out + "/seed-2/model.json"
        var metadata = try Files.json(metadataPath)
        var training = try #require(metadata["training"] as? [String: Any])
        training["finished"] = false
        metadata["training"] = training
        try JSONSerialization.data(withJSONObject: metadata).write(to: URL(fileURLWithPath: metadataPath))
        let third = try await sandbox.run(Self.arguments(files, out: out), timeout: 300)
        #expect(third.status == 0, "\(third)")
        #expect(third.stderr.contains("seed 1: finished checkpoint found"), "\(third.stderr)")
        #expect(!third.stderr.contains("seed 2: finished checkpoint found"), "\(third.stderr)")
        let retrained = try Files.json(metadataPath)
        #expect((retrained["training"] as? [String: Any])?["finished"] as? Bool == true)
    }

    @Test("bad --seeds is a usage error")
    func badSeeds() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let result = try await sandbox.run(
            ["reproduce", "--train", files.train, "--dev", files.dev, "--test", files.test, "--seeds", "1,x", "--out", sandbox.path("o")])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("error:"), "\(result.stderr)")
        #expect(!Files.exists(sandbox.path("o")))
    }

    @Test("seeds trained side by side (--threads 2) give the bytes of seeds trained one after the other (--threads 1)")
    func sideBySideTrainingKeepsTheBytes() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        try sandbox.writeEmbeddings()
        var outputs: [String: String] = [:]
        for threads in ["1", "2"] {
            let out = sandbox.path("threads-\(threads)")
            var arguments = Self.arguments(files, out: out)
            arguments[arguments.firstIndex(of: "1,2") ?? 0] = "1-3"
            let result = try await sandbox.run(arguments + ["--threads", threads], timeout: 300)
            #expect(result.status == 0, "\(result)")
            outputs[threads] = result.stderr
            let lines = result.stderr.split(separator: "\n").map(String.init)
            func position(_ prefix: String) -> Int { lines.firstIndex { $0.hasPrefix(prefix) } ?? Int.max }
            if threads == "2" {
                // Seeds 1 and 2 start together; seed 3 starts when both are done.
                #expect(position("[2/8] seed 2: training") < position("  seed 1, epoch 1/2"), "\(result.stderr)")
                #expect(position("  seed 1, epoch 2/2") < position("[3/8] seed 3: training"), "\(result.stderr)")
                #expect(position("  seed 2, epoch 2/2") < position("[3/8] seed 3: training"), "\(result.stderr)")
            } else {
                #expect(position("  seed 1, epoch 2/2") < position("[2/8] seed 2: training"), "\(result.stderr)")
            }
            #expect(position("[3/8] seed 3: training") < position("  seed 3, epoch 1/2"), "\(result.stderr)")
        }
        for seed in 1...3 {
            for file in ["model.safetensors", "sensitivity-dev/sensitivity.csv", "ablation-recurrent-B-PER/ablation.csv"] {
                let one = try Files.bytes(sandbox.path("threads-1/seed-\(seed)/\(file)"))
                let two = try Files.bytes(sandbox.path("threads-2/seed-\(seed)/\(file)"))
                #expect(one == two, "seed \(seed): \(file) depends on --threads")
            }
        }
    }
}
