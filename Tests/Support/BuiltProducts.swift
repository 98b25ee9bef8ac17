import Foundation

/// The executables and libraries `swift build --build-tests` put beside the test bundle.
public enum BuiltProducts {
    /// The directory of the running test bundle, which is the build's products directory.
    public static let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}
