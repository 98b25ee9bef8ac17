// A pure C driver for the tracker core (Sources/CLeakTrack), built by .ci/sanitizers.sh twice:
//
//  * LT_DRIVER_DIRECT: calls the tracker's entry points (lt_malloc, lt_free...) by name, for the
//    AddressSanitizer + UndefinedBehaviorSanitizer build. ASan must own malloc to check the heap,
//    so the driver does not interpose: the tracker forwards (RTLD_NEXT) to ASan's allocator.
//  * otherwise: calls malloc/free and the program is linked with LeakAgentHooks' interpose.c, for
//    valgrind (run with --soname-synonyms=somalloc=nouserintercepts, so memcheck's allocator sits
//    *under* the tracker instead of replacing it).
//
// Modes run in sequence; every check prints and counts. Exit 0 only if all held.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <time.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "CLeakTrack.h"
#include "CLeakTrackEntry.h"
#include <math.h>

// exponential.c's, which the preload library uses instead of libm's.
double lt_log(double x);
double lt_expm1(double x);

#ifdef LT_DRIVER_DIRECT
#define MALLOC lt_malloc
#define FREE lt_free
#define CALLOC lt_calloc
#define REALLOC lt_realloc
#define REALLOCARRAY lt_reallocarray
#define POSIX_MEMALIGN lt_posix_memalign
#define ALIGNED_ALLOC lt_aligned_alloc
#define MEMALIGN lt_memalign
#else
#define MALLOC malloc
#define FREE free
#define CALLOC calloc
#define REALLOC realloc
#define REALLOCARRAY reallocarray
#define POSIX_MEMALIGN posix_memalign
#define ALIGNED_ALLOC aligned_alloc
#define MEMALIGN memalign
#endif

#ifdef LT_DRIVER_DIRECT
#define LT_DRIVER_BUILD "direct (lt_malloc...)"
#else
#define LT_DRIVER_BUILD "interposed (malloc...)"
#endif

static int failures;

#define CHECK(label, condition)                                                                       \
    do {                                                                                              \
        int ok_ = !!(condition);                                                                      \
        printf("%-44s %s\n", label, ok_ ? "ok" : "FAILED");                                           \
        if (!ok_) failures++;                                                                         \
    } while (0)

// The guarded pool's error ring (guard_errors.c), driven as the fault handler and the agent's
// reporter thread drive it: four threads record errors at once (claim, fill, publish, wake), one
// takes them, each thread's in its order, and settles them; a thread dying of an error waits until
// it is settled. The ring's own entry points are the core's, not public: declared here.
lt_guard_error *lt_guard_error_claim(void);
uint64_t lt_guard_error_publish(lt_guard_error *record);
void lt_guard_error_hand_over(uint64_t sequence, bool dying);

#define RING_WRITERS 4
#define RING_ERRORS_EACH 500

static void *record_errors(void *argument) {
    for (int i = 0; i < RING_ERRORS_EACH; i++) {
        lt_guard_error *error;
        while ((error = lt_guard_error_claim()) == NULL) sched_yield();
        error->kind = LT_GUARD_ERROR_OVERFLOW;
        error->thread = (int32_t)(uintptr_t)argument;
        error->offset = i;
        error->access_frame_count = 1;
        error->access_frames[0] = 0x1000 + (uint64_t)i;
        lt_guard_error_hand_over(lt_guard_error_publish(error), false);
    }
    return NULL;
}

static void *die_of_an_error(void *argument) {
    lt_guard_error *error = lt_guard_error_claim();
    if (error) lt_guard_error_hand_over(lt_guard_error_publish(error), true);
    return argument;
}

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/// The sampler's ln and e^x - 1 (exponential.c) agree with libm's to a few units in the last place
/// over the values the sampler gives them, and at the edges.
static void sampler_math(void) {
    double worst_log = 0, worst_expm1 = 0;
    uint64_t state = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        double uniform = ((double)(state >> 11) + 1.0) * (1.0 / 9007199254740992.0); // as the gap's
        worst_log = fmax(worst_log, fabs(lt_log(uniform) - log(uniform)) / fmax(fabs(log(uniform)), 1e-300));
        double ratio = -(double)(state % 4000000) / 65536.0 * ((state >> 40) % 2 ? 1.0 : 1e-6); // -size / mean
        if (ratio != 0) worst_expm1 = fmax(worst_expm1, fabs(lt_expm1(ratio) - expm1(ratio)) / fabs(expm1(ratio)));
    }
    CHECK("lt_log within 4 ulp of log", worst_log < 1e-15);
    CHECK("lt_expm1 within 4 ulp of expm1", worst_expm1 < 1e-15);
    CHECK("lt_log edges", lt_log(1.0) == 0 && fabs(lt_log(4.9e-324) - log(4.9e-324)) < 1e-12 && isinf(lt_log(0.0)) &&
                              isnan(lt_log(-1.0)));
    CHECK("lt_expm1 edges", lt_expm1(-1e-20) == -1e-20 && lt_expm1(-800.0) == -1.0 && lt_expm1(0.0) == 0.0 &&
                                fabs(lt_expm1(5.0) - expm1(5.0)) < 1e-13);
}

static void guard_error_ring(void) {
    int wake[2];
    if (pipe(wake) != 0) return;
    fcntl(wake[1], F_SETFL, O_NONBLOCK);
    lt_guard_set_reporter(wake[1]);
    pthread_t writers[RING_WRITERS];
    for (uintptr_t t = 0; t < RING_WRITERS; t++) pthread_create(&writers[t], NULL, record_errors, (void *)t);
    int next[RING_WRITERS] = {0};
    int taken = 0, out_of_order = 0;
    lt_guard_error error;
    while (taken < RING_WRITERS * RING_ERRORS_EACH) {
        if (!lt_guard_take_error(&error)) {
            char drained[64];
            (void)!read(wake[0], drained, sizeof drained); // until a writer wakes us
            continue;
        }
        int t = error.thread;
        if (t < 0 || t >= RING_WRITERS || error.offset != next[t] || error.access_frames[0] != 0x1000 + (uint64_t)next[t]) {
            out_of_order++;
        } else {
            next[t]++;
        }
        lt_guard_error_settled(error.sequence);
        taken++;
    }
    for (int t = 0; t < RING_WRITERS; t++) pthread_join(writers[t], NULL);
    CHECK("error ring: each record taken once, in order", out_of_order == 0 && taken == RING_WRITERS * RING_ERRORS_EACH);
    CHECK("error ring: empty afterwards", lt_guard_take_error(&error) == 0);

    pthread_t dying;
    double start = seconds_now();
    pthread_create(&dying, NULL, die_of_an_error, NULL);
    while (!lt_guard_take_error(&error)) sched_yield();
    usleep(50000);
    lt_guard_error_settled(error.sequence);
    pthread_join(dying, NULL);
    double waited = seconds_now() - start;
    CHECK("error ring: a dying thread waits until settled", waited >= 0.05 && waited < 1.0);
    lt_guard_set_reporter(-1);
    close(wake[0]);
    close(wake[1]);
}

void *volatile escape_slot;
static void *escape(void *pointer) {
    escape_slot = pointer;
    return pointer;
}

static lt_stats stats_now(void) {
    lt_stats stats;
    lt_read_stats(&stats);
    return stats;
}

static void exact_sequence(void) {
    lt_stats before = stats_now();
    uint64_t allocated = 0, freed = 0;
    void *blocks[6];
    size_t sizes[6] = {1, 24, 1000, 5000, 70000, 1 << 20};
    for (int i = 0; i < 6; i++) {
        blocks[i] = escape(MALLOC(sizes[i]));
        memset(blocks[i], 0xAB, sizes[i]);
        allocated += malloc_usable_size(blocks[i]);
    }
    void *zeroed = escape(CALLOC(13, 17));
    allocated += malloc_usable_size(zeroed);
    freed += malloc_usable_size(blocks[2]);
    blocks[2] = escape(REALLOC(blocks[2], 3000));
    allocated += malloc_usable_size(blocks[2]);
    void *aligned = NULL;
    CHECK("posix_memalign succeeds", POSIX_MEMALIGN(&aligned, 64, 200) == 0);
    allocated += malloc_usable_size(aligned);
    void *aligned2 = escape(ALIGNED_ALLOC(128, 256));
    allocated += malloc_usable_size(aligned2);
    void *aligned3 = escape(MEMALIGN(32, 40));
    allocated += malloc_usable_size(aligned3);
    lt_stats after = stats_now();
    CHECK("exact: allocation count", after.allocation_count - before.allocation_count == 11);
    CHECK("exact: free count", after.free_count - before.free_count == 1);
    CHECK("exact: total allocated bytes", after.total_allocated_bytes - before.total_allocated_bytes == allocated);
    CHECK("exact: current bytes", after.current_bytes - before.current_bytes == allocated - freed);
    CHECK("exact: peak error bound 0 with one thread", after.peak_error_bound_bytes == 0);
    for (int i = 0; i < 6; i++) FREE(blocks[i]);
    FREE(zeroed);
    FREE(aligned);
    FREE(aligned2);
    FREE(aligned3);
    FREE(NULL);
    lt_stats end = stats_now();
    CHECK("exact: balanced after freeing", end.current_bytes == before.current_bytes &&
                                               end.blocks_outstanding == before.blocks_outstanding);
}

// --- threads with cross frees ---
#define THREADS 4
#define RING 256
typedef struct ring {
    pthread_mutex_t lock;
    void *slots[RING];
    size_t head, tail;
} ring;
static ring rings[THREADS];
static int stress_rounds = 50000;

static void *stress_worker(void *argument) {
    int index = (int)(intptr_t)argument;
    ring *outbox = &rings[index], *inbox = &rings[(index + 1) % THREADS];
    unsigned seed = (unsigned)index * 2654435761u + 1;
    for (int round = 0; round < stress_rounds; round++) {
        seed = seed * 1103515245u + 12345u;
        size_t size = 8 + (seed >> 16) % 2000;
        char *block = escape(MALLOC(size));
        block[0] = 1;
        block[size - 1] = 2;
        pthread_mutex_lock(&outbox->lock);
        if (outbox->head - outbox->tail < RING) {
            outbox->slots[outbox->head++ % RING] = block;
            block = NULL;
        }
        pthread_mutex_unlock(&outbox->lock);
        FREE(block);
        pthread_mutex_lock(&inbox->lock);
        void *received = inbox->head != inbox->tail ? inbox->slots[inbox->tail++ % RING] : NULL;
        pthread_mutex_unlock(&inbox->lock);
        FREE(received);
        // The resized block itself, not escape_slot: another worker may have overwritten that.
        if ((round & 1023) == 0) FREE(escape(REALLOC(escape(MALLOC(10)), 100)));
    }
    return NULL;
}

static void *idle_thread(void *argument) { return argument; }

// In the interposed build libc's own allocations count too: glibc keeps a malloc'd block per cached
// thread stack. Create and join threads once so those exist before a measurement starts.
static void warm_thread_cache(int count) {
    pthread_t threads[8];
    for (int i = 0; i < count; i++) pthread_create(&threads[i], NULL, idle_thread, NULL);
    for (int i = 0; i < count; i++) pthread_join(threads[i], NULL);
}

static void threads_with_cross_frees(void) {
    warm_thread_cache(THREADS);
    lt_stats before = stats_now();
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_mutex_init(&rings[i].lock, NULL);
    for (int i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, stress_worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        while (rings[i].head != rings[i].tail) FREE(rings[i].slots[rings[i].tail++ % RING]);
    }
    lt_stats after = stats_now();
    uint64_t allocations = after.allocation_count - before.allocation_count;
    uint64_t frees = after.free_count - before.free_count;
    printf("stress: %llu allocations, %llu frees\n", (unsigned long long)allocations, (unsigned long long)frees);
    CHECK("stress: every allocation freed", allocations == frees && allocations >= (uint64_t)THREADS * stress_rounds);
    CHECK("stress: current bytes back", after.current_bytes == before.current_bytes);
}

// --- thread churn ---
static void *short_lived(void *argument) {
    void **out = argument;
    *out = escape(MALLOC(48));
    FREE(escape(MALLOC(100)));
    return NULL;
}

static void churn(int count) {
    lt_stats before = stats_now();
    uint64_t mapped_early = 0;
    for (int i = 0; i < count; i++) {
        void *kept = NULL;
        pthread_t thread;
        if (pthread_create(&thread, NULL, short_lived, &kept) != 0) {
            failures++;
            return;
        }
        pthread_join(thread, NULL);
        FREE(kept);
        if (i == 20) mapped_early = stats_now().tracker_mapped_bytes;
    }
    lt_stats after = stats_now();
    CHECK("churn: counts survive thread exit", after.allocation_count - before.allocation_count >= 2ull * count &&
                                                   after.allocation_count - before.allocation_count ==
                                                       after.free_count - before.free_count);
    CHECK("churn: tracker memory bounded", after.tracker_mapped_bytes <= mapped_early + 64 * 1024);
    CHECK("churn: threads retired", after.retired_threads - before.retired_threads >= (uint64_t)count);
}

// --- fork while other threads allocate ---
static volatile int keep_running;
static void *background_blocks[2][32];

static void *background(void *argument) {
    void **blocks = background_blocks[(intptr_t)argument];
    while (keep_running) {
        for (int i = 0; i < 32; i++) blocks[i] = escape(MALLOC(16 + i * 40));
        for (int i = 0; i < 32; i++) FREE(blocks[i]);
    }
    return NULL;
}

static void fork_during_threads(int forks) {
    uint64_t saved = lt_sample_mean_bytes();
    lt_set_sample_mean_bytes(1024);
    keep_running = 1;
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, background, (void *)(intptr_t)i);
    int clean = 0;
    for (int i = 0; i < forks; i++) {
        pid_t child = fork();
        if (child == 0) {
            for (int j = 0; j < 200; j++) FREE(escape(MALLOC(16 + j)));
            lt_stats stats;
            lt_read_stats(&stats);
            lt_site sites[4];
            lt_read_sites(sites, 4); // takes the tables lock inherited through fork
            if (stats.allocation_count == 0) _exit(3);
            // Under valgrind (the script sets this), leave through exec: memcheck's leak check
            // would otherwise run in every child and rightly call the blocks the parent's other
            // threads held in registers at fork time "definitely lost" (fork copies no threads).
            if (getenv("DRIVER_FORK_CHILD_EXEC")) execl("/bin/true", "true", (char *)NULL);
            _exit(0);
        }
        int status = 0;
        if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) clean++;
    }
    keep_running = 0;
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    lt_set_sample_mean_bytes(saved);
    CHECK("fork: every child exits cleanly", clean == forks);
}

static void overflow(void) {
    volatile size_t huge = SIZE_MAX / 2; // volatile: no compile-time overflow warning
    errno = 0;
    CHECK("overflow: calloc NULL + ENOMEM", CALLOC(huge, 3) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK("overflow: reallocarray NULL + ENOMEM", REALLOCARRAY(NULL, huge / 2, 8) == NULL && errno == ENOMEM);
}

// --- sampled sites ---
static void *leaked[4096];
static int leaked_count;

__attribute__((noinline)) void driver_leak_alpha(int count, size_t size) {
    for (int i = 0; i < count; i++) leaked[leaked_count++] = escape(MALLOC(size));
}

__attribute__((noinline)) void driver_leak_beta(int count, size_t size) {
    for (int i = 0; i < count; i++) leaked[leaked_count++] = escape(CALLOC(1, size));
}

// The live bytes and objects of the sites whose stack starts inside `function`.
static void site_totals(const char *function, uint64_t *bytes, uint64_t *objects) {
    static lt_site sites[512];
    int count = lt_read_sites(sites, 512);
    if (count > 512) count = 512;
    *bytes = *objects = 0;
    for (int i = 0; i < count; i++) {
        // The interposed build has malloc's own frame (interpose.c) above the caller.
        for (int frame = 0; frame < sites[i].frame_count && frame < 3; frame++) {
            Dl_info info;
            if (dladdr((void *)sites[i].frames[frame], &info) && info.dli_sname && strcmp(info.dli_sname, function) == 0) {
                *bytes += sites[i].live_bytes;
                *objects += sites[i].live_objects;
                break;
            }
        }
    }
}

static void sampled(uint64_t mean, int alpha_count, int beta_count) {
    lt_set_sample_mean_bytes(mean);
    leaked_count = 0;
    uint64_t alpha_before, alpha_objects_before, beta_before, beta_objects_before;
    site_totals("driver_leak_alpha", &alpha_before, &alpha_objects_before);
    site_totals("driver_leak_beta", &beta_before, &beta_objects_before);
    driver_leak_alpha(alpha_count, 3000);
    driver_leak_beta(beta_count, 700);
    for (int i = 0; i < 2000; i++) FREE(escape(MALLOC(64)));
    void *tagged = LT_MALLOC(4321);
    uint64_t alpha, alpha_objects, beta, beta_objects;
    site_totals("driver_leak_alpha", &alpha, &alpha_objects);
    site_totals("driver_leak_beta", &beta, &beta_objects);
    alpha -= alpha_before, alpha_objects -= alpha_objects_before;
    beta -= beta_before, beta_objects -= beta_objects_before;
    printf("T=%llu: alpha %llu bytes in %llu objects, beta %llu bytes in %llu objects\n", (unsigned long long)mean,
           (unsigned long long)alpha, (unsigned long long)alpha_objects, (unsigned long long)beta,
           (unsigned long long)beta_objects);
    int tagged_found = 0;
    static lt_site sites[512];
    int count = lt_read_sites(sites, 512);
    for (int i = 0; i < count && i < 512; i++) {
        if (sites[i].tag_function && strcmp(sites[i].tag_function, "sampled") == 0 && sites[i].live_bytes == 4321) {
            tagged_found = 1;
        }
    }
    char label[64];
    if (mean == 1) {
        snprintf(label, sizeof label, "T=1: exact site bytes");
        CHECK(label, alpha == (uint64_t)alpha_count * 3000 && beta == (uint64_t)beta_count * 700 &&
                         alpha_objects == (uint64_t)alpha_count && beta_objects == (uint64_t)beta_count);
    } else {
        // Unbiased estimates: within a wide factor here (few samples); the Swift tests check +-20%.
        uint64_t alpha_true = (uint64_t)alpha_count * 3000, beta_true = (uint64_t)beta_count * 700;
        snprintf(label, sizeof label, "T=%llu: estimates within 2x", (unsigned long long)mean);
        CHECK(label, alpha > alpha_true / 2 && alpha < alpha_true * 2 && beta > beta_true / 2 && beta < beta_true * 2);
    }
    snprintf(label, sizeof label, "T=%llu: tagged site", (unsigned long long)mean);
    CHECK(label, tagged_found);
    LT_FREE(tagged);
    for (int i = 0; i < leaked_count; i++) FREE(leaked[i]);
    site_totals("driver_leak_alpha", &alpha, &alpha_objects);
    snprintf(label, sizeof label, "T=%llu: freed samples retired", (unsigned long long)mean);
    CHECK(label, alpha == alpha_before && alpha_objects == alpha_objects_before);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *divisor_text = getenv("DRIVER_SCALE_DIVISOR");
    int divisor = divisor_text ? atoi(divisor_text) : 1;
    if (divisor < 1) divisor = 1;
    stress_rounds /= divisor;
    printf("core driver: %s build\n", LT_DRIVER_BUILD); // stdio's buffer exists before counting
    if (getenv("DRIVER_PROVOKE_OVERFLOW")) {
        // The scripts' proof that the checker sits under the tracker: a block the tracker handed
        // out, written one byte past its end, must be reported.
        volatile size_t size = malloc_usable_size(escape(MALLOC(24)));
        char *block = escape_slot;
        block[size] = 1;
        FREE(block);
    }
    exact_sequence();
    threads_with_cross_frees();
    churn(2000 / divisor);
    fork_during_threads(20);
    overflow();
    sampled(1, 40, 100);
    sampled(4096, 1000, 3000);
    guard_error_ring();
    sampler_math();
    CHECK("hooks active", stats_now().hooks_active == 1);
    printf("result=%s\n", failures == 0 ? "ok" : "failed");
    return failures == 0 ? 0 : 1;
}
