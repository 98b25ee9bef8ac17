/* cache_service: a synthetic request-serving loop with a bounded LRU cache.
 *
 * Each request allocates a request buffer and a response buffer (freed at the end of the
 * request), looks a key up in a hash table, and on a miss inserts a freshly malloc'd entry;
 * once the cache holds --cap entries the least recently used one is evicted (freed).
 * With --leak-bytes-per-second N, audit records of ~N bytes per second are appended to a
 * list that is never freed (a leak), starting --leak-after seconds after start.
 *
 *   cache_service [--cap N] [--keyspace N] [--rps N] [--value-min B] [--value-max B]
 *                 [--leak-bytes-per-second N] [--leak-after S] [--seconds S] [--seed N]
 *
 * Build: gcc -O2 -g -fno-omit-frame-pointer cache_service.c -o cache_service
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct entry {
    uint64_t key;
    char *value;
    size_t size;
    struct entry *hnext;              /* hash chain */
    struct entry *prev, *next;        /* LRU list, head = most recent */
} entry;

typedef struct audit {
    struct audit *next;
    char text[];
} audit;

static entry **buckets;
static size_t nbuckets;
static entry *lru_head, *lru_tail;
static size_t count;
static audit *audit_log;
static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void lru_unlink(entry *e) {
    if (e->prev) e->prev->next = e->next; else lru_head = e->next;
    if (e->next) e->next->prev = e->prev; else lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(entry *e) {
    e->next = lru_head; e->prev = NULL;
    if (lru_head) lru_head->prev = e;
    lru_head = e;
    if (!lru_tail) lru_tail = e;
}

__attribute__((noinline)) static entry *cache_lookup(uint64_t key) {
    for (entry *e = buckets[key % nbuckets]; e; e = e->hnext)
        if (e->key == key) { lru_unlink(e); lru_push_front(e); return e; }
    return NULL;
}

__attribute__((noinline)) static void cache_evict(void) {
    entry *victim = lru_tail;
    if (!victim) return;
    lru_unlink(victim);
    entry **p = &buckets[victim->key % nbuckets];
    while (*p != victim) p = &(*p)->hnext;
    *p = victim->hnext;
    free(victim->value);
    free(victim);
    count--;
}

__attribute__((noinline)) static entry *cache_insert(uint64_t key, size_t size) {
    entry *e = malloc(sizeof *e);
    e->key = key;
    e->size = size;
    e->value = malloc(size);
    memset(e->value, (int)(key & 0xff), size);
    e->hnext = buckets[key % nbuckets];
    buckets[key % nbuckets] = e;
    lru_push_front(e);
    count++;
    return e;
}

__attribute__((noinline)) static size_t audit_log_append(uint64_t request, size_t bytes) {
    audit *a = malloc(sizeof *a + bytes);
    snprintf(a->text, bytes, "request %llu served", (unsigned long long)request);
    a->next = audit_log;
    audit_log = a;
    return bytes;
}

__attribute__((noinline)) static size_t handle_request(uint64_t number, size_t cap, uint64_t keyspace,
                                                       size_t vmin, size_t vmax) {
    size_t reqlen = 200 + rnd() % 1800;
    char *request = malloc(reqlen);
    snprintf(request, reqlen, "GET /item/%llu HTTP/1.1", (unsigned long long)number);
    /* skewed key choice: half the traffic on the first tenth of the keyspace */
    uint64_t key = (rnd() & 1) ? rnd() % (keyspace / 10 + 1) : rnd() % keyspace;
    entry *e = cache_lookup(key);
    if (!e) {
        while (count >= cap) cache_evict();
        e = cache_insert(key, vmin + rnd() % (vmax - vmin + 1));
    }
    size_t resplen = e->size + 128;
    char *response = malloc(resplen);
    memcpy(response, e->value, e->size);
    size_t n = strlen(request) + response[0];
    free(response);
    free(request);
    return n;
}

int main(int argc, char **argv) {
    size_t cap = 20000, vmin = 200, vmax = 1800;
    uint64_t keyspace = 100000;
    double rps = 100, leak_bps = 0, leak_after = 0, seconds = 1e18;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--cap")) cap = strtoull(v, 0, 10);
        else if (!strcmp(k, "--keyspace")) keyspace = strtoull(v, 0, 10);
        else if (!strcmp(k, "--rps")) rps = atof(v);
        else if (!strcmp(k, "--value-min")) vmin = strtoull(v, 0, 10);
        else if (!strcmp(k, "--value-max")) vmax = strtoull(v, 0, 10);
        else if (!strcmp(k, "--leak-bytes-per-second")) leak_bps = atof(v);
        else if (!strcmp(k, "--leak-after")) leak_after = atof(v);
        else if (!strcmp(k, "--seconds")) seconds = atof(v);
        else if (!strcmp(k, "--seed")) rng_state ^= strtoull(v, 0, 10) * 0x9E3779B97F4A7C15ULL;
        else { fprintf(stderr, "unknown option %s\n", k); return 2; }
    }
    nbuckets = cap * 2 + 1;
    buckets = calloc(nbuckets, sizeof *buckets);
    double start = now_seconds(), leaked = 0;
    uint64_t served = 0, checksum = 0;
    const double tick = 0.01;  /* 10 ms ticks, absolute pacing */
    for (uint64_t t = 1;; t++) {
        double elapsed = now_seconds() - start;
        if (elapsed >= seconds) break;
        double due = rps * t * tick;
        while (served < due) {
            checksum += handle_request(served, cap, keyspace, vmin, vmax);
            served++;
        }
        if (leak_bps > 0 && elapsed >= leak_after) {
            double owed = leak_bps * (elapsed - leak_after);
            while (leaked + 256 <= owed) leaked += audit_log_append(served, 200 + rnd() % 113);
        }
        double deadline = start + t * tick, now = now_seconds();
        if (deadline > now) usleep((useconds_t)((deadline - now) * 1e6));
    }
    printf("served %llu checksum %llu entries %zu\n", (unsigned long long)served,
           (unsigned long long)checksum, count);
    return 0;
}
