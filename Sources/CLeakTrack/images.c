// The loaded ELF objects as the dynamic loader knows them, for the symbolizer.
//
// /proc/self/maps cannot give the load bias: it shows where each object is mapped, which equals
// the bias only when the first segment's vaddr is 0 (PIE and shared libraries). An ET_EXEC
// program (Debian's gcc, cpp, g++, `-no-pie`) is mapped at 0x400000 with a bias of 0, and taking
// the mapping for the bias reads its notes at twice their address. The loader's own list has the
// bias, the program headers and the build-id notes in memory; reading it takes the loader's lock,
// so this runs on the agent's thread, never inside an allocation hook.
#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "CLeakTrack.h"
#include "CLeakTrackEntry.h"

typedef struct image_list {
    lt_image *out;
    int capacity;
    int count;
} image_list;

static uint32_t note_align(uint32_t size) { return (size + 3u) & ~3u; }

/// Copies the NT_GNU_BUILD_ID note of one PT_NOTE segment, if it holds one.
static void read_build_id(lt_image *image, uintptr_t notes, size_t size) {
    uintptr_t cursor = notes;
    uintptr_t end = notes + size;
    while (cursor + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)cursor;
        uintptr_t name = cursor + sizeof(ElfW(Nhdr));
        uintptr_t descriptor = name + note_align(note->n_namesz);
        uintptr_t next = descriptor + note_align(note->n_descsz);
        if (next > end || next <= cursor) return;
        if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && memcmp((const void *)name, "GNU", 4) == 0) {
            uint32_t length = note->n_descsz < LT_BUILD_ID_MAX ? note->n_descsz : LT_BUILD_ID_MAX;
            memcpy(image->build_id, (const void *)descriptor, length);
            image->build_id_size = length;
            return;
        }
        cursor = next;
    }
}

/// The record of one object as the loader lists it; false for an object without code.
static bool describe(const struct dl_phdr_info *info, lt_image *image) {
    *image = (lt_image){.load_bias = info->dlpi_addr, .path = info->dlpi_name ? info->dlpi_name : ""};
    uint64_t mapped_start = UINT64_MAX, text_end = 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        uint64_t start = info->dlpi_addr + header->p_vaddr;
        if (header->p_type == PT_LOAD) {
            if (start < mapped_start) mapped_start = start;
            if ((header->p_flags & PF_X) && start + header->p_memsz > text_end) text_end = start + header->p_memsz;
        } else if (header->p_type == PT_NOTE && image->build_id_size == 0) {
            read_build_id(image, (uintptr_t)start, header->p_memsz);
        }
    }
    image->mapped_start = mapped_start;
    image->text_end = text_end;
    return text_end != 0; // no code: nothing to symbolize in it
}

static void add(image_list *list, const lt_image *image) {
    if (list->count < list->capacity) list->out[list->count] = *image;
    list->count += 1; // past the capacity too, so the caller can ask again with room for all
}

static int add_loaded(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    lt_image image;
    if (describe(info, &image)) add(context, &image);
    return 0;
}

// --- objects the program has unloaded ---
// An address sampled in a library the program has dlclose'd since must still be named: the file is
// on disk, and the symbolizer reads it again if it knows where the object was. The hooks route
// dlclose here (heaptrack's preload watches dlclose for the same reason); the handle's own object,
// when it leaves, goes into a ring of the last DEPARTED_CAPACITY, which lt_read_images lists after
// the loaded objects unless one of those has taken its addresses since. Lock-free, a sequence
// number per slot, odd while it is written: dlclose runs on any thread, and around a fork.
#define DEPARTED_CAPACITY 16

typedef struct departed_image {
    _Atomic uint32_t sequence;
    lt_image image; // .path points at `path`
    char path[PATH_MAX];
} departed_image;

static departed_image departed[DEPARTED_CAPACITY];
static _Atomic uint32_t departures;

typedef struct object_query {
    uintptr_t load_bias;
    const char *name;
    lt_image *image; // filled when found
    bool found;
} object_query;

static int find_object(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    object_query *query = context;
    if (info->dlpi_addr != query->load_bias || strcmp(info->dlpi_name ? info->dlpi_name : "", query->name) != 0) return 0;
    query->found = query->image == NULL || describe(info, query->image);
    return 1;
}

static void remember_departed(const lt_image *image, const char *path) {
    departed_image *slot = &departed[atomic_fetch_add(&departures, 1) % DEPARTED_CAPACITY];
    atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_acquire); // odd: being written
    atomic_thread_fence(memory_order_release);
    slot->image = *image;
    strncpy(slot->path, path, sizeof slot->path - 1);
    slot->path[sizeof slot->path - 1] = '\0';
    slot->image.path = slot->path;
    atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_release); // even: complete
}

int lt_dlclose(void *handle) {
    static int (*_Atomic next_dlclose)(void *);
    int (*next)(void *) = atomic_load_explicit(&next_dlclose, memory_order_acquire);
    if (next == NULL) {
        next = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
        atomic_store_explicit(&next_dlclose, next, memory_order_release);
    }
    // The object as it is now: the loader frees its link map when it unloads it. The loader keeps
    // the name dlopen was given, and "./plugin.so" is the file only from the working directory of
    // the moment: the departed record holds the absolute path.
    struct link_map *map = NULL;
    lt_image image;
    char loader_name[PATH_MAX] = "", path[PATH_MAX] = "";
    object_query query = {.image = &image, .name = loader_name};
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != NULL && map->l_name != NULL && map->l_name[0] != '\0') {
        strncpy(loader_name, map->l_name, sizeof loader_name - 1);
        query.load_bias = map->l_addr;
        if (loader_name[0] == '/') {
            memcpy(path, loader_name, sizeof path);
        } else if (realpath(loader_name, path) == NULL) {
            path[0] = '\0';
        }
        if (path[0] != '\0') dl_iterate_phdr(find_object, &query);
    }
    int result = next(handle);
    if (result == 0 && query.found) {
        object_query still = {.load_bias = query.load_bias, .name = loader_name};
        dl_iterate_phdr(find_object, &still); // other handles may keep it loaded
        if (!still.found) remember_departed(&image, path);
    }
    return result;
}

static bool overlaps(const lt_image *image, const lt_image *images, int count) {
    for (int i = 0; i < count; i++) {
        if (image->mapped_start < images[i].text_end && images[i].mapped_start < image->text_end) return true;
    }
    return false;
}

int lt_read_images(lt_image *out, int capacity) {
    image_list list = {.out = out, .capacity = capacity, .count = 0};
    dl_iterate_phdr(add_loaded, &list);
    int loaded = list.count < capacity ? list.count : capacity;
    for (int i = 0; i < DEPARTED_CAPACITY; i++) {
        departed_image *slot = &departed[i];
        uint32_t before = atomic_load_explicit(&slot->sequence, memory_order_acquire);
        if (before == 0 || (before & 1)) continue;
        lt_image image = slot->image;
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&slot->sequence, memory_order_relaxed) != before) continue;
        if (!overlaps(&image, out, loaded)) add(&list, &image);
    }
    return list.count;
}
