import DissectCore

/// One sentence of a CoNLL file: its words and their labels (same length).
public struct Sentence: Sendable, Equatable {
    public var words: [String]
    public var labels: [String]
    /// 1-based line of the sentence's first token in its file.
    public var line: Int

    public init(words: [String], labels: [String], line: Int) {
        self.words = words
        self.labels = labels
        self.line = line
    }
}

/// A whole CoNLL file.
public struct Corpus: Sendable {
    public var path: String
    public var sentences: [Sentence]
    /// Total number of tokens over all sentences.
    public var tokenCount: Int
    /// Every label that occurs, sorted and unique.
    public var labelSet: [String]
    /// Lines that end in CR LF (Windows line ends); they are read like LF lines.
    public var crlfLineCount: Int
    /// The first such line (1-based), for the warning.
    public var firstCRLFLine: Int?
    /// Columns of every token line (0 for a corpus not read from a file).
    public var columnCount = 0

    public init(path: String, sentences: [Sentence], crlfLineCount: Int = 0, firstCRLFLine: Int? = nil) {
        self.path = path
        self.sentences = sentences
        self.crlfLineCount = crlfLineCount
        self.firstCRLFLine = firstCRLFLine
        tokenCount = sentences.reduce(0) { $0 + $1.words.count }
        labelSet = Array(Set(sentences.flatMap(\.labels))).sorted()
    }
}

/// Reads CoNLL column files such as CoNLL-2003 (`word POS chunk NER`).
///
/// Format rules:
/// - one token per line; columns are separated by runs of spaces and/or tabs;
///   leading and trailing whitespace (and a CR before the LF) is ignored;
/// - the word is the first column, the label the last column, or column
///   `tagColumn` (1-based) when given;
/// - blank or whitespace-only lines end a sentence (several in a row are fine);
/// - a line whose first column is `-DOCSTART-` is skipped and also ends a sentence;
/// - every token line must have as many columns as the file's first token line.
public enum CoNLLReader {
    /// The marker line CoNLL-2003 puts at the start of each document.
    static let documentStart: [UInt8] = Array("-DOCSTART-".utf8)

    /// Reads and parses the file at `path`; see `parse` for the rules.
    ///
    /// - Throws: `DissectError` (.input) naming the file (and line) for a missing
    ///   or unreadable file and for every format error `parse` reports.
    public static func read(path: String, tagColumn: Int? = nil) throws -> Corpus {
        let bytes = try FileBytes.read(path: path, what: "CoNLL data")
        return try parse(bytes, path: path, tagColumn: tagColumn)
    }

    /// The most bytes of token lines one sentence may span: its tokens and
    /// characters (never more than its bytes) are indexed with 32-bit offsets.
    public static let maximumSentenceBytes = Int(Int32.max) - 1

    /// Parses CoNLL text held in `bytes`; `path` is only used in messages.
    ///
    /// - Throws: `DissectError` (.input) with the 1-based line for: invalid
    ///   UTF-8, a token line with one column (no label), `tagColumn` out of range
    ///   for a line, a token line whose column count differs from the first
    ///   token line, a sentence whose token lines span more than
    ///   `maximumSentenceBytes` bytes, and an empty file or one without any sentence.
    public static func parse(
        _ bytes: [UInt8], path: String, tagColumn: Int? = nil, maximumSentenceBytes: Int = maximumSentenceBytes
    ) throws -> Corpus {
        if let tagColumn, tagColumn < 1 {
            throw DissectError(
                .usage, file: path,
                problem: "the tag column \(tagColumn) is not a column number (columns are counted from 1)",
                fix: "give a tag column of 1 or more, or leave it out to use the last column")
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            try parseBuffer(buffer, path: path, tagColumn: tagColumn, maximumSentenceBytes: maximumSentenceBytes)
        }
    }

    private static func parseBuffer(
        _ bytes: UnsafeBufferPointer<UInt8>, path: String, tagColumn: Int?, maximumSentenceBytes: Int
    ) throws -> Corpus {
        var sentences: [Sentence] = []
        var words: [String] = []
        var labels: [String] = []
        var sentenceLine = 0
        var sentenceBytes = 0
        var expectedColumns = -1       // set by the first token line
        var expectedColumnsLine = 0
        var sawContent = false
        var crlfLineCount = 0
        var firstCRLFLine: Int?
        // Column boundaries of the current line, reused to avoid allocation.
        var columnStarts: [Int] = []
        var columnEnds: [Int] = []
        columnStarts.reserveCapacity(8)
        columnEnds.reserveCapacity(8)

        func finishSentence() {
            if !words.isEmpty {
                sentences.append(Sentence(words: words, labels: labels, line: sentenceLine))
                // Fresh arrays, not removeAll(keepingCapacity:): the stored sentence keeps
                // its own buffer, which would otherwise carry the longest sentence's capacity.
                words = []
                labels = []
            }
        }

        let count = bytes.count
        var lineStart = 0
        var lineNumber = 0
        while lineStart < count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < count && bytes[lineEnd] != ByteText.newline { lineEnd += 1 }
            let nextLine = lineEnd + 1
            if lineEnd > lineStart && bytes[lineEnd - 1] == ByteText.carriageReturn {
                crlfLineCount += 1
                if firstCRLFLine == nil { firstCRLFLine = lineNumber }
            }

            // Split into columns on runs of spaces/tabs; CR counts as blank so CRLF works.
            columnStarts.removeAll(keepingCapacity: true)
            columnEnds.removeAll(keepingCapacity: true)
            var position = lineStart
            while position < lineEnd {
                while position < lineEnd && ByteText.isBlank(bytes[position]) { position += 1 }
                if position == lineEnd { break }
                let start = position
                while position < lineEnd && !ByteText.isBlank(bytes[position]) { position += 1 }
                columnStarts.append(start)
                columnEnds.append(position)
            }
            if columnStarts.isEmpty {
                finishSentence()
                lineStart = nextLine
                continue
            }
            sawContent = true
            guard ByteText.isValidUTF8(bytes, lineStart..<lineEnd) else {
                throw DissectError(
                    .input, file: path, line: lineNumber, problem: "the line is not valid UTF-8",
                    fix: "re-encode the file as UTF-8")
            }
            let firstColumn = columnStarts[0]..<columnEnds[0]
            if isDocumentStart(bytes, firstColumn) {
                finishSentence()
                lineStart = nextLine
                continue
            }
            let columnCount = columnStarts.count
            if columnCount < 2 {
                throw DissectError(
                    .input, file: path, line: lineNumber,
                    problem: "the token line has a single column, so it has no label",
                    fix: "write `word ... label` with the columns separated by spaces or tabs")
            }
            if expectedColumns < 0 {
                expectedColumns = columnCount
                expectedColumnsLine = lineNumber
            } else if columnCount != expectedColumns {
                throw DissectError(
                    .input, file: path, line: lineNumber,
                    problem: "the line has \(columnCount) columns but the first token line "
                        + "(line \(expectedColumnsLine)) has \(expectedColumns)",
                    fix: "give every token line the same number of columns")
            }
            let labelIndex: Int
            if let tagColumn {
                guard tagColumn <= columnCount else {
                    throw DissectError(
                        .input, file: path, line: lineNumber,
                        problem: "the tag column \(tagColumn) does not exist: the line has \(columnCount) columns",
                        fix: "choose a tag column between 1 and \(columnCount)")
                }
                labelIndex = tagColumn - 1
            } else {
                labelIndex = columnCount - 1
            }
            if words.isEmpty {
                sentenceLine = lineNumber
                sentenceBytes = 0
            }
            sentenceBytes += lineEnd - lineStart + 1
            if sentenceBytes > maximumSentenceBytes {
                throw DissectError(
                    .input, file: path, line: lineNumber,
                    problem: "the sentence that starts at line \(sentenceLine) runs past \(maximumSentenceBytes) bytes, "
                        + "more than dissect's 32-bit offsets allow",
                    fix: "end sentences with blank lines")
            }
            words.append(ByteText.string(bytes, firstColumn))
            // Labels are short, so these are small (allocation-free) Strings.
            labels.append(ByteText.string(bytes, columnStarts[labelIndex]..<columnEnds[labelIndex]))
            lineStart = nextLine
        }
        finishSentence()

        if !sawContent {
            throw DissectError(
                .input, file: path, line: max(lineNumber, 1), problem: "the file is empty",
                fix: "give a CoNLL file with `word ... label` lines and blank lines between sentences")
        }
        if sentences.isEmpty {
            throw DissectError(
                .input, file: path, line: lineNumber, problem: "the file holds no sentences (only -DOCSTART- lines)",
                fix: "give a CoNLL file with `word ... label` token lines")
        }
        var corpus = Corpus(path: path, sentences: sentences, crlfLineCount: crlfLineCount, firstCRLFLine: firstCRLFLine)
        corpus.columnCount = expectedColumns
        return corpus
    }

    @inline(__always)
    private static func isDocumentStart(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count == documentStart.count else { return false }
        var offset = 0
        for index in range {
            if bytes[index] != documentStart[offset] { return false }
            offset += 1
        }
        return true
    }
}
