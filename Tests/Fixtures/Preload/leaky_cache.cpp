// A C++ cache that leaks through each allocating form of operator new, built by the tests with g++
// and clang++ at -O2, with and without frame pointers. libstdc++'s operator new keeps no frame
// pointer, so a frame-pointer walk from malloc would name remember's caller.
// The leaking lines are marked LEAK-*; the tests find their numbers in this file.
#include <cstdio>
#include <memory>
#include <new>
#include <vector>

struct Entry {
    char payload[4000];
};

struct alignas(64) AlignedEntry {
    char payload[1000];
};

// Where every leaked pointer ends up: a volatile global, so the optimizer cannot drop an
// allocation whose result is never read.
void *volatile escaped;
// More than any allocator gives, read at run time so the compiler cannot see the size.
volatile size_t impossibleBytes = (size_t)1 << 62;

class LeakyCache {
  public:
    __attribute__((noinline)) void remember(int key);
    __attribute__((noinline)) void rememberArray(int key);
    __attribute__((noinline)) void rememberAligned(int key);
};

void LeakyCache::remember(int key) {
    std::unique_ptr<Entry> entry = std::make_unique<Entry>(); // LEAK-UNIQUE
    entry->payload[0] = (char)key;
    escaped = entry.release();
}

void LeakyCache::rememberArray(int key) {
    char *buffer = new char[3000]; // LEAK-ARRAY
    buffer[0] = (char)key;
    escaped = buffer;
}

void LeakyCache::rememberAligned(int key) {
    AlignedEntry *entry = new AlignedEntry(); // LEAK-ALIGNED
    entry->payload[0] = (char)key;
    escaped = entry;
}

__attribute__((noinline)) static void fill(LeakyCache &cache) {
    for (int key = 0; key < 10; key++) cache.remember(key);
    for (int key = 0; key < 6; key++) cache.rememberArray(key);
    for (int key = 0; key < 4; key++) cache.rememberAligned(key);
}

int main() {
    LeakyCache cache;
    fill(cache);
    // Freed, so not a leak: the operators' blocks go back through free().
    for (int i = 0; i < 1000; i++) delete new Entry();
    // The failure path: operator new throws through the agent's operator, and nothrow returns NULL.
    bool threw = false;
    try {
        escaped = new char[impossibleBytes];
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    char *refused = new (std::nothrow) char[impossibleBytes];
    escaped = refused;
    bool nothrowNull = refused == nullptr;
    std::printf("leaky_cache done threw=%d nothrowNull=%d\n", threw, nothrowNull);
    return 0;
}
