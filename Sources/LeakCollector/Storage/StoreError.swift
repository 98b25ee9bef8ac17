/// A store operation failed for a reason other than the database itself.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Code: Equatable, Sendable {
        case unknownStack
        case closed
    }
    private let code: Code

    /// A site referred to a stack whose frames were never sent.
    public static let unknownStack = StoreError(code: .unknownStack)
    /// The store was closed.
    public static let closed = StoreError(code: .closed)

    public var description: String {
        switch code {
        case .unknownStack: "a site refers to a stack whose frames were never sent on this connection; send the stack definition first"
        case .closed: "the store is closed"
        }
    }
}
