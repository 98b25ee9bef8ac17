import Foundation
import LeakCLI

// Thin on purpose: everything testable lives in LeakCLI (CollectorCLI.run).
let invocation = CollectorCLI.run(arguments: Array(CommandLine.arguments.dropFirst()), context: .process())
if !invocation.standardOutput.isEmpty {
    FileHandle.standardOutput.write(Data(invocation.standardOutput))
}
if !invocation.standardError.isEmpty {
    FileHandle.standardError.write(Data(invocation.standardError.utf8))
}
exit(invocation.exitCode)
