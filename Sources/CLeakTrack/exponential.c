// log and expm1 for the sampler, to double precision, so that the preload library needs no libm:
// loading libm into every process that execs (a shell loop, make) cost 20,000 of the 46,000
// instructions the unconfigured agent added to /bin/true (callgrind), and about a tenth of its
// wall time. Only the sampler's two uses need them: a gap drawn once per sample, a weight once per
// sample, so a few dozen multiplications each is nothing.
#include <stdint.h>
#include <string.h>

#include "lt_internal.h"

#define LN2 0.693147180559945309417232121458176568

static uint64_t bits_of(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static double double_of(uint64_t bits) {
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

double lt_log(double x) {
    if (x == 0) return -__builtin_inf();
    if (!(x > 0) || x > 1.7976931348623157e308) return x > 0 ? x : __builtin_nan(""); // +inf; NaN, negative
    // x = m * 2^e with m in [sqrt(1/2), sqrt(2)): log x = e ln 2 + log m, and log m =
    // 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) with s = (m - 1) / (m + 1), |s| < 0.172.
    int e = 0;
    if (x < 2.2250738585072014e-308) { // subnormal: scale into the normal range first
        x *= 18014398509481984.0;      // 2^54
        e = -54;
    }
    uint64_t bits = bits_of(x);
    e += (int)((bits >> 52) & 0x7ff) - 1023;
    double m = double_of((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull); // [1, 2)
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e += 1;
    }
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s;
    // s^2 < 0.0295: the 11 terms to s^21 leave under 1e-17.
    double series = 1.0 / 21;
    for (int k = 19; k >= 1; k -= 2) series = 1.0 / k + s2 * series;
    return (double)e * LN2 + 2.0 * s * series;
}

/// e^r for |r| <= ln2 / 2, by its Taylor series (the terms to r^14 leave under 1e-17).
static double exp_reduced(double r) {
    double sum = 1.0;
    for (int k = 14; k >= 1; k--) sum = 1.0 + sum * r / k;
    return sum;
}

double lt_expm1(double x) {
    if (x != x) return x;
    if (x > 709.0) return __builtin_inf();
    if (x < -40.0) return -1.0; // e^x below half an ulp of 1
    if (x > -0.5 && x < 0.5) {
        // Directly, without the cancellation of e^x - 1: the terms to x^17 leave under 1e-17.
        double sum = 1.0;
        for (int k = 17; k >= 2; k--) sum = 1.0 + sum * x / k;
        return x * sum;
    }
    // e^x = 2^k e^r with r = x - k ln 2; 2^k built from its exponent bits (-58 <= k <= 1023).
    double k = (double)(int64_t)(x / LN2 + (x < 0 ? -0.5 : 0.5)); // rounded: no libm round()
    double power = double_of((uint64_t)((int64_t)k + 1023) << 52);
    return power * exp_reduced(x - k * LN2) - 1.0;
}
