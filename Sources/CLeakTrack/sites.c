// Allocation sites: one record per distinct stack (or tag), created the first time a sample
// carries it and then never moved or changed. Records live in chunks mapped on demand and are
// published through a fixed-size open-addressing index with release stores, so looking up a
// known stack takes no lock; only creating a site does. The counters of a site live with the
// samples, in the shards of samples.c.
#include <string.h>

#include "lt_internal.h"

#define SITE_CHUNK_BITS 10
#define SITE_CHUNK (1u << SITE_CHUNK_BITS)
#define INDEX_SLOTS (2 * LT_MAX_SITES) // load factor at most 1/2, never rehashed

typedef struct site_record {
    uint64_t hash;
    lt_tag tag;
    int32_t frame_count;
    uintptr_t frames[LT_MAX_FRAMES];
} site_record;

static _Alignas(LT_CACHE_LINE) lt_spin_lock creation_lock;
static _Alignas(LT_CACHE_LINE) _Atomic(site_record *) chunks[LT_MAX_SITES / SITE_CHUNK];
static _Atomic(_Atomic uint32_t *) site_index; // site number + 1; 0 for an empty slot
static _Atomic uint32_t site_count;

void lt_sites_lock(void) { lt_spin_acquire(&creation_lock); }
void lt_sites_unlock(void) { lt_spin_release(&creation_lock); }
void lt_sites_reinit_after_fork(void) { atomic_store_explicit(&creation_lock, 0, memory_order_relaxed); }

uint32_t lt_site_count(void) { return atomic_load_explicit(&site_count, memory_order_acquire); }

static const site_record *record(uint32_t site) {
    site_record *chunk = atomic_load_explicit(&chunks[site >> SITE_CHUNK_BITS], memory_order_acquire);
    return &chunk[site & (SITE_CHUNK - 1)];
}

static uint64_t hash_stack(const uintptr_t *frames, int count, const lt_tag *tag) {
    uint64_t hash = 0xCBF29CE484222325ull;
    for (int i = 0; i < count; i++) hash = (hash ^ frames[i]) * 0x100000001B3ull;
    if (tag) {
        hash = (hash ^ (uintptr_t)tag->file) * 0x100000001B3ull;
        hash = (hash ^ (uintptr_t)tag->function) * 0x100000001B3ull;
        hash = (hash ^ (uint64_t)tag->line) * 0x100000001B3ull;
    }
    return hash ? hash : 1; // 0 is the overflow site's
}

static size_t home_slot(uint64_t hash) {
    hash ^= hash >> 33;
    hash *= 0xFF51AFD7ED558CCDull;
    hash ^= hash >> 33;
    return (size_t)hash & (INDEX_SLOTS - 1);
}

static bool same_stack(const site_record *site, uint64_t hash, const uintptr_t *frames, int count, const lt_tag *tag) {
    if (site->hash != hash || site->frame_count != count) return false;
    for (int i = 0; i < count; i++) {
        if (site->frames[i] != frames[i]) return false;
    }
    if (tag == NULL) return site->tag.file == NULL && site->tag.function == NULL;
    return site->tag.file == tag->file && site->tag.function == tag->function && site->tag.line == tag->line;
}

// Probes from the stack's home slot; returns the site, or UINT32_MAX with *empty set to the first
// empty slot.
static uint32_t probe(_Atomic uint32_t *index, uint64_t hash, const uintptr_t *frames, int count, const lt_tag *tag,
                      size_t *empty) {
    for (size_t slot = home_slot(hash);; slot = (slot + 1) & (INDEX_SLOTS - 1)) {
        uint32_t entry = atomic_load_explicit(&index[slot], memory_order_acquire);
        if (entry == 0) {
            *empty = slot;
            return UINT32_MAX;
        }
        if (same_stack(record(entry - 1), hash, frames, count, tag)) return entry - 1;
    }
}

static site_record *writable_record(uint32_t site) {
    size_t chunk_number = site >> SITE_CHUNK_BITS;
    site_record *chunk = atomic_load_explicit(&chunks[chunk_number], memory_order_relaxed);
    if (chunk == NULL) {
        chunk = lt_map(SITE_CHUNK * sizeof(site_record));
        if (chunk == NULL) return NULL;
        atomic_store_explicit(&chunks[chunk_number], chunk, memory_order_release);
    }
    return &chunk[site & (SITE_CHUNK - 1)];
}

// Under the creation lock: the index and the overflow site 0 exist after the first call.
static _Atomic uint32_t *prepared_index(void) {
    _Atomic uint32_t *index = atomic_load_explicit(&site_index, memory_order_relaxed);
    if (index != NULL) return index;
    site_record *overflow = writable_record(0);
    index = lt_map(INDEX_SLOTS * sizeof(uint32_t));
    if (overflow == NULL || index == NULL) return NULL; // a mapped chunk is kept for the next try
    memset(overflow, 0, sizeof *overflow);
    atomic_store_explicit(&site_count, 1, memory_order_release);
    atomic_store_explicit(&site_index, index, memory_order_release);
    return index;
}

static uint32_t create_site(uint64_t hash, const uintptr_t *frames, int count, const lt_tag *tag) {
    lt_sites_lock();
    uint32_t site = UINT32_MAX;
    _Atomic uint32_t *index = prepared_index();
    if (index == NULL) goto done;
    size_t empty;
    site = probe(index, hash, frames, count, tag, &empty); // another thread may have just created it
    if (site != UINT32_MAX) goto done;
    uint32_t number = atomic_load_explicit(&site_count, memory_order_relaxed);
    site_record *fresh = number < LT_MAX_SITES ? writable_record(number) : NULL;
    if (fresh == NULL) {
        site = 0;
        goto done;
    }
    fresh->hash = hash;
    fresh->tag = tag ? *tag : (lt_tag){0};
    fresh->frame_count = count;
    memcpy(fresh->frames, frames, (size_t)count * sizeof(uintptr_t));
    atomic_store_explicit(&site_count, number + 1, memory_order_release);
    atomic_store_explicit(&index[empty], number + 1, memory_order_release);
    site = number;
done:
    lt_sites_unlock();
    return site;
}

uint32_t lt_site_for_stack(const uintptr_t *frames, int count, const lt_tag *tag) {
    uint64_t hash = hash_stack(frames, count, tag);
    _Atomic uint32_t *index = atomic_load_explicit(&site_index, memory_order_acquire);
    if (index != NULL) {
        size_t empty;
        uint32_t site = probe(index, hash, frames, count, tag, &empty);
        if (site != UINT32_MAX) return site;
    }
    return create_site(hash, frames, count, tag);
}

void lt_site_describe(uint32_t site, lt_site *out) {
    const site_record *source = record(site);
    out->stack_id = source->hash;
    out->tag_file = source->tag.file;
    out->tag_function = source->tag.function;
    out->tag_line = source->tag.line;
    out->frame_count = source->frame_count;
    memcpy(out->frames, source->frames, (size_t)source->frame_count * sizeof(uintptr_t));
}
