import DissectCore
import Foundation

/// The corpus-restricted GloVe file that training reads.
///
/// Training looks a word up as `normalizedWord(word, digitsToZero:)` (digits → 0
/// unless `--no-digit-normalization`) exactly, then lower-cased (`WordLookup`,
/// `initialWordVectors`). A GloVe line is kept when some word of the corpus
/// reaches it under either digit setting: its word is `w`, `w.lowercased()`,
/// `normalizeDigits(w)` or `normalizeDigits(w).lowercased()` for a corpus word `w`.
/// Every vector a corpus token can reach is then the same as in the full file.
public enum GloveSubset {
    /// The GloVe words some corpus word can reach.
    public static func neededWords(_ corpora: [Corpus]) -> Set<String> {
        var needed: Set<String> = []
        var seen: Set<String> = []
        for corpus in corpora {
            for sentence in corpus.sentences {
                for word in sentence.words where seen.insert(word).inserted {
                    let digits = normalizeDigits(word)
                    needed.insert(word)
                    needed.insert(word.lowercased())
                    needed.insert(digits)
                    needed.insert(digits.lowercased())
                }
            }
        }
        return needed
    }

    /// Filters GloVe text fed chunk by chunk: keeps each line (byte for byte,
    /// with its line end) whose first space-separated field is in `needed`, and
    /// checks that every vector line has `dimension` numbers (the first line's
    /// count when `dimension` is nil).
    public struct Filter {
        public let needed: Set<String>
        public let path: String
        public private(set) var dimension: Int?
        public private(set) var output: [UInt8] = []
        public private(set) var keptLines = 0
        public private(set) var readLines = 0
        private var carry: [UInt8] = []

        public init(needed: Set<String>, path: String, dimension: Int?) {
            self.needed = needed
            self.path = path
            self.dimension = dimension
        }

        public mutating func feed<C: Collection>(_ chunk: C) throws where C.Element == UInt8 {
            carry.append(contentsOf: chunk)
            guard let lastNewline = carry.lastIndex(of: ByteText.newline) else { return }
            try process(carry[..<(lastNewline + 1)])
            carry.removeSubrange(..<(lastNewline + 1))
        }

        public mutating func finish() throws {
            if !carry.isEmpty {
                carry.append(ByteText.newline)
                try process(carry[...])
                carry = []
            }
            if readLines == 0 {
                throw DissectError(.input, file: path, problem: "the GloVe file holds no vectors", fix: "give a GloVe text file (`word v1 ... vd` per line)")
            }
        }

        private mutating func process(_ bytes: ArraySlice<UInt8>) throws {
            var start = bytes.startIndex
            while start < bytes.endIndex {
                var end = start
                while bytes[end] != ByteText.newline { end += 1 }
                defer { start = end + 1 }
                var wordEnd = start
                while wordEnd < end && bytes[wordEnd] != ByteText.space { wordEnd += 1 }
                if wordEnd == start && end == start { continue }   // blank line
                readLines += 1
                // Numbers on the line: count the separators after the word.
                var numbers = 0
                var position = wordEnd
                while position < end {
                    while position < end && ByteText.isBlank(bytes[position]) { position += 1 }
                    if position == end { break }
                    numbers += 1
                    while position < end && !ByteText.isBlank(bytes[position]) { position += 1 }
                }
                if let dimension {
                    if numbers != dimension {
                        throw DissectError(
                            .input, file: path, line: readLines,
                            problem: "the vector has \(numbers) numbers but \(dimension) were expected",
                            fix: "give GloVe vectors of dimension \(dimension) (set --dimension to match the file)")
                    }
                } else {
                    guard numbers >= 1 else {
                        throw DissectError(.input, file: path, line: readLines, problem: "the line has a word but no numbers", fix: "give a GloVe text file (`word v1 ... vd` per line)")
                    }
                    dimension = numbers
                }
                let word = String(decoding: bytes[start..<wordEnd], as: UTF8.self)
                if needed.contains(word) {
                    output.append(contentsOf: bytes[start...end])
                    keptLines += 1
                }
            }
        }
    }

    /// The subset of the GloVe text file at `path`.
    public static func subset(textFile path: String, needed: Set<String>, dimension: Int?) throws -> Filter {
        var filter = Filter(needed: needed, path: path, dimension: dimension)
        try filter.feed(try FileBytes.read(path: path, what: "GloVe"))
        try filter.finish()
        return filter
    }

    /// The subset of member `member` of the zip archive at `path`, read with `unzip`.
    ///
    /// - Throws: `DissectError` (.input) when the archive is missing, `unzip`
    ///   is not installed, the archive cannot be listed or has no such member.
    public static func subset(zip path: String, member: String, needed: Set<String>, dimension: Int?,
                              unzip: String = "/usr/bin/unzip") throws -> Filter {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DissectError(.input, file: path, problem: "the GloVe archive does not exist", fix: "check the --from path; " + DataSources.sentence)
        }
        guard FileManager.default.isExecutableFile(atPath: unzip) else {
            throw DissectError(.input, file: path, problem: "cannot read the zip archive: \(unzip) is not installed",
                               fix: "install unzip (apt-get install unzip) or unzip \(member) yourself and pass --from \(member)")
        }
        let listing = try runUnzip(unzip, ["-Z1", path], path: path)
        let members = String(decoding: listing, as: UTF8.self).split(separator: "\n").map(String.init)
        guard members.contains(member) else {
            throw DissectError(.input, file: path, problem: "the archive has no member \(member) (it has \(members.prefix(6).joined(separator: ", ")))",
                               fix: "pass --dimension with one of the archive's sizes, or the glove.6B.zip from https://nlp.stanford.edu/projects/glove/")
        }
        var filter = Filter(needed: needed, path: path + ":" + member, dimension: dimension)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: unzip)
        process.arguments = ["-p", path, member]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DissectError(.input, file: path, problem: "cannot run \(unzip) (\(error.localizedDescription))", fix: "unzip \(member) yourself and pass --from \(member)")
        }
        let handle = pipe.fileHandleForReading
        var failure: Error?
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            if failure == nil {
                do { try filter.feed(chunk) } catch { failure = error; process.terminate() }
            }
        }
        process.waitUntilExit()
        if let failure { throw failure }
        guard process.terminationStatus == 0 else {
            throw DissectError(.input, file: path, problem: "unzip could not extract \(member) (exit \(process.terminationStatus))",
                               fix: "check that the archive is complete (download it again)")
        }
        try filter.finish()
        return filter
    }

    private static func runUnzip(_ unzip: String, _ arguments: [String], path: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: unzip)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DissectError(.input, file: path, problem: "cannot run \(unzip) (\(error.localizedDescription))", fix: "install unzip or extract the archive yourself")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DissectError(.input, file: path, problem: "the file is not a readable zip archive", fix: "download glove.6B.zip again from https://nlp.stanford.edu/projects/glove/")
        }
        return data
    }
}
