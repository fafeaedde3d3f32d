import DissectCore
import Foundation

/// The safetensors format: an 8-byte little-endian header length N, N bytes
/// of JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`,
/// then the raw little-endian tensor bytes (offsets relative to the data start).
public enum SafeTensors {
    public struct Tensor: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]

        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Serialises float32 tensors in the given order. The header is padded
    /// with spaces so the data starts 8-byte aligned, as the reference writer does.
    public static func encode(_ tensors: [Tensor], metadata: [String: String] = [:]) -> Data {
        var data = header(tensors.map { ($0.name, $0.shape, $0.values.count) }, metadata: metadata)
        for tensor in tensors { tensor.values.withUnsafeBufferPointer { append($0, to: &data) } }
        return data
    }

    /// The same for tensors that are slices of one flat buffer, `values[ranges[i]]` named `names[i]` with
    /// shape `shapes[i]`, written straight from the buffer (a checkpoint's parameters are not copied first).
    public static func encode(
        names: [String], shapes: [[Int]], ranges: [Range<Int>], of values: [Float], metadata: [String: String] = [:]
    ) -> Data {
        precondition(names.count == shapes.count && names.count == ranges.count, "one name, shape and range per tensor")
        var data = header(zip(names, zip(shapes, ranges)).map { ($0, $1.0, $1.1.count) }, metadata: metadata)
        values.withUnsafeBufferPointer { buffer in
            for range in ranges { append(UnsafeBufferPointer(rebasing: buffer[range]), to: &data) }
        }
        return data
    }

    /// The length, the JSON header and its padding, with room reserved for the data.
    private static func header(_ entries: [(name: String, shape: [Int], count: Int)], metadata: [String: String]) -> Data {
        var header = "{"
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            header += "\"__metadata__\":{\(pairs.joined(separator: ","))},"
        }
        var offset = 0
        var lines: [String] = []
        for entry in entries {
            let bytes = entry.count * 4
            let shape = entry.shape.map(String.init).joined(separator: ",")
            lines.append("\(jsonString(entry.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += lines.joined(separator: ",") + "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var data = Data()
        data.reserveCapacity(8 + header.utf8.count + offset)
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        return data
    }

    /// Appends floats as little-endian bytes: one copy on a little-endian machine.
    private static func append(_ values: UnsafeBufferPointer<Float>, to data: inout Data) {
        #if _endian(little)
        data.append(contentsOf: UnsafeRawBufferPointer(values))
        #else
        for value in values {
            var bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
        }
        #endif
    }

    /// Parses a safetensors file, checking every length and offset; only F32 tensors are accepted.
    public static func decode(_ data: Data, path: String) throws -> [String: Tensor] {
        func failure(_ problem: String) -> DissectError {
            DissectError(file: path, problem: problem, fix: "write the checkpoint again with `dissect train`, or check the file was copied whole")
        }
        guard data.count >= 8 else { throw failure("the file is \(data.count) bytes, too short for a safetensors header") }
        let bytes = [UInt8](data)
        var length: UInt64 = 0
        for index in 0..<8 { length |= UInt64(bytes[index]) << (8 * UInt64(index)) }
        guard length <= UInt64(bytes.count - 8) else {
            throw failure("the header length \(length) runs past the end of the \(bytes.count)-byte file")
        }
        let headerEnd = 8 + Int(length)
        let headerData = Data(bytes[8..<headerEnd])
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw failure("the header is not a JSON object")
        }
        let dataSize = bytes.count - headerEnd
        var tensors: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int],
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw failure("tensor \(name) has no valid dtype, shape and data_offsets") }
            guard dtype == "F32" else { throw failure("tensor \(name) has dtype \(dtype); dissect reads F32 only") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw failure("tensor \(name) has a negative dimension") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw failure("tensor \(name) has data offsets \(offsets) outside the \(dataSize)-byte data section")
            }
            // The element count and its byte size must not overflow: a shape
            // whose product wraps around could otherwise match the offsets.
            var count = 1
            var overflow = false
            for dimension in shape.contains(0) ? [0] : shape {
                let product = count.multipliedReportingOverflow(by: dimension)
                overflow = overflow || product.overflow
                count = product.partialValue
            }
            let byteCount = count.multipliedReportingOverflow(by: 4)
            guard !overflow, !byteCount.overflow else {
                throw failure("tensor \(name) has shape \(shape), whose size overflows (it cannot fit in the file)")
            }
            guard offsets[1] - offsets[0] == byteCount.partialValue else {
                throw failure("tensor \(name) has \(offsets[1] - offsets[0]) bytes for shape \(shape)")
            }
            var values = [Float](repeating: 0, count: count)
            let start = headerEnd + offsets[0]
            bytes.withUnsafeBytes { raw in
                values.withUnsafeMutableBytes { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * 4)]))
                }
            }
            // The data is little-endian; swap on a big-endian host.
            if UInt32(1).littleEndian != 1 {
                for index in 0..<count { values[index] = Float(bitPattern: UInt32(littleEndian: values[index].bitPattern)) }
            }
            tensors[name] = Tensor(name: name, shape: shape, values: values)
        }
        return tensors
    }

    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
