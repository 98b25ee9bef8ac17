// DWARF unwinding of sampled stacks whose first frame keeps no frame pointer.
//
// The frame-pointer walk (stackwalk.c) is right about frames[0], the return address the entry
// point's own frame record holds, but the step above it is right only if that caller keeps a frame
// pointer. Code that does not (libstdc++'s operator new, glibc's strdup, Rust built with -O, C++
// at -O2 by default) leaves %rbp holding an older frame's record or anything at all: the walk
// then skips the very function that allocated, or stops. Such a stack is unwound with the
// toolchain's unwinder (libgcc's _Unwind_Backtrace, which finds unwind tables through glibc's
// lock-free _dl_find_object: no lock, no allocation) from the entry point's frame, frame by frame,
// until a frame that keeps a frame pointer hands the rest back to the walk.
//
// Whether a return address's function keeps a frame pointer there is learnt from the unwinder
// (the frame's CFA is its %rbp + 16) and remembered per address in a direct-mapped table, so a
// stack from code with frame pointers costs one load more than the walk alone, and the unwinder
// runs only for stacks that need it. Costs: docs/PERFORMANCE.md ("Stacks through code without
// frame pointers").
#include <dlfcn.h>
#include <unwind.h>

#include "lt_internal.h"

uint64_t lt_frame_pointer_verdicts[LT_VERDICT_SLOTS];

// Resolved by name (lt_resolve_unwinder), not linked: the C core links nothing but libc, and a
// process without libgcc_s (a plain C program linking the hooks) keeps the walk alone.
static struct {
    _Unwind_Reason_Code (*backtrace)(_Unwind_Trace_Fn, void *);
    _Unwind_Ptr (*instruction_pointer)(struct _Unwind_Context *);
    _Unwind_Word (*canonical_frame_address)(struct _Unwind_Context *);
    _Unwind_Word (*register_value)(struct _Unwind_Context *, int);
} unwinder;

#if defined(__x86_64__)
#define FRAME_POINTER_REGISTER 6 // %rbp in DWARF numbering
#endif

void lt_resolve_unwinder(void) {
    unwinder.instruction_pointer = (_Unwind_Ptr(*)(struct _Unwind_Context *))dlsym(RTLD_DEFAULT, "_Unwind_GetIP");
    unwinder.canonical_frame_address = (_Unwind_Word(*)(struct _Unwind_Context *))dlsym(RTLD_DEFAULT, "_Unwind_GetCFA");
    unwinder.register_value = (_Unwind_Word(*)(struct _Unwind_Context *, int))dlsym(RTLD_DEFAULT, "_Unwind_GetGR");
    void *backtrace = dlsym(RTLD_DEFAULT, "_Unwind_Backtrace");
#if !defined(FRAME_POINTER_REGISTER)
    // Where a frame record's place below the CFA is not fixed (arm64), no verdict is ever learnt
    // and every sample would unwind: keep the walk alone there.
    backtrace = NULL;
#endif
    if (unwinder.instruction_pointer && unwinder.canonical_frame_address && unwinder.register_value) {
        __atomic_store_n((void **)&unwinder.backtrace, backtrace, __ATOMIC_RELEASE);
    }
}

#if defined(FRAME_POINTER_REGISTER)
static void remember_verdict(uintptr_t return_address, bool kept) {
    LT_STORE(lt_frame_pointer_verdicts[lt_verdict_slot(return_address)], ((uint64_t)return_address << 1) | kept);
}
#endif

typedef struct unwinding {
    uintptr_t entry_frame; // the entry point's frame record: where the sampled stack starts
    uintptr_t stack_high;
    uintptr_t expected_first; // frames[0] as the walk found it
    uintptr_t *frames;
    int capacity;
    int count;
    uintptr_t previous_frame_pointer; // %rbp in the frame of frames[count - 1]
    bool failed;
} unwinding;

// libgcc calls this for each frame from its caller's up. In the context of frame F, the IP is
// F's return address into its function (F's pc) and the "CFA" is the CFA of the frame F called,
// that is F's stack pointer: F's own CFA is what the next call reports.
static _Unwind_Reason_Code visit_frame(struct _Unwind_Context *context, void *argument) {
    unwinding *state = argument;
    uintptr_t stack_pointer = (uintptr_t)unwinder.canonical_frame_address(context);
    // The tracker's frames and the entry point's own lie at or below its record.
    if (stack_pointer <= state->entry_frame) return _URC_NO_REASON;
    uintptr_t return_address = (uintptr_t)unwinder.instruction_pointer(context);
    if (state->count == 0 && return_address != state->expected_first) {
        state->failed = true; // not the stack the walk saw: keep the walk's
        return _URC_END_OF_STACK;
    }
#if defined(FRAME_POINTER_REGISTER)
    if (state->count > 0) {
        // The previous frame keeps a frame pointer if its record sits just below its CFA, which is
        // this frame's stack pointer; its record then leads here and on to every caller.
        uintptr_t previous = state->previous_frame_pointer;
        bool kept = previous + 2 * sizeof(uintptr_t) == stack_pointer;
        remember_verdict(state->frames[state->count - 1], kept);
        if (kept) {
            state->count += lt_stack_walk(previous, state->stack_high, state->frames + state->count,
                                          state->capacity - state->count);
            return _URC_END_OF_STACK;
        }
    }
    state->previous_frame_pointer = (uintptr_t)unwinder.register_value(context, FRAME_POINTER_REGISTER);
#endif
    if (return_address < 4096) return _URC_END_OF_STACK;
    state->frames[state->count++] = return_address;
    return state->count == state->capacity ? _URC_END_OF_STACK : _URC_NO_REASON;
}

int lt_unwind_stack(uintptr_t entry_frame, uintptr_t stack_high, uintptr_t *frames, int capacity, int walked,
                    bool *unwound) {
    _Unwind_Reason_Code (*backtrace)(_Unwind_Trace_Fn, void *) = __atomic_load_n(&unwinder.backtrace, __ATOMIC_ACQUIRE);
    if (backtrace == NULL || walked == 0) return walked;
    uintptr_t unwound_frames[LT_MAX_FRAMES];
    unwinding state = {.entry_frame = entry_frame, .stack_high = stack_high, .expected_first = frames[0],
                       .frames = unwound_frames, .capacity = capacity < LT_MAX_FRAMES ? capacity : LT_MAX_FRAMES};
    // The unwinder's own first use may allocate (pthread_once, a registered object's sort): those
    // allocations must pass through untracked.
    lt_busy++;
    backtrace(visit_frame, &state);
    lt_busy--;
    if (state.failed || state.count == 0) return walked;
    __builtin_memcpy(frames, unwound_frames, (size_t)state.count * sizeof(uintptr_t));
    *unwound = true;
    return state.count;
}
