/// The single error type that reaches the user: one line
/// `<file>:<line>: <what is wrong>; <how to fix it>`.
public struct DissectError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Bad input (a file, a checkpoint): exit code 1.
        case input
        /// Bad usage (flags): exit code 2.
        case usage
        /// Stopped by SIGINT or SIGTERM: exit code 130.
        case interrupted
    }

    public var kind: Kind
    public var file: String?
    public var line: Int?
    public var problem: String
    public var fix: String

    public init(_ kind: Kind = .input, file: String? = nil, line: Int? = nil, problem: String, fix: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        var prefix = ""
        if let file {
            prefix = file
            if let line { prefix += ":\(line)" }
            prefix += ": "
        }
        return "\(prefix)\(problem); \(fix)"
    }
}
