#!/usr/bin/env bash
# The agent's C core claims x86-64 and aarch64 Linux: every C file of it (the tracker, the hooks,
# the preload loader) must compile for aarch64-linux-gnu too, against Debian's cross headers
# (libc6-dev-arm64-cross), with the toolchain's clang. Compiling only: nothing here runs arm64 code.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
sysroot=/usr/aarch64-linux-gnu
[[ -d "$sysroot/include" ]] || { echo "cross-compile.sh: $sysroot/include missing (apt-get install libc6-dev-arm64-cross)" >&2; exit 2; }
compiler=${CC:-"$(dirname "$(readlink -f "$(command -v swift)")")/clang"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count=0
for source in "$repo"/Sources/CLeakTrack/*.c "$repo"/Sources/LeakAgentHooks/*.c "$repo"/Sources/LeakAgentPreload/*.c; do
    "$compiler" --target=aarch64-linux-gnu --sysroot="$sysroot" -isystem "$sysroot/include" -std=gnu11 -D_GNU_SOURCE \
        -O2 -fPIC -fno-omit-frame-pointer -Wall -Werror -I "$repo/Sources/CLeakTrack/include" -c "$source" -o "$out/$(basename "$source").o"
    count=$((count + 1))
done
echo "ok: $count C files of the agent compile for aarch64-linux-gnu"
