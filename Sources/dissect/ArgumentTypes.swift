import ArgumentParser
import DissectAnalysis
import DissectModel

// The enum-valued options parse straight into the library's enums: a value
// outside the list is rejected by the parser, which names every allowed one.
extension CellKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension VocabularyRule: ExpressibleByArgument {}
extension AblationMode: ExpressibleByArgument {}
extension AblationValue: ExpressibleByArgument {}
extension Condition: ExpressibleByArgument {}
