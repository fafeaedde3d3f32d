import Foundation
import Testing

// End-to-end tests of `dissect rank` on the shared reference model.

@Suite struct RankCommandTests {
    @Test func allFourMethodsWriteTheirFiles() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("rank-\(UUID().uuidString)")
        let result = try await sandbox.run([
            "rank", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test,
            "--methods", "sensitivity,probeless,probe,single", "--steps", "5", "--out", out,
        ])
        #expect(result.status == 0, "\(result)")
        for name in ["rankings.json", "rankings.csv", "ranking-scores.csv", "ranking-drops.svg"] {
            #expect(Files.exists(out + "/" + name), "\(name) missing")
        }
        let json = try Files.json(out + "/rankings.json")
        let methods = try #require(json["methods"] as? [[String: Any]])
        #expect(methods.compactMap { $0["method"] as? String } == ["sensitivity", "probeless", "probe", "single"])
        let neurons = try #require(json["neurons"] as? Int)
        for method in methods {
            #expect(method["method_description"] is String)
            let labels = try #require(method["labels"] as? [String: [String: Any]])
            #expect(!labels.isEmpty)
            for (_, entry) in labels {
                let ranking = try #require(entry["ranking"] as? [Int])
                #expect(ranking.sorted() == Array(0..<neurons))
                #expect((entry["accuracy"] as? [Double])?.count == 6)
                #expect(entry["drop_at_10"] is Double)
            }
        }
        let probe = try #require(methods.first { $0["method"] as? String == "probe" })
        #expect(probe["probe_training_accuracy"] is Double)
        #expect((probe["overall_ranking"] as? [Int])?.count == neurons)
        // The sensitivity method agrees with itself completely.
        let sensitivityLabels = try #require(methods[0]["labels"] as? [String: [String: Any]])
        for (_, entry) in sensitivityLabels { #expect(entry["top10_overlap_with_sensitivity"] as? Int == min(10, neurons)) }
        let scores = try Files.text(out + "/ranking-scores.csv")
        #expect(scores.hasPrefix("method,label,drop_at_10,area,top10_overlap_with_sensitivity,spearman_with_sensitivity\n"))
        let csv = try Files.text(out + "/rankings.csv").split(separator: "\n")
        #expect(csv.first == "method,label,rank,neuron,score")
        #expect(csv.count == 1 + 4 * sensitivityLabels.count * neurons)
        #expect(result.stdout.contains("probe") && result.stdout.contains("mean drop at 5"))
        #expect(try Files.text(out + "/ranking-drops.svg").contains("<svg"))
    }

    @Test func anUnknownMethodIsAUsageError() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run([
            "rank", "--model", sandbox.path("none"), "--rank-on", "a", "--data", "b", "--methods", "sensitivity,foo", "--out", sandbox.path("o"),
        ])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--methods"), "\(result)")
        #expect(result.stderr.contains("foo"), "\(result)")
    }

    @Test(arguments: [["--methods", "probe,probe"], ["--methods", ","], ["--steps", "0"], ["--tag-column", "0"]])
    func badFlagsAreUsageErrors(_ flags: [String]) async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(
            ["rank", "--model", sandbox.path("none"), "--rank-on", "a", "--data", "b", "--out", sandbox.path("o")] + flags)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(flags[0]), "\(result)")
    }

    /// --tag-column reaches the reader: with the words as gold labels no label can be scored.
    @Test func tagColumnChoosesTheGoldLabels() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let result = try await sandbox.run([
            "rank", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test, "--tag-column", "1",
            "--methods", "sensitivity", "--steps", "2", "--out", sandbox.path("rank-words-\(UUID().uuidString)"),
        ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("no label is both predicted here and present in \(trained.files.test)"), "\(result)")
    }

    @Test func aMissingModelIsAnInputError() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let missing = sandbox.path("no-such-model")
        let result = try await sandbox.run([
            "rank", "--model", missing, "--rank-on", trained.files.dev, "--data", trained.files.test, "--out", sandbox.path("o"),
        ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains(missing), "\(result)")
    }
}
