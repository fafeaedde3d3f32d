// libFuzzer target: the `dissect import` mapping (ModelImport.decodeMapping), then
// ModelImport.checkpoint against a fixed tiny state dict (a 1-layer LSTM, hidden 2, 3 words, 2 labels).
// Built by tools/fuzz.sh; every input must give a checkpoint or throw a DissectError.
// Relative list files (`words_file`, …) resolve under fuzz/, where none exist; an absolute one is only read.
import Foundation
@testable import DissectFuzzLib

let state: [String: SafeTensors.Tensor] = {
    var tensors: [String: SafeTensors.Tensor] = [:]
    func add(_ name: String, _ shape: [Int]) {
        tensors[name] = SafeTensors.Tensor(name: name, shape: shape, values: [Float](repeating: 0.1, count: shape.reduce(1, *)))
    }
    add("embed.weight", [3, 2])
    add("encoder.weight_ih_l0", [8, 2]); add("encoder.weight_hh_l0", [8, 2])
    add("encoder.bias_ih_l0", [8]); add("encoder.bias_hh_l0", [8])
    add("proj.weight", [2, 2]); add("proj.bias", [2])
    add("crf.transitions", [4, 4])
    return tensors
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    do {
        let mapping = try ModelImport.decodeMapping(bytes, path: "fuzz/mapping.json")
        let checkpoint = try ModelImport.checkpoint(tensors: state, safetensorsPath: "fuzz/state.safetensors", mapping: mapping, mappingPath: "fuzz/mapping.json")
        precondition(checkpoint.model.parameters.count == checkpoint.model.layout.totalCount)
    } catch let error as DissectError {
        precondition(!error.problem.isEmpty && !error.fix.isEmpty)
    } catch {
        fatalError("the mapping reader threw a non-DissectError: \(error)")
    }
    return 0
}
