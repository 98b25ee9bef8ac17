// Rust's symbol names, legacy (`_ZN…17h<hash>E`) and v0 (`_R…`), demangled by GNU libiberty's
// demangler, the one binutils and gdb use (Debian's libiberty-dev; its archive is PIC, so it links
// into the agent's runtime library too).
#ifndef CRUSTDEMANGLE_H
#define CRUSTDEMANGLE_H

/// The readable name, without legacy names' hash suffix, in a malloc'ed string the caller frees;
/// NULL when `mangled` is not a Rust symbol (a C++ or Swift one, a plain C name).
char *lw_demangle_rust(const char *mangled);

#endif
