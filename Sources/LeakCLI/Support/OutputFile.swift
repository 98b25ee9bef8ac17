import Foundation

/// `--output PATH`: a command's output written to a file instead of standard output.
enum OutputFile {
    /// Writes `bytes` to `path`, relative to the context's directory unless absolute.
    static func write(_ bytes: [UInt8], to path: String, context: CLIContext) throws {
        let absolute = path.hasPrefix("/") ? path : context.currentDirectory + "/" + path
        guard FileManager.default.createFile(atPath: absolute, contents: Data(bytes)) else {
            throw CLIError.outputFailed.with("cannot write \(absolute): check that its directory exists and is writable")
        }
    }
}
