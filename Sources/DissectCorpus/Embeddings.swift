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
                if let value = exactShortDecimal(readOnly, start..<end) {
                    row.append(value)
                    continue
                }
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

    /// Powers of ten that are exact in Float (5^10 < 2^24).
    private static let floatPowersOfTen: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    /// The Float spelled by `bytes[range]` when it is a plain decimal
    /// `[+-]digits[.digits][(e|E)[+-]digits]` whose digits form an integer
    /// m < 2^24 scaled by 10^k with |k| ≤ 10; nil otherwise (strtof decides then).
    ///
    /// Clinger's fast path: m and 10^|k| are exact in Float, so the single
    /// IEEE multiply or divide m·10^k is correctly rounded, i.e. the same
    /// Float that strtof and Float(String) give. GloVe numbers (≤ 7
    /// significant digits) nearly all take this path, which is several
    /// times faster than strtof.
    @inline(__always)
    static func exactShortDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Float? {
        var position = range.lowerBound
        let end = range.upperBound
        var negative = false
        if position < end && (bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+")) {
            negative = bytes[position] == UInt8(ascii: "-")
            position += 1
        }
        var mantissa: UInt32 = 0
        var digitCount = 0
        var exponent = 0
        while position < end, case let digit = bytes[position] &- 0x30, digit < 10 {
            mantissa = mantissa &* 10 &+ UInt32(digit)
            if mantissa >= 1 << 24 { return nil }
            digitCount += 1
            position += 1
        }
        if position < end && bytes[position] == UInt8(ascii: ".") {
            position += 1
            while position < end, case let digit = bytes[position] &- 0x30, digit < 10 {
                mantissa = mantissa &* 10 &+ UInt32(digit)
                if mantissa >= 1 << 24 { return nil }
                digitCount += 1
                exponent -= 1
                position += 1
            }
        }
        if digitCount == 0 { return nil }
        if position < end && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
            position += 1
            var exponentNegative = false
            if position < end && (bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+")) {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            var written = 0
            var exponentDigits = 0
            while position < end, case let digit = bytes[position] &- 0x30, digit < 10 {
                written = written * 10 + Int(digit)
                if written > 1000 { return nil }
                exponentDigits += 1
                position += 1
            }
            if exponentDigits == 0 { return nil }
            exponent += exponentNegative ? -written : written
        }
        if position != end || exponent < -10 || exponent > 10 { return nil }
        var value = Float(mantissa)
        if exponent > 0 { value *= floatPowersOfTen[exponent] }
        if exponent < 0 { value /= floatPowersOfTen[-exponent] }
        return negative ? -value : value
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
