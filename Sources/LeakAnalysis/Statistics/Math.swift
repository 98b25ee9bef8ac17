#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few libm functions the statistics need, in one place so the rest of the target does not
/// depend on a platform module. `package`: the synthetic evaluation series draw through it too.
package enum Math {
    package static func sqrt(_ x: Double) -> Double { x.squareRoot() }
    package static func exp(_ x: Double) -> Double { Glibc_exp(x) }
    package static func log(_ x: Double) -> Double { Glibc_log(x) }
    package static func sin(_ x: Double) -> Double { Glibc_sin(x) }
    package static func cos(_ x: Double) -> Double { Glibc_cos(x) }
    package static func erfc(_ x: Double) -> Double { Glibc_erfc(x) }

    /// Upper tail of the standard normal distribution, P(Z > z).
    package static func normalUpperTail(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }
}

// Module-qualified wrappers: `exp` inside `enum Math` would otherwise resolve to the member.
@inline(__always) private func Glibc_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) private func Glibc_log(_ x: Double) -> Double { log(x) }
@inline(__always) private func Glibc_sin(_ x: Double) -> Double { sin(x) }
@inline(__always) private func Glibc_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) private func Glibc_erfc(_ x: Double) -> Double { erfc(x) }
