# Shared helpers for the comparison scripts. Source it; do not run it.
# Binaries are built in release mode into a separate target dir so other builds on the
# machine do not disturb the figures.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/bench-target}
BIN=$CARGO_TARGET_DIR/release
OUT=${OUT:-$ROOT/benches/compare/results}
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

build() {
  (cd "$ROOT" && cargo build --release -q -p truidentidad-mock -p truidentidad-load --bins)
}

need_wrk() {
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
}

# start NAME CPU CMD... : starts a server pinned to CPU, waits for "listening on URL" on its
# stdout, sets $URL and $PID.
start() {
  local name=$1 cpu=$2; shift 2
  local log=$OUT/$name.stdout
  taskset -c "$cpu" "$@" >"$log" 2>"$OUT/$name.stderr" &
  PID=$!; PIDS+=("$PID")
  for _ in $(seq 100); do
    URL=$(grep -o 'http://[0-9.:]*' "$log" 2>/dev/null | head -1 || true)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "$name did not start; see $OUT/$name.stderr" >&2; exit 1
}

# fill URL N: creates N validations with the load tool (one thread on CPU 1), to bring a
# store to a given size before measuring.
fill() {
  taskset -c 1 "$BIN/truidentidad-mock" load --target "$1" --raw create --concurrency 32 \
      --duration 600s --max-requests "$2" --threads 1 --quiet > /dev/null
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# CPU time (user + system) a process has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wrk_run PID URL [LUA]: prints "req_per_s p50_ms p99_ms non2xx cpu_us_per_request", where the
# last is the server's (PID) CPU time during the run divided by the requests it answered: on a
# shared machine that is far steadier than req/s, which depends on the CPU share it got.
wrk_run() {
  local pid=$1 url=$2 lua=${3:-}
  local args=(-t1 -c"${CONNS:-64}" -d"${DUR:-10s}" --latency -H 'Truora-API-Key: bench')
  [ -n "$lua" ] && args+=(-s "$lua")
  local t0; t0=$(cpu_ticks "$pid")
  taskset -c "${CLIENT_CPU:-1}" wrk "${args[@]}" "$url" > "$OUT/wrk.last" 2>&1
  local t1; t1=$(cpu_ticks "$pid")
  awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 }
    /^ +50%/ { p50=ms($2) }
    /^ +99%/ { p99=ms($2) }
    / Non-2xx/ { non2xx=$NF }
    / requests in / { reqs=$1 }
    END { printf "%.0f %.3f %.3f %s %.1f\n", rps, p50, p99, (non2xx==""?0:non2xx), (reqs>0 ? ticks/hz*1e6/reqs : 0) }' "$OUT/wrk.last"
}
