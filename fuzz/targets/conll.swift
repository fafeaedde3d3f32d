// libFuzzer target: CoNLLReader.parse on arbitrary bytes and tag columns.
// Built by tools/fuzz.sh; every input must parse or throw a DissectError.
@testable import DissectFuzzLib

/// A first byte below 0x20 (other than tab, LF, CR) picks the tag column and
/// is not part of the text: 0 → Int.max, 1 → Int.min, 2 → 0, n → n − 2.
func tagColumn(_ bytes: inout [UInt8]) -> Int? {
    guard let first = bytes.first, first < 0x20, first != 0x09, first != 0x0A, first != 0x0D else { return nil }
    bytes.removeFirst()
    switch first {
    case 0: return Int.max
    case 1: return Int.min
    default: return Int(first) - 2
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let column = tagColumn(&bytes)
    do {
        let corpus = try CoNLLReader.parse(bytes, path: "fuzz.conll", tagColumn: column)
        precondition(!corpus.sentences.isEmpty)
        for sentence in corpus.sentences {
            precondition(!sentence.words.isEmpty && sentence.words.count == sentence.labels.count)
            precondition(sentence.line >= 1)
        }
    } catch let error as DissectError {
        precondition(error.file == "fuzz.conll" && !error.problem.isEmpty && !error.fix.isEmpty)
    } catch {
        fatalError("CoNLLReader threw a non-DissectError: \(error)")
    }
    return 0
}
