/// A sentence as indices into a tagger's vocabularies.
public struct EncodedSentence: Sendable, Equatable {
    /// Word-vocabulary index of each token.
    public var words: [Int32]
    /// `words.count + 1` offsets into `chars`: word t's characters are
    /// `chars[charStarts[t] ..< charStarts[t + 1]]` (at least one each).
    public var charStarts: [Int32]
    /// Char-vocabulary indices of every token's characters, concatenated.
    public var chars: [Int32]
    /// Label index of each token; −1 for a label the model does not know
    /// (it never counts as correct and is left out of the loss).
    public var labels: [Int32]

    public init(words: [Int32], charStarts: [Int32], chars: [Int32], labels: [Int32]) {
        self.words = words
        self.charStarts = charStarts
        self.chars = chars
        self.labels = labels
    }

    /// Builds the char offsets from one char list per word.
    public init(words: [Int32], characters: [[Int32]], labels: [Int32]) {
        self.words = words
        self.labels = labels
        var starts: [Int32] = [0]
        var flat: [Int32] = []
        for word in characters {
            flat.append(contentsOf: word)
            starts.append(Int32(flat.count))
        }
        charStarts = starts
        chars = flat
    }

    public var count: Int { words.count }
}
