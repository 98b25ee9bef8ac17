// The chain of inlined calls at an address of an ELF file, read from its DWARF by elfutils' libdw.
// The Swift Runtime's DWARF reader (LeakDebugInfo's) skips an inlined call whose address ranges are
// in DWARF 5's .debug_rnglists, which g++ 11 and later write for most inlined calls; libdw, the
// reader of eu-addr2line, perf and systemd-coredump, reads every form. Only leakwatch-symbolizer
// links it.
#ifndef CINLINE_FRAMES_H
#define CINLINE_FRAMES_H

#include <stdint.h>

/// One function of the chain and where in it the chain's address is.
typedef struct lw_inline_frame {
    const char *name; // the linkage (mangled) name if it has one, else the plain one; NULL if unknown
    const char *file; // NULL if unknown
    int line;         // 0 if unknown
} lw_inline_frame;

/// The functions whose code is at `address` (the file's own address: a loaded one less the load
/// bias) of the ELF file at `path`, innermost first: the functions inlined into one another, and
/// last the one the compiler emitted them in. Writes at most `capacity` frames and returns how many;
/// 0 when the file (or its separate debug file) has no DWARF for the address. The strings belong to
/// a cache of opened files that lives as long as the process.
int lw_inline_frames(const char *path, uint64_t address, lw_inline_frame *frames, int capacity);

#endif
