import Foundation
import Testing

// End-to-end support: find the `dissect` executable that `swift test` built,
// run it in a fresh temporary directory with a controlled environment, and
// generate small synthetic CoNLL corpora a tiny model can learn in seconds.

// MARK: - Locating the binary

enum DissectBinary {
    /// `<package root>`, from this file's path (`<root>/Tests/DissectCLITests/Support.swift`).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$DISSECT_BINARY` when it is set (the test script points it at the
    /// release binary users get, `.build/release/dissect`); otherwise the
    /// `dissect` executable next to the test bundle (same build
    /// configuration), else `<root>/.build/debug/dissect`, else any
    /// `<root>/.build/*/debug/dissect`.
    static let path: String? = {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["DISSECT_BINARY"], !explicit.isEmpty {
            // No fallback: a wrong path must fail the run, not test another binary.
            return fileManager.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        var candidates: [URL] = []
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("dissect"))
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("dissect"))
        }
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("dissect"))
        }
        let build = packageRoot.appendingPathComponent(".build")
        candidates.append(build.appendingPathComponent("debug/dissect"))
        if let triples = try? fileManager.contentsOfDirectory(atPath: build.path) {
            for triple in triples.sorted() {
                candidates.append(build.appendingPathComponent(triple).appendingPathComponent("debug/dissect"))
            }
        }
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               fileManager.isExecutableFile(atPath: candidate.path) {
                return candidate.path
            }
        }
        return nil
    }()

    static func require() throws -> String {
        guard let path else {
            if let explicit = ProcessInfo.processInfo.environment["DISSECT_BINARY"], !explicit.isEmpty {
                let message = "DISSECT_BINARY=\(explicit) is not an executable file; build it with `swift build -c release --product dissect`"
                Issue.record(Comment(rawValue: message))
                throw CLITestError(message)
            }
            let message = "the `dissect` executable was not found next to the test bundle (\(Bundle.main.bundleURL.path)) "
                + "nor under \(packageRoot.path)/.build/{debug,*/debug}; build it with `swift build` or run `swift test`"
            Issue.record(Comment(rawValue: message))
            throw CLITestError(message)
        }
        return path
    }
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Running it

struct RunResult: CustomStringConvertible, Sendable {
    var arguments: [String]
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool

    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    /// stderr without the warning the synthetic test file earns on purpose:
    /// its unseen names hold letters the training file lacks.
    var stderrBeyondUnseenCharacters: String {
        stderr.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !($0.hasPrefix("warning: ") && $0.contains("characters never seen in training")) }
            .joined(separator: "\n")
    }

    var description: String {
        "dissect \(arguments.joined(separator: " ")) → exit \(status)\(timedOut ? " (timed out)" : "")\n"
            + "--- stdout ---\n\(stdout)--- stderr ---\n\(stderr)"
    }
}

/// A fresh scratch area per test: `root/cwd` is the working directory (so
/// `../shared` relative to it does not exist), `root/data` is $DISSECT_DATA
/// (empty unless a test fills it).
/// Sendable: its fields are constant, so the shared models can hand it across tasks.
final class Sandbox: Sendable {
    let root: URL
    let cwd: URL
    let dataDirectory: URL

    init() throws {
        let fileManager = FileManager.default
        root = fileManager.temporaryDirectory.appendingPathComponent("dissect-cli-\(UUID().uuidString)")
        cwd = root.appendingPathComponent("cwd")
        dataDirectory = root.appendingPathComponent("data")
        try fileManager.createDirectory(at: cwd, withIntermediateDirectories: true)
        try fileManager.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// An absolute path inside the working directory.
    func path(_ name: String) -> String { cwd.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let target = path(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Writes the standard synthetic corpus: train.conll, dev.conll, test.conll.
    func writeCorpus() throws -> (train: String, dev: String, test: String) {
        (try write("train.conll", SyntheticCoNLL.train),
         try write("dev.conll", SyntheticCoNLL.dev),
         try write("test.conll", SyntheticCoNLL.test))
    }

    /// Runs dissect with `arguments` in `cwd`, with DISSECT_DATA pointing at
    /// `dataDirectory` and no DISSECT_EMBEDDINGS, unless `environment` says otherwise.
    /// - Parameter whileRunning: called on a background queue once the process has started
    ///   (e.g. to signal it); it must return before the process can be awaited.
    /// - Parameter onStart: the same, given the process id and where its output goes, so a
    ///   test can wait for a line of progress before it acts.
    func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120,
        whileRunning: (@Sendable (Int32) -> Void)? = nil, onStart: (@Sendable (RunningProcess) -> Void)? = nil
    ) async throws -> RunResult {
        let binary = try DissectBinary.require()
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DISSECT_") }
        env["DISSECT_DATA"] = dataDirectory.path
        for (key, value) in environment { env[key] = value }

        let captures = root.appendingPathComponent("capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: captures) }
        let outURL = captures.appendingPathComponent("stdout")
        let errURL = captures.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = env
        process.currentDirectoryURL = cwd
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle

        let timedOut = TimeoutFlag()
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                continuation.resume(returning: finished.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            if let whileRunning {
                let pid = process.processIdentifier
                DispatchQueue.global().async { whileRunning(pid) }
            }
            if let onStart {
                let running = RunningProcess(pid: process.processIdentifier, stdoutPath: outURL.path, stderrPath: errURL.path)
                DispatchQueue.global().async { onStart(running) }
            }
            // A strong reference: the timeout must fire even when nothing else holds the process.
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [process] in
                guard process.isRunning else { return }
                timedOut.set()
                process.terminate()
            }
        }
        try? outHandle.close()
        try? errHandle.close()
        let result = RunResult(
            arguments: arguments, status: status,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
            timedOut: timedOut.value)
        #expect(!result.timedOut, "dissect did not finish within \(timeout) s: \(result)")
        return result
    }
}

/// A process started by `Sandbox.run`, as `onStart` sees it.
struct RunningProcess: Sendable {
    var pid: Int32
    var stdoutPath: String
    var stderrPath: String

    /// What the process has written to stderr so far.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Polls `condition` every `interval` seconds until it holds (true) or `timeout` seconds pass (false).
    func wait(timeout: TimeInterval, interval: TimeInterval = 0.02, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(useconds_t(interval * 1_000_000))
        }
        return condition()
    }
}

/// A value set on one thread and read on another.
final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.lock(); flag = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}

// MARK: - Files

enum Files {
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    static func text(_ path: String) throws -> String { try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) }

    static func json(_ path: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: bytes(path)) as? [String: Any] else {
            throw CLITestError("\(path) is not a JSON object")
        }
        return object
    }

    /// Names (sorted) in a directory, including hidden files; [] when it does not exist.
    static func listing(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func copyDirectory(_ source: String, to destination: String) throws {
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }

    /// Every regular file under `path` with its bytes and modification date.
    static func snapshot(_ path: String) throws -> [String: (Data, Date)] {
        var result: [String: (Data, Date)] = [:]
        for name in listing(path) {
            let full = path + "/" + name
            let attributes = try FileManager.default.attributesOfItem(atPath: full)
            result[name] = (try bytes(full), attributes[.modificationDate] as? Date ?? .distantPast)
        }
        return result
    }
}

// MARK: - Synthetic CoNLL

/// A tiny deterministic RNG (SplitMix64), so the corpora never change.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
}

/// Sentences of filler words (label O) with PER, LOC and ORG names from small
/// lists, in the 4-column CoNLL-2003 layout `word POS chunk NER`, with
/// `-DOCSTART-` lines every few sentences and blank lines between sentences.
/// Labels are IOB2 (every entity starts with B-).
enum SyntheticCoNLL {
    static let persons: [[String]] = [["John", "Smith"], ["Mary", "Jones"], ["Peter", "Brown"], ["Anna", "Klein"], ["Omar"], ["Li", "Wei"]]
    static let locations: [[String]] = [["Paris"], ["London"], ["Berlin"], ["New", "York"], ["Cairo"], ["Rio", "de", "Janeiro"]]
    static let organizations: [[String]] = [["Acme", "Corp"], ["United", "Nations"], ["Reuters"], ["General", "Motors"], ["Fiat"]]
    /// Names that never occur in the training file (the test file uses a few, so scores there are not all 100).
    static let unseenPersons: [[String]] = [["Karl", "Berg"], ["Ines"]]
    static let unseenLocations: [[String]] = [["Lima"], ["Oslo"]]
    static let unseenOrganizations: [[String]] = [["Nokia"], ["Bayer", "AG"]]
    static let fillers: [(word: String, pos: String, chunk: String)] = [
        ("the", "DT", "B-NP"), ("said", "VBD", "B-VP"), ("in", "IN", "B-PP"), ("on", "IN", "B-PP"),
        ("met", "VBD", "B-VP"), ("visited", "VBD", "B-VP"), ("with", "IN", "B-PP"), ("a", "DT", "B-NP"),
        ("report", "NN", "I-NP"), ("today", "NN", "B-NP"), ("and", "CC", "O"), ("from", "IN", "B-PP"),
    ]

    struct Token { var word, pos, chunk, ner: String }

    static func sentences(count: Int, seed: UInt64, unseenRate: Double) -> [[Token]] {
        var rng = TestRNG(seed: seed)
        var result: [[Token]] = []
        for _ in 0..<count {
            var tokens: [Token] = []
            let pieces = rng.int(3...7)
            for _ in 0..<pieces {
                let draw = rng.unit()
                let type: String
                let names: [[String]]
                let unseen = rng.unit() < unseenRate
                if draw < 0.18 {
                    type = "PER"; names = unseen ? unseenPersons : persons
                } else if draw < 0.30 {
                    type = "LOC"; names = unseen ? unseenLocations : locations
                } else if draw < 0.42 {
                    type = "ORG"; names = unseen ? unseenOrganizations : organizations
                } else {
                    let filler = rng.pick(fillers)
                    tokens.append(Token(word: filler.word, pos: filler.pos, chunk: filler.chunk, ner: "O"))
                    continue
                }
                // Two entities in a row are separated by a filler, so B- boundaries stay learnable.
                if let last = tokens.last, last.ner != "O" {
                    tokens.append(Token(word: "and", pos: "CC", chunk: "O", ner: "O"))
                }
                for (index, word) in rng.pick(names).enumerated() {
                    tokens.append(Token(
                        word: word, pos: "NNP", chunk: index == 0 ? "B-NP" : "I-NP",
                        ner: (index == 0 ? "B-" : "I-") + type))
                }
            }
            result.append(tokens)
        }
        return result
    }

    static func text(_ sentences: [[Token]], documentEvery: Int = 10) -> String {
        var text = ""
        for (index, sentence) in sentences.enumerated() {
            if index % documentEvery == 0 { text += "-DOCSTART- -X- -X- O\n\n" }
            for token in sentence { text += "\(token.word) \(token.pos) \(token.chunk) \(token.ner)\n" }
            text += "\n"
        }
        return text
    }

    static let trainSentences = sentences(count: 60, seed: 11, unseenRate: 0)
    static let devSentences = sentences(count: 30, seed: 22, unseenRate: 0)
    static let testSentences = sentences(count: 30, seed: 33, unseenRate: 0.35)

    static let train = text(trainSentences)
    static let dev = text(devSentences)
    static let test = text(testSentences)

    static var testTokenCount: Int { testSentences.reduce(0) { $0 + $1.count } }
}

// MARK: - Shared training runs

/// The options every training run here uses besides the files: no embeddings
/// file, 8 hidden units, and a learning setup (no dropout, batches of 2,
/// lr 0.1) with which 4 epochs on the synthetic corpus are enough.
let fastTrainingFlags = ["--no-embeddings", "--hidden", "8", "--batch-size", "2", "--lr", "0.1", "--dropout", "0"]

/// Sandboxes of the shared training runs, removed when the test process exits.
nonisolated(unsafe) var sandboxRootsToRemove: [String] = []

/// One training run done once per test process and shared by the tests that only read its
/// checkpoint: `arguments` (given the corpus files and the output folder) is run in a fresh
/// sandbox, which lives for the whole test run.
actor TrainedOnce {
    struct Trained: Sendable {
        var sandbox: Sandbox
        var files: (train: String, dev: String, test: String)
        var out: String
        var result: RunResult
        var arguments: [String]
    }

    let name: String
    let arguments: @Sendable ((train: String, dev: String, test: String), String) -> [String]
    private var task: Task<Trained, Error>?

    init(_ name: String, arguments: @escaping @Sendable ((train: String, dev: String, test: String), String) -> [String]) {
        self.name = name
        self.arguments = arguments
    }

    func get() async throws -> Trained {
        if let task { return try await task.value }
        let name = name, makeArguments = arguments
        let task = Task { () throws -> Trained in
            let sandbox = try Sandbox()
            if sandboxRootsToRemove.isEmpty {
                atexit { for root in sandboxRootsToRemove { try? FileManager.default.removeItem(atPath: root) } }
            }
            sandboxRootsToRemove.append(sandbox.root.path)
            let files = try sandbox.writeCorpus()
            let out = sandbox.path(name)
            let arguments = makeArguments(files, out)
            let result = try await sandbox.run(arguments)
            guard result.status == 0 else { throw CLITestError("the \(name) training run failed: \(result)") }
            return Trained(sandbox: sandbox, files: files, out: out, result: result, arguments: arguments)
        }
        self.task = task
        return try await task.value
    }
}

/// The reference run (`--seed 1 --epochs 4`), trained once and shared by the
/// tests that only read a checkpoint.
enum SharedModel {
    typealias Trained = TrainedOnce.Trained
    static let shared = TrainedOnce("reference-model") { files, out in referenceArguments(files: files, out: out, seed: 1) }

    static func referenceArguments(files: (train: String, dev: String, test: String), out: String, seed: Int) -> [String] {
        ["train", "--train", files.train, "--dev", files.dev, "--test", files.test]
            + fastTrainingFlags + ["--epochs", "4", "--out", out, "--seed", "\(seed)"]
    }
}

func referenceArguments(files: (train: String, dev: String, test: String), out: String, seed: Int) -> [String] {
    SharedModel.referenceArguments(files: files, out: out, seed: seed)
}

/// Formats like dissect's tables (`%.2f`).
func twoDecimals(_ value: Double) -> String { String(format: "%.2f", value) }
