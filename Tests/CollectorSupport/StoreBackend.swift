import Foundation
import LeakCollector
import LeakTestSupport
import Logging

/// The two stores, for suites that run the same tests against each (`@Test(arguments: StoreBackend.allCases)`).
public enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    /// How Swift Testing names the case.
    public var description: String { rawValue }

    /// A fresh, empty store of this backend: a file in a new directory, or a new database on the
    /// shared throwaway cluster (`TemporaryPostgres`).
    public func location() async throws -> TestStoreLocation {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            return TestStoreLocation(storeLocation: .sqlite, dataDirectory: directory.path + "/data", directory: directory)
        case .postgres:
            let url = try await TemporaryPostgres.shared.database()
            let directory = try TemporaryDirectory()
            return TestStoreLocation(
                storeLocation: try StoreLocation(parsing: url), dataDirectory: directory.path + "/data", directory: directory)
        }
    }

    /// Opens a fresh store of this backend; `use` closes it and removes its directory.
    public func open(_ configuration: StoreConfiguration = .init(), logger: Logger = Logger(label: "test")) async throws -> TestStore {
        let location = try await location()
        var collectorConfiguration = CollectorConfiguration()
        collectorConfiguration.storeLocation = location.storeLocation
        collectorConfiguration.dataDirectory = location.dataDirectory
        collectorConfiguration.store = configuration
        try FileManager.default.createDirectory(atPath: location.dataDirectory, withIntermediateDirectories: true)
        // Opening runs the migrations, on PostgreSQL behind an advisory lock: off the concurrency
        // pool (see `blocking`), as is every blocking store call of the tests.
        let configured = collectorConfiguration
        let store = try await blocking { try openStore(configured, logger: logger) }
        return TestStore(store: store, location: location)
    }
}


/// Where a test's store lives.
public struct TestStoreLocation: Sendable {
    public var storeLocation: StoreLocation
    public var dataDirectory: String
    public var directory: TemporaryDirectory
}

/// A store opened by `StoreBackend.open`.
public struct TestStore: Sendable {
    public let store: any FleetStore
    public let location: TestStoreLocation

    /// Runs `body`, then closes the store and removes its directory, also when `body` throws.
    public func use<Result>(_ body: (any FleetStore) async throws -> Result) async throws -> Result {
        defer {
            try? store.close()
            location.directory.remove()
        }
        return try await body(store)
    }

    /// `use` for a body that only makes blocking store calls: it runs on a thread of its own, so
    /// that a slow database holds none of the concurrency pool's threads, which every test shares.
    public func use<Result: Sendable>(_ body: @escaping @Sendable (any FleetStore) throws -> Result) async throws -> Result {
        defer {
            try? store.close()
            location.directory.remove()
        }
        let store = store
        return try await blocking { try body(store) }
    }
}
