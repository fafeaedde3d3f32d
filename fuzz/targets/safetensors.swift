// libFuzzer target: SafeTensors.decode on arbitrary bytes.
// Built by tools/fuzz.sh; every input must decode or throw a DissectError.
import Foundation
@testable import DissectFuzzLib

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    do {
        let tensors = try SafeTensors.decode(bytes, path: "fuzz.safetensors")
        for (name, tensor) in tensors {
            precondition(tensor.name == name)
            precondition(tensor.shape.reduce(1, *) == tensor.values.count)
            precondition(tensor.values.count * 4 <= size)
        }
    } catch let error as DissectError {
        precondition(error.file == "fuzz.safetensors" && !error.problem.isEmpty && !error.fix.isEmpty)
    } catch {
        fatalError("SafeTensors.decode threw a non-DissectError: \(error)")
    }
    return 0
}
