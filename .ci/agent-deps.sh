#!/usr/bin/env bash
# Debian packages the agent's tests and checks need: jemalloc (PreloadTests' jemalloc program),
# valgrind (.ci/sanitizers.sh). The tests try the jemalloc install themselves and skip with a
# message when it fails; CI should run this first so they never skip.
set -euo pipefail
missing=()
[[ -f /usr/include/jemalloc/jemalloc.h ]] || missing+=(libjemalloc-dev)
command -v valgrind >/dev/null || missing+=(valgrind)
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "installing: ${missing[*]}"
    apt-get install -y -q "${missing[@]}" || { apt-get update -q && apt-get install -y -q "${missing[@]}"; }
fi
echo "agent test dependencies present"
