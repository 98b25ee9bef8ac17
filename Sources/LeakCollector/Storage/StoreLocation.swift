/// Which backend holds the collector's data: `sqlite` (the default: leakwatch.sqlite in the data
/// directory, one collector) or a PostgreSQL database several collectors share.
public enum StoreLocation: Sendable, Equatable {
    case sqlite
    case postgres(PostgresLocation)

    /// "sqlite", or a `postgres://USER@HOST[:PORT]/DATABASE` URL.
    public init(parsing text: String) throws {
        if text == "sqlite" {
            self = .sqlite
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url: text))
        } else {
            throw ConfigurationError(
                "store '\(text)' is neither 'sqlite' nor a postgres:// URL; e.g. --store postgres://leakwatch@db.example:5432/leakwatch")
        }
    }
}
