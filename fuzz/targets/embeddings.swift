// libFuzzer target: Embeddings.parse (GloVe / word2vec text) on arbitrary bytes.
// Built by tools/fuzz.sh; every input must parse or throw a DissectError.
@testable import DissectFuzzLib

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let embeddings = try Embeddings.parse(bytes, path: "fuzz.txt")
        precondition(embeddings.dimension >= 1 && !embeddings.words.isEmpty)
        precondition(embeddings.vectors.count == embeddings.words.count * embeddings.dimension)
        precondition(embeddings.index.count == embeddings.words.count)
        for word in embeddings.words {
            precondition(embeddings.vector(for: word)?.count == embeddings.dimension)
        }
        precondition(embeddings.vectors.allSatisfy(\.isFinite))
    } catch let error as DissectError {
        precondition(error.file == "fuzz.txt" && !error.problem.isEmpty && !error.fix.isEmpty)
    } catch {
        fatalError("Embeddings.parse threw a non-DissectError: \(error)")
    }
    return 0
}
