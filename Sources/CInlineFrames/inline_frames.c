#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "CInlineFrames.h"

// --- opened files, each its own Dwfl session, kept for the process's life ---

typedef struct opened_file {
    char *path;
    Dwfl *session;
    Dwfl_Module *module; // NULL when libdw could not read the file
    struct opened_file *next;
} opened_file;

static pthread_mutex_t opened_lock = PTHREAD_MUTEX_INITIALIZER;
static opened_file *opened;

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_debuginfo = dwfl_standard_find_debuginfo, // .gnu_debuglink and /usr/lib/debug/.build-id
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/// The file at `path`, reported at base 0 so that its module's addresses are the file's own.
static opened_file *open_file(const char *path) {
    for (opened_file *file = opened; file != NULL; file = file->next) {
        if (strcmp(file->path, path) == 0) return file;
    }
    opened_file *file = calloc(1, sizeof *file);
    if (file == NULL) return NULL;
    file->path = strdup(path);
    file->session = dwfl_begin(&callbacks);
    if (file->path == NULL || file->session == NULL) {
        if (file->session != NULL) dwfl_end(file->session);
        free(file->path);
        free(file);
        return NULL;
    }
    dwfl_report_begin(file->session);
    file->module = dwfl_report_elf(file->session, path, path, -1, 0, false);
    dwfl_report_end(file->session, NULL, NULL);
    file->next = opened;
    opened = file;
    return file;
}

// --- the chain ---

/// The name a function's DIE (or the DIE it is an inlined or out-of-line copy of) gives it.
static const char *function_name(Dwarf_Die *die) {
    static const int names[] = {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        Dwarf_Attribute attribute;
        const char *name = dwarf_formstring(dwarf_attr_integrate(die, names[i], &attribute));
        if (name != NULL) return name;
    }
    return NULL;
}

/// The source file of the inlined call `die` stands for, and its line.
static void call_site(Dwarf_Die *die, Dwarf_Files *files, size_t file_count, const char **file, int *line) {
    Dwarf_Attribute attribute;
    Dwarf_Word value;
    *file = NULL;
    *line = 0;
    if (files != NULL && dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attribute), &value) == 0 && value < file_count) {
        *file = dwarf_filesrc(files, value, NULL, NULL);
    }
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attribute), &value) == 0) *line = (int)value;
}

static int chain(Dwfl_Module *module, Dwarf_Addr address, lw_inline_frame *frames, int capacity) {
    Dwarf_Addr bias;
    Dwarf_Die *unit = dwfl_module_addrdie(module, address, &bias);
    if (unit == NULL) return 0;
    // Where the innermost function is: the line table's row for the address.
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *row = dwfl_module_getsrc(module, address);
    if (row != NULL) file = dwfl_lineinfo(row, NULL, &line, NULL, NULL, NULL);
    Dwarf_Files *files = NULL;
    size_t file_count = 0;
    if (dwarf_getsrcfiles(unit, &files, &file_count) != 0) files = NULL;

    // The innermost scope, then its physical parents: dwarf_getscopes alone goes on from an
    // inlined instance into its abstract definition's parents, not into the function it was
    // inlined into.
    Dwarf_Die *scopes = NULL;
    int scope_count = dwarf_getscopes(unit, address - bias, &scopes);
    if (scope_count <= 0) {
        free(scopes);
        return 0;
    }
    Dwarf_Die innermost = scopes[0];
    free(scopes);
    scopes = NULL;
    scope_count = dwarf_getscopes_die(&innermost, &scopes);
    int count = 0;
    for (int i = 0; i < scope_count && count < capacity; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue; // lexical blocks
        frames[count++] = (lw_inline_frame){.name = function_name(&scopes[i]), .file = file, .line = line};
        if (tag == DW_TAG_subprogram) break;
        // The function this one was inlined into is at the inlined call.
        call_site(&scopes[i], files, file_count, &file, &line);
    }
    free(scopes);
    return count;
}

int lw_inline_frames(const char *path, uint64_t address, lw_inline_frame *frames, int capacity) {
    if (path == NULL || frames == NULL || capacity <= 0) return 0;
    pthread_mutex_lock(&opened_lock);
    opened_file *file = open_file(path);
    int count = file != NULL && file->module != NULL ? chain(file->module, address, frames, capacity) : 0;
    pthread_mutex_unlock(&opened_lock);
    return count;
}
