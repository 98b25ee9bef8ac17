// Byte-interval sampling: the gap to the next sampled byte is exponentially distributed with
// mean T, so every byte has the same chance 1/T of being the sampled one and a block of s bytes
// is sampled with probability 1 - exp(-s/T). T = 1 records every allocation, T = 0 none.
#include <stdlib.h>

#include "lt_internal.h"

#define DEFAULT_SAMPLE_MEAN_BYTES (512 * 1024)

_Atomic uint64_t lt_sample_mean = DEFAULT_SAMPLE_MEAN_BYTES;

static bool samples(const lt_thread *self) {
    return !(self->flags & (LT_THREAD_UNREGISTERED | LT_THREAD_ORPHAN | LT_THREAD_AGENT));
}

void lt_thread_pause_sampling(void) {
    lt_thread *self = lt_self;
    if (!samples(self)) return;
    self->sampling_pauses++;
    self->bytes_until_sample = INT64_MAX;
}

void lt_thread_resume_sampling(void) {
    lt_thread *self = lt_self;
    if (!samples(self) || self->sampling_pauses == 0) return;
    if (--self->sampling_pauses == 0) self->bytes_until_sample = lt_next_sample_gap(self);
}

void lt_set_sample_mean_bytes(uint64_t bytes) {
    atomic_store_explicit(&lt_sample_mean, bytes, memory_order_relaxed);
    lt_thread *self = lt_self;
    if (samples(self) && self->sampling_pauses == 0) self->bytes_until_sample = lt_next_sample_gap(self);
}

uint64_t lt_sample_mean_bytes(void) { return lt_current_sample_mean(); }

// Read once, when the next allocator is resolved. getenv does not allocate.
void lt_sampler_configure_from_environment(void) {
    const char *text = getenv("LEAKWATCH_SAMPLE_BYTES");
    if (text == NULL || *text == '\0') return;
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 10);
    if (end != NULL && *end == '\0' && text[0] != '-') {
        atomic_store_explicit(&lt_sample_mean, value, memory_order_relaxed);
    }
    // A malformed value keeps the default; the Swift agent reports it on stderr.
}

static uint64_t next_random(lt_thread *self) {
    // xorshift64*: fast, no allocation, good enough to draw sampling gaps.
    uint64_t x = self->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->random_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

int64_t lt_exponential_gap(lt_thread *self, uint64_t mean) {
    // Uniform in (0, 1], from the top 53 bits.
    double uniform = ((double)(next_random(self) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double gap = -lt_log(uniform) * (double)mean;
    return gap >= (double)INT64_MAX ? INT64_MAX : (int64_t)gap;
}

void lt_unbiased_weight(size_t size, uint64_t mean, uint64_t *bytes, uint64_t *objects_q16) {
    double probability = -lt_expm1(-(double)size / (double)mean);
    double estimate = (double)size / probability;
    *bytes = (uint64_t)(estimate + 0.5);
    *objects_q16 = (uint64_t)(65536.0 / probability + 0.5);
}
