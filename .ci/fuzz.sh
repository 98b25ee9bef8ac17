#!/usr/bin/env bash
# libFuzzer over the collector's wire boundary (Tests/Fuzz/WireBoundary: FrameParser and its
# inflate limits, the SwiftProtobuf messages, ServerHandshake, SnapshotValidation) under
# AddressSanitizer. Fails on a crash, a trap, an ASan report or a broken invariant of the harness.
#
#   .ci/fuzz.sh                 # build, replay the corpus and crash inputs, fuzz FUZZ_SECONDS (60)
#   FUZZ_SECONDS=3600 .ci/fuzz.sh     # longer; or FUZZ_RUNS=1000000 for a fixed number of inputs
#   .ci/fuzz.sh build           # only build .build-fuzz/wire-boundary-fuzzer
#   .ci/fuzz.sh seeds           # rewrite the seed corpus from the product's encoders
#   .ci/fuzz.sh provoke         # prove the harness can fail (see below), then exit
#
# How it is built: SwiftPM builds LeakWire (and LeakWireCore, SwiftProtobuf) with
# -sanitize=fuzzer,address on the command line, in its own scratch path; swiftc then links the
# harness against those objects. The harness is no SwiftPM target: it has no main (libFuzzer's is),
# and a target without one would break every plain `swift build`; Package.swift stays free of
# unsafe flags. About 65 s on 2 cores from nothing, seconds when only the harness changed.
#
# New inputs libFuzzer finds go to .build-fuzz/corpus (not committed); a crash is written to
# .build-fuzz/artifacts/crash-*. Fix it, then commit the input to Tests/Fuzz/crashes/: every run
# replays that directory first, so it stays a regression test.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch=${LEAKWATCH_FUZZ_BUILD:-"$repo/.build-fuzz"}
what=${1:-run}
seeds="$repo/Tests/Fuzz/corpus/wire-boundary"
crashes="$repo/Tests/Fuzz/crashes"
fuzzer="$scratch/wire-boundary-fuzzer"
sanitize=(-sanitize=fuzzer,address)
# Swift's own crash handler reads the crashed thread's stack, which ASan reports as a
# stack-buffer-underflow in memserver_read: leave a trap to libFuzzer's handler. Leak checking is
# the C core's business (.ci/sanitizers.sh); here the Swift runtime's one-time caches would count.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

build() {
    echo "== building LeakWire with ${sanitize[*]} ($scratch)"
    local started=$SECONDS
    swift build --scratch-path "$scratch" -c release --target LeakWire -Xswiftc "${sanitize[@]}" -Xswiftc -g
    local objects="$scratch/x86_64-unknown-linux-gnu/release"
    swiftc -O -g "${sanitize[@]}" -parse-as-library -module-name WireBoundaryFuzzer \
        -I "$objects/Modules" -I "$repo/Sources/CZlib" -I "$repo/Sources/CCrypto" -I "$repo/Sources/CSSL/include" "$@" \
        "$repo"/Tests/Fuzz/WireBoundary/*.swift \
        "$objects"/LeakWire.build/*.o "$objects"/LeakWireCore.build/*.o "$objects"/CSSL.build/*.o "$objects"/SwiftProtobuf.build/*.o \
        -lz -lcrypto -o "$fuzzer"
    echo "== built $fuzzer in $((SECONDS - started)) s"
}

# The harness must be able to fail: a build whose invariant trips on the documented Hello proves
# that libFuzzer runs it, that a trap is reported as a crash, and that the seed corpus reaches it.
provoke() {
    build -DLEAKWATCH_FUZZ_PROVOKE
    mv "$fuzzer" "$fuzzer-provoke"
    build
    local log="$scratch/provoked.log"
    if "$fuzzer-provoke" -runs=100000 -artifact_prefix="$scratch/provoked-" "$seeds" >"$log" 2>&1; then
        echo "the provoking build did not fail: the harness is not reached" >&2; tail -20 "$log" >&2; exit 1
    fi
    grep -q "provoked: the harness reached" "$log" || { echo "it failed, but not on the provoked invariant" >&2; tail -20 "$log" >&2; exit 1; }
    echo "caught: $(grep -m1 -o 'provoked: [^"]*' "$log")"
}

run() {
    mkdir -p "$scratch/corpus" "$scratch/artifacts"
    local replay=("$seeds")
    [[ -d "$crashes" ]] && replay+=("$crashes")
    echo "== replaying ${replay[*]}"
    "$fuzzer" -runs=0 -artifact_prefix="$scratch/artifacts/" "${replay[@]}"
    local bound=(-max_total_time="${FUZZ_SECONDS:-60}")
    [[ -n "${FUZZ_RUNS:-}" ]] && bound=(-runs="$FUZZ_RUNS")
    echo "== fuzzing ${bound[*]}"
    "$fuzzer" "${bound[@]}" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$scratch/artifacts/" "$scratch/corpus" "$seeds"
}

case "$what" in
    run) build; run ;;
    build) build ;;
    seeds) build; rm -rf "$seeds"; LEAKWATCH_FUZZ_WRITE_SEEDS="$seeds" "$fuzzer" ;;
    provoke) provoke ;;
    *) echo "usage: $0 [run|build|seeds|provoke]" >&2; exit 2 ;;
esac
