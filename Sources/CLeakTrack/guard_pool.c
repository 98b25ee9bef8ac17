// The guarded pool (the seed's §5, done the way GWP-ASan does it in production): one allocation in
// LEAKWATCH_GUARD_SAMPLE (default 10,000) is served from a fixed pool of one-page slots, each
// between two PROT_NONE guard pages, its block pushed against the right guard page. A read or write
// past the block's end faults at once; a freed slot is made PROT_NONE and left in quarantine, so a
// use after free faults too; free() itself catches double and invalid frees. The SIGSEGV/SIGBUS
// handler recognises a fault in the pool, reports it (report below; guard_errors.c hands it to the
// agent, which names the stacks and ships the error), and either lets the program
// run on (recover, the default) or dies by the original signal (crash).
//
//   lt_guard_pool.start                                             start + bytes
//   │                                                                           │
//   ▼                                                                           ▼
//   ┌───────┬─────────────┬───────┬─────────────┬───────┬ ... ┬─────────────┬───────┐
//   │ guard │ slot 0      │ guard │ slot 1      │ guard │     │ slot n-1    │ guard │
//   │ NONE  │    [block]▐ │ NONE  │      [blk]▐ │ NONE  │     │             │ NONE  │
//   └───────┴─────────────┴───────┴─────────────┴───────┴ ... ┴─────────────┴───────┘
//   page 2k is guard k (before slot k); page 2k+1 is slot k.
//
// The whole pool, guards included, is one mapping, so "is this pointer ours" on free, realloc and
// malloc_usable_size is one unsigned range comparison (lt_in_guard_pool), false for every pointer
// while the pool is off (start = bytes = 0). Which allocation goes to the pool is decided by a
// per-thread countdown in the thread block's first line (lt_thread.allocations_until_guard), drawn
// uniformly from [1, 2N-1] as GWP-ASan draws it: no shared atomic on the hot path.
//
// Only over glibc with this library's free() the process's (lt_records_in_prefix): a pointer from
// the pool must never reach another allocator's own entry points (jemalloc's dallocx...).
//
// Locks: the slot table's spin lock is a leaf, taken after every other lock of the tracker (fork.c
// takes it last); nothing runs under it but the table, mprotect/madvise and sigaction. The signal
// handler reads the table without it and takes it only in recover mode, to retire the slot, never on
// a thread that holds it already.
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "lt_internal.h"

// 1 in 10,000: the middle of what GWP-ASan ships (1 in 5,000 to 20,000). A placement and its free
// cost four system calls (mprotect twice, madvise, a sigaction query), a few microseconds, against
// ~16 ns for a tracked malloc/free pair: spread over 10,000 pairs that is under 2 % of the
// tracker's own cost, a smaller share of any program's. The benchmark (issue 17, item 7) is to
// settle it.
#define DEFAULT_SAMPLE 10000u
#define DEFAULT_SLOTS 64u
#define MAX_SLOTS 4096u
#define GUARD_FRAMES LT_GUARD_FRAMES

lt_guard_range lt_guard_pool;

enum slot_state { SLOT_UNUSED, SLOT_ALLOCATED, SLOT_QUARANTINED, SLOT_RETIRED };

typedef struct guard_stack {
    pid_t thread;
    int32_t count;
    uintptr_t frames[GUARD_FRAMES];
} guard_stack;

typedef struct guard_slot {
    uintptr_t block; // the application's pointer
    size_t size;     // as requested
    uint8_t state;
    bool freed; // the block was freed (a retired slot keeps this)
    guard_stack allocated, released;
} guard_slot;

static struct {
    size_t page;
    uint32_t slot_count;
    uint32_t sample; // N: one allocation in N on average; 0 off
    bool crash;
    guard_slot *slots;
    uint32_t *quarantine; // ring of slot numbers, least recently freed at head
    uint32_t quarantine_head, quarantine_count, next_unused;
    lt_spin_lock lock;
    struct sigaction previous_segv, previous_bus;
    _Atomic uint64_t guarded, full, errors;
    char program[256]; // the main executable's path, for frames in it (its link map's name is "")
} pool;

static __thread bool holding_pool LT_TLS;

static void pool_acquire(void) {
    lt_table_acquire(&pool.lock); // skipped by the forking thread, which holds it already
    holding_pool = true;
}
static void pool_release(void) {
    holding_pool = false;
    lt_table_release(&pool.lock);
}

void lt_guard_lock(void) { lt_spin_acquire(&pool.lock); }
void lt_guard_unlock(void) { lt_spin_release(&pool.lock); }
void lt_guard_reinit_after_fork(void) {
    holding_pool = false;
    atomic_store_explicit(&pool.lock, 0, memory_order_relaxed);
}

static uintptr_t slot_start(uint32_t index) { return lt_guard_pool.start + (2 * (uintptr_t)index + 1) * pool.page; }

// --- the sampler ---

uint32_t lt_next_guard_gap(lt_thread *self) {
    uint32_t sample = pool.sample;
    if (sample == 0 || lt_guard_pool.bytes == 0 || (self->flags & LT_THREAD_AGENT)) return UINT32_MAX;
    uint64_t x = self->guard_random_state; // xorshift64*, as the stack sampler's own
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->guard_random_state = x;
    return 1 + (uint32_t)((x * 0x2545F4914F6CDD1Dull >> 32) % (2 * (uint64_t)sample - 1));
}

// --- the fault handler's installation ---

static void on_fault(int signal, siginfo_t *info, void *context);

/// Puts the handler in front of whatever handles `signal` now (the program may have installed its
/// own since: a crash reporter, Swift's backtracer), remembering that one to chain to. Under the
/// pool lock, so two threads never record each other's installation of ours as the previous one.
static void arm(int signal, struct sigaction *previous) {
    struct sigaction current;
    if (sigaction(signal, NULL, &current) != 0) return;
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_fault) return;
    struct sigaction ours;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = on_fault;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&ours.sa_mask);
    *previous = current;
    sigaction(signal, &ours, NULL);
}

static void arm_handlers(void) {
    arm(SIGSEGV, &pool.previous_segv);
    arm(SIGBUS, &pool.previous_bus);
}

// --- configuration ---

/// The variable's value into `out` if it is set; false when it is set but not a whole number.
static bool read_unsigned(const char *name, uint64_t *out) {
    const char *text = getenv(name);
    if (text == NULL || *text == '\0') return true;
    if (text[0] == '-') return false;
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 10);
    if (end == NULL || *end != '\0') return false;
    *out = value;
    return true;
}

void lt_guard_configure_from_environment(void) {
    if (!lt_records_in_prefix) return;
    if (lt_preload_unconfigured != NULL && lt_preload_unconfigured()) return;
    uint64_t sample = DEFAULT_SAMPLE, slots = DEFAULT_SLOTS;
    const char *mode = getenv("LEAKWATCH_GUARD_MODE");
    bool mode_valid = mode == NULL || *mode == '\0' || strcmp(mode, "recover") == 0 || strcmp(mode, "crash") == 0;
    // A malformed setting turns the pool off; the agent says which on stderr (AgentConfiguration).
    if (!read_unsigned("LEAKWATCH_GUARD_SAMPLE", &sample) || !read_unsigned("LEAKWATCH_GUARD_SLOTS", &slots) || !mode_valid) {
        return;
    }
    pool.crash = mode != NULL && strcmp(mode, "crash") == 0;
    if (sample == 0 || slots == 0) return;
    if (sample > (1u << 31)) sample = 1u << 31;
    if (slots > MAX_SLOTS) slots = MAX_SLOTS;
    size_t page = lt_page_size();
    size_t bytes = (2 * slots + 1) * page;
    size_t table = slots * sizeof(guard_slot) + slots * sizeof(uint32_t);
    void *region = lt_map(bytes);
    void *metadata = lt_map(table);
    if (region == NULL || metadata == NULL || mprotect(region, bytes, PROT_NONE) != 0) {
        if (region) lt_unmap(region, bytes);
        if (metadata) lt_unmap(metadata, table);
        return;
    }
    pool.page = page;
    pool.slot_count = (uint32_t)slots;
    pool.sample = (uint32_t)sample;
    pool.slots = metadata;
    pool.quarantine = (uint32_t *)(pool.slots + slots);
    ssize_t length = readlink("/proc/self/exe", pool.program, sizeof pool.program - 1);
    pool.program[length > 0 ? length : 0] = '\0';
    arm_handlers();
    LT_STORE(lt_guard_pool.start, (uintptr_t)region);
    LT_STORE(lt_guard_pool.bytes, (uintptr_t)bytes);
}

// --- placing and freeing ---

static pid_t current_thread_id(void) { return (pid_t)syscall(SYS_gettid); }

static void capture(guard_stack *stack, uintptr_t frame_pointer, uintptr_t stack_high) {
    stack->thread = current_thread_id();
    stack->count = frame_pointer ? lt_stack_walk(frame_pointer, stack_high, stack->frames, GUARD_FRAMES) : 0;
}

/// A slot to place a block in: one never used, else the least recently freed. -1 when the pool is full.
static int64_t take_slot(void) {
    if (pool.next_unused < pool.slot_count) return pool.next_unused++;
    while (pool.quarantine_count > 0) {
        uint32_t index = pool.quarantine[pool.quarantine_head];
        pool.quarantine_head = (pool.quarantine_head + 1) % pool.slot_count;
        pool.quarantine_count--;
        if (pool.slots[index].state == SLOT_QUARANTINED) return index; // a retired one stays out
    }
    return -1;
}

static void quarantine(uint32_t index) {
    pool.quarantine[(pool.quarantine_head + pool.quarantine_count) % pool.slot_count] = index;
    pool.quarantine_count++;
}

void *lt_guard_allocate(size_t size, size_t alignment, uintptr_t frame_pointer, uintptr_t stack_high) {
    if (LT_LOAD(lt_guard_pool.bytes) == 0 || size == 0 || size > pool.page) return NULL;
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > pool.page) return NULL;
    pool_acquire();
    int64_t index = take_slot();
    uintptr_t start = index < 0 ? 0 : slot_start((uint32_t)index);
    if (index < 0 || mprotect((void *)start, pool.page, PROT_READ | PROT_WRITE) != 0) {
        if (index >= 0) quarantine((uint32_t)index); // mprotect failed (the mapping limit): try it later
        pool_release();
        atomic_fetch_add_explicit(&pool.full, 1, memory_order_relaxed);
        return NULL;
    }
    guard_slot *slot = &pool.slots[index];
    slot->block = (start + pool.page - size) & ~(uintptr_t)(alignment - 1);
    slot->size = size;
    slot->state = SLOT_ALLOCATED;
    slot->freed = false;
    slot->released.count = 0;
    arm_handlers();
    pool_release();
    capture(&slot->allocated, frame_pointer, stack_high);
    atomic_fetch_add_explicit(&pool.guarded, 1, memory_order_relaxed);
    return (void *)slot->block;
}

/// The slot whose page `address` is in; -1 for a guard page.
static int64_t slot_of(uintptr_t address) {
    uintptr_t page = (address - lt_guard_pool.start) / pool.page;
    return page & 1 ? (int64_t)(page / 2) : -1;
}

size_t lt_guard_block_size(const void *pointer) {
    int64_t index = slot_of((uintptr_t)pointer);
    if (index < 0) return SIZE_MAX;
    const guard_slot *slot = &pool.slots[index];
    if (slot->freed || slot->state == SLOT_UNUSED || slot->block != (uintptr_t)pointer) return SIZE_MAX;
    return slot->size;
}

// --- the report: write(2) only, no allocation, no lock (it runs in the signal handler) ---

typedef struct line {
    char text[512];
    size_t length;
} line;

static void put(line *out, const char *text) {
    while (*text && out->length < sizeof out->text - 1) out->text[out->length++] = *text++;
}
static void put_unsigned(line *out, uint64_t value, unsigned base) {
    char digits[24];
    int count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    if (base == 16) put(out, "0x");
    while (count > 0 && out->length < sizeof out->text - 1) out->text[out->length++] = digits[--count];
}
static void put_signed(line *out, int64_t value) {
    if (value < 0) put(out, "-");
    put_unsigned(out, value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value, 10);
}
static void flush(line *out) {
    out->text[out->length++] = '\n';
    for (size_t written = 0; written < out->length;) {
        ssize_t result = write(STDERR_FILENO, out->text + written, out->length - written);
        if (result < 0 && errno == EINTR) continue;
        if (result <= 0) break;
        written += (size_t)result;
    }
    out->length = 0;
}

// Frames as `#0 0xADDRESS (module+0xOFFSET)`, ASan's unsymbolized form; the offset is from the
// module's load bias, what addr2line -e module takes. _dl_find_object (glibc 2.35) is lock-free and
// async-signal-safe; dladdr, the fallback elsewhere, takes the loader's lock: a fault on a thread
// inside dlopen would then wait for itself, acceptable only where nothing better exists.
static void put_frame(line *out, int number, uintptr_t address) {
    put(out, "    #");
    put_unsigned(out, (uint64_t)number, 10);
    put(out, " ");
    put_unsigned(out, address, 16);
    const char *name = NULL;
    uintptr_t bias = 0;
#ifdef DLFO_STRUCT_HAS_EH_DBASE
    struct dl_find_object found;
    if (_dl_find_object((void *)address, &found) == 0 && found.dlfo_link_map != NULL) {
        name = found.dlfo_link_map->l_name;
        bias = found.dlfo_link_map->l_addr;
    }
#else
    Dl_info info;
    if (dladdr((void *)address, &info) && info.dli_fname != NULL) {
        name = info.dli_fname;
        bias = (uintptr_t)info.dli_fbase;
    }
#endif
    if (name != NULL) {
        put(out, " (");
        put(out, *name ? name : pool.program);
        put(out, "+");
        put_unsigned(out, address - bias, 16);
        put(out, ")");
    }
    flush(out);
}

static void put_stack(line *out, const char *what, const guard_stack *stack) {
    put(out, "leakwatch: ");
    put(out, what);
    put(out, " by thread ");
    put_unsigned(out, (uint64_t)stack->thread, 10);
    put(out, ":");
    flush(out);
    for (int i = 0; i < stack->count; i++) put_frame(out, i, stack->frames[i]);
    if (stack->count == 0) {
        put(out, "    (no frames: the thread's stack bounds are unknown)");
        flush(out);
    }
}

typedef enum lt_guard_access access_kind;
static const char *const access_names[] = {"unknown", "read", "write", "free"};
static const char *const kind_names[] = {"wild-access", "heap-buffer-overflow", "heap-buffer-underflow",
                                         "heap-use-after-free", "double-free", "invalid-free"};

static void copy_stack(const guard_stack *stack, uint64_t *frames, int32_t *count, int32_t *thread) {
    for (int i = 0; i < stack->count; i++) frames[i] = stack->frames[i];
    *count = stack->count;
    *thread = stack->thread;
}

/// The error for the agent's reporter (guard_errors.c); its sequence, 0 when the ring is full.
static uint64_t record_for_agent(enum lt_guard_error_kind kind, uintptr_t address, const guard_slot *slot,
                                 access_kind how, const guard_stack *current) {
    lt_guard_error *error = lt_guard_error_claim();
    if (error == NULL) return 0;
    error->kind = kind;
    error->access = how;
    error->address = address;
    error->crash = pool.crash;
    copy_stack(current, error->access_frames, &error->access_frame_count, &error->thread);
    if (slot) {
        error->block_address = slot->block;
        error->block_size = slot->size;
        error->offset = (int64_t)(address - slot->block);
        copy_stack(&slot->allocated, error->allocation_frames, &error->allocation_frame_count, &error->allocation_thread);
        if (slot->freed) copy_stack(&slot->released, error->free_frames, &error->free_frame_count, &error->free_thread);
    }
    return lt_guard_error_publish(error);
}

/// Writes the raw report of `kind` at `address`, about `slot` (NULL: none near), `current` being
/// the stack of the access or of the bad free, and records it for the agent (its sequence).
static uint64_t report(enum lt_guard_error_kind kind, uintptr_t address, const guard_slot *slot, access_kind how,
                       const guard_stack *current) {
    atomic_fetch_add_explicit(&pool.errors, 1, memory_order_relaxed);
    line out = {.length = 0};
    put(&out, "leakwatch: ERROR: ");
    put(&out, kind_names[kind]);
    put(&out, " on address ");
    put_unsigned(&out, address, 16);
    put(&out, " (");
    put(&out, access_names[how]);
    put(&out, ") in thread ");
    put_unsigned(&out, (uint64_t)current->thread, 10);
    flush(&out);
    int64_t offset = slot ? (int64_t)(address - slot->block) : 0;
    if (slot) {
        put(&out, "leakwatch: ");
        put_unsigned(&out, address, 16);
        put(&out, " is ");
        if (offset < 0) {
            put_unsigned(&out, (uint64_t)-offset, 10);
            put(&out, " bytes before");
        } else if ((uint64_t)offset >= slot->size) {
            put_unsigned(&out, (uint64_t)offset - slot->size, 10);
            put(&out, " bytes after");
        } else {
            put_unsigned(&out, (uint64_t)offset, 10);
            put(&out, " bytes inside");
        }
        put(&out, " a ");
        put_unsigned(&out, slot->size, 10);
        put(&out, "-byte block [");
        put_unsigned(&out, slot->block, 16);
        put(&out, ",");
        put_unsigned(&out, slot->block + slot->size, 16);
        put(&out, ")");
        flush(&out);
    }
    put_stack(&out, how == LT_GUARD_ACCESS_FREE ? "freed" : "accessed", current);
    if (slot && slot->freed) put_stack(&out, "previously freed", &slot->released);
    if (slot) put_stack(&out, "allocated", &slot->allocated);
    put(&out, "leakwatch: SUMMARY: ");
    put(&out, kind_names[kind]);
    put(&out, " offset=");
    put_signed(&out, offset);
    put(&out, " size=");
    put_unsigned(&out, slot ? slot->size : 0, 10);
    put(&out, " access=");
    put(&out, access_names[how]);
    put(&out, " thread=");
    put_unsigned(&out, (uint64_t)current->thread, 10);
    put(&out, pool.crash ? " mode=crash" : " mode=recover");
    flush(&out);
    return record_for_agent(kind, address, slot, how, current);
}

// --- bad frees, caught in free() itself ---

bool lt_guard_release(void *pointer, uintptr_t frame_pointer, uintptr_t stack_high) {
    uintptr_t address = (uintptr_t)pointer;
    pool_acquire();
    int64_t index = slot_of(address);
    guard_slot *slot = index < 0 ? NULL : &pool.slots[index];
    if (slot != NULL && slot->block == address && !slot->freed && slot->state != SLOT_UNUSED) {
        capture(&slot->released, frame_pointer, stack_high);
        slot->freed = true;
        if (slot->state == SLOT_ALLOCATED) {
            // A retired slot (an error was reported on it) stays accessible and out of use for good.
            uintptr_t start = slot_start((uint32_t)index);
            madvise((void *)start, pool.page, MADV_DONTNEED); // its memory goes back; zeroed when reused
            mprotect((void *)start, pool.page, PROT_NONE);
            slot->state = SLOT_QUARANTINED;
            quarantine((uint32_t)index);
        }
        pool_release();
        return true;
    }
    pool_release();
    guard_stack current;
    capture(&current, frame_pointer, stack_high);
    bool twice = slot != NULL && slot->block == address && slot->freed;
    bool near_block = slot != NULL && slot->state != SLOT_UNUSED;
    uint64_t sequence = report(twice ? LT_GUARD_ERROR_DOUBLE_FREE : LT_GUARD_ERROR_INVALID_FREE, address,
                               near_block ? slot : NULL, LT_GUARD_ACCESS_FREE, &current);
    lt_guard_error_hand_over(sequence, pool.crash);
    if (pool.crash) abort(); // as glibc dies of a double free it detects
    return false;
}

// --- the fault handler ---

/// Whether the faulting access wrote, from the context the kernel saved.
static access_kind access_of(const void *context) {
#if defined(__x86_64__)
    const ucontext_t *saved = context;
    return saved->uc_mcontext.gregs[REG_ERR] & 2 ? LT_GUARD_ACCESS_WRITE : LT_GUARD_ACCESS_READ; // page-fault error code: W
#elif defined(__aarch64__)
    // The ESR record among the kernel's context records; WnR (bit 6) of a data abort.
    const ucontext_t *saved = context;
    const unsigned char *record = saved->uc_mcontext.__reserved;
    const unsigned char *end = record + sizeof saved->uc_mcontext.__reserved;
    while (record + 16 <= end) {
        uint32_t magic, size;
        memcpy(&magic, record, 4);
        memcpy(&size, record + 4, 4);
        if (magic == 0 || size < 8) break;
        if (magic == 0x45535201u) { // ESR_MAGIC
            uint64_t esr;
            memcpy(&esr, record + 8, 8);
            return (esr >> 6) & 1 ? LT_GUARD_ACCESS_WRITE : LT_GUARD_ACCESS_READ;
        }
        record += size;
    }
    return LT_GUARD_ACCESS_UNKNOWN;
#else
    (void)context;
    return LT_GUARD_ACCESS_UNKNOWN;
#endif
}

/// The stack of the faulting access: its pc, then the frame-pointer walk from its frame.
static void access_stack(const void *context, guard_stack *stack) {
    stack->thread = current_thread_id();
    stack->count = 0;
    uintptr_t pc = 0, frame = 0;
#if defined(__x86_64__)
    const ucontext_t *saved = context;
    pc = (uintptr_t)saved->uc_mcontext.gregs[REG_RIP];
    frame = (uintptr_t)saved->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
    const ucontext_t *saved = context;
    pc = (uintptr_t)saved->uc_mcontext.pc;
    frame = (uintptr_t)saved->uc_mcontext.regs[29];
#else
    (void)context;
#endif
    if (pc == 0) return;
    stack->frames[stack->count++] = pc;
    stack->count += lt_stack_walk(frame, LT_LOAD(lt_self->stack_high), stack->frames + 1, GUARD_FRAMES - 1);
}

/// The slot an access at `address` concerns and the kind of error; NULL when the page is no slot's
/// business (a wild access into unused slots).
static guard_slot *classify(uintptr_t address, enum lt_guard_error_kind *kind, uintptr_t *page) {
    uintptr_t number = (address - lt_guard_pool.start) / pool.page;
    *page = lt_guard_pool.start + number * pool.page;
    guard_slot *chosen = NULL;
    if (number & 1) {
        guard_slot *slot = &pool.slots[number / 2];
        if (slot->state != SLOT_UNUSED) chosen = slot;
    } else {
        // A guard page: the overflow of the block on its left or the underflow of the one on its
        // right; an allocated block before a freed one, the nearer of two alike.
        uintptr_t guard = number / 2;
        guard_slot *left = guard > 0 ? &pool.slots[guard - 1] : NULL;
        guard_slot *right = guard < pool.slot_count ? &pool.slots[guard] : NULL;
        if (left && left->state == SLOT_UNUSED) left = NULL;
        if (right && right->state == SLOT_UNUSED) right = NULL;
        if (left && right && left->freed != right->freed) {
            chosen = left->freed ? right : left;
        } else if (left && right) {
            chosen = address - (left->block + left->size) <= right->block - address ? left : right;
        } else {
            chosen = left ? left : right;
        }
    }
    if (chosen == NULL) return NULL;
    if (chosen->freed) *kind = LT_GUARD_ERROR_USE_AFTER_FREE;
    else if (address < chosen->block) *kind = LT_GUARD_ERROR_UNDERFLOW;
    else *kind = LT_GUARD_ERROR_OVERFLOW;
    return chosen;
}

/// Passes a signal that is not ours (or, in crash mode, ours once reported) to the handler that was
/// there before; with none, the default action: the faulting instruction runs again and the
/// process dies of it, with its core dump, as without the agent.
static void chain(int signal, siginfo_t *info, void *context) {
    const struct sigaction *previous = signal == SIGBUS ? &pool.previous_bus : &pool.previous_segv;
    if ((previous->sa_flags & SA_SIGINFO) && previous->sa_sigaction != NULL) {
        previous->sa_sigaction(signal, info, context);
        return;
    }
    if (!(previous->sa_flags & SA_SIGINFO) && previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
        previous->sa_handler(signal);
        return;
    }
    // SIG_IGN too: the kernel kills a process whose fault it cannot deliver.
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(signal, &fallback, NULL);
    if (info->si_code <= 0) raise(signal); // sent, not a fault: nothing would run again
}

static void on_fault(int signal, siginfo_t *info, void *context) {
    int saved_errno = errno;
    uintptr_t address = (uintptr_t)info->si_addr;
    if (info->si_code <= 0 || address - LT_LOAD(lt_guard_pool.start) >= LT_LOAD(lt_guard_pool.bytes)) {
        chain(signal, info, context);
        errno = saved_errno;
        return;
    }
    enum lt_guard_error_kind kind = LT_GUARD_ERROR_WILD_ACCESS;
    uintptr_t page;
    guard_slot *slot = classify(address, &kind, &page);
    guard_stack current;
    access_stack(context, &current);
    uint64_t sequence = report(kind, address, slot, access_of(context), &current);
    lt_guard_error_hand_over(sequence, pool.crash && !holding_pool);
    if (pool.crash || holding_pool) {
        chain(signal, info, context);
    } else {
        // Recover: the page becomes the program's for good (a write lands there and nowhere else),
        // the slot is never used again, and the instruction runs again.
        pool_acquire();
        if (slot) slot->state = SLOT_RETIRED;
        mprotect((void *)page, pool.page, PROT_READ | PROT_WRITE);
        pool_release();
        line out = {.length = 0};
        put(&out, "leakwatch: recovered (LEAKWATCH_GUARD_MODE=recover): that page stays accessible, the slot is retired");
        flush(&out);
    }
    errno = saved_errno;
}

void lt_read_guard_stats(lt_guard_stats *out) {
    memset(out, 0, sizeof *out);
    out->sample = pool.sample;
    out->slot_count = LT_LOAD(lt_guard_pool.bytes) ? pool.slot_count : 0;
    out->mapped_bytes = LT_LOAD(lt_guard_pool.bytes);
    out->guarded_allocations = atomic_load_explicit(&pool.guarded, memory_order_relaxed);
    out->pool_full = atomic_load_explicit(&pool.full, memory_order_relaxed);
    out->errors_reported = atomic_load_explicit(&pool.errors, memory_order_relaxed);
    if (out->slot_count == 0) return;
    pool_acquire();
    for (uint32_t i = 0; i < pool.slot_count; i++) {
        uint8_t state = pool.slots[i].state;
        out->live_blocks += state == SLOT_ALLOCATED || (state == SLOT_RETIRED && !pool.slots[i].freed);
        out->quarantined_slots += state == SLOT_QUARANTINED;
        out->retired_slots += state == SLOT_RETIRED;
    }
    pool_release();
}
