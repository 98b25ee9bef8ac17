// A program built against jemalloc (-ljemalloc). Run under the preload it must keep jemalloc as
// its allocator, work correctly, and be counted. Prints key=value lines; exits 0 when all held.
#include <dlfcn.h>
#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;

__attribute__((noinline)) void leak_in_jemalloc_program(void) {
    for (int i = 0; i < 4; i++) sink = malloc(30000);
}

static uint64_t jemalloc_allocated(void) {
    uint64_t epoch = 1;
    size_t length = sizeof epoch;
    mallctl("epoch", &epoch, &length, &epoch, length); // refresh jemalloc's statistics
    size_t allocated = 0;
    length = sizeof allocated;
    if (mallctl("stats.allocated", &allocated, &length, NULL, 0) != 0) return 0;
    return allocated;
}

int main(void) {
    int failures = 0;
    const char *version = NULL;
    size_t length = sizeof version;
    if (mallctl("version", &version, &length, NULL, 0) != 0) version = NULL;
    printf("jemallocVersion=%s\n", version ? version : "none");
    failures += version == NULL;

    // 64 MiB through malloc must show in jemalloc's own statistics: jemalloc served it. (Its
    // statistics lag a little behind, thread caches: 90% of it is proof enough.)
    uint64_t before = jemalloc_allocated();
    enum { BLOCKS = 1024 };
    static char *blocks[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(64 * 1024);
        memset(blocks[i], i & 0xFF, 64 * 1024);
    }
    uint64_t during = jemalloc_allocated();
    printf("jemallocAllocatedDelta=%llu\n", (unsigned long long)(during - before));
    failures += during - before < (uint64_t)BLOCKS * 64 * 1024 / 10 * 9;
    // Data integrity across realloc (jemalloc moves blocks between its size classes).
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = realloc(blocks[i], 200 * 1024);
        if (blocks[i][0] != (char)(i & 0xFF) || blocks[i][64 * 1024 - 1] != (char)(i & 0xFF)) failures++;
        free(blocks[i]);
    }
    // jemalloc's own size query agrees with glibc's name for it.
    void *probe = malloc(100);
    printf("sallocx=%zu usable=%zu\n", sallocx(probe, 0), malloc_usable_size(probe));
    failures += sallocx(probe, 0) != malloc_usable_size(probe);
    free(probe);
    leak_in_jemalloc_program();

    // The tracker, when preloaded, is found by name; it must have counted the work above.
    void (*read_stats)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "lt_read_stats");
    printf("trackerPresent=%d\n", read_stats != NULL);
    if (read_stats) {
        uint64_t stats[15];
        read_stats(stats);
        // lt_stats: total_allocated_bytes, current_bytes, peak_bytes, allocation_count, free_count ...
        printf("trackedAllocations=%llu trackedBytes=%llu\n", (unsigned long long)stats[3], (unsigned long long)stats[0]);
        failures += stats[3] < 2 * BLOCKS || stats[0] < (uint64_t)BLOCKS * 264 * 1024;

        // Every request size up to past the tracker's size-class table (4096): a malloc is counted
        // from the table, its free from malloc_usable_size, and the two must agree to the byte.
        enum { SIZES = 5000 };
        static void *churn[SIZES];
        read_stats(stats);
        uint64_t before = stats[1];
        uint64_t usable = 0;
        for (int size = 0; size < SIZES; size++) {
            churn[size] = malloc((size_t)size);
            usable += malloc_usable_size(churn[size]);
        }
        read_stats(stats);
        uint64_t during = stats[1];
        for (int size = 0; size < SIZES; size++) free(churn[size]);
        read_stats(stats);
        int balanced = during - before == usable && stats[1] == before;
        printf("churnBalanced=%d\n", balanced);
        failures += !balanced;
    }
    printf("result=%s\n", failures == 0 ? "ok" : "failed");
    return failures == 0 ? 0 : 1;
}
