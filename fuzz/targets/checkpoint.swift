// libFuzzer target: model.json decoding and validation
// (Checkpoint.decodeMetadata, the JSON half of Checkpoint.load), then the
// parameter layout that load builds from the configuration.
// Built by tools/fuzz.sh; every input must decode or throw a DissectError.
import Foundation
@testable import DissectFuzzLib

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    do {
        let metadata = try Checkpoint.decodeMetadata(bytes, path: "fuzz/model.json")
        let layout = ParameterLayout(configuration: metadata.configuration)
        precondition(layout.totalCount >= 0)
    } catch let error as DissectError {
        precondition(error.file == "fuzz/model.json" && !error.problem.isEmpty && !error.fix.isEmpty)
    } catch {
        fatalError("Checkpoint.decodeMetadata threw a non-DissectError: \(error)")
    }
    return 0
}
