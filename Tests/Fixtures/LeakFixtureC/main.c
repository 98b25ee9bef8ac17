// A C program linked with LeakAgentHooks that checks the tracker's counters against sequences
// whose effect is known exactly. Each mode prints what it measured and exits 0 only when every
// check held, so a test runs it as a real child process and reads both.
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "CLeakTrack.h"

static int failures;

#define CHECK_EQ(label, actual, expected)                                                                \
    do {                                                                                                 \
        unsigned long long a_ = (unsigned long long)(actual), e_ = (unsigned long long)(expected);       \
        printf("%s=%llu expected=%llu%s\n", label, a_, e_, a_ == e_ ? "" : "  MISMATCH");                \
        if (a_ != e_) failures++;                                                                        \
    } while (0)

// Pointers escape through here so the optimizer cannot delete malloc/free pairs.
void *volatile escape_slot;
static void *escape(void *pointer) {
    escape_slot = pointer;
    return pointer;
}

static lt_stats read_stats(void) {
    lt_stats stats;
    lt_read_stats(&stats);
    return stats;
}

static int mode_exact(void) {
    lt_stats before = read_stats();
    uint64_t allocated = 0, freed = 0, allocations = 0, frees = 0;
    size_t sizes[] = {1, 16, 24, 100, 1000, 4096, 65536, 1 << 20};
    void *blocks[8];
    for (int i = 0; i < 8; i++) {
        blocks[i] = escape(malloc(sizes[i]));
        allocated += malloc_usable_size(blocks[i]);
        allocations++;
    }
    void *zeroed = escape(calloc(10, 33));
    allocated += malloc_usable_size(zeroed);
    allocations++;
    size_t old = malloc_usable_size(blocks[3]);
    blocks[3] = escape(realloc(blocks[3], 5000));
    freed += old;
    frees++;
    allocated += malloc_usable_size(blocks[3]);
    allocations++;
    void *aligned = NULL;
    if (posix_memalign(&aligned, 256, 300) != 0) return 1;
    escape(aligned);
    allocated += malloc_usable_size(aligned);
    allocations++;
    void *aligned2 = escape(aligned_alloc(64, 640));
    allocated += malloc_usable_size(aligned2);
    allocations++;
    void *aligned3 = escape(memalign(128, 50));
    allocated += malloc_usable_size(aligned3);
    allocations++;
    void *page = escape(valloc(100));
    allocated += malloc_usable_size(page);
    allocations++;
    void *array = escape(reallocarray(NULL, 7, 9));
    allocated += malloc_usable_size(array);
    allocations++;
    free(NULL);
    for (int i = 0; i < 8; i += 2) {
        freed += malloc_usable_size(blocks[i]);
        frees++;
        free(blocks[i]);
    }
    freed += malloc_usable_size(zeroed);
    frees++;
    free(zeroed);
    lt_stats after = read_stats();
    CHECK_EQ("allocationCount", after.allocation_count - before.allocation_count, allocations);
    CHECK_EQ("freeCount", after.free_count - before.free_count, frees);
    CHECK_EQ("totalAllocatedBytes", after.total_allocated_bytes - before.total_allocated_bytes, allocated);
    CHECK_EQ("currentBytes", after.current_bytes - before.current_bytes, allocated - freed);
    CHECK_EQ("blocksOutstanding", after.blocks_outstanding - before.blocks_outstanding, allocations - frees);
    // Peak: with one thread the peak is exact. Raise it by a known amount above the current level.
    lt_stats base = read_stats();
    uint64_t current = base.current_bytes;
    uint64_t peak_before = base.peak_bytes;
    void *big = escape(malloc(3 << 20));
    uint64_t big_usable = malloc_usable_size(big);
    free(big);
    uint64_t expected_peak = current + big_usable > peak_before ? current + big_usable : peak_before;
    CHECK_EQ("peakBytes", read_stats().peak_bytes, expected_peak);
    CHECK_EQ("peakErrorBound", read_stats().peak_error_bound_bytes, 0);
    CHECK_EQ("hooksActive", read_stats().hooks_active, 1);
    return failures;
}

// --- multi-threaded stress with cross-thread frees ---
#define STRESS_THREADS 4
#define STRESS_ROUNDS 200000
#define RING 1024

typedef struct handoff {
    pthread_mutex_t lock;
    void *slots[RING];
    size_t head, tail;
    int done;
} handoff;

static handoff rings[STRESS_THREADS];

static void *stress_worker(void *argument) {
    int index = (int)(intptr_t)argument;
    handoff *outbox = &rings[index];
    handoff *inbox = &rings[(index + 1) % STRESS_THREADS];
    unsigned seed = (unsigned)index * 7919u + 1;
    for (int round = 0; round < STRESS_ROUNDS; round++) {
        seed = seed * 1103515245u + 12345u;
        void *block = escape(malloc(16 + (seed >> 16) % 4080));
        pthread_mutex_lock(&outbox->lock);
        if (outbox->head - outbox->tail < RING) {
            outbox->slots[outbox->head++ % RING] = block;
            block = NULL;
        }
        pthread_mutex_unlock(&outbox->lock);
        free(block); // a full ring: free locally
        pthread_mutex_lock(&inbox->lock);
        void *received = inbox->head != inbox->tail ? inbox->slots[inbox->tail++ % RING] : NULL;
        pthread_mutex_unlock(&inbox->lock);
        free(received); // allocated by the neighbouring thread
    }
    return NULL;
}

static void *idle_thread(void *argument) { return argument; }

// glibc caches the stacks of exited threads with a malloc'd block each (their DTV): create and
// join threads once so that block exists before counting starts.
static void warm_thread_cache(int count) {
    pthread_t threads[16];
    for (int i = 0; i < count; i++) pthread_create(&threads[i], NULL, idle_thread, NULL);
    for (int i = 0; i < count; i++) pthread_join(threads[i], NULL);
}

// `sample_mean`: T for the run (0 keeps the default); at T = 1 every block crossing threads is sampled.
static int mode_stress(uint64_t sample_mean) {
    warm_thread_cache(STRESS_THREADS);
    if (sample_mean) lt_set_sample_mean_bytes(sample_mean);
    lt_stats before = read_stats();
    pthread_t threads[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++) pthread_mutex_init(&rings[i].lock, NULL);
    for (int i = 0; i < STRESS_THREADS; i++) pthread_create(&threads[i], NULL, stress_worker, (void *)(intptr_t)i);
    for (int i = 0; i < STRESS_THREADS; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < STRESS_THREADS; i++) {
        while (rings[i].head != rings[i].tail) free(rings[i].slots[rings[i].tail++ % RING]);
    }
    lt_stats after = read_stats();
    CHECK_EQ("blocksOutstandingDelta", after.blocks_outstanding - before.blocks_outstanding, 0);
    CHECK_EQ("currentBytesDelta", after.current_bytes - before.current_bytes, 0);
    uint64_t allocations = after.allocation_count - before.allocation_count;
    CHECK_EQ("allocationsAtLeast", allocations >= (uint64_t)STRESS_THREADS * STRESS_ROUNDS, 1);
    CHECK_EQ("allocationsEqualFrees", allocations, after.free_count - before.free_count);
    // Blocks sampled on one thread and freed on another leave no sample behind.
    CHECK_EQ("sampledLiveDelta", after.sampled_live_allocations - before.sampled_live_allocations, 0);
    printf("liveThreads=%llu retiredThreads=%llu\n", (unsigned long long)after.live_threads,
           (unsigned long long)after.retired_threads);
    return failures;
}

// --- thread churn ---
static void *short_lived(void *argument) {
    void **out = argument;
    void *kept = escape(malloc(48));
    free(escape(malloc(100)));
    *out = kept; // freed by the main thread after this thread has exited
    return NULL;
}

static int mode_churn(void) {
    enum { THREADS = 5000 };
    warm_thread_cache(1);
    // No sampling: the sample tables' shards are mapped on their first samples, whenever those
    // come, and what is measured below is the per-thread state alone.
    lt_set_sample_mean_bytes(0);
    lt_stats before = read_stats();
    uint64_t mapped_after_first = 0;
    for (int i = 0; i < THREADS; i++) {
        void *kept = NULL;
        pthread_t thread;
        if (pthread_create(&thread, NULL, short_lived, &kept) != 0) return 1;
        pthread_join(thread, NULL);
        free(kept);
        if (i == 100) mapped_after_first = read_stats().tracker_mapped_bytes;
    }
    lt_stats after = read_stats();
    CHECK_EQ("blocksOutstandingDelta", after.blocks_outstanding - before.blocks_outstanding, 0);
    CHECK_EQ("currentBytesDelta", after.current_bytes - before.current_bytes, 0);
    CHECK_EQ("allocationsAtLeast", after.allocation_count - before.allocation_count >= 2ull * THREADS, 1);
    CHECK_EQ("retiredThreadsAtLeast", after.retired_threads - before.retired_threads >= THREADS, 1);
    CHECK_EQ("liveThreads", after.live_threads, before.live_threads);
    printf("trackerMappedBytes=%llu afterFirstThreads=%llu\n", (unsigned long long)after.tracker_mapped_bytes,
           (unsigned long long)mapped_after_first);
    // Exited threads' blocks are reused: 4900 more threads map nothing more.
    CHECK_EQ("trackerMemoryBounded", after.tracker_mapped_bytes, mapped_after_first);
    return failures;
}

// --- fork during a multi-threaded stress ---
static volatile int keep_running = 1;

static void *fork_background(void *argument) {
    (void)argument;
    while (keep_running) {
        void *blocks[64];
        for (int i = 0; i < 64; i++) blocks[i] = escape(malloc(32 + i * 64));
        for (int i = 0; i < 64; i++) free(blocks[i]);
    }
    return NULL;
}

static int mode_fork(void) {
    lt_set_sample_mean_bytes(4096); // sample often, so the sample table's lock is busy
    pthread_t threads[3];
    for (int i = 0; i < 3; i++) pthread_create(&threads[i], NULL, fork_background, NULL);
    int children = 0, clean = 0;
    for (int i = 0; i < 40; i++) {
        pid_t child = fork();
        if (child == 0) {
            for (int j = 0; j < 1000; j++) free(escape(malloc(16 + j)));
            lt_stats stats;
            lt_read_stats(&stats);
            _exit(stats.allocation_count > 0 ? 0 : 3);
        }
        if (child < 0) return 1;
        children++;
        int status = 0;
        if (waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) clean++;
    }
    keep_running = 0;
    for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);
    CHECK_EQ("cleanChildren", clean, children);
    return failures;
}

static int mode_overflow(void) {
    errno = 0;
    void *huge = calloc(SIZE_MAX / 2, 4);
    CHECK_EQ("callocOverflowNull", huge == NULL, 1);
    CHECK_EQ("callocOverflowErrno", errno, ENOMEM);
    errno = 0;
    void *array = reallocarray(NULL, SIZE_MAX / 8, 16);
    CHECK_EQ("reallocarrayOverflowNull", array == NULL, 1);
    CHECK_EQ("reallocarrayOverflowErrno", errno, ENOMEM);
    lt_stats before = read_stats();
    errno = 0;
    void *impossible = escape(malloc(SIZE_MAX - 4096));
    CHECK_EQ("mallocHugeNull", impossible == NULL, 1);
    CHECK_EQ("failedAllocationNotCounted", read_stats().allocation_count - before.allocation_count, 0);
    return failures;
}

// --- allocation patterns: a known mix shows in the size classes and the top sizes ---
typedef struct size_mix {
    size_t size;
    int count;
} size_mix;

static int mode_patterns(void) {
    // Most frequent first. Sizes are counted from samples: with T = 1 every allocation is one, so
    // their counts are exact.
    lt_set_sample_mean_bytes(1);
    static const size_mix mix[] = {{24, 20000}, {200, 12000}, {3000, 6000}, {50000, 3000}};
    enum { KINDS = sizeof mix / sizeof mix[0], TOP = 8 };
    uint64_t expected_class_count[LT_SIZE_CLASS_COUNT] = {0}, expected_class_bytes[LT_SIZE_CLASS_COUNT] = {0};
    static lt_size_class classes_before[LT_SIZE_CLASS_COUNT], classes_after[LT_SIZE_CLASS_COUNT];
    lt_size_count top_before[64], top_after[TOP];
    int before_classes = lt_read_size_classes(classes_before, LT_SIZE_CLASS_COUNT);
    int before_top = lt_read_top_sizes(top_before, 64);
    for (int kind = 0; kind < KINDS; kind++) {
        for (int i = 0; i < mix[kind].count; i++) {
            void *block = escape(malloc(mix[kind].size));
            size_t usable = malloc_usable_size(block);
            unsigned size_class = usable ? 64u - (unsigned)__builtin_clzl(usable) : 0u;
            expected_class_count[size_class]++;
            expected_class_bytes[size_class] += usable;
            free(block);
        }
    }
    // Over glibc, with the hooks linked into this executable, a sampled block carries its record
    // in front: the word before it has the marker's bit 3, which no glibc chunk size has.
    void *sampled = escape(malloc(100));
    CHECK_EQ("sampledRecordInFront", (((const size_t *)sampled)[-1] & 8) != 0, 1);
    free(sampled);
    int after_classes = lt_read_size_classes(classes_after, LT_SIZE_CLASS_COUNT);
    int after_top = lt_read_top_sizes(top_after, TOP);
    // The frees go through usable-size counting too, but classes count allocations only.
    for (unsigned size_class = 0; size_class < LT_SIZE_CLASS_COUNT; size_class++) {
        if (expected_class_count[size_class] == 0) continue;
        uint64_t lower = size_class == 0 ? 0 : 1ull << (size_class - 1);
        uint64_t count_before = 0, bytes_before = 0, count_after = 0, bytes_after = 0;
        for (int i = 0; i < before_classes; i++) {
            if (classes_before[i].lower_bound_bytes == lower) {
                count_before = classes_before[i].count;
                bytes_before = classes_before[i].bytes;
            }
        }
        for (int i = 0; i < after_classes; i++) {
            if (classes_after[i].lower_bound_bytes == lower) {
                count_after = classes_after[i].count;
                bytes_after = classes_after[i].bytes;
            }
        }
        char label[64];
        snprintf(label, sizeof label, "class%llu.count", (unsigned long long)lower);
        CHECK_EQ(label, count_after - count_before, expected_class_count[size_class]);
        snprintf(label, sizeof label, "class%llu.bytes", (unsigned long long)lower);
        CHECK_EQ(label, bytes_after - bytes_before, expected_class_bytes[size_class]);
    }
    CHECK_EQ("topSizesAtLeast", after_top >= KINDS, 1);
    for (int kind = 0; kind < KINDS && kind < after_top; kind++) {
        uint64_t earlier = 0;
        for (int i = 0; i < before_top; i++) {
            if (top_before[i].size == mix[kind].size) earlier = top_before[i].count;
        }
        char label[64];
        snprintf(label, sizeof label, "top%d.size", kind);
        CHECK_EQ(label, top_after[kind].size, mix[kind].size);
        snprintf(label, sizeof label, "top%d.countDelta", kind);
        CHECK_EQ(label, top_after[kind].count - earlier, mix[kind].count);
    }
    return failures;
}

// --- the peak's documented error bound with several threads ---
// Each worker allocates its share in small blocks (so nothing publishes early except through
// the 16 KiB drift rule), waits at a barrier while the main thread reads the exact current
// level, then frees everything. The true peak of the run is that level: the reported peak must
// lie within the reported bound of it, and the bound must be live threads x 16 KiB.
#define PEAK_THREADS 4
#define PEAK_BLOCKS 2000
#define PEAK_BLOCK_BYTES 1000

static pthread_barrier_t peak_barrier;

static void *peak_worker(void *argument) {
    (void)argument;
    void **blocks = escape(malloc(PEAK_BLOCKS * sizeof(void *)));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < PEAK_BLOCKS; i++) blocks[i] = escape(malloc(PEAK_BLOCK_BYTES + (size_t)(i % 7) * 8));
        pthread_barrier_wait(&peak_barrier); // everything held
        pthread_barrier_wait(&peak_barrier); // main has read the level
        for (int i = 0; i < PEAK_BLOCKS; i++) free(blocks[i]);
        pthread_barrier_wait(&peak_barrier); // everything freed
        pthread_barrier_wait(&peak_barrier); // main has read the peak
    }
    free(blocks);
    return NULL;
}

static int mode_peak(void) {
    warm_thread_cache(PEAK_THREADS);
    pthread_barrier_init(&peak_barrier, NULL, PEAK_THREADS + 1);
    pthread_t threads[PEAK_THREADS];
    for (int i = 0; i < PEAK_THREADS; i++) pthread_create(&threads[i], NULL, peak_worker, NULL);
    int64_t worst_error = 0;
    uint64_t true_peak = 0;
    for (int round = 0; round < 3; round++) {
        pthread_barrier_wait(&peak_barrier);
        lt_stats held = read_stats(); // current_bytes is exact: folded from every thread
        if (held.current_bytes > true_peak) true_peak = held.current_bytes;
        pthread_barrier_wait(&peak_barrier);
        pthread_barrier_wait(&peak_barrier);
        lt_stats after = read_stats();
        pthread_barrier_wait(&peak_barrier);
        int64_t error = (int64_t)after.peak_bytes - (int64_t)true_peak;
        if (error < 0 ? -error > worst_error : error > worst_error) worst_error = error < 0 ? -error : error;
        printf("round=%d heldBytes=%llu peakBytes=%llu error=%lld bound=%llu liveThreads=%llu\n", round,
               (unsigned long long)held.current_bytes, (unsigned long long)after.peak_bytes, (long long)error,
               (unsigned long long)after.peak_error_bound_bytes, (unsigned long long)after.live_threads);
        // Between the barriers the level only rises, then only falls: the true peak of the run
        // so far is the highest level read while everything was held.
        CHECK_EQ("boundIsThreadsTimes16KiB", after.peak_error_bound_bytes, (PEAK_THREADS + 1) * 16 * 1024);
        CHECK_EQ("peakWithinBound", (uint64_t)(error < 0 ? -error : error) <= after.peak_error_bound_bytes, 1);
        CHECK_EQ("peakAtLeastCurrent", after.peak_bytes >= after.current_bytes, 1);
    }
    for (int i = 0; i < PEAK_THREADS; i++) pthread_join(threads[i], NULL);
    printf("worstPeakErrorBytes=%lld\n", (long long)worst_error);
    return failures;
}

// --- before main and during exit ---
// A constructor allocates before main; a thread's TLS destructor allocates and frees after the
// tracker may already have retired that thread's counters (glibc runs key destructors in an
// unspecified order); both must be counted, and the totals must balance.
static void *allocated_before_main;
static uint64_t usable_before_main;

__attribute__((constructor)) static void before_main_constructor(void) {
    allocated_before_main = malloc(777);
    usable_before_main = malloc_usable_size(allocated_before_main);
}

static pthread_key_t late_key;

static void late_destructor(void *value) {
    free(value);
    free(escape(malloc(321))); // after the thread's own exit handling, possibly
    void *kept = escape(malloc(55));
    free(kept);
}

static void *thread_with_destructor(void *argument) {
    (void)argument;
    pthread_setspecific(late_key, malloc(99));
    return NULL;
}

static int mode_lifecycle(void) {
    lt_stats at_main = read_stats();
    CHECK_EQ("hooksActiveBeforeMain", at_main.hooks_active, 1);
    CHECK_EQ("constructorBlockCounted", at_main.current_bytes >= usable_before_main && at_main.allocation_count >= 1, 1);
    free(allocated_before_main);
    warm_thread_cache(2);
    pthread_key_create(&late_key, late_destructor);
    lt_stats before = read_stats();
    for (int i = 0; i < 50; i++) {
        pthread_t thread;
        pthread_create(&thread, NULL, thread_with_destructor, NULL);
        pthread_join(thread, NULL);
    }
    lt_stats after = read_stats();
    CHECK_EQ("destructorAllocationsCounted", after.allocation_count - before.allocation_count >= 50 * 3, 1);
    CHECK_EQ("destructorTotalsBalance", after.allocation_count - before.allocation_count,
             after.free_count - before.free_count);
    CHECK_EQ("destructorBytesBalance", after.current_bytes, before.current_bytes);
    return failures;
}

// --- known leaks at two functions, for the exit report ---
__attribute__((noinline)) void leak_alpha(size_t count, size_t size) {
    for (size_t i = 0; i < count; i++) escape(malloc(size));
}

__attribute__((noinline)) void leak_beta(size_t count, size_t size) {
    for (size_t i = 0; i < count; i++) escape(calloc(1, size));
}

static int mode_leak(int argc, char **argv) {
    size_t scale = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    leak_alpha(3 * scale, 100000);
    leak_beta(7 * scale, 5000);
    for (int i = 0; i < 1000; i++) free(escape(malloc(64))); // churn that must not show
    void *tagged = LT_MALLOC(4321);
    escape(tagged);
    return 0;
}

// 128 MiB at each of two functions in blocks of different sizes: with the default T (512 KiB)
// each site gets about 256 samples, so its estimate is within +-20% with > 3 sigma to spare.
static int mode_bigleak(void) {
    leak_alpha(1024, 128 * 1024);
    leak_beta(32768, 4096);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    int result;
    if (strcmp(mode, "exact") == 0) result = mode_exact();
    else if (strcmp(mode, "stress") == 0) result = mode_stress(argc > 2 ? strtoull(argv[2], NULL, 10) : 0);
    else if (strcmp(mode, "churn") == 0) result = mode_churn();
    else if (strcmp(mode, "fork") == 0) result = mode_fork();
    else if (strcmp(mode, "overflow") == 0) result = mode_overflow();
    else if (strcmp(mode, "leak") == 0) result = mode_leak(argc, argv);
    else if (strcmp(mode, "bigleak") == 0) result = mode_bigleak();
    else if (strcmp(mode, "patterns") == 0) result = mode_patterns();
    else if (strcmp(mode, "peak") == 0) result = mode_peak();
    else if (strcmp(mode, "lifecycle") == 0) result = mode_lifecycle();
    else {
        fprintf(stderr, "usage: LeakFixtureC exact|stress [T]|churn|fork|overflow|patterns|peak|lifecycle|leak [scale]|bigleak\n");
        return 2;
    }
    printf("result=%s\n", result == 0 ? "ok" : "failed");
    return result == 0 ? 0 : 1;
}
