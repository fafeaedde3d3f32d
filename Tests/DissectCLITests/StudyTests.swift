import Foundation
import Testing

/// `dissect study` end to end on a tiny corpus that is not CoNLL-2003: entity
/// types in lower case (WNUT-17 style), then its POS column as a label set
/// that is not BIO; and the usage errors.
@Suite("dissect study", .serialized)
struct StudyTests {
    static let types = ["PER": "person", "LOC": "location", "ORG": "corporation"]

    /// The synthetic corpus with lower-case entity types, as train.txt, valid.txt and test.txt in `wnut/`
    /// (4 columns: word, POS, chunk, entity).
    static func writeCorpus(_ sandbox: Sandbox) throws -> String {
        func text(_ sentences: [[SyntheticCoNLL.Token]]) -> String {
            SyntheticCoNLL.text(sentences.map { sentence in
                sentence.map { token in
                    var token = token
                    if token.ner.count > 2, let type = types[String(token.ner.dropFirst(2))] { token.ner = String(token.ner.prefix(2)) + type }
                    return token
                }
            })
        }
        // Four times the usual training sentences, so one epoch is enough for every label to be predicted.
        try sandbox.write("wnut/train.txt", text(SyntheticCoNLL.sentences(count: 240, seed: 11, unseenRate: 0)))
        try sandbox.write("wnut/valid.txt", text(SyntheticCoNLL.devSentences))
        try sandbox.write("wnut/test.txt", text(SyntheticCoNLL.testSentences))
        return sandbox.path("wnut")
    }

    static func arguments(dataDirectory: String, out: String, seeds: String = "1,2", extra: [String] = []) -> [String] {
        ["study", "--data-dir", dataDirectory, "--no-embeddings", "--seeds", seeds, "--epochs", "1", "--lr", "0.1", "--batch-size", "2",
         "--dropout", "0", "--steps", "3", "--random", "3", "--recurrent-random", "2", "--bootstrap", "20", "--permutations", "20",
         "--out", out] + extra
    }

    /// The pairs the stated rule gives: labels other than O by falling training count (ties by name), two per pair.
    static func expectedPairs(trainFile: String, column: Int) throws -> [[String]] {
        var counts: [String: Int] = [:]
        for line in try Files.text(trainFile).split(separator: "\n") where !line.hasPrefix("-DOCSTART-") {
            let fields = line.split(separator: " ")
            guard fields.count >= column else { continue }
            counts[String(fields[column - 1]), default: 0] += 1
        }
        let ordered = counts.keys.filter { $0 != "O" }.sorted { counts[$0]! != counts[$1]! ? counts[$0]! > counts[$1]! : $0 < $1 }.prefix(4)
        return stride(from: 0, to: ordered.count, by: 2).map { Array(ordered.dropFirst($0).prefix(2)) }
    }

    /// The report.md table row of a claim.
    static func claimRow(_ markdown: String, _ letter: String) -> String {
        markdown.split(separator: "\n").first { $0.hasPrefix("| (\(letter))") }.map(String.init) ?? ""
    }

    @Test("a BIO corpus with lower-case types: ablation runs and the claims name its types")
    func lowerCaseBIO() async throws {
        let sandbox = try Sandbox()
        let data = try Self.writeCorpus(sandbox)
        let out = sandbox.path("study")
        let result = try await sandbox.run(Self.arguments(dataDirectory: data, out: out), timeout: 300)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("studied in"), "\(result)")

        let summary = try Files.json(out + "/summary.json")
        let task = try #require(summary["task"] as? [String: Any])
        #expect(task["kind"] as? String == "study")
        let pairs = try #require(task["pairs"] as? [[String]])
        #expect(pairs == (try Self.expectedPairs(trainFile: data + "/train.txt", column: 4)), "\(pairs)")
        #expect((task["pairRule"] as? String ?? "").contains("two most frequent"))
        // Ablation ran for each chosen pair, in both modes, for both seeds.
        let ablations = try #require(summary["ablations"] as? [[String: Any]])
        #expect(ablations.count == 2 * 2 * pairs.count, "\(result.stderr)")
        for seed in [1, 2] {
            for mode in ["readout", "recurrent"] {
                for pair in pairs {
                    let folder = out + "/seed-\(seed)/ablation-\(mode)-" + pair.joined(separator: "-")
                    let ablation = try Files.json(folder + "/ablation.json")
                    let curves = try #require(ablation["curves"] as? [String: [String: Any]])
                    #expect(Set(curves.keys) == Set(pair), "\(folder): \(curves.keys)")
                }
            }
        }
        // The report names the corpus and generalises (d)–(g) to its types.
        let markdown = try Files.text(out + "/report.md")
        #expect(markdown.hasPrefix("# dissect study of \(data) ("), "\(markdown.prefix(200))")
        #expect(markdown.contains("BIO with the entity types"))
        let d = Self.claimRow(markdown, "d")
        for type in ["person", "location", "corporation"] { #expect(d.contains("B-\(type)/I-\(type)"), "\(d.prefix(300))") }
        #expect(Self.claimRow(markdown, "g").contains("O is negatively correlated with every I-x (I-"))
        #expect(Self.claimRow(markdown, "e").contains("I-person"))
        #expect(Self.claimRow(markdown, "b").contains("random orders"))
        for letter in ["i", "j"] { #expect(Self.claimRow(markdown, letter).contains("untested"), "(\(letter))") }
        #expect(!markdown.contains("I-PER") && !markdown.contains("B-ORG"), "no CoNLL label in the report")
        #expect(ReproduceTests.parsesAsXML(out + "/report.html"))
        // The correlations carry a bootstrap over neurons of the requested size.
        let correlation = try Files.json(out + "/correlation-dev/correlation.json")
        let models = try #require(correlation["models"] as? [[String: Any]])
        #expect(models.allSatisfy { ($0["bootstrap"] as? [String: Any])?["resamples"] as? Int == 20 }, "\(models.first ?? [:])")
    }

    @Test("a POS label set (--tag-column 2): the claims about B-x, I-x and O are untested and say why")
    func posTags() async throws {
        let sandbox = try Sandbox()
        let data = try Self.writeCorpus(sandbox)
        let out = sandbox.path("pos")
        let result = try await sandbox.run(
            Self.arguments(dataDirectory: data, out: out, seeds: "1", extra: ["--tag-column", "2"]), timeout: 300)
        #expect(result.status == 0, "\(result)")
        let markdown = try Files.text(out + "/report.md")
        #expect(markdown.contains("not BIO"), "\(markdown.prefix(300))")
        for letter in ["d", "e", "f", "g", "h"] {
            let row = Self.claimRow(markdown, letter)
            #expect(row.contains("untested"), "(\(letter)): \(row.prefix(200))")
            #expect(row.contains("the label set is not BIO"), "(\(letter)): \(row.prefix(300))")
            #expect(row.contains("so there are no B-x/I-x pairs"), "(\(letter))")
        }
        // The claims that apply still run: (a) and the ablation claims have verdicts.
        #expect(!Self.claimRow(markdown, "a").contains("untested"))
        let summary = try Files.json(out + "/summary.json")
        let pairs = try #require((summary["task"] as? [String: Any])?["pairs"] as? [[String]])
        #expect(pairs == (try Self.expectedPairs(trainFile: data + "/train.txt", column: 2)), "\(pairs)")
        #expect((summary["ablations"] as? [Any])?.count == 2 * pairs.count)
    }

    @Test("study --all runs the hidden-size study of the first seed: sizes/, the summary and a report section")
    func allRunsTheSizesStudy() async throws {
        let sandbox = try Sandbox()
        let data = try Self.writeCorpus(sandbox)
        let out = sandbox.path("all")
        let result = try await sandbox.run(Self.arguments(dataDirectory: data, out: out, seeds: "1", extra: ["--all"]), timeout: 600)
        #expect(result.status == 0, "\(result)")
        let sizes = try Files.json(out + "/sizes/sizes.json")
        #expect(sizes["full_hidden"] as? Int == 50, "\(sizes.keys)")
        let points = try #require(sizes["points"] as? [[String: Any]])
        // Sizes 5…45, three pruning orders with and without fine-tuning, and from scratch.
        #expect(points.count == 9 * 7, "\(points.count)")
        for name in ["sizes.csv", "sizes.svg", "sizes.md"] { #expect(FileManager.default.fileExists(atPath: out + "/sizes/" + name), "\(name)") }
        let summary = try Files.json(out + "/summary.json")
        #expect((summary["sizes"] as? [String: Any])?["fullHidden"] as? Int == 50)
        let markdown = try Files.text(out + "/report.md")
        #expect(markdown.contains("## Hidden size selection"), "\(markdown.prefix(300))")
        #expect(markdown.contains("](figures/sizes.svg)"))
        // Every image report.md links to is a file beside it.
        let links = markdown.components(separatedBy: "](").dropFirst().compactMap { $0.split(separator: ")").first.map(String.init) }
            .filter { $0.hasSuffix(".svg") }
        #expect(links.count > 10, "\(links)")
        for link in links { #expect(FileManager.default.fileExists(atPath: out + "/" + link), "\(link)") }
        #expect(ReproduceTests.parsesAsXML(out + "/report.html"))
        #expect(try Files.text(out + "/report.html").contains("id=\"sizes\""))
    }

    @Test("study without embeddings and without --no-embeddings is a usage error on one line")
    func missingEmbeddings() async throws {
        let sandbox = try Sandbox()
        let data = try Self.writeCorpus(sandbox)
        let out = sandbox.path("study")
        let arguments = Self.arguments(dataDirectory: data, out: out).filter { $0 != "--no-embeddings" }
        let result = try await sandbox.run(arguments)
        ErrorTests.expectFailure(result, status: 2, mentions: ["no embeddings file found", "--no-embeddings"], out: out)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test("study's other usage errors")
    func usageErrors() async throws {
        let sandbox = try Sandbox()
        let data = try Self.writeCorpus(sandbox)
        let out = sandbox.path("study")
        // No corpus named: study does not fall back to CoNLL-2003.
        let noCorpus = try await sandbox.run(["study", "--no-embeddings", "--out", out])
        ErrorTests.expectFailure(noCorpus, status: 2, mentions: ["study needs a corpus", "--data-dir"], out: out)
        let both = try await sandbox.run(Self.arguments(dataDirectory: data, out: out, extra: ["--embeddings", "x.txt"]))
        ErrorTests.expectFailure(both, status: 2, mentions: ["--no-embeddings"], out: out)
        for (flag, value) in [("--bootstrap", "-1"), ("--bootstrap", "100001"), ("--permutations", "-5"), ("--recurrent-random", "-1")] {
            let bad = try await sandbox.run(Self.arguments(dataDirectory: data, out: out, extra: [flag, value]))
            ErrorTests.expectFailure(bad, status: 2, mentions: [flag], out: out)
        }
    }

    @Test("reproduce and study share their flags")
    func helpListsTheSharedFlags() async throws {
        let sandbox = try Sandbox()
        for command in ["reproduce", "study"] {
            let result = try await sandbox.run([command, "--help"])
            #expect(result.status == 0, "\(result)")
            for option in ["--data-dir", "--tag-column", "--embeddings", "--seeds", "--epochs", "--steps", "--random", "--recurrent-random",
                           "--bootstrap", "--permutations", "--all"] {
                #expect(result.stdout.contains(option), "\(command): \(option)")
            }
        }
        #expect(try await sandbox.run(["study", "--help"]).stdout.contains("--no-embeddings"))
        #expect(try await sandbox.run(["reproduce", "--help"]).stdout.contains("--paper-dir"))
    }
}
