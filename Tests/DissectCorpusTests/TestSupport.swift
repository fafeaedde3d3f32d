import DissectCore
import Foundation
import Testing

/// Locations of the shared data and tools, relative to the package root
/// (found from this file's path) or at /work/shared.
enum TestSupport {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The first of `relative` under ../shared (next to the package) or /work/shared that exists.
    static func sharedFile(_ relative: String) -> String? {
        let candidates = [
            packageRoot.deletingLastPathComponent().appendingPathComponent("shared/" + relative).path,
            "/work/shared/" + relative,
        ]
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }

    static let conlleval = "tools/conlleval.pl"
    static var conllevalPath: String? { sharedFile(conlleval) }

    /// perl on `PATH` (or /usr/bin/perl), needed to run conlleval.pl.
    static var perlPath: String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return (directories.map { "\($0)/perl" } + ["/usr/bin/perl"]).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    // MARK: Shared inputs: skipped visibly when missing, a failure under CI

    /// True when `CI=true`: a missing shared input is then a failure, not a skip.
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// For `.enabled(if:)`: the test runs when every input is present, and always
    /// under CI, where `requireShared` then records the missing one as a failure.
    static func sharedOrCI(_ relatives: String...) -> Bool {
        isCI || relatives.allSatisfy { sharedFile($0) != nil }
    }

    /// Like `sharedOrCI`, for tests that run `perl conlleval.pl` (and read `relatives`).
    static func conllevalOrCI(_ relatives: String...) -> Bool {
        isCI || (conllevalPath != nil && perlPath != nil && relatives.allSatisfy { sharedFile($0) != nil })
    }

    /// The path of the shared input `relative`; records a failure and throws when it is missing.
    static func requireShared(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(
            sharedFile(relative),
            "\(relative) is not under ../shared nor /work/shared (with CI=true a missing input fails the test)",
            sourceLocation: sourceLocation)
    }

    /// conlleval.pl, after checking that perl is there too; records a failure and throws otherwise.
    static func requireConlleval(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        _ = try #require(perlPath, "perl is not on PATH (with CI=true a missing tool fails the test)", sourceLocation: sourceLocation)
        return try requireShared(conlleval, sourceLocation: sourceLocation)
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The DissectError thrown by `body`, or nil.
    static func dissectError(_ body: () throws -> Void) -> DissectError? {
        do {
            try body()
            return nil
        } catch let error as DissectError {
            return error
        } catch {
            return nil
        }
    }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "dissect-corpus-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
