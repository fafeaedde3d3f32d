import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

// End-to-end tests of the analysis commands (`sensitivity`, `ablate`,
// `correlate`) on tiny checkpoints: the files each writes, their internal
// consistency, agreement across commands (and with `evaluate`), and errors.
//
// Models: the shared reference run (seed 1), plus two more trained once here:
// seed 2 on the same corpus (for `correlate`), and seed 1 on a copy of the
// corpus where "General Motors" is MISC — the full CoNLL label set, so the
// paper's label order is used, and (in 4 epochs) B-MISC/I-MISC are never
// predicted on the dev file, which gives undefined (null) sensitivities.

// MARK: - Shared models

nonisolated(unsafe) var analysisSandboxRoot: String?

actor AnalysisModels {
    static let shared = AnalysisModels()

    struct Models: Sendable {
        var reference: SharedModel.Trained
        var sandbox: Sandbox
        /// Seed 2 on the standard corpus.
        var seed2: String
        /// Seed 1 on the MISC corpus.
        var misc: String
        var miscFiles: (train: String, dev: String, test: String)
    }

    private var task: Task<Models, Error>?

    func get() async throws -> Models {
        if let task { return try await task.value }
        let task = Task { () throws -> Models in
            let reference = try await SharedModel.shared.get()
            let sandbox = try Sandbox()
            analysisSandboxRoot = sandbox.root.path
            atexit { if let root = analysisSandboxRoot { try? FileManager.default.removeItem(atPath: root) } }
            let files = try sandbox.writeCorpus()
            let miscFiles = (train: try sandbox.write("misc-train.conll", MiscCoNLL.make(SyntheticCoNLL.train)),
                             dev: try sandbox.write("misc-dev.conll", MiscCoNLL.make(SyntheticCoNLL.dev)),
                             test: try sandbox.write("misc-test.conll", MiscCoNLL.make(SyntheticCoNLL.test)))
            let seed2 = sandbox.path("seed2-model"), misc = sandbox.path("misc-model")
            async let first = sandbox.run(referenceArguments(files: files, out: seed2, seed: 2))
            async let second = sandbox.run(referenceArguments(files: miscFiles, out: misc, seed: 1))
            let (a, b) = try await (first, second)
            guard a.status == 0 else { throw CLITestError("the seed-2 training run failed: \(a)") }
            guard b.status == 0 else { throw CLITestError("the MISC training run failed: \(b)") }
            return Models(reference: reference, sandbox: sandbox, seed2: seed2, misc: misc, miscFiles: miscFiles)
        }
        self.task = task
        return try await task.value
    }
}

/// The synthetic corpus with "General Motors" relabelled B-MISC I-MISC.
enum MiscCoNLL {
    static func make(_ text: String) -> String {
        text.replacingOccurrences(of: "General NNP B-NP B-ORG\n", with: "General NNP B-NP B-MISC\n")
            .replacingOccurrences(of: "Motors NNP I-NP I-ORG\n", with: "Motors NNP I-NP I-MISC\n")
    }
}

// MARK: - Helpers

enum Analysis {
    static let paperOrder = ["B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC", "O"]

    /// Gold label counts of a 4-column CoNLL text (the last column; -DOCSTART- and blank lines skipped).
    static func goldCounts(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("-DOCSTART-") {
            if let label = line.split(separator: " ").last { counts[String(label), default: 0] += 1 }
        }
        return counts
    }

    static func tokenCount(_ text: String) -> Int { goldCounts(text).values.reduce(0, +) }

    static func number(_ value: Any?) -> Double? {
        guard let value, !(value is NSNull) else { return nil }
        return (value as? NSNumber)?.doubleValue
    }

    /// An array of numbers or nulls; nil when `value` is not an array of those.
    static func optionalNumbers(_ value: Any?) -> [Double?]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Double?] = []
        for item in array {
            if item is NSNull { result.append(nil); continue }
            guard let number = item as? NSNumber else { return nil }
            result.append(number.doubleValue)
        }
        return result
    }

    static func numbers(_ value: Any?) -> [Double]? {
        guard let values = optionalNumbers(value), !values.contains(where: { $0 == nil }) else { return nil }
        return values.compactMap { $0 }
    }

    static func matrix(_ value: Any?) -> [[Double?]]? {
        guard let rows = value as? [Any] else { return nil }
        var result: [[Double?]] = []
        for row in rows {
            guard let parsed = optionalNumbers(row) else { return nil }
            result.append(parsed)
        }
        return result
    }

    static func ints(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        let result = array.compactMap { ($0 as? NSNumber)?.intValue }
        return result.count == array.count ? result : nil
    }

    /// Lines split on commas (the files here never quote a field); the trailing empty line dropped.
    static func csv(_ path: String) throws -> [[String]] {
        try Files.text(path).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The XMLParser error, or nil when the file is well-formed XML with an <svg> root.
    static func xmlProblem(_ path: String) -> String? {
        guard let data = try? Files.bytes(path) else { return "cannot read \(path)" }
        let parser = XMLParser(data: data)
        let delegate = RootElement()
        parser.delegate = delegate
        guard parser.parse() else { return "\(path): \(parser.parserError.map { "\($0)" } ?? "parse error")" }
        return delegate.name == "svg" ? nil : "\(path): root element is \(delegate.name ?? "missing"), not svg"
    }

    final class RootElement: NSObject, XMLParserDelegate {
        var name: String?
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == nil { name = elementName }
        }
    }

    static func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?): return abs(x - y) <= tolerance
        default: return false
        }
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count == b.count, a.count >= 2 else { return nil }
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb)
        }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }

    /// Ranks from 1 with ties averaged.
    static func ranks(_ values: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: values.count)
        for i in values.indices {
            let below = values.filter { $0 < values[i] }.count, equal = values.filter { $0 == values[i] }.count
            result[i] = Double(below) + Double(equal + 1) / 2
        }
        return result
    }

    /// Pearson r between the columns of an [n][m] matrix (nil for a nil or constant column; diagonal 1 when defined).
    static func columnCorrelation(_ values: [[Double?]]) -> [[Double?]] {
        let m = values.first?.count ?? 0
        let columns: [[Double]?] = (0..<m).map { j in
            let column = values.map { $0[j] }
            return column.contains { $0 == nil } ? nil : column.compactMap { $0 }
        }
        return (0..<m).map { a in
            (0..<m).map { b -> Double? in
                guard let x = columns[a], let y = columns[b], let r = pearson(x, y) else { return nil }
                return a == b ? 1 : r
            }
        }
    }

    /// Pearson r of the upper off-diagonal entries defined in both.
    static func offDiagonalSimilarity(_ a: [[Double?]], _ b: [[Double?]]) -> Double? {
        var x: [Double] = [], y: [Double] = []
        for i in a.indices {
            for j in (i + 1)..<a.count {
                if let u = a[i][j], let v = b[i][j] { x.append(u); y.append(v) }
            }
        }
        return pearson(x, y)
    }

    /// Asserts that `text` contains no NaN or infinity spelled out.
    static func expectNoNaN(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for bad in ["nan", "NaN", "inf", "Infinity"] {
            #expect(!text.contains(bad), "\(name) contains \(bad)", sourceLocation: sourceLocation)
        }
    }

    /// Runs `dissect sensitivity` and returns the parsed JSON.
    static func sensitivity(_ sandbox: Sandbox, model: String, data: String, out: String, extra: [String] = []) async throws
        -> (result: RunResult, json: [String: Any]) {
        let result = try await sandbox.run(["sensitivity", "--model", model, "--data", data, "--out", out] + extra)
        guard result.status == 0 else { throw CLITestError("sensitivity failed: \(result)") }
        return (result, try Files.json(out + "/sensitivity.json"))
    }

    /// Columns of the sensitivity JSON by label name.
    static func sensitivityColumns(_ json: [String: Any]) throws -> [String: [Double?]] {
        let labels = try #require(json["labels"] as? [String])
        let values = try #require(matrix(json["sensitivity"]))
        var columns: [String: [Double?]] = [:]
        for (j, label) in labels.enumerated() { columns[label] = values.map { $0[j] } }
        return columns
    }
}

// MARK: - sensitivity

@Suite("dissect sensitivity")
struct SensitivityCommandTests {
    @Test("writes exactly the six files; JSON, CSVs and SVGs agree with each other")
    func files() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("sens")
        let result = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", trained.files.dev, "--out", out])
        #expect(result.status == 0, "\(result)")
        #expect(Files.listing(out) == [
            "rankings.csv", "sensitivity-cells.csv", "sensitivity-top10.svg", "sensitivity.csv", "sensitivity.json", "sensitivity.svg",
        ], "\(Files.listing(out))")
        #expect(result.stdout.contains("wrote sensitivity.json"), "\(result.stdout)")

        let text = try Files.text(out + "/sensitivity.json")
        Analysis.expectNoNaN(text, "sensitivity.json")
        let json = try Files.json(out + "/sensitivity.json")
        let labels = try #require(json["labels"] as? [String])
        #expect(Set(labels) == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"])
        #expect(labels.count == 7)
        #expect(json["neurons"] as? Int == 8)
        #expect(json["condition"] as? String == "predicted")
        #expect(json["data"] as? String == trained.files.dev)
        let values = try #require(Analysis.matrix(json["sensitivity"]), "sensitivity is a matrix of numbers or nulls")
        #expect(values.count == 8)
        #expect(values.allSatisfy { $0.count == labels.count })
        for row in values { for value in row { if let value { #expect(value.isFinite) } } }

        // predicted_counts: one per label, summing to the tokens of the file.
        let counts = try #require(json["predicted_counts"] as? [String: Any])
        #expect(Set(counts.keys) == Set(labels))
        let total = counts.values.compactMap { ($0 as? NSNumber)?.intValue }.reduce(0, +)
        #expect(total == Analysis.tokenCount(SyntheticCoNLL.dev))

        // Rankings: a permutation of 0..<8 sorted by decreasing sensitivity (ties by index), or empty for a null column.
        let rankings = try #require(json["rankings"] as? [String: Any])
        #expect(Set(rankings.keys) == Set(labels))
        var nullLabels: [String] = []
        for (j, label) in labels.enumerated() {
            let ranking = try #require(Analysis.ints(rankings[label]), "ranking of \(label)")
            let column = values.map { $0[j] }
            if column.allSatisfy({ $0 == nil }) {
                nullLabels.append(label)
                #expect(ranking.isEmpty, "\(label) has null sensitivity, so an empty ranking")
                continue
            }
            #expect(!column.contains { $0 == nil }, "\(label): a column is all null or all numbers")
            #expect(ranking.sorted() == Array(0..<8), "\(label): \(ranking) is a permutation of 0..<8")
            guard ranking.sorted() == Array(0..<8) else { continue }
            for k in 0..<7 {
                let a = column[ranking[k]]!, b = column[ranking[k + 1]]!
                #expect(a > b || (a == b && ranking[k] < ranking[k + 1]),
                        "\(label): rank \(k + 1) (neuron \(ranking[k]), \(a)) before rank \(k + 2) (neuron \(ranking[k + 1]), \(b))")
            }
        }
        // Null columns come with a warning each; otherwise stderr is quiet.
        for label in nullLabels { #expect(result.stderr.contains("warning: ") && result.stderr.contains(label), "\(result.stderr)") }
        if nullLabels.isEmpty { #expect(result.stderr.isEmpty, "\(result.stderr)") }

        // sensitivity.csv: `neuron,<labels>`, one row per neuron, the JSON's numbers to 6 decimals.
        let csv = try Analysis.csv(out + "/sensitivity.csv")
        #expect(csv.first == ["neuron"] + labels)
        #expect(csv.count == 9)
        for (i, row) in csv.dropFirst().enumerated() {
            #expect(row.count == labels.count + 1)
            #expect(row.first == String(i))
            for (j, cell) in row.dropFirst().enumerated() where j < labels.count && i < values.count {
                if let value = values[i][j] {
                    let parsed = try #require(Double(cell), "sensitivity.csv row \(i) column \(labels[j]): '\(cell)'")
                    #expect(abs(parsed - value) <= 5.000001e-7, "\(labels[j]) neuron \(i): csv \(cell) vs json \(value)")
                } else {
                    #expect(cell.isEmpty)
                }
            }
        }

        // rankings.csv: `rank,<labels>`, rank from 1, the JSON's rankings.
        let rankingCSV = try Analysis.csv(out + "/rankings.csv")
        #expect(rankingCSV.first == ["rank"] + labels)
        #expect(rankingCSV.count == 9)
        for (r, row) in rankingCSV.dropFirst().enumerated() {
            #expect(row.first == String(r + 1))
            for (j, label) in labels.enumerated() where j + 1 < row.count {
                let ranking = Analysis.ints(rankings[label]) ?? []
                #expect(row[j + 1] == (r < ranking.count ? String(ranking[r]) : ""), "rankings.csv rank \(r + 1) \(label)")
            }
        }

        for svg in ["sensitivity.svg", "sensitivity-top10.svg"] {
            let problem = Analysis.xmlProblem(out + "/" + svg)
            #expect(problem == nil, "\(problem ?? "")")
        }
    }

    @Test("statistics by default: intervals, p, q and findings in the JSON, sensitivity-cells.csv, marked heatmaps; the rule everywhere")
    func statistics() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("sens")
        let (result, json) = try await Analysis.sensitivity(sandbox, model: trained.out, data: trained.files.dev, out: out)
        let labels = try #require(json["labels"] as? [String])
        let values = try #require(Analysis.matrix(json["sensitivity"]))
        let statistics = try #require(json["statistics"] as? [String: Any])
        let bootstrap = try #require(statistics["bootstrap"] as? [String: Any])
        let permutation = try #require(statistics["permutation"] as? [String: Any])
        let findings = try #require(statistics["findings"] as? [String: Any])
        #expect(bootstrap["resamples"] as? Int == 1000 && bootstrap["seed"] as? Int == 1 && Analysis.number(bootstrap["level"]) == 0.95)
        #expect(permutation["permutations"] as? Int == 1000 && permutation["seed"] as? Int == 1)
        #expect((permutation["scheme"] as? String)?.contains("sentences of the same length") == true)
        let lower = try #require(Analysis.matrix(bootstrap["lower"])), upper = try #require(Analysis.matrix(bootstrap["upper"]))
        let rankLower = try #require(Analysis.matrix(bootstrap["rank_lower"])), rankUpper = try #require(Analysis.matrix(bootstrap["rank_upper"]))
        let p = try #require(Analysis.matrix(permutation["p"])), q = try #require(Analysis.matrix(permutation["q"]))
        let cells = try #require(findings["cells"] as? [[Any]])
        let stability = try #require(Analysis.optionalNumbers(bootstrap["top10_stability"]))
        #expect(stability.count == labels.count)
        let rule = try #require(findings["rule"] as? String)
        #expect(rule.hasPrefix("a cell is a finding when q < 0.05") && rule.contains("excludes ±10 % of the matrix's largest |s|"), "\(rule)")
        let largest = values.flatMap { $0 }.compactMap { $0 }.map(abs).max() ?? 0
        let margin = try #require(Analysis.number(findings["margin"]))
        #expect(abs(margin - 0.1 * largest) < 1e-12)
        var count = 0, defined = 0
        for neuron in values.indices {
            for label in labels.indices {
                guard let value = values[neuron][label] else {
                    #expect(lower[neuron][label] == nil && p[neuron][label] == nil && cells[neuron][label] is NSNull)
                    continue
                }
                defined += 1
                let low = try #require(lower[neuron][label]), high = try #require(upper[neuron][label])
                let pValue = try #require(p[neuron][label]), qValue = try #require(q[neuron][label])
                #expect(low <= high && value.isFinite)
                #expect(try #require(rankLower[neuron][label]) <= (try #require(rankUpper[neuron][label])))
                #expect(pValue >= 1.0 / 1001 - 1e-15 && pValue <= 1 && qValue >= pValue - 1e-15 && qValue <= 1)
                let finding = qValue < 0.05 && (low > margin || high < -margin)
                #expect(cells[neuron][label] as? Bool == finding, "neuron \(neuron) \(labels[label])")
                if finding { count += 1 }
            }
        }
        #expect(findings["count"] as? Int == count && findings["defined"] as? Int == defined)
        #expect(result.stdout.contains("findings: \(count) of \(defined) cells (rule: \(rule))"), "\(result.stdout)")
        #expect(result.stdout.contains("top-10 stability"), "\(result.stdout)")

        // sensitivity-cells.csv: the rule as a comment line, then one row per (neuron, label) with the JSON's numbers.
        let text = try Files.text(out + "/sensitivity-cells.csv")
        #expect(text.hasPrefix("# finding: " + rule + "\n"))
        let rows = try Analysis.csv(out + "/sensitivity-cells.csv").dropFirst()
        #expect(rows.first == ["neuron", "label", "s", "lower", "upper", "rank", "rank_lower", "rank_upper", "p", "q", "finding"])
        #expect(rows.count == 1 + values.count * labels.count)
        let rankings = try #require(json["rankings"] as? [String: Any])
        for (index, row) in rows.dropFirst().enumerated() where row.count == 11 {
            let neuron = index / labels.count, label = index % labels.count
            #expect(row[0] == String(neuron) && row[1] == labels[label])
            if let value = values[neuron][label] {
                #expect(Analysis.close(Double(row[2]), value, 5.000001e-7) && Analysis.close(Double(row[3]), lower[neuron][label], 5.000001e-7))
                #expect(Analysis.close(Double(row[9]), q[neuron][label], 5.000001e-9))
                let rank = (Analysis.ints(rankings[labels[label]])?.firstIndex(of: neuron) ?? -2) + 1
                #expect(row[5] == String(rank) && row[6] == rankLower[neuron][label].map { String(Int($0)) })
                #expect(row[10] == ((cells[neuron][label] as? Bool) == true ? "true" : "false"))
            } else {
                #expect(row[2...].allSatisfy { $0.isEmpty }, "an undefined cell is blank: \(row)")
            }
        }

        // Both heatmaps mark the defined cells that are not findings, and say why in the caption.
        let map = try Files.text(out + "/sensitivity.svg")
        let marks = map.components(separatedBy: "class=\"mark\"").count - 1
        #expect(marks == (defined - count) + (defined > count ? 1 : 0), "one dot per non-finding and one in the legend: \(marks)")
        #expect(map.contains("not a finding") && map.contains("q &lt; 0.05"))
        let top = try Files.text(out + "/sensitivity-top10.svg")
        #expect(top.contains("q &lt; 0.05") && top.contains("excludes ±10"))
    }

    @Test("--bootstrap 0 --permutations 0: the files as without statistics; --permutations 0 alone: intervals, no findings")
    func statisticsOff() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let off = sandbox.path("off")
        let (result, json) = try await Analysis.sensitivity(
            sandbox, model: trained.out, data: trained.files.dev, out: off, extra: ["--bootstrap", "0", "--permutations", "0"])
        #expect(Files.listing(off) == ["rankings.csv", "sensitivity-top10.svg", "sensitivity.csv", "sensitivity.json", "sensitivity.svg"])
        #expect(json["statistics"] == nil)
        #expect(!(try Files.text(off + "/sensitivity.svg")).contains("class=\"mark\""))
        #expect(!result.stdout.contains("findings") && !result.stdout.contains("stability"), "\(result.stdout)")

        let half = sandbox.path("half")
        let (halfResult, halfJSON) = try await Analysis.sensitivity(
            sandbox, model: trained.out, data: trained.files.dev, out: half, extra: ["--bootstrap", "30", "--permutations", "0", "--seed", "4"])
        let statistics = try #require(halfJSON["statistics"] as? [String: Any])
        #expect((statistics["bootstrap"] as? [String: Any])?["resamples"] as? Int == 30)
        #expect((statistics["bootstrap"] as? [String: Any])?["seed"] as? Int == 4)
        #expect(statistics["permutation"] == nil && statistics["findings"] == nil)
        #expect(try Files.text(half + "/sensitivity-cells.csv").hasPrefix("# finding: not computed"))
        #expect(halfResult.stdout.contains("findings: not computed") && halfResult.stdout.contains("q < 0.05"), "\(halfResult.stdout)")
        #expect(!(try Files.text(half + "/sensitivity.svg")).contains("class=\"mark\""))
    }

    @Test("--bootstrap and --permutations out of 0…100000: exit 2, one line, before the model is read", arguments: [
        ["--bootstrap", "-1"], ["--permutations", "-5"], ["--bootstrap", "100001"], ["--permutations", "1000000000000"],
    ])
    func countBounds(_ flag: [String]) async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["sensitivity", "--model", sandbox.path("no-such-model"), "--data", trained.files.dev, "--out", out] + flag)
        expectOneError(result, status: 2, mentions: ["error: \(flag[0]) must be 0 to 100000 (0 turns it off); got \(flag[1])."], out: out)
    }

    @Test("--condition gold: condition 'gold', condition_counts are the file's gold label counts")
    func goldCondition() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        async let goldRun = Analysis.sensitivity(
            sandbox, model: trained.out, data: trained.files.dev, out: sandbox.path("gold"), extra: ["--condition", "gold"])
        async let predictedRun = Analysis.sensitivity(sandbox, model: trained.out, data: trained.files.dev, out: sandbox.path("predicted"))
        let (gold, predicted) = try await (goldRun, predictedRun)
        #expect(gold.json["condition"] as? String == "gold")
        let expected = Analysis.goldCounts(SyntheticCoNLL.dev)
        let counts = try #require(gold.json["condition_counts"] as? [String: Int])
        #expect(counts == expected, "condition_counts \(counts) vs the file's gold counts \(expected)")
        // predicted_counts do not depend on the condition.
        #expect((gold.json["predicted_counts"] as? NSDictionary) == (predicted.json["predicted_counts"] as? NSDictionary))
        #expect((predicted.json["condition_counts"] as? NSDictionary) == (predicted.json["predicted_counts"] as? NSDictionary))
        Analysis.expectNoNaN(try Files.text(sandbox.path("gold") + "/sensitivity.json"), "gold sensitivity.json")
        // The statistics are of the gold-conditioned matrix: defined exactly where it is, and not the predicted ones.
        let values = try #require(Analysis.matrix(gold.json["sensitivity"]))
        let findings = try #require((gold.json["statistics"] as? [String: Any])?["findings"] as? [String: Any])
        let cells = try #require(findings["cells"] as? [[Any]])
        for (neuron, row) in values.enumerated() {
            for (label, value) in row.enumerated() { #expect((value == nil) == (cells[neuron][label] is NSNull)) }
        }
        #expect(findings["defined"] as? Int == values.flatMap { $0 }.compactMap { $0 }.count)
        #expect(try Files.text(sandbox.path("gold") + "/sensitivity-cells.csv").hasPrefix("# finding: a cell is a finding"))
    }

    @Test("labels never predicted: null columns, empty rankings and blank CSV cells, one warning each; paper label order")
    func undefinedLabels() async throws {
        let models = try await AnalysisModels.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("sens")
        let (result, json) = try await Analysis.sensitivity(sandbox, model: models.misc, data: models.miscFiles.dev, out: out)
        let text = try Files.text(out + "/sensitivity.json")
        Analysis.expectNoNaN(text, "sensitivity.json")
        let labels = try #require(json["labels"] as? [String])
        #expect(labels == Analysis.paperOrder, "the full CoNLL label set is shown in the paper's order: \(labels)")
        let values = try #require(Analysis.matrix(json["sensitivity"]))
        let counts = try #require(json["predicted_counts"] as? [String: Int])
        let rankings = try #require(json["rankings"] as? [String: Any])
        let total = Analysis.tokenCount(MiscCoNLL.make(SyntheticCoNLL.dev))
        var nullCount = 0
        for (j, label) in labels.enumerated() {
            let count = counts[label] ?? -1
            let undefined = count == 0 || count == total
            let column = values.map { $0[j] }
            if undefined {
                nullCount += 1
                #expect(column.allSatisfy { $0 == nil }, "\(label) (predicted \(count) times) has a null column")
                #expect(Analysis.ints(rankings[label]) == [], "\(label) has an empty ranking")
                #expect(result.stderr.contains("warning: \(models.miscFiles.dev): label \(label) is never predicted"),
                        "a warning for \(label): \(result.stderr)")
            } else {
                #expect(!column.contains { $0 == nil }, "\(label) (predicted \(count) times) is defined")
                #expect(Analysis.ints(rankings[label])?.sorted() == Array(0..<8))
            }
        }
        // The point of this model: 4 epochs leave B-MISC unpredicted on the dev file.
        #expect(counts["B-MISC"] == 0, "the MISC model was expected never to predict B-MISC on dev: \(counts)")
        #expect(nullCount >= 1)
        let warnings = result.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        #expect(warnings.count == nullCount, "one warning per null label: \(result.stderr)")

        // The CSVs leave undefined cells blank.
        let csv = try Analysis.csv(out + "/sensitivity.csv")
        let rankingCSV = try Analysis.csv(out + "/rankings.csv")
        #expect(csv.first == ["neuron"] + labels)
        #expect(rankingCSV.first == ["rank"] + labels)
        for (j, label) in labels.enumerated() where counts[label] == 0 {
            #expect(csv.dropFirst().allSatisfy { $0.count > j + 1 && $0[j + 1].isEmpty }, "sensitivity.csv \(label) is blank")
            #expect(rankingCSV.dropFirst().allSatisfy { $0.count > j + 1 && $0[j + 1].isEmpty }, "rankings.csv \(label) is blank")
        }
        for svg in ["sensitivity.svg", "sensitivity-top10.svg"] {
            let problem = Analysis.xmlProblem(out + "/" + svg)
            #expect(problem == nil, "\(problem ?? "")")
        }

        // Under the gold condition every label present in the file is defined.
        let gold = try await Analysis.sensitivity(
            sandbox, model: models.misc, data: models.miscFiles.dev, out: sandbox.path("gold"), extra: ["--condition", "gold"])
        let goldColumns = try Analysis.sensitivityColumns(gold.json)
        let goldCounts = Analysis.goldCounts(MiscCoNLL.make(SyntheticCoNLL.dev))
        for label in labels {
            let present = (goldCounts[label] ?? 0) > 0
            #expect(goldColumns[label]?.contains { $0 == nil } == !present, "gold condition, \(label): defined iff present")
        }
        #expect(!gold.result.stderr.contains("warning"), "\(gold.result.stderr)")
        // The statistics follow the condition: B-MISC, never predicted, has none under the
        // predicted condition and a p-value for every neuron under the gold one.
        let misc = try #require(labels.firstIndex(of: "B-MISC"))
        let predictedP = try #require(Analysis.matrix(((json["statistics"] as? [String: Any])?["permutation"] as? [String: Any])?["p"]))
        let goldP = try #require(Analysis.matrix(((gold.json["statistics"] as? [String: Any])?["permutation"] as? [String: Any])?["p"]))
        #expect(predictedP.allSatisfy { $0[misc] == nil })
        #expect(goldP.allSatisfy { $0[misc] != nil })
    }

    @Test("a file where every token is predicted O: every column null (O is every token's), files still written and valid")
    func everythingUndefined() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let data = try sandbox.write("fillers.conll", "the DT B-NP O\nsaid VBD B-VP O\n\nthe DT B-NP O\nreport NN I-NP O\ntoday NN B-NP O\n\n")
        let out = sandbox.path("sens")
        let (result, json) = try await Analysis.sensitivity(sandbox, model: trained.out, data: data, out: out)
        let counts = try #require(json["predicted_counts"] as? [String: Int])
        // Only meaningful when the model predicts O throughout, as it should on pure filler words.
        try #require(counts["O"] == 5, "the reference model was expected to predict O on every filler: \(counts)")
        let values = try #require(Analysis.matrix(json["sensitivity"]))
        #expect(values.count == 8 && values.allSatisfy { $0.allSatisfy { $0 == nil } })
        let rankings = try #require(json["rankings"] as? [String: Any])
        #expect(rankings.values.allSatisfy { Analysis.ints($0) == [] })
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") }.count == 7, "\(result.stderr)")
        Analysis.expectNoNaN(try Files.text(out + "/sensitivity.json"), "sensitivity.json")
        for svg in ["sensitivity.svg", "sensitivity-top10.svg"] {
            let problem = Analysis.xmlProblem(out + "/" + svg)
            #expect(problem == nil, "\(problem ?? "")")
        }
    }
}

// MARK: - ablate

@Suite("dissect ablate")
struct AblateCommandTests {
    static func arguments(_ trained: SharedModel.Trained, out: String, extra: [String] = []) -> [String] {
        ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test,
         "--labels", "B-PER,B-LOC", "--steps", "4", "--random", "3", "--out", out] + extra
    }

    /// ablation.json without its one timing line.
    static func withoutSeconds(_ path: String) throws -> String {
        try Files.text(path).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("\"seconds\" :") }.joined(separator: "\n")
    }

    /// The k-th value of every accuracy series and F1 of a curve.
    static func point(_ curve: [String: Any], _ k: Int) -> [String: Double] {
        var result: [String: Double] = [:]
        for (key, series) in (curve["accuracy"] as? [String: Any]) ?? [:] {
            if let values = Analysis.numbers(series), k < values.count { result["accuracy:" + key] = values[k] }
        }
        if let f1 = Analysis.numbers(curve["f1"]), k < f1.count { result["f1"] = f1[k] }
        return result
    }

    /// The k-th lower and upper bound of every key of a curve's band; nil without a band.
    static func band(_ curve: [String: Any], _ k: Int) -> (lower: [String: Double], upper: [String: Double])? {
        guard let band = curve["band"] as? [String: Any] else { return nil }
        var lower: [String: Double] = [:], upper: [String: Double] = [:]
        for (key, series) in (band["lower"] as? [String: Any]) ?? [:] {
            if let values = Analysis.numbers(series), k < values.count { lower[key] = values[k] }
        }
        for (key, series) in (band["upper"] as? [String: Any]) ?? [:] {
            if let values = Analysis.numbers(series), k < values.count { upper[key] = values[k] }
        }
        return (lower, upper)
    }

    /// Each ranked curve of `json` has a band of `resamples` holding it at every k and
    /// key; the reverse curves have none.
    static func expectBands(_ json: [String: Any], labels: [String], resamples: Int, steps: Int,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let curves = (json["curves"] as? [String: [String: Any]]) ?? [:]
        let reverse = ((json["controls"] as? [String: Any])?["reverse"] as? [String: [String: Any]]) ?? [:]
        for label in labels {
            let curve = curves[label] ?? [:]
            #expect((curve["band"] as? [String: Any])?["resamples"] as? Int == resamples, "\(label) band", sourceLocation: sourceLocation)
            #expect(reverse[label]?["band"] == nil || reverse[label]?["band"] is NSNull, "no band on the reverse curve", sourceLocation: sourceLocation)
            for k in 0...steps {
                let point = Self.point(curve, k)
                guard let band = Self.band(curve, k) else {
                    Issue.record("\(label) has no band", sourceLocation: sourceLocation)
                    return
                }
                let keys = point.keys.filter { $0.hasPrefix("accuracy:") }.map { String($0.dropFirst("accuracy:".count)) }
                #expect(Set(band.lower.keys) == Set(keys) && Set(band.upper.keys) == Set(keys), "\(label) band keys", sourceLocation: sourceLocation)
                for key in keys {
                    let value = point["accuracy:" + key] ?? .nan, low = band.lower[key] ?? .nan, high = band.upper[key] ?? .nan
                    #expect(low <= value && value <= high, "\(label) \(key) k = \(k): \(low) ≤ \(value) ≤ \(high)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test("readout: curves, controls, k = 0 equals `evaluate --json`, CSV and SVGs")
    func readout() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("ablation")
        async let ablateRun = sandbox.run(Self.arguments(trained, out: out))
        async let sensitivityRun = Analysis.sensitivity(sandbox, model: trained.out, data: trained.files.dev, out: sandbox.path("sens"))
        async let evaluateRun = sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test, "--json"])
        let (result, sensitivity, evaluation) = try await (ablateRun, sensitivityRun, evaluateRun)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderrBeyondUnseenCharacters.isEmpty, "\(result.stderr)")
        #expect(Files.listing(out) == ["ablation-B-LOC.svg", "ablation-B-PER.svg", "ablation.csv", "ablation.json"], "\(Files.listing(out))")
        let text = try Files.text(out + "/ablation.json")
        Analysis.expectNoNaN(text, "ablation.json")
        let json = try Files.json(out + "/ablation.json")
        #expect(json["mode"] as? String == "readout")
        #expect(json["rank_on"] as? String == trained.files.dev)
        #expect(json["data"] as? String == trained.files.test)
        #expect(json["labels"] as? [String] == ["B-PER", "B-LOC"])
        #expect(json["steps"] as? Int == 4)
        #expect(json["neurons"] as? Int == 8)
        #expect(json["condition"] as? String == "predicted")
        #expect(Analysis.number(json["seconds"]).map { $0 >= 0 } == true)

        let rankings = try #require(sensitivity.json["rankings"] as? [String: Any])
        let curves = try #require(json["curves"] as? [String: [String: Any]])
        #expect(Set(curves.keys) == ["B-PER", "B-LOC"])
        let controls = try #require(json["controls"] as? [String: Any])
        let reverse = try #require(controls["reverse"] as? [String: [String: Any]])
        #expect(Set(reverse.keys) == ["B-PER", "B-LOC"])

        let testGold = Analysis.goldCounts(SyntheticCoNLL.test)
        func checkCurve(_ curve: [String: Any], _ name: String) {
            let accuracy = (curve["accuracy"] as? [String: Any]) ?? [:]
            #expect(Set(accuracy.keys) == Set(testGold.keys).union(["others", "all"]), "\(name): \(accuracy.keys.sorted())")
            for (key, series) in accuracy {
                let values = Analysis.numbers(series) ?? []
                #expect(values.count == 5, "\(name) accuracy \(key): 5 values")
                #expect(values.allSatisfy { (0...1).contains($0) }, "\(name) accuracy \(key) in [0, 1]: \(values)")
            }
            let f1 = Analysis.numbers(curve["f1"]) ?? []
            #expect(f1.count == 5 && f1.allSatisfy { (0...100).contains($0) }, "\(name) f1: \(f1)")
        }
        for label in ["B-PER", "B-LOC"] {
            let ranking = try #require(Analysis.ints(rankings[label]))
            let curve = try #require(curves[label])
            #expect(Analysis.ints(curve["neurons"]) == Array(ranking.prefix(4)), "\(label): the first 4 of its dev ranking \(ranking)")
            checkCurve(curve, label)
            let reversed = try #require(reverse[label])
            #expect(Analysis.ints(reversed["neurons"]) == Array(ranking.reversed().prefix(4)), "\(label): reverse order")
            checkCurve(reversed, "\(label) reverse")
        }

        // Random control: 3 permutations, p05 ≤ mean ≤ p95.
        let random = try #require(controls["random"] as? [String: Any])
        #expect(random["count"] as? Int == 3)
        let orders = try #require(random["orders"] as? [Any])
        #expect(orders.count == 3)
        for order in orders { #expect(Analysis.ints(order)?.sorted() == Array(0..<8), "\(order) is a permutation") }
        let mean = try #require(random["mean"] as? [String: Any])
        let p05 = try #require(random["p05"] as? [String: Any]), p95 = try #require(random["p95"] as? [String: Any])
        checkCurve(mean, "random mean")
        for k in 0...4 {
            let (low, middle, high) = (Self.point(p05, k), Self.point(mean, k), Self.point(p95, k))
            #expect(Set(low.keys) == Set(middle.keys) && Set(high.keys) == Set(middle.keys))
            for (key, value) in middle {
                let l = low[key] ?? .nan, h = high[key] ?? .nan
                #expect(l <= value + 1e-12 && value <= h + 1e-12, "k = \(k) \(key): p05 \(l) ≤ mean \(value) ≤ p95 \(h)")
            }
        }

        // k = 0 is the unablated model: the same for every order, and equal to `dissect evaluate`.
        #expect(evaluation.status == 0, "\(evaluation)")
        let evaluated = try #require(try JSONSerialization.jsonObject(with: Data(evaluation.stdout.utf8)) as? [String: Any])
        let report = try #require(evaluated["report"] as? [String: Any])
        let zero = Self.point(try #require(curves["B-PER"]), 0)
        #expect(Analysis.close(zero["accuracy:all"], Analysis.number(report["accuracy"]).map { $0 / 100 }),
                "all tokens at k = 0 \(zero["accuracy:all"] ?? .nan) vs evaluate \(report["accuracy"] ?? "nil")")
        #expect(Analysis.close(zero["f1"], Analysis.number(report["f1"])), "F1 at k = 0 vs evaluate")
        let labelAccuracy = try #require(report["label_accuracy"] as? [[String: Any]])
        #expect(labelAccuracy.count == testGold.count)
        for entry in labelAccuracy {
            let label = try #require(entry["label"] as? String)
            #expect(Analysis.close(zero["accuracy:" + label], Analysis.number(entry["accuracy"]).map { $0 / 100 }),
                    "\(label) at k = 0 vs evaluate's per-label accuracy")
        }
        let others: [(String, [String: Any]?)] = [
            ("B-LOC", curves["B-LOC"]), ("B-PER reverse", reverse["B-PER"]), ("B-LOC reverse", reverse["B-LOC"]),
            ("random mean", mean), ("random p05", p05), ("random p95", p95)]
        for (name, curve) in others {
            let point = Self.point(curve ?? [:], 0)
            #expect(Set(point.keys) == Set(zero.keys), "\(name): the same series")
            for (key, value) in zero {
                #expect(Analysis.close(point[key], value, 1e-12), "\(name) at k = 0 equals the unablated model: \(key)")
            }
        }

        // ablation.csv.
        let csv = try Analysis.csv(out + "/ablation.csv")
        #expect(csv.first == ["ranking", "order", "k", "metric", "value", "degradation", "band_lower", "band_upper"])
        let rows = csv.dropFirst()
        // (2 rankings × ranked/reverse + random mean/p05/p95) × 5 k × (9 accuracy series + f1).
        #expect(rows.count == 7 * 5 * 10, "\(rows.count) rows")
        for row in rows {
            #expect(row.count == 8, "\(row)")
            guard row.count == 8 else { continue }
            if row[2] == "0" { #expect(Double(row[5]) == 0, "degradation at k = 0: \(row)") }
            #expect(Double(row[4]) != nil && Double(row[5]) != nil, "\(row)")
            // The band (200 resamples by default) belongs to a ranked curve's accuracies only.
            let banded = row[1] == "ranked" && row[3].hasPrefix("accuracy:")
            #expect(banded ? Double(row[6]) != nil && Double(row[7]) != nil : row[6].isEmpty && row[7].isEmpty, "\(row)")
        }
        for row in rows where row.count == 8 && row[0] == "B-PER" && row[1] == "ranked" {
            let k = try #require(Int(row[2]))
            let key = row[3]
            let expected = try #require(Self.point(curves["B-PER"]!, k)[key], "\(key) in the JSON")
            #expect(abs((Double(row[4]) ?? .nan) - expected) <= 5.000001e-7, "\(row) vs JSON \(expected)")
            let base = Self.point(curves["B-PER"]!, 0)[key] ?? .nan
            #expect(abs((Double(row[5]) ?? .nan) - (expected - base)) <= 1.000001e-6, "degradation \(row)")
            if key.hasPrefix("accuracy:") {
                let band = try #require(Self.band(curves["B-PER"]!, k), "B-PER has a band")
                let metric = String(key.dropFirst("accuracy:".count))
                #expect(abs((Double(row[6]) ?? .nan) - (band.lower[metric] ?? .nan)) <= 5.000001e-7, "band_lower \(row)")
                #expect(abs((Double(row[7]) ?? .nan) - (band.upper[metric] ?? .nan)) <= 5.000001e-7, "band_upper \(row)")
            }
        }
        #expect(Set(rows.map { "\($0[0]),\($0[1])" }) == ["B-PER,ranked", "B-PER,reverse", "B-LOC,ranked", "B-LOC,reverse",
                                                          "random,mean", "random,p05", "random,p95"])
        for svg in ["ablation-B-PER.svg", "ablation-B-LOC.svg"] {
            let problem = Analysis.xmlProblem(out + "/" + svg)
            #expect(problem == nil, "\(problem ?? "")")
        }
        #expect(json["value"] as? String == "zero")
        #expect(result.stdout.contains("readout ablation, value zero (h_i ← 0)"), "\(result.stdout)")
        Self.expectBands(json, labels: ["B-PER", "B-LOC"], resamples: 200, steps: 4)
        let chart = try Files.text(out + "/ablation-B-PER.svg")
        #expect(chart.contains("B-PER ranked, 95% band over 200 sentence resamples"), "the ranked band is drawn and named")
        #expect(chart.contains("B-PER, 3 random orders (5th–95th pct)"), "so is the random band")
    }

    @Test("--value mean and resample, both modes: ablation.json records the value, k = 0 is the model, bands hold the curves",
          arguments: ["mean", "resample"], ["readout", "recurrent"])
    func values(_ value: String, _ mode: String) async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        async let zeroRun = sandbox.run(Self.arguments(trained, out: sandbox.path("zero"), extra: ["--mode", mode, "--band", "50"]))
        async let valueRun = sandbox.run(
            Self.arguments(trained, out: sandbox.path("value"), extra: ["--mode", mode, "--value", value, "--band", "50"]))
        let (zero, other) = try await (zeroRun, valueRun)
        #expect(zero.status == 0 && other.status == 0, "\(zero)\n\(other)")
        #expect(other.stderrBeyondUnseenCharacters.isEmpty, "\(other.stderr)")
        #expect(other.stdout.contains("\(mode) ablation, value \(value) (h_i ← "), "\(other.stdout)")
        let text = try Files.text(sandbox.path("value") + "/ablation.json")
        Analysis.expectNoNaN(text, "ablation.json")
        let json = try Files.json(sandbox.path("value") + "/ablation.json")
        let base = try Files.json(sandbox.path("zero") + "/ablation.json")
        #expect(json["value"] as? String == value)
        #expect(json["mode"] as? String == mode)
        Self.expectBands(json, labels: ["B-PER", "B-LOC"], resamples: 50, steps: 4)
        let curves = try #require(json["curves"] as? [String: [String: Any]])
        let baseCurves = try #require(base["curves"] as? [String: [String: Any]])
        var moved = false
        for label in ["B-PER", "B-LOC"] {
            let curve = try #require(curves[label]), baseCurve = try #require(baseCurves[label])
            #expect(Analysis.ints(curve["neurons"]) == Analysis.ints(baseCurve["neurons"]), "the ranking does not depend on the value")
            #expect(Self.point(curve, 0) == Self.point(baseCurve, 0), "\(label): k = 0 is the model itself")
            if (1...4).contains(where: { Self.point(curve, $0) != Self.point(baseCurve, $0) }) { moved = true }
        }
        #expect(moved, "\(value) ablation gives other curves than zero ablation")
        let random = (json["controls"] as? [String: Any])?["random"] as? [String: Any]
        #expect(random?["count"] as? Int == 3, "the random control runs with the value too")
        let chart = try Files.text(sandbox.path("value") + "/ablation-B-PER.svg")
        #expect(chart.contains("\(mode) mode, \(value) value"), "the chart names the value")
        #expect(Analysis.xmlProblem(sandbox.path("value") + "/ablation-B-PER.svg") == nil)
    }

    @Test("--band 0: no band in the JSON, empty band columns in the CSV")
    func noBand() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("ablation")
        let result = try await sandbox.run(Self.arguments(trained, out: out, extra: ["--band", "0", "--value", "resample"]))
        #expect(result.status == 0, "\(result)")
        let json = try Files.json(out + "/ablation.json")
        let curve = try #require((json["curves"] as? [String: [String: Any]])?["B-PER"])
        #expect(curve["band"] == nil || curve["band"] is NSNull, "\(curve.keys.sorted())")
        let rows = try Analysis.csv(out + "/ablation.csv").dropFirst()
        #expect(!rows.isEmpty && rows.allSatisfy { $0.count == 8 && $0[6].isEmpty && $0[7].isEmpty })
        #expect(!(try Files.text(out + "/ablation-B-PER.svg")).contains("sentence resamples"))
    }

    @Test("the same command twice writes the same files (ablation.json apart from \"seconds\")")
    func deterministic() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let (a, b) = (sandbox.path("a"), sandbox.path("b"))
        let first = try await sandbox.run(Self.arguments(trained, out: a))
        let second = try await sandbox.run(Self.arguments(trained, out: b))
        #expect(first.status == 0 && second.status == 0, "\(first)\n\(second)")
        #expect(try Self.withoutSeconds(a + "/ablation.json") == Self.withoutSeconds(b + "/ablation.json"))
        #expect(try Files.text(a + "/ablation.json").contains("\"seconds\" :"), "the filter removed the seconds line")
        #expect(Files.listing(a) == Files.listing(b))
        for name in Files.listing(a) where name != "ablation.json" {
            #expect(try Files.bytes(a + "/" + name) == Files.bytes(b + "/" + name), "\(name) differs between runs")
        }
    }

    @Test("--mode recurrent: same orders, and k = 0 equals readout's k = 0")
    func recurrent() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        async let readoutRun = sandbox.run(Self.arguments(trained, out: sandbox.path("readout")))
        async let recurrentRun = sandbox.run(Self.arguments(trained, out: sandbox.path("recurrent"), extra: ["--mode", "recurrent"]))
        let (readout, recurrent) = try await (readoutRun, recurrentRun)
        #expect(readout.status == 0 && recurrent.status == 0, "\(readout)\n\(recurrent)")
        let a = try Files.json(sandbox.path("readout") + "/ablation.json")
        let b = try Files.json(sandbox.path("recurrent") + "/ablation.json")
        #expect(b["mode"] as? String == "recurrent")
        Analysis.expectNoNaN(try Files.text(sandbox.path("recurrent") + "/ablation.json"), "ablation.json")
        let curvesA = try #require(a["curves"] as? [String: [String: Any]])
        let curvesB = try #require(b["curves"] as? [String: [String: Any]])
        for label in ["B-PER", "B-LOC"] {
            let x = try #require(curvesA[label]), y = try #require(curvesB[label])
            #expect(Analysis.ints(x["neurons"]) == Analysis.ints(y["neurons"]), "\(label): the ranking does not depend on the mode")
            #expect(Self.point(x, 0) == Self.point(y, 0), "\(label): k = 0 is the model itself in both modes")
            #expect(Analysis.numbers(y["f1"])?.count == 5)
        }
        let randomA = (a["controls"] as? [String: Any])?["random"] as? [String: Any]
        let randomB = (b["controls"] as? [String: Any])?["random"] as? [String: Any]
        #expect(Analysis.matrix(randomA?["orders"]).map { $0.map { $0.map { $0 ?? -1 } } }
                == Analysis.matrix(randomB?["orders"]).map { $0.map { $0.map { $0 ?? -1 } } }, "same seed, same random orders")
        for svg in ["ablation-B-PER.svg", "ablation-B-LOC.svg"] {
            let problem = Analysis.xmlProblem(sandbox.path("recurrent") + "/" + svg)
            #expect(problem == nil, "\(problem ?? "")")
        }
    }

    @Test("--steps above the neuron count is capped: 9 points, and with every neuron ablated every order ends at the bias-only prediction",
          arguments: ["readout", "recurrent"])
    func stepsCapped(_ mode: String) async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("ablation")
        let result = try await sandbox.run(
            ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test,
             "--labels", "B-PER", "--steps", "20", "--random", "2", "--mode", mode, "--out", out])
        #expect(result.status == 0, "\(result)")
        let json = try Files.json(out + "/ablation.json")
        let curve = try #require((json["curves"] as? [String: [String: Any]])?["B-PER"])
        let controls = try #require(json["controls"] as? [String: Any])
        let reverse = try #require((controls["reverse"] as? [String: [String: Any]])?["B-PER"])
        let random = try #require(controls["random"] as? [String: Any])
        #expect(Analysis.ints(curve["neurons"])?.sorted() == Array(0..<8), "all 8 neurons in the order")
        #expect(result.stdout.contains("at k = 8"), "\(result.stdout)")
        var finals: [[String: Double]] = []
        let orders: [(String, Any?)] = [("ranked", curve), ("reverse", reverse), ("mean", random["mean"]), ("p05", random["p05"]), ("p95", random["p95"])]
        for (name, item) in orders {
            let series = try #require(item as? [String: Any], "\(name)")
            #expect(Analysis.numbers(series["f1"])?.count == 9, "\(name): k = 0 … 8")
            for (key, values) in (series["accuracy"] as? [String: Any]) ?? [:] {
                #expect(Analysis.numbers(values)?.count == 9, "\(name) \(key): k = 0 … 8")
            }
            finals.append(Self.point(series, 8))
        }
        // With every neuron zeroed the logits are the bias alone, whatever the order.
        for final in finals.dropFirst() {
            for (key, value) in finals[0] { #expect(Analysis.close(final[key], value), "k = 8 \(key): \(final[key] ?? .nan) vs \(value)") }
        }
        // …so every token gets the same label c: accuracy 1 for c, 0 for the other labels, and "all" is c's share.
        let final = finals[0]
        let gold = Analysis.goldCounts(SyntheticCoNLL.test)
        let winners = gold.keys.filter { final["accuracy:" + $0] == 1 }
        #expect(winners.count <= 1, "at most one label is always right: \(final)")
        for label in gold.keys where !winners.contains(label) { #expect(final["accuracy:" + label] == 0, "\(label) at k = 8: \(final)") }
        let share = winners.first.map { Double(gold[$0]!) / Double(Analysis.tokenCount(SyntheticCoNLL.test)) } ?? 0
        #expect(Analysis.close(final["accuracy:all"], share), "all at k = 8 \(final["accuracy:all"] ?? .nan) vs \(share)")
    }

    @Test("a requested label with no ranking (never predicted on --rank-on) is skipped with a warning")
    func skipsUndefinedLabel() async throws {
        let models = try await AnalysisModels.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("ablation")
        let result = try await sandbox.run(
            ["ablate", "--model", models.misc, "--rank-on", models.miscFiles.dev, "--data", models.miscFiles.test,
             "--labels", "B-PER,B-MISC", "--steps", "3", "--random", "2", "--out", out])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.hasPrefix("warning: ") && result.stderr.contains("B-MISC"), "\(result.stderr)")
        let json = try Files.json(out + "/ablation.json")
        #expect(json["labels"] as? [String] == ["B-PER"])
        #expect(Files.listing(out) == ["ablation-B-PER.svg", "ablation.csv", "ablation.json"])
        // B-MISC is in the test file, so it has an accuracy series (0 at k = 0 since the model never predicts it).
        let accuracy = try #require(((json["curves"] as? [String: [String: Any]])?["B-PER"])?["accuracy"] as? [String: Any])
        #expect(Analysis.numbers(accuracy["B-MISC"])?.count == 4)
        Analysis.expectNoNaN(try Files.text(out + "/ablation.json"), "ablation.json")
    }

    @Test("--random 0 --no-reverse: no controls; --steps 0: one point")
    func noControls() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("ablation")
        let result = try await sandbox.run(
            ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test,
             "--labels", "B-ORG", "--steps", "0", "--random", "0", "--no-reverse", "--out", out])
        #expect(result.status == 0, "\(result)")
        let json = try Files.json(out + "/ablation.json")
        let controls = try #require(json["controls"] as? [String: Any])
        #expect(controls["random"] == nil || controls["random"] is NSNull, "\(controls)")
        #expect((controls["reverse"] as? [String: Any])?.isEmpty == true, "\(controls)")
        let curve = try #require((json["curves"] as? [String: [String: Any]])?["B-ORG"])
        #expect(Analysis.ints(curve["neurons"]) == [])
        #expect(Analysis.numbers(curve["f1"])?.count == 1)
        let csv = try Analysis.csv(out + "/ablation.csv")
        #expect(Set(csv.dropFirst().map { "\($0[0]),\($0[1]),\($0[2])" }) == ["B-ORG,ranked,0"])
        let problem = Analysis.xmlProblem(out + "/ablation-B-ORG.svg")
        #expect(problem == nil, "\(problem ?? "")")
    }
}

// MARK: - correlate

@Suite("dissect correlate")
struct CorrelateCommandTests {
    /// A Figure 7 layout reference: `neuron,<labels>` in a shuffled label order, 8 rows of fixed pseudo-random values.
    static func writeReference(_ sandbox: Sandbox, labels: [String]) throws -> (path: String, columns: [String: [Double]]) {
        var rng = TestRNG(seed: 77)
        var order = labels
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var columns: [String: [Double]] = [:]
        var text = "neuron," + order.joined(separator: ",") + "\n"
        var rows: [[Double]] = []
        for neuron in 0..<8 {
            let row = order.map { _ in ((rng.unit() * 4 - 2) * 1000).rounded() / 1000 }
            rows.append(row)
            text += "\(neuron)," + row.map { String($0) }.joined(separator: ",") + "\n"
        }
        for (j, label) in order.enumerated() { columns[label] = rows.map { $0[j] } }
        return (try sandbox.write("reference.csv", text), columns)
    }

    @Test("two models, agreement data and a reference: matrices, similarities and agreement recomputed from `sensitivity`")
    func twoModels() async throws {
        let models = try await AnalysisModels.shared.get()
        let trained = models.reference
        let sandbox = try Sandbox()
        let labels = ["B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "O"]
        let reference = try Self.writeReference(sandbox, labels: labels)
        let out = sandbox.path("corr")
        let modelPaths = [trained.out, models.seed2]
        async let correlateRun = sandbox.run(
            ["correlate", "--models"] + modelPaths + ["--data", trained.files.dev, "--agreement-data", trained.files.test,
                                                      "--out", out, "--reference", reference.path])
        async let s1 = Analysis.sensitivity(sandbox, model: modelPaths[0], data: trained.files.dev, out: sandbox.path("s1-dev"))
        async let s2 = Analysis.sensitivity(sandbox, model: modelPaths[1], data: trained.files.dev, out: sandbox.path("s2-dev"))
        async let t1 = Analysis.sensitivity(sandbox, model: modelPaths[0], data: trained.files.test, out: sandbox.path("s1-test"))
        async let t2 = Analysis.sensitivity(sandbox, model: modelPaths[1], data: trained.files.test, out: sandbox.path("s2-test"))
        let (result, dev1, dev2, test1, test2) = try await (correlateRun, s1, s2, t1, t2)
        #expect(result.status == 0, "\(result)")
        #expect(Files.listing(out) == ["agreement.csv", "correlation.csv", "correlation.json", "correlation.svg"], "\(Files.listing(out))")
        let text = try Files.text(out + "/correlation.json")
        Analysis.expectNoNaN(text, "correlation.json")
        let json = try Files.json(out + "/correlation.json")
        let order = try #require(json["labels"] as? [String])
        #expect(Set(order) == Set(labels) && order.count == labels.count)
        #expect(json["data"] as? String == trained.files.dev)
        #expect(json["agreement_data"] as? String == trained.files.test)
        #expect(json["reference_path"] as? String == reference.path)

        // Each model's matrix: square over the labels, symmetric, diagonal 1 or null, in [−1, 1], and equal to the
        // Pearson correlation of the columns of `dissect sensitivity` on the same file.
        let entries = try #require(json["models"] as? [[String: Any]])
        #expect(entries.count == 2)
        var matrices: [[[Double?]]] = []
        for (index, (entry, sensitivity)) in zip(entries, [dev1.json, dev2.json]).enumerated() {
            #expect(entry["name"] as? String == modelPaths[index])
            #expect(entry["labels"] as? [String] == order)
            let matrix = try #require(Analysis.matrix(entry["matrix"]))
            Self.checkCorrelationMatrix(matrix, size: order.count, name: modelPaths[index])
            let columns = try Analysis.sensitivityColumns(sensitivity)
            let recomputed = Analysis.columnCorrelation(order.map { columns[$0]! }.transposed())
            for a in order.indices { for b in order.indices {
                #expect(Analysis.close(matrix[a][b], recomputed[a][b], 1e-9),
                        "model \(index + 1) r(\(order[a]), \(order[b])): \(String(describing: matrix[a][b])) vs \(String(describing: recomputed[a][b]))")
            } }
            matrices.append(matrix)
        }

        // The reference: the correlation of my CSV's columns, aligned to the models' label order.
        let referenceEntry = try #require(json["reference"] as? [String: Any], "reference present")
        #expect(referenceEntry["labels"] as? [String] == order)
        let referenceMatrix = try #require(Analysis.matrix(referenceEntry["matrix"]))
        Self.checkCorrelationMatrix(referenceMatrix, size: order.count, name: "reference")
        let expectedReference = Analysis.columnCorrelation(order.map { reference.columns[$0]!.map { Optional($0) } }.transposed())
        for a in order.indices { for b in order.indices {
            #expect(Analysis.close(referenceMatrix[a][b], expectedReference[a][b], 1e-9), "reference r(\(order[a]), \(order[b]))")
        } }

        // Similarities.
        let similarity = try #require(json["similarity"] as? [String: Any])
        let meanPairwise = Analysis.number(similarity["mean_pairwise"])
        #expect(meanPairwise != nil, "two models with defined matrices have a mean pairwise similarity")
        #expect(meanPairwise.map { (-1...1).contains($0) } ?? true)
        #expect(Analysis.close(meanPairwise, Analysis.offDiagonalSimilarity(matrices[0], matrices[1]), 1e-9), "mean_pairwise of two models")
        let against = try #require(similarity["against_reference"] as? [[String: Any]])
        #expect(against.count == 2)
        for (index, entry) in against.enumerated() {
            #expect(entry["model"] as? String == modelPaths[index])
            let value = Analysis.number(entry["similarity"])
            #expect(value != nil, "model \(index + 1) has a similarity to the reference")
            #expect(value.map { (-1...1).contains($0) } ?? true)
            #expect(Analysis.close(value, Analysis.offDiagonalSimilarity(matrices[index], referenceMatrix), 1e-9), "against reference \(index + 1)")
        }

        // Agreement between the dev and test rankings, one entry per model × label.
        let agreement = try #require(json["agreement"] as? [[String: Any]])
        #expect(agreement.count == 2 * labels.count)
        let devRuns = [dev1.json, dev2.json], testRuns = [test1.json, test2.json]
        var rhoChecked = 0
        for entry in agreement {
            let model = try #require(entry["model"] as? String), label = try #require(entry["label"] as? String)
            let index = try #require(modelPaths.firstIndex(of: model))
            let overlap = try #require(entry["top10_overlap"] as? Int)
            #expect((0...min(10, 8)).contains(overlap))
            let spearman = Analysis.number(entry["spearman"])
            #expect(spearman.map { (-1...1).contains($0) } ?? true)
            let a = try Analysis.sensitivityColumns(devRuns[index])[label] ?? []
            let b = try Analysis.sensitivityColumns(testRuns[index])[label] ?? []
            if a.contains(where: { $0 == nil }) || b.contains(where: { $0 == nil }) {
                #expect(spearman == nil, "\(model) \(label): undefined on one file, so no rho")
            } else {
                let expected = Analysis.pearson(Analysis.ranks(a.compactMap { $0 }), Analysis.ranks(b.compactMap { $0 }))
                #expect(Analysis.close(spearman, expected, 1e-9), "\(model) \(label): rho \(String(describing: spearman)) vs \(String(describing: expected))")
                if expected != nil { rhoChecked += 1 }
            }
            let rankA = Analysis.ints((devRuns[index]["rankings"] as? [String: Any])?[label]) ?? []
            let rankB = Analysis.ints((testRuns[index]["rankings"] as? [String: Any])?[label]) ?? []
            #expect(overlap == Set(rankA.prefix(10)).intersection(rankB.prefix(10)).count, "\(model) \(label) top-10 overlap")
        }
        #expect(rhoChecked > 0, "some rho was recomputed and compared")

        // correlation.csv: every matrix (models, then the reference) cell by cell, the JSON's values to 6 decimals.
        let csv = try Analysis.csv(out + "/correlation.csv")
        #expect(csv.first == ["matrix", "label_a", "label_b", "pearson_r"])
        #expect(csv.count == 1 + 3 * order.count * order.count)
        let all = matrices + [referenceMatrix]
        for (offset, row) in csv.dropFirst().enumerated() where row.count == 4 {
            let m = offset / (order.count * order.count), cell = offset % (order.count * order.count)
            let a = cell / order.count, b = cell % order.count
            // A reference given by --reference is named after its file ("paper" only for the paper's own CSV).
            let referenceName = URL(fileURLWithPath: reference.path).lastPathComponent
            #expect(row[0] == (m < 2 ? modelPaths[m] : referenceName) && row[1] == order[a] && row[2] == order[b], "\(row)")
            if let value = all[m][a][b] {
                #expect(abs((Double(row[3]) ?? .nan) - value) <= 5.000001e-7, "\(row) vs \(value)")
            } else {
                #expect(row[3].isEmpty, "\(row)")
            }
        }
        let agreementCSV = try Analysis.csv(out + "/agreement.csv")
        #expect(agreementCSV.first == ["model", "label", "spearman_rho", "top10_overlap"])
        #expect(agreementCSV.count == 1 + agreement.count)
        let problem = Analysis.xmlProblem(out + "/correlation.svg")
        #expect(problem == nil, "\(problem ?? "")")
    }

    static func checkCorrelationMatrix(_ matrix: [[Double?]], size: Int, name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(matrix.count == size && matrix.allSatisfy { $0.count == size }, "\(name): \(size)×\(size)", sourceLocation: sourceLocation)
        guard matrix.count == size && matrix.allSatisfy({ $0.count == size }) else { return }
        for a in 0..<size {
            #expect(matrix[a][a] == nil || matrix[a][a] == 1, "\(name): diagonal \(a) is 1 or null", sourceLocation: sourceLocation)
            for b in 0..<size {
                #expect(matrix[a][b] == matrix[b][a], "\(name): symmetric at (\(a), \(b))", sourceLocation: sourceLocation)
                if let value = matrix[a][b] { #expect((-1...1).contains(value), "\(name): \(value) in [−1, 1]", sourceLocation: sourceLocation) }
            }
        }
    }

    @Test("labels never predicted: their rows and columns are null (diagonal too), their agreement has no rho")
    func undefinedLabels() async throws {
        let models = try await AnalysisModels.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("corr")
        let result = try await sandbox.run(
            ["correlate", "--models", models.misc, "--data", models.miscFiles.dev, "--agreement-data", models.miscFiles.test, "--out", out])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("warning: ") && result.stderr.contains("B-MISC"), "\(result.stderr)")
        Analysis.expectNoNaN(try Files.text(out + "/correlation.json"), "correlation.json")
        let json = try Files.json(out + "/correlation.json")
        let order = try #require(json["labels"] as? [String])
        #expect(order == Analysis.paperOrder)
        #expect(json["reference"] == nil || json["reference"] is NSNull, "no reference unless asked (../shared does not exist here)")
        let matrix = try #require(Analysis.matrix((json["models"] as? [[String: Any]])?.first?["matrix"]))
        Self.checkCorrelationMatrix(matrix, size: 9, name: "misc")
        let b = try #require(order.firstIndex(of: "B-MISC"))
        #expect(matrix[b].allSatisfy { $0 == nil } && matrix.allSatisfy { $0[b] == nil })
        let similarity = try #require(json["similarity"] as? [String: Any])
        #expect(similarity["mean_pairwise"] == nil || similarity["mean_pairwise"] is NSNull, "one model: no pairs")
        let agreement = try #require(json["agreement"] as? [[String: Any]])
        #expect(agreement.count == 9)
        let misc = try #require(agreement.first { $0["label"] as? String == "B-MISC" })
        #expect(misc["spearman"] == nil || misc["spearman"] is NSNull)
        #expect(misc["top10_overlap"] as? Int == 0)
        let problem = Analysis.xmlProblem(out + "/correlation.svg")
        #expect(problem == nil, "\(problem ?? "")")
    }
}

extension Array where Element == [Double?] {
    /// `[m][n]` columns → `[n][m]` rows.
    func transposed() -> [[Double?]] {
        guard let first else { return [] }
        return first.indices.map { i in self.map { $0[i] } }
    }
}

// MARK: - errors

@Suite("analysis command errors")
struct AnalysisErrorTests {
    @Test("ablate --labels NOPE: exit 2, names the model and lists its labels")
    func unknownLabel() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test,
             "--labels", "NOPE", "--out", out])
        ErrorTests.expectFailure(result, status: 2, mentions: ["error: \(trained.out): ", "NOPE"], out: out)
        let line = result.stderrBeyondUnseenCharacters.split(separator: "\n").first.map(String.init) ?? ""
        for label in ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"] {
            #expect(line.contains(label), "the message lists \(label): \(line)")
        }
    }

    @Test("usage errors of the analysis commands: exit 2, nothing written", arguments: [
        (["ablate", "--mode", "sideways"], ["--mode", "sideways"]),
        (["ablate", "--steps", "-1"], ["--steps"]),
        (["ablate", "--steps=-1"], ["--steps", "0 or more"]),
        (["ablate", "--random=-2"], ["--random"]),
        (["ablate", "--labels", ","], ["--labels"]),
        (["ablate", "--value", "median"], ["--value", "median", "'zero', 'mean' or 'resample'"]),
        (["ablate", "--band", "-1"], ["--band", "0 (no band) to 100000"]),
        (["ablate", "--band=100001"], ["--band"]),
        (["sensitivity", "--condition", "maybe"], ["--condition", "maybe"]),
        (["sensitivity", "--tag-column", "0"], ["--tag-column"]),
        (["correlate", "--condition", "maybe"], ["--condition"]),
    ])
    func usage(_ arguments: [String], _ mentions: [String]) async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let base: [String]
        switch arguments[0] {
        case "ablate": base = ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test]
        case "sensitivity": base = ["sensitivity", "--model", trained.out, "--data", trained.files.dev]
        default: base = ["correlate", "--models", trained.out, "--data", trained.files.dev]
        }
        let result = try await sandbox.run(base + Array(arguments.dropFirst()) + ["--out", out])
        ErrorTests.expectFailure(result, status: 2, mentions: mentions, out: out)
    }

    @Test("sensitivity --model /nonexistent: exit 1, names it")
    func missingModel() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        for command in [["sensitivity", "--model", "/nonexistent", "--data", trained.files.dev],
                        ["ablate", "--model", "/nonexistent", "--rank-on", trained.files.dev, "--data", trained.files.test],
                        ["correlate", "--models", trained.out, "/nonexistent", "--data", trained.files.dev]] {
            let result = try await sandbox.run(command + ["--out", out])
            ErrorTests.expectFailure(result, status: 1, mentions: ["error: /nonexistent"], out: out)
        }
    }

    @Test("sensitivity on a missing data file: exit 1, names it")
    func missingData() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let missing = sandbox.path("missing.conll")
        let result = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", missing, "--out", out])
        ErrorTests.expectFailure(result, status: 1, mentions: ["error: \(missing)"], out: out)
    }

    @Test("correlate --reference with a bad row: exit 1, `<file>:<line>`", arguments: [
        ("neuron,B-PER,O\n0,0.1,0.2\n1,0.3\n2,0.1,0.1\n", 3, "fields"),
        ("neuron,B-PER,O\n0,0.1,0.2\n1,0.3,abc\n", 3, "'abc'"),
        ("neuron,B-PER,O\n0,0.1,0.2\n1,0.3,nan\n", 3, "'nan'"),
        ("", 1, "empty"),
        ("neuron,B-PER,O\n", 2, "no neuron rows"),
    ])
    func badReference(_ contents: String, _ line: Int, _ mention: String) async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let reference = try sandbox.write("reference.csv", contents)
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["correlate", "--models", trained.out, "--data", trained.files.dev, "--reference", reference, "--out", out])
        ErrorTests.expectFailure(result, status: 1, mentions: ["error: \(reference):\(line): ", mention], out: out)
    }

    @Test("correlate --reference: a bad row after a blank line is reported at its own line")
    func badReferenceAfterBlankLine() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        // Line 1 header, line 2 blank, line 3 the ragged row.
        let reference = try sandbox.write("reference.csv", "neuron,B-PER,O\n\n0,0.1\n")
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["correlate", "--models", trained.out, "--data", trained.files.dev, "--reference", reference, "--out", out])
        #expect(result.status == 1, "\(result)")
        #expect(!Files.exists(out))
        #expect(result.stderr.hasPrefix("error: \(reference):3: "), "\(result.stderr)")
    }

    @Test("correlate without --models: exit 2")
    func noModels() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let out = sandbox.path("out")
        let result = try await sandbox.run(["correlate", "--data", trained.files.dev, "--out", out])
        ErrorTests.expectFailure(result, status: 2, mentions: ["--models"], out: out)
    }

    @Test("ablate --rank-on a file where no requested label is predicted: exit 1, the error names that file, nothing written")
    func nothingToAblate() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = try Sandbox()
        let data = try sandbox.write("fillers.conll", "the DT B-NP O\nsaid VBD B-VP O\n\nthe DT B-NP O\nreport NN I-NP O\n\n")
        let out = sandbox.path("out")
        let result = try await sandbox.run(
            ["ablate", "--model", trained.out, "--rank-on", data, "--data", trained.files.test, "--labels", "B-PER", "--out", out])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.last?.hasPrefix("error: \(data): ") == true, "\(result.stderr)")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("warning: ") }, "\(result.stderr)")
        #expect(!Files.exists(out))
    }
}

// MARK: - help

@Suite("analysis command help")
struct AnalysisHelpTests {
    @Test("dissect --help lists sensitivity, ablate and correlate")
    func rootHelp() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["--help"])
        #expect(result.status == 0, "\(result)")
        for subcommand in ["sensitivity", "ablate", "correlate"] {
            #expect(result.stdout.contains("  \(subcommand) "), "\(subcommand) is listed: \(result.stdout)")
        }
    }

    @Test("each analysis command's --help exits 0 and lists its options", arguments: [
        ("sensitivity", ["--model", "--data", "--out", "--condition", "--tag-column"]),
        ("ablate", ["--model", "--rank-on", "--data", "--labels", "--steps", "--mode", "--random", "--value", "--band", "--seed",
                    "--no-reverse", "--out", "--condition"]),
        ("correlate", ["--models", "--data", "--reference", "--agreement-data", "--out", "--condition"]),
    ])
    func subcommandHelp(_ command: String, _ options: [String]) async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run([command, "--help"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("USAGE: dissect \(command)"), "\(result.stdout)")
        for option in options { #expect(result.stdout.contains(option), "\(command) --help lists \(option)") }
        #expect(Files.listing(sandbox.cwd.path).isEmpty, "--help writes nothing")
    }
}
