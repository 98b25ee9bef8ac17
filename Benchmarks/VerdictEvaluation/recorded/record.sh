#!/usr/bin/env bash
# Re-records the labelled memory series of this folder from real programs running under the
# Leakwatch agent, shipping to a real collector, and extracts them as `collector-cli simulate`
# input (HOST.csv, HOST.sites.csv[.gz]).
#
#   Benchmarks/VerdictEvaluation/recorded/record.sh [PRODUCTS_DIR]
#
# PRODUCTS_DIR holds collector and libLeakAgentPreload.so (and leakwatch-demo-server); default:
# the repository's .build/release, else .build/debug. Environment knobs:
#   MINUTES=30      real minutes to record (every host runs in parallel)
#   INTERVAL=1      real seconds between snapshots; each snapshot stands for STEP series seconds
#   STEP=10         so the compression factor is STEP / INTERVAL (10x: 30 min -> 5 h)
#   WORK=/tmp/leakwatch-recording   scratch (collector database, logs); wiped at start
#   OUT=<this folder>               where the CSV files are written
#   PORT_BASE=18170                 collector port; programs listen on 16401..16411
#   ONLY="host host..."             record only these hosts
#   LEAK_SCALE=1    multiplies every leak rate (a higher compression slows leaks per series hour)
#   DAY=720         real seconds of one load cycle of the two daily-cycle hosts
# Needs: redis-server, redis-tools, memcached, sqlite3, gcc, python3 (installed with apt-get if
# missing; run as root or have them installed). Labels and the manifest are README.md, labels.csv.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
products=${1:-}
if [[ -z "$products" ]]; then
    if [[ -x "$repo/.build/release/collector" ]]; then products=$repo/.build/release; else products=$repo/.build/debug; fi
fi
products=$(cd "$products" && pwd)
for f in collector libLeakAgentPreload.so leakwatch-demo-server; do
    [[ -e "$products/$f" ]] || { echo "record.sh: $products/$f missing (swift build -c release; agent/build-preload)" >&2; exit 2; }
done
MINUTES=${MINUTES:-30}; INTERVAL=${INTERVAL:-1}; STEP=${STEP:-10}
WORK=${WORK:-/tmp/leakwatch-recording}; OUT=${OUT:-$here}; PORT=${PORT_BASE:-18170}
DURATION=$(( MINUTES * 60 ))
LEAK_SCALE=${LEAK_SCALE:-1}; DAY=${DAY:-720}
leak() { python3 -c "print(f'{$1 * $LEAK_SCALE:g}')"; }  # a leak rate, scaled
ALL_HOSTS="redis-keyspace-leak redis-maxmemory-lru swiftnio-leak swiftnio-bounded-cache c-cache-to-cap
supervisor-restarts supervisor-restart-leak daily-cycle-load daily-cycle-with-leak memcached-steady late-onset-leak"
HOSTS=${ONLY:-$ALL_HOSTS}

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v memcached >/dev/null || need+=(memcached)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v gcc >/dev/null || need+=(gcc)
command -v python3 >/dev/null || need+=(python3)
command -v nm >/dev/null || need+=(binutils)
if (( ${#need[@]} )); then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi

rm -rf "$WORK"; mkdir -p "$WORK/data" "$WORK/logs"
gcc -O2 -g -fno-omit-frame-pointer -Wall "$here/programs/cache_service.c" -o "$WORK/cache_service"
head -c 24 /dev/urandom | base64 > "$WORK/token"
printf '{"listen":"127.0.0.1:%d","dataDirectory":"%s/data","tokenFile":"%s/token","verdictIntervalSeconds":60}\n' \
    "$PORT" "$WORK" "$WORK" > "$WORK/collector.json"
nice -n 10 "$products/collector" --config "$WORK/collector.json" > "$WORK/logs/collector.log" 2>&1 &
collector_pid=$!
sleep 2
kill -0 $collector_pid || { cat "$WORK/logs/collector.log"; exit 1; }

export LEAKWATCH_COLLECTOR=127.0.0.1:$PORT LEAKWATCH_TOKEN_FILE=$WORK/token LEAKWATCH_INTERVAL=$INTERVAL
export LEAKWATCH_SAMPLE_BYTES=${LEAKWATCH_SAMPLE_BYTES:-16384}
PRELOAD=$products/libLeakAgentPreload.so
LOAD="nice -n 10 python3 $here/programs/load.py"
end_at=$(( $(date +%s) + DURATION ))

# agent HOST SERVICE CMD...: CMD under the agent (preloaded, except the demo server which links it).
agent() {
    local host=$1 service=$2; shift 2
    if [[ "$1" == */leakwatch-demo-server ]]; then
        # its heap is ~0.2 MB: sample every 2 KiB so the leaking site's estimate is usable
        LEAKWATCH_SAMPLE_BYTES=2048 LEAKWATCH_HOST=$host LEAKWATCH_SERVICE=$service exec nice -n 10 "$@"
    else
        LEAKWATCH_HOST=$host LEAKWATCH_SERVICE=$service LD_PRELOAD=$PRELOAD exec nice -n 10 "$@"
    fi
}

# plain HOST SERVICE CMD...: one process for the whole recording.
plain() {
    local host=$1 service=$2; shift 2
    ( agent "$host" "$service" "$@" ) >> "$WORK/logs/$host.log" 2>&1 &
    echo $! > "$WORK/$host.pid"
}

# supervised HOST SERVICE MIN_S MAX_S CMD...: restarts CMD every MIN_S..MAX_S real seconds (SIGTERM).
supervised() {
    local host=$1 service=$2 lo=$3 hi=$4; shift 4
    (
        trap 'kill -TERM $child 2>/dev/null; wait $child 2>/dev/null; exit 0' TERM
        while (( $(date +%s) < end_at )); do
            ( agent "$host" "$service" "$@" ) >> "$WORK/logs/$host.log" 2>&1 &
            child=$!
            echo "$(date +%s) start pid $child" >> "$WORK/logs/$host.supervisor"
            life=$(( lo + RANDOM % (hi - lo + 1) ))
            for (( i = 0; i < life && $(date +%s) < end_at; i++ )); do sleep 1; done
            kill -TERM $child 2>/dev/null || true; wait $child 2>/dev/null || true
            echo "$(date +%s) stopped pid $child" >> "$WORK/logs/$host.supervisor"
            sleep 1
        done
    ) &
    echo $! > "$WORK/$host.pid"
}

# client HOST CMD...: the load generator of HOST.
client() {
    local host=$1; shift
    ( exec "$@" ) >> "$WORK/logs/$host.client.log" 2>&1 &
    echo $! > "$WORK/$host.client.pid"
}

redis() { echo redis-server --port "$1" --save '' --appendonly no --daemonize no "${@:2}"; }
LATE=$(( DURATION / 2 ))

for host in $HOSTS; do
    case $host in
    redis-keyspace-leak)      # LEAK: 15 new keys/s without TTL on a 30k-key churned keyset
        plain $host redis $(redis 16401)
        sleep 1; client $host $LOAD redis --port 16401 --base-keys 30000 --base-ops 300 --leak-keys $(leak 15) --seed 1 ;;
    redis-maxmemory-lru)      # OK: 120 unique keys/s into a 32 MB allkeys-lru cap
        plain $host redis $(redis 16402 --maxmemory 32mb --maxmemory-policy allkeys-lru)
        sleep 1; client $host $LOAD redis --port 16402 --base-keys 2000 --base-ops 100 --unique-keys 120 --value-min 200 --value-max 600 --seed 2 ;;
    swiftnio-leak)            # LEAK: sessions (2 KiB) kept forever, 60 B/s
        plain $host demo "$products/leakwatch-demo-server" --leak --requests-per-second 300 --leak-bytes-per-second $(leak 60) ;;
    swiftnio-bounded-cache)   # OK: bounded cache of 2,000 entries
        plain $host demo "$products/leakwatch-demo-server" --requests-per-second 300 ;;
    c-cache-to-cap)           # OK: LRU cache of 20,000 entries (~22 MB) filling, then evicting
        plain $host cache "$WORK/cache_service" --cap 20000 --keyspace 100000 --rps 80 --seed 5 ;;
    supervisor-restarts)      # OK: memcached -m 16 restarted every 270-360 s, warming up each time
        supervised $host memcached 270 360 memcached -p 16406 -U 0 -m 16 -t 2 -u root
        client $host $LOAD memcached --port 16406 --base-keys 40000 --base-ops 1000 --value-min 200 --value-max 600 --seed 6 ;;
    supervisor-restart-leak)  # LEAK (reset at restarts): cache_service leaking 3 KB/s, restarted every 300-420 s
        supervised $host cache 300 420 "$WORK/cache_service" --cap 5000 --keyspace 20000 --rps 150 --leak-bytes-per-second $(leak 3000) --seed 7 ;;
    daily-cycle-load)         # OK: keys with a 120 s TTL at 150/s x (1 + 0.8 sin(2 pi t / 720 s))
        plain $host redis $(redis 16408)
        sleep 1; client $host $LOAD redis --port 16408 --base-keys 5000 --base-ops 100 --ttl-keys 150 --ttl 120 --period $DAY --amplitude 0.8 --seed 8 ;;
    daily-cycle-with-leak)    # LEAK: the same daily cycle plus 5 keys/s without TTL
        plain $host redis $(redis 16409)
        sleep 1; client $host $LOAD redis --port 16409 --base-keys 5000 --base-ops 100 --ttl-keys 150 --ttl 120 --period $DAY --amplitude 0.8 --leak-keys $(leak 5) --seed 9 ;;
    memcached-steady)         # OK: memcached -m 64, churn on a 20k-key set (~10 MB): warms up, then flat
        plain $host memcached memcached -p 16410 -U 0 -m 64 -t 2 -u root
        sleep 1; client $host $LOAD memcached --port 16410 --base-keys 20000 --base-ops 400 --seed 10 ;;
    late-onset-leak)          # LEAK from half-time: cache_service leaking 4 KB/s after DURATION/2
        plain $host cache "$WORK/cache_service" --cap 10000 --keyspace 50000 --rps 100 --leak-bytes-per-second $(leak 4000) --leak-after $LATE --seed 11 ;;
    *) echo "record.sh: unknown host $host" >&2; exit 2 ;;
    esac
done
echo "recording $HOSTS for $DURATION s (until $(date -d @$end_at +%T)); logs in $WORK/logs"

while (( $(date +%s) < end_at )); do sleep 5; done
for host in $HOSTS; do
    for f in "$WORK/$host.client.pid" "$WORK/$host.pid"; do
        [[ -f $f ]] && { kill -TERM "$(cat "$f")" 2>/dev/null || true; }
    done
done
sleep 3
kill -TERM $collector_pid; wait $collector_pid || true

onset() { [[ $1 == late-onset-leak ]] && echo "--onset-uptime $LATE"; }
for host in $HOSTS; do
    rm -f "$OUT/$host.csv" "$OUT/$host.csv.gz" "$OUT/$host.sites.csv" "$OUT/$host.sites.csv.gz"
    python3 "$here/programs/extract.py" "$WORK/data/leakwatch.sqlite" "$host" "$OUT" \
        --interval "$INTERVAL" --series-step "$STEP" --image-dir "$products" --image-dir "$WORK" $(onset $host) \
        | tee -a "$WORK/logs/extract.txt"
done
