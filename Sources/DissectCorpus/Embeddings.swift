import DissectCore
import Foundation

/// Pre-trained word vectors read from a text file.
///
/// Formats: GloVe text (`word v1 ... vd` per line, space-separated) and
/// word2vec text, which is the same with a first header line `count dim`
/// (two integers) that is skipped. The dimension `d` comes from the first
/// vector line; every other line must have the same.
public struct Embeddings: Sendable {
    /// Numbers per vector, ≥ 1.
    public var dimension: Int
    /// Words in file order (duplicates removed).
    public var words: [String]
    /// Shape `[words.count, dimension]`, row-major: row `i` is `words[i]`'s vector.
    public var vectors: [Float]
    /// Word → row.
    public var index: [String: Int]
    /// How many lines repeated an earlier word; the first vector wins.
    public var duplicateCount: Int

    public init(dimension: Int, words: [String], vectors: [Float], index: [String: Int], duplicateCount: Int) {
        self.dimension = dimension
        self.words = words
        self.vectors = vectors
        self.index = index
        self.duplicateCount = duplicateCount
    }

    /// The vector of `word` (exact match), `dimension` numbers, or nil.
    public func vector(for word: String) -> ArraySlice<Float>? {
        guard let row = index[word] else { return nil }
        return vectors[(row * dimension)..<((row + 1) * dimension)]
    }

    /// Throws unless the vectors have `dimension` numbers, e.g. when a model's
    /// word-embedding size must match the pre-trained file.
    ///
    /// - Parameters:
    ///   - path: the embeddings file, for the message;
    ///   - flag: the option that set the expected dimension, named in the fix.
    public func requireDimension(_ expected: Int, path: String, flag: String) throws {
        if dimension != expected {
            throw DissectError(
                .input, file: path, line: 1,
                problem: "the vectors have \(dimension) numbers but \(expected) were asked for",
                fix: "set \(flag) \(dimension) or use embeddings of dimension \(expected)")
        }
    }

    /// Reads and parses the file at `path`; see `parse`.
    public static func read(path: String) throws -> Embeddings {
        let bytes = try FileBytes.read(path: path, what: "embeddings")
        return try parse(bytes, path: path)
    }

    /// Parses GloVe or word2vec text held in `bytes`; `path` is only used in messages.
    ///
    /// Numbers are parsed with C `strtof` straight from the bytes (no String per
    /// number), which is what makes a 23k × 50 file take a few tens of ms.
    ///
    /// - Throws: `DissectError` (.input) with the 1-based line for: invalid
    ///   UTF-8, a line of the wrong dimension, a field that is not a number,
    ///   NaN or infinity, a header whose dimension disagrees with the vectors,
    ///   and an empty file (or one with no vectors).
    public static func parse(_ bytes: [UInt8], path: String) throws -> Embeddings {
        // strtof needs NUL-terminated text; we own a copy with a final NUL and
        // temporarily write a NUL after each number (over its delimiter).
        var text = bytes
        text.append(0)
        return try text.withUnsafeMutableBufferPointer { buffer in
            try parseBuffer(buffer, count: bytes.count, path: path)
        }
    }

    private static func parseBuffer(
        _ buffer: UnsafeMutableBufferPointer<UInt8>, count: Int, path: String
    ) throws -> Embeddings {
        guard let base = buffer.baseAddress else {
            throw emptyError(path: path)
        }
        let readOnly = UnsafeBufferPointer(buffer)
        var dimension = -1
        var dimensionLine = 0
        var headerDimension: Int?
        var headerLine = 0
        var words: [String] = []
        var vectors: [Float] = []
        var index: [String: Int] = [:]
        var duplicateCount = 0
        var fieldStarts: [Int] = []
        var fieldEnds: [Int] = []
        var row: [Float] = []
        var sawContent = false

        var lineStart = 0
        var lineNumber = 0
        while lineStart < count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < count && buffer[lineEnd] != ByteText.newline { lineEnd += 1 }
            let nextLine = lineEnd + 1
            defer { lineStart = nextLine }

            fieldStarts.removeAll(keepingCapacity: true)
            fieldEnds.removeAll(keepingCapacity: true)
            var position = lineStart
            while position < lineEnd {
                while position < lineEnd && ByteText.isBlank(buffer[position]) { position += 1 }
                if position == lineEnd { break }
                let start = position
                while position < lineEnd && !ByteText.isBlank(buffer[position]) { position += 1 }
                fieldStarts.append(start)
                fieldEnds.append(position)
            }
            if fieldStarts.isEmpty { continue }   // blank lines carry nothing
            guard ByteText.isValidUTF8(readOnly, lineStart..<lineEnd) else {
                throw DissectError(
                    .input, file: path, line: lineNumber, problem: "the line is not valid UTF-8",
                    fix: "re-encode the embeddings file as UTF-8")
            }
            let isFirstContentLine = !sawContent
            sawContent = true

            // A word2vec header is the first line and is exactly two integers.
            if isFirstContentLine && fieldStarts.count == 2,
               let vocabularySize = integer(readOnly, fieldStarts[0]..<fieldEnds[0]),
               let headerValue = integer(readOnly, fieldStarts[1]..<fieldEnds[1]) {
                _ = vocabularySize
                headerDimension = headerValue
                headerLine = lineNumber
                continue
            }

            let numberCount = fieldStarts.count - 1
            if dimension < 0 {
                guard numberCount >= 1 else {
                    throw DissectError(
                        .input, file: path, line: lineNumber,
                        problem: "the line has a word but no numbers",
                        fix: "write each vector as `word v1 ... vd` separated by spaces")
                }
                if let headerDimension, headerDimension != numberCount {
                    throw DissectError(
                        .input, file: path, line: lineNumber,
                        problem: "the vector has \(numberCount) numbers but the header (line \(headerLine)) "
                            + "says \(headerDimension)",
                        fix: "make the header `count dim` agree with the vectors")
                }
                dimension = numberCount
                dimensionLine = lineNumber
            } else if numberCount != dimension {
                throw DissectError(
                    .input, file: path, line: lineNumber,
                    problem: "the vector has \(numberCount) numbers but line \(dimensionLine) has \(dimension)",
                    fix: "give every vector the same dimension")
            }

            row.removeAll(keepingCapacity: true)
            for field in 1...numberCount {
                let start = fieldStarts[field]
                let end = fieldEnds[field]
                // Terminate the field for strtof, then restore the delimiter.
                let saved = buffer[end]
                buffer[end] = 0
                var stop: UnsafeMutablePointer<CChar>?
                let pointer = UnsafeMutableRawPointer(base + start).assumingMemoryBound(to: CChar.self)
                let value = strtof(pointer, &stop)
                buffer[end] = saved
                let consumed = stop.map { UnsafeMutableRawPointer($0) - UnsafeMutableRawPointer(base) } ?? start
                if consumed != end {
                    let shown = ByteText.string(readOnly, start..<end)
                    throw DissectError(
                        .input, file: path, line: lineNumber,
                        problem: "field \(field + 1) (`\(shown)`) is not a number",
                        fix: "write each vector as `word v1 ... vd` with decimal numbers")
                }
                if !value.isFinite {
                    let shown = ByteText.string(readOnly, start..<end)
                    throw DissectError(
                        .input, file: path, line: lineNumber,
                        problem: "field \(field + 1) (`\(shown)`) is NaN or infinite (or overflows Float)",
                        fix: "remove or repair the vector; embeddings must be finite numbers")
                }
                row.append(value)
            }
            let word = ByteText.string(readOnly, fieldStarts[0]..<fieldEnds[0])
            if index[word] != nil {
                duplicateCount += 1
                continue
            }
            index[word] = words.count
            words.append(word)
            vectors.append(contentsOf: row)
        }

        if !sawContent { throw emptyError(path: path) }
        if words.isEmpty {
            throw DissectError(
                .input, file: path, line: max(lineNumber, 1), problem: "the file holds no vectors (only a header)",
                fix: "give a GloVe or word2vec text file with `word v1 ... vd` lines")
        }
        return Embeddings(
            dimension: dimension, words: words, vectors: vectors, index: index, duplicateCount: duplicateCount)
    }

    private static func emptyError(path: String) -> DissectError {
        DissectError(
            .input, file: path, line: 1, problem: "the embeddings file is empty",
            fix: "give a GloVe or word2vec text file with `word v1 ... vd` lines")
    }

    /// A non-negative decimal integer spelled by `bytes[range]`, or nil.
    private static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for index in range {
            let byte = bytes[index]
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}
