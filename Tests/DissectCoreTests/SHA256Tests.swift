import Foundation
import Testing
@testable import DissectCore

/// SHA-256 against the NIST test vectors (FIPS 180-4 examples), in pieces of
/// every awkward size, and over files larger than one read chunk.
@Suite struct SHA256Tests {
    static let vectors: [(message: String, digest: String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]
    static let millionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    /// n × 'a' around the padding boundaries (55 bytes is the longest message
    /// whose padding fits one block), from Python's hashlib.
    static let boundaries: [(count: Int, digest: String)] = [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    ]

    @Test func nistVectors() {
        for vector in Self.vectors {
            #expect(SHA256.hash(Array(vector.message.utf8)) == vector.digest, "\"\(vector.message)\"")
        }
        #expect(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == Self.millionA)
    }

    @Test func paddingBoundaries() {
        for boundary in Self.boundaries {
            #expect(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: boundary.count)) == boundary.digest, "\(boundary.count) × a")
        }
    }

    @Test func digestIsThirtyTwoBytes() {
        #expect(SHA256().finalize().count == 32)
        #expect(SHA256().hexDigest().count == 64)
    }

    /// Fed in pieces of 1, 3, 63, 64, 65 … bytes, the digest is the one-shot one,
    /// including around the padding boundaries (55, 56, 63, 64 bytes of tail).
    @Test func piecesGiveTheSameDigest() {
        var rng = SplitMix64(seed: 5)
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let whole = SHA256.hash(bytes)
            for piece in [1, 3, 63, 64, 65, 200] {
                var hasher = SHA256()
                var start = 0
                while start < bytes.count {
                    let end = min(start + piece, bytes.count)
                    hasher.update(Array(bytes[start..<end]))
                    start = end
                }
                #expect(hasher.hexDigest() == whole, "length \(length), pieces of \(piece)")
            }
        }
        // The 448-bit message in two uneven pieces.
        var hasher = SHA256()
        hasher.update(Array("abcdbcdecdefdefgefghfghigh".utf8))
        hasher.update(Array("ijhijkijkljklmklmnlmnomnopnopq".utf8))
        #expect(hasher.hexDigest() == Self.vectors[2].digest)
    }

    @Test func fileHashStreamsInChunks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dissect-sha-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // One million 'a' (under one 1 MiB chunk) and 3 MiB + 5 bytes (four reads).
        let million = directory.appendingPathComponent("million-a")
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: million)
        #expect(try SHA256.hash(file: million.path) == Self.millionA)
        var rng = SplitMix64(seed: 9)
        let bytes = (0..<(3 << 20) + 5).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let large = directory.appendingPathComponent("large")
        try Data(bytes).write(to: large)
        #expect(try SHA256.hash(file: large.path) == SHA256.hash(bytes))
        let empty = directory.appendingPathComponent("empty")
        try Data().write(to: empty)
        #expect(try SHA256.hash(file: empty.path) == Self.vectors[0].digest)
    }

    @Test func unreadableFilesAreErrors() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("dissect-sha-missing-\(UUID().uuidString)").path
        #expect(throws: DissectError.self) { try SHA256.hash(file: missing) }
        do {
            _ = try SHA256.hash(file: missing)
        } catch let error as DissectError {
            #expect(error.kind == .input)
            #expect(error.description.hasPrefix(missing + ": the file does not exist"), "\(error)")
        }
        do {
            _ = try SHA256.hash(file: missing, what: "embeddings")
        } catch let error as DissectError {
            #expect(error.description.hasPrefix(missing + ": the embeddings file does not exist; check the path"), "\(error)")
        }
        #expect(throws: DissectError.self) { try SHA256.hash(file: FileManager.default.temporaryDirectory.path) }
    }
}
