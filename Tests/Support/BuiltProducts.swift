import Foundation

/// The executables and libraries `swift build --build-tests` put beside the test bundle.
public enum BuiltProducts {
    /// The directory of the running test bundle, which is the build's products directory.
    public static let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The executable `name`, or a failure that says how to build it.
    public static func executable(_ name: String) throws -> URL {
        let url = url(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw TestFailure("\(name) is not built in \(directory.path): run `swift build --build-tests` (it builds every product)")
        }
        return url
    }
}
