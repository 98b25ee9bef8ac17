// C++ and Rust symbol names demangled by GNU libiberty's demangler, the one binutils and gdb use
// (Debian's libiberty-dev; its archive is PIC).
#ifndef CDEMANGLE_H
#define CDEMANGLE_H

/// Rust's names, legacy (`_ZN…17h<hash>E`) and v0 (`_R…`), without legacy names' hash suffix, in
/// a malloc'ed string the caller frees; NULL when `mangled` is not a Rust symbol (a C++ or Swift
/// one, a plain C name).
char *lw_demangle_rust(const char *mangled);

/// A C++ name (`_Z…`) with its parameter types, in a malloc'ed string the caller frees; NULL when
/// `mangled` is not one.
char *lw_demangle_cxx(const char *mangled);

#endif
