import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL database named as `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require]`
/// (`postgresql://` too). Without a password in the URL, PGPASSWORD from the environment is used,
/// so the password need not appear on a command line.
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// `sslmode=require`: TLS, with the server's certificate verified against the system's roots.
    public var requiresTLS: Bool

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String, requiresTLS: Bool = false) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.requiresTLS = requiresTLS
    }

    /// Parses a `postgres://` URL; throws a `ConfigurationError` saying what is missing.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let example = "postgres://leakwatch@db.example:5432/leakwatch"
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw ConfigurationError("store '\(text)' is not a postgres:// URL, e.g. \(example)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ConfigurationError("store URL '\(Self.redacted(text))' names no host, e.g. \(example)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ConfigurationError("store URL '\(Self.redacted(text))' names no user, e.g. \(example)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw ConfigurationError("store URL '\(Self.redacted(text))' names no database after the host, e.g. \(example)")
        }
        var requiresTLS = false
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "require"?): requiresTLS = true
            case ("sslmode", "disable"?): requiresTLS = false
            default:
                throw ConfigurationError(
                    "store URL parameter '\(item.name)=\(item.value ?? "")' is not understood; only sslmode=require or sslmode=disable is")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432, user: user,
            password: components.password ?? environment["PGPASSWORD"], database: database, requiresTLS: requiresTLS)
    }

    /// The URL without its password, for logs.
    public var description: String {
        "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)\(requiresTLS ? "?sslmode=require" : "")"
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = requiresTLS
            ? .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            : .disable
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    private static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "…"
        return components.string ?? text
    }
}
