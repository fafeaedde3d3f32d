import Testing
@testable import DissectReport
