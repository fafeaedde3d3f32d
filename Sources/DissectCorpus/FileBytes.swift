import DissectCore
import Foundation

/// Whole-file reads shared by the corpus and embeddings readers. Files are
/// read into memory once and parsed from bytes, which is what keeps reading
/// CoNLL-2003 and GloVe fast.
enum FileBytes {
    /// The bytes of the file at `path`.
    ///
    /// - Throws: `DissectError` (.input) when the file is missing, is a
    ///   directory or cannot be read; `what` names the kind of file in the fix.
    static func read(path: String, what: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DissectError(
                .input, file: path, problem: "the \(what) file does not exist",
                fix: "check the path given for the \(what) file (\(path))")
        }
        if isDirectory.boolValue {
            throw DissectError(
                .input, file: path, problem: "the \(what) path is a directory, not a file",
                fix: "give the path of the \(what) file itself")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DissectError(
                .input, file: path, problem: "the \(what) file cannot be read",
                fix: "check the permissions of \(path)")
        }
        return [UInt8](data)
    }
}

/// Byte-level helpers for line-oriented text formats.
enum ByteText {
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09

    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || byte == carriageReturn
    }

    /// Whether `bytes[range]` is valid UTF-8. ASCII lines (the common case)
    /// take the fast path and never build a String.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var allASCII = true
        for index in range where bytes[index] >= 0x80 {
            allASCII = false
            break
        }
        if allASCII { return true }
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        return String(validating: slice, as: UTF8.self) != nil
    }

    /// A String from bytes already known to be valid UTF-8.
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
