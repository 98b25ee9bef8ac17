#!/usr/bin/env bash
# Runs the agent's C core (Sources/CLeakTrack + Sources/LeakAgentHooks/interpose.c) under
# AddressSanitizer + UndefinedBehaviorSanitizer and under valgrind memcheck, driven by
# Tests/Fixtures/CoreDriver/core_driver.c (exact sequence, cross-thread frees, thread churn, fork
# during threads, calloc/reallocarray overflow, sampled sites at T=1 and T=4096 read back through
# lt_read_sites). Exits non-zero on any sanitizer/valgrind error or failed check.
#
#   .ci/sanitizers.sh            # both
#   .ci/sanitizers.sh asan       # or: valgrind
#
# Why two different builds:
#  * ASan must own malloc to put redzones around heap blocks, so the ASan build does not interpose
#    (a malloc defined in the executable would shadow ASan's). The driver calls the tracker's entry
#    points (lt_malloc, lt_free, ...) directly, and the runtime is the shared libasan
#    (-shared-libasan): the tracker's dlsym(RTLD_NEXT, "malloc") from the executable then resolves
#    to ASan's allocator, so every block the tracker hands out is an ASan-checked block and every
#    read and write of the tracker itself (tables, counters, stack walk) is checked.
#  * valgrind replaces malloc in libc *and in the main executable* by default, which would replace
#    the interposer itself and test nothing. The valgrind build links interpose.c (the real
#    hooks, the bootstrap arena, dlsym during the first malloc) and runs with
#    --soname-synonyms=somalloc=nouserintercepts: memcheck's allocator then sits under the tracker
#    (reached through RTLD_NEXT -> libc's malloc, which memcheck replaces). The driver checks the
#    hooks are active, so a run where valgrind bypassed the tracker fails.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${LEAKWATCH_SANITIZER_BUILD:-"$repo/.build-sanitizers"}
mkdir -p "$out"
what=${1:-all}

core_sources=("$repo"/Sources/CLeakTrack/*.c)
driver="$repo/Tests/Fixtures/CoreDriver/core_driver.c"
includes=(-I"$repo/Sources/CLeakTrack/include" -I"$repo/Sources/CLeakTrack")
common=(-std=gnu11 -D_GNU_SOURCE -g -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -rdynamic)

clang=${CLANG:-$(command -v clang || true)}
[[ -n "$clang" ]] || clang=/opt/swift/usr/bin/clang

run_asan() {
    echo "== ASan + UBSan ($clang)"
    "$clang" "${common[@]}" -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -shared-libasan \
        -DLT_DRIVER_DIRECT "${includes[@]}" "${core_sources[@]}" "$driver" \
        -o "$out/core-driver-asan" -ldl -lm -lpthread
    local runtime_dir
    runtime_dir=$(dirname "$("$clang" -print-file-name=libclang_rt.asan-x86_64.so)")
    LD_LIBRARY_PATH="$runtime_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=99:check_initialization_order=1:strict_string_checks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$out/core-driver-asan"
    echo "== ASan + UBSan: no errors"
    echo "== ASan sees the tracker's blocks: a write past one must be caught"
    if LD_LIBRARY_PATH="$runtime_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" DRIVER_PROVOKE_OVERFLOW=1 \
        "$out/core-driver-asan" > "$out/provoked-asan.log" 2>&1 || true; ! grep -q "heap-buffer-overflow" "$out/provoked-asan.log"; then
        echo "ASan did not catch a write past a block from lt_malloc: it is not under the tracker" >&2
        cat "$out/provoked-asan.log" >&2
        exit 1
    fi
    echo "caught: $(grep -m1 -o 'heap-buffer-overflow on address [^ ]*' "$out/provoked-asan.log")"
}

run_valgrind() {
    command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install -y valgrind)" >&2; exit 1; }
    echo "== valgrind memcheck (interposed build)"
    cc "${common[@]}" -O1 "${includes[@]}" -I"$repo/Sources/LeakAgentHooks/include" \
        "${core_sources[@]}" "$repo/Sources/LeakAgentHooks/interpose.c" "$driver" \
        -o "$out/core-driver-hooked" -ldl -lm -lpthread
    # Neither sanitizer run reaches the inline glibc chunk-size read (ASan's and memcheck's
    # allocators are not glibc's, so the tracker falls back to malloc_usable_size): run the same
    # build plain once, where the driver's exact checks compare the tracker with glibc.
    echo "== plain run of the interposed build (glibc's allocator, inline chunk sizes)"
    "$out/core-driver-hooked" | grep -E "FAILED|result="
    # Valgrind serialises threads and is ~50x slower: the driver runs a tenth of its rounds.
    # Forked children leave through exec /bin/true (see core_driver.c): a child's leak check would
    # report the blocks the parent's other threads held at fork time. The sample tables' spin locks
    # need valgrind's fair scheduler: with the default one a waiter that yields takes the lock of
    # valgrind's thread serialisation straight back, and the fork test takes minutes, not a second.
    DRIVER_SCALE_DIVISOR=10 DRIVER_FORK_CHILD_EXEC=1 valgrind --fair-sched=yes --error-exitcode=1 \
        --soname-synonyms=somalloc=nouserintercepts \
        --suppressions="$repo/.ci/valgrind.supp" \
        --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --child-silent-after-fork=yes --trace-children=no -q \
        "$out/core-driver-hooked"
    echo "== valgrind: no errors"
    echo "== memcheck sees the tracker's blocks: a write past one must be caught"
    if DRIVER_PROVOKE_OVERFLOW=1 valgrind --fair-sched=yes --soname-synonyms=somalloc=nouserintercepts -q \
        "$out/core-driver-hooked" > "$out/provoked-valgrind.log" 2>&1 || true; ! grep -q "Invalid write of size 1" "$out/provoked-valgrind.log"; then
        echo "memcheck did not catch a write past a block from the interposed malloc" >&2
        cat "$out/provoked-valgrind.log" >&2
        exit 1
    fi
    echo "caught: Invalid write of size 1 ($(grep -m1 -o 'is 0 bytes after a block of size [0-9]*' "$out/provoked-valgrind.log"))"
}

# Not a sanitizer: the interposer built as a preload library, over an allocator that defines the
# malloc family but not malloc_usable_size (Tests/Fixtures/Preload/page_allocator.c). The program
# must run as it does without the agent, and be counted at T=1.
run_foreign_allocator() {
    echo "== preload over an allocator without malloc_usable_size"
    cc "${common[@]}" -O1 -fPIC -shared "${includes[@]}" "${core_sources[@]}" "$repo/Sources/LeakAgentHooks/interpose.c" \
        -o "$out/libcore-preload.so" -ldl -lm -lpthread
    cc -O1 -fPIC -shared "$repo/Tests/Fixtures/Preload/page_allocator.c" -o "$out/libpage-allocator.so"
    cc -g -O0 -fno-omit-frame-pointer "$repo/Tests/Fixtures/Preload/two_leaks.c" -o "$out/two_leaks"
    local output status=0
    output=$(LEAKWATCH_SAMPLE_BYTES=1 LD_PRELOAD="$out/libcore-preload.so:$out/libpage-allocator.so" "$out/two_leaks") || status=$?
    if [[ $status -ne 0 || "$output" != "two_leaks done" ]]; then
        echo "two_leaks failed over the page allocator (status $status; 139 = segfault): $output" >&2
        exit 1
    fi
    echo "ok: runs as without the agent"
}

case "$what" in
    all) run_asan; run_valgrind; run_foreign_allocator ;;
    asan) run_asan ;;
    valgrind) run_valgrind ;;
    foreign) run_foreign_allocator ;;
    *) echo "usage: $0 [all|asan|valgrind|foreign]" >&2; exit 2 ;;
esac
