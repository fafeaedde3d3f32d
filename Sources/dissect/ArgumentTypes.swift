import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectModel
import Foundation

// The enum-valued options parse straight into the library's enums: a value
// outside the list is rejected by the parser, which names every allowed one.
extension CellKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension VocabularyRule: ExpressibleByArgument {}
extension AblationMode: ExpressibleByArgument {}
extension AblationValue: ExpressibleByArgument {}
extension Condition: ExpressibleByArgument {}

/// Checks that several commands' `validate()` share, each with the one message users see.
enum OptionChecks {
    /// `--tag-column` counts from 1.
    static func tagColumn(_ value: Int?) throws {
        if let value, value < 1 { throw ValidationError("--tag-column must be 1 or more (columns are counted from 1).") }
    }

    /// `--layer` counts from 1 at the bottom.
    static func layer(_ value: Int?) throws {
        if let value, value < 1 { throw ValidationError("--layer must be 1 or more (layers are counted from 1 at the bottom).") }
    }

    /// `--threads`: the cap on the threads one model's work uses (`Parallelism.threadLimit`).
    static func threads(_ value: Int) throws {
        guard (1...Parallelism.largestThreadLimit).contains(value) else {
            throw ValidationError("--threads must be from 1 to \(Parallelism.largestThreadLimit).")
        }
    }

    /// Refuses an output path that names the input file (after `.`, `..` and symbolic links are resolved).
    static func distinctFiles(input: String, output: String, message: String) throws {
        func resolved(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        if resolved(input) == resolved(output) { throw ValidationError(message) }
    }
}
