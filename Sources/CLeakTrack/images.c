// The loaded ELF objects as the dynamic loader knows them, for the symbolizer.
//
// /proc/self/maps cannot give the load bias: it shows where each object is mapped, which equals
// the bias only when the first segment's vaddr is 0 (PIE and shared libraries). An ET_EXEC
// program (Debian's gcc, cpp, g++, `-no-pie`) is mapped at 0x400000 with a bias of 0, and taking
// the mapping for the bias reads its notes at twice their address. The loader's own list has the
// bias, the program headers and the build-id notes in memory; reading it takes the loader's lock,
// so this runs on the agent's thread, never inside an allocation hook.
#include <elf.h>
#include <link.h>
#include <string.h>

#include "CLeakTrack.h"

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

static int add_image(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    image_list *list = context;
    if (list->count >= list->capacity) {
        list->count += 1; // counted, so the caller can ask again with room for all
        return 0;
    }
    lt_image image = {.load_bias = info->dlpi_addr, .path = info->dlpi_name ? info->dlpi_name : ""};
    uint64_t mapped_start = UINT64_MAX, text_end = 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        uint64_t start = info->dlpi_addr + header->p_vaddr;
        if (header->p_type == PT_LOAD) {
            if (start < mapped_start) mapped_start = start;
            if ((header->p_flags & PF_X) && start + header->p_memsz > text_end) text_end = start + header->p_memsz;
        } else if (header->p_type == PT_NOTE && image.build_id_size == 0) {
            read_build_id(&image, (uintptr_t)start, header->p_memsz);
        }
    }
    if (text_end == 0) return 0; // no code: nothing to symbolize in it
    image.mapped_start = mapped_start;
    image.text_end = text_end;
    list->out[list->count++] = image;
    return 0;
}

int lt_read_images(lt_image *out, int capacity) {
    image_list list = {.out = out, .capacity = capacity, .count = 0};
    dl_iterate_phdr(add_image, &list);
    return list.count;
}
