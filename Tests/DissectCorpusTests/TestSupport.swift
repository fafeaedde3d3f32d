import DissectCore
import Foundation

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

    static var conllevalPath: String? { sharedFile("tools/conlleval.pl") }

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
