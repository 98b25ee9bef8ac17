// Plain C allocation workloads, built without the agent. AllocatorBenchmark runs each one twice
// side by side: as is, and with libLeakAgentPreload.so in LD_PRELOAD.
//
//   AllocatorWorkload pairs THREADS ITERATIONS   ns per malloc+free pair, sizes 16..4096
//   AllocatorWorkload program ITERATIONS         a malloc-heavy 2-thread program with leaks at two sites
//
// Prints one line: `nanoseconds=<wall-clock ns of the measured part>`.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *volatile escape_slot;

// Makes `pointer` escape so the compiler keeps the malloc/free pair, without a store: threads
// storing to one shared variable would measure that line bouncing between cores, not the allocator.
static inline void escape(void *pointer) { __asm__ volatile("" : : "r"(pointer) : "memory"); }

static uint64_t now_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

// Sizes 16..4096, spread log-uniformly (small sizes dominate real programs), precomputed so the
// loop measures the allocator, not a random number generator.
#define SIZE_TABLE 4096
static size_t sizes[SIZE_TABLE];

static void fill_sizes(void) {
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < SIZE_TABLE; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        unsigned shift = 4 + (unsigned)((state >> 33) % 9); // 16 .. 4096
        size_t size = ((size_t)1 << shift) + (size_t)((state >> 20) % ((size_t)1 << shift));
        sizes[i] = size > 4096 ? 4096 : size;
    }
}

typedef struct pair_job {
    long iterations;
    pthread_barrier_t *start;
} pair_job;

static void *pairs_thread(void *argument) {
    pair_job *job = argument;
    pthread_barrier_wait(job->start);
    for (long i = 0; i < job->iterations; i++) {
        void *block = malloc(sizes[i & (SIZE_TABLE - 1)]);
        escape(block);
        free(block);
    }
    return NULL;
}

static int run_pairs(int threads, long iterations) {
    pthread_t handles[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    pair_job job = {.iterations = iterations, .start = &start};
    for (int i = 0; i < threads; i++) pthread_create(&handles[i], NULL, pairs_thread, &job);
    uint64_t begin = now_nanoseconds();
    pthread_barrier_wait(&start);
    for (int i = 0; i < threads; i++) pthread_join(handles[i], NULL);
    uint64_t elapsed = now_nanoseconds() - begin;
    // Per pair, per thread: with T threads running in parallel on T cores, the wall time per
    // thread's pair.
    printf("nanoseconds=%llu perPairNanoseconds=%.2f\n", (unsigned long long)elapsed, (double)elapsed / (double)iterations);
    return 0;
}

// --- a malloc-heavy program: each thread keeps a working set of 2000 blocks, replaces one per
// step, does a little work on it, and leaks a block at one of two sites now and then.
__attribute__((noinline)) void *remember_session(size_t bytes) { return malloc(bytes); }
__attribute__((noinline)) void *cache_response(size_t bytes) { return calloc(1, bytes); }

static void *leaked[2][1 << 16];

typedef struct program_job {
    int index;
    long iterations;
} program_job;

static void *program_worker(void *argument) {
    program_job *job = argument;
    enum { WORKING_SET = 2000 };
    void **working = calloc(WORKING_SET, sizeof(void *));
    uint64_t checksum = 0;
    int leaks = 0;
    for (long i = 0; i < job->iterations; i++) {
        size_t size = sizes[(i * 7 + job->index) & (SIZE_TABLE - 1)];
        int slot = (int)(i % WORKING_SET);
        free(working[slot]);
        char *block = malloc(size);
        // The program's own work: fill a little and read it back.
        memset(block, (int)i, size < 64 ? size : 64);
        checksum += (unsigned char)block[size / 2 < 64 ? size / 2 : 63];
        working[slot] = block;
        if (i % 5000 == 0 && leaks < (1 << 16)) {
            leaked[job->index][leaks++] = (i / 5000) % 2 ? remember_session(256) : cache_response(1024);
        }
    }
    for (int i = 0; i < WORKING_SET; i++) free(working[i]);
    free(working);
    escape_slot = (void *)(uintptr_t)checksum;
    return NULL;
}

static int run_program(long iterations) {
    pthread_t handles[2];
    program_job jobs[2] = {{0, iterations}, {1, iterations}};
    uint64_t begin = now_nanoseconds();
    for (int i = 0; i < 2; i++) pthread_create(&handles[i], NULL, program_worker, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(handles[i], NULL);
    uint64_t elapsed = now_nanoseconds() - begin;
    printf("nanoseconds=%llu\n", (unsigned long long)elapsed);
    return 0;
}

int main(int argc, char **argv) {
    fill_sizes();
    if (argc >= 4 && strcmp(argv[1], "pairs") == 0) return run_pairs(atoi(argv[2]), atol(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "program") == 0) return run_program(atol(argv[2]));
    fprintf(stderr, "usage: AllocatorWorkload pairs THREADS ITERATIONS | program ITERATIONS\n");
    return 2;
}
