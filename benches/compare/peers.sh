#!/usr/bin/env bash
# Figure 2 of BENCHMARKS.md: the mock against peer mock servers serving the same two
# endpoints: WireMock (npm `wiremock`, its bundled standalone jar run with java), Prism
# (`@stoplight/prism-cli@5.14.2`, the last release that runs on Node 20) and Mockoon CLI
# (`@mockoon/cli`). Their configurations are in benches/compare/peers/: GET
# /v1/validations/{id} answers the floor server's body, POST /v1/validations a pending
# create body.
#
# Every server (the mock and each peer, JVM and Node included, all their threads) is pinned
# to CPU 0 with taskset, so each gets one core whatever its threading; wrk runs pinned to
# CPU 1 exactly as common.sh's wrk_run does (-t1 -c64 --latency). Each server gets one
# unrecorded warm-up run per endpoint (JIT), then rounds alternate servers.
#
# The peers are installed on demand with npm into PEERS_DIR (default /work/peers; never the
# repository). A peer that cannot be installed or started is recorded in
# $OUT/peers-failures.txt with the command and its error, and skipped.
#
#   benches/compare/peers.sh                   # ROUNDS=3 DUR=4s WARM=3s CONNS=64
source "$(dirname "$0")/common.sh"
need_wrk
(cd "$ROOT" && cargo build --release -q -p truidentidad-mock --bin truidentidad-mock)
ROUNDS=${ROUNDS:-3}; WARM=${WARM:-3s}
export DUR=${DUR:-4s} CONNS=${CONNS:-64} CLIENT_CPU=1
PEERS_DIR=${PEERS_DIR:-/work/peers}
CONF=$ROOT/benches/compare/peers
NM=$PEERS_DIR/node_modules
FAIL=$OUT/peers-failures.txt; : > "$FAIL"
fail() { printf '%s\n' "$@" | tee -a "$FAIL" >&2; }

# install PACKAGE@VERSION CHECK_PATH: npm-installs into PEERS_DIR unless CHECK_PATH exists.
install() {
  [ -e "$2" ] && return 0
  mkdir -p "$PEERS_DIR"
  local cmd=(timeout 600 npm install --no-audit --no-fund --prefix "$PEERS_DIR" "$1")
  if ! "${cmd[@]}" > "$OUT/npm-$$.log" 2>&1 || [ ! -e "$2" ]; then
    fail "# $1: install failed" "\$ ${cmd[*]}" "$(tail -20 "$OUT/npm-$$.log")"; return 1
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_peer NAME PORT CMD...: starts CMD pinned to CPU 0, waits (≤ 90 s) until GET answers
# 200 on 127.0.0.1:PORT, then records NAME's URL and PID. On failure: recorded, skipped.
SIDES=(); declare -A URLS PIDOF
start_peer() {
  local name=$1 port=$2; shift 2
  taskset -c 0 "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" &
  local pid=$!; PIDS+=("$pid")
  for _ in $(seq 450); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H 'Truora-API-Key: bench' \
        "http://127.0.0.1:$port/v1/validations/VLD0")" = 200 ]; then
      SIDES+=("$name"); URLS[$name]=http://127.0.0.1:$port; PIDOF[$name]=$pid; return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  fail "# $name: did not answer GET /v1/validations/VLD0 with 200 on port $port" "\$ taskset -c 0 $*" \
       "$(tail -20 "$OUT/$name.stderr" "$OUT/$name.stdout")"
  return 1
}

# The mock: release build, defaults except a free port and validations `success` at once.
start mock 0 "$BIN/truidentidad-mock" serve --port 0 --pending-for 0s
SIDES+=(mock); URLS[mock]=$URL; PIDOF[mock]=$PID
MOCK_ID=$(curl -s -X POST "$URL/v1/validations" -H 'Truora-API-Key: bench' -d type=government \
  -d account_id=success.bench | grep -o 'VLD[0-9a-f]*')

if ! command -v java > /dev/null; then fail "# wiremock: no java on PATH"
elif install wiremock "$NM/wiremock/package.json"; then
  jar=$(ls "$NM"/wiremock/build/wiremock-standalone-*.jar 2>/dev/null | head -1)
  if [ -z "$jar" ]; then fail "# wiremock: no standalone jar under $NM/wiremock/build"
  else p=$(free_port); start_peer wiremock "$p" java -jar "$jar" --port "$p" \
      --bind-address 127.0.0.1 --root-dir "$CONF/wiremock" --disable-banner || true; fi
fi
if install @stoplight/prism-cli@5.14.2 "$NM/@stoplight/prism-cli/package.json"; then
  p=$(free_port); start_peer prism "$p" node "$NM/@stoplight/prism-cli/dist/index.js" mock \
    -h 127.0.0.1 -p "$p" "$CONF/prism-openapi.yaml" || true
fi
if install @mockoon/cli "$NM/@mockoon/cli/package.json"; then
  # -X: log to stdout only (the default also writes a log file under the home directory).
  p=$(free_port); start_peer mockoon "$p" node "$NM/@mockoon/cli/bin/run.js" start \
    -d "$CONF/mockoon-env.json" -p "$p" -X || true
fi

path_of() { if [ "$1" = mock ]; then echo "/v1/validations/$MOCK_ID"; else echo /v1/validations/VLD0123456789abcdef0123456789abcdef; fi; }
LUA=$(dirname "$0")/post.lua
echo "# servers pinned to CPU 0 (all threads), wrk -t1 -c$CONNS -d$DUR on CPU 1; $(nproc) cores; sides: ${SIDES[*]}"
for s in "${SIDES[@]}"; do   # warm-up (JIT, allocator), not recorded
  DUR=$WARM wrk_run "${PIDOF[$s]}" "${URLS[$s]}$(path_of "$s")" > /dev/null
  DUR=$WARM wrk_run "${PIDOF[$s]}" "${URLS[$s]}/v1/validations" "$LUA" > /dev/null
done
T=$OUT/peers.txt
printf "%-6s %-5s %-9s %9s %9s %9s %7s %12s\n" round ep server req/s p50_ms p99_ms non2xx cpu_us/req | tee "$T"
for r in $(seq "$ROUNDS"); do
  for ep in GET POST; do
    for s in "${SIDES[@]}"; do
      if [ "$ep" = GET ]; then u=${URLS[$s]}$(path_of "$s"); lua=; else u=${URLS[$s]}/v1/validations; lua=$LUA; fi
      read -r rps p50 p99 bad cpu < <(wrk_run "${PIDOF[$s]}" "$u" $lua)
      printf "%-6s %-5s %-9s %9s %9s %9s %7s %12s\n" "$r" "$ep" "$s" "$rps" "$p50" "$p99" "$bad" "$cpu" | tee -a "$T"
    done
  done
done
python3 - "$T" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l[:1].isdigit()]
by = {(r[0], r[1], r[2]): r for r in rows}
rounds = sorted({r[0] for r in rows}, key=int)
sides = list(dict.fromkeys(r[2] for r in rows))
print("# median over rounds of req/s, p99 and their ratios to the mock of the same round; then per round (req/s % of mock, p99 x mock)")
for ep in ("GET", "POST"):
    for s in sides:
        per, ratios, p99r, rps, p99s, cpur = [], [], [], [], [], []
        for r in rounds:
            m, x = by.get((r, ep, "mock")), by.get((r, ep, s))
            if not m or not x:
                continue
            ratio, pr = float(x[3]) / float(m[3]), float(x[5]) / float(m[5])
            per.append(f"r{r}: {float(x[3]):.0f} req/s ({ratio*100:.1f}%), p99 {float(x[5]):.2f} ms ({pr:.1f}x)")
            ratios.append(ratio); p99r.append(pr); rps.append(float(x[3])); p99s.append(float(x[5]))
            if float(x[7]) > 0: cpur.append(float(x[7]) / float(m[7]))
        if ratios:
            print(f"{ep:4} {s:9} median {statistics.median(rps):7.0f} req/s = {statistics.median(ratios)*100:5.1f}% of mock, "
                  f"p99 {statistics.median(p99s):7.2f} ms = {statistics.median(p99r):5.1f}x mock, "
                  f"CPU/req {statistics.median(cpur) if cpur else 0:5.1f}x mock | " + "; ".join(per))
PY
echo -n "# RSS after the run (KiB):"; for s in "${SIDES[@]}"; do echo -n " $s $(rss_kib "${PIDOF[$s]}")"; done; echo
[ -s "$FAIL" ] && { echo "# failures (also in $FAIL):"; cat "$FAIL"; }
exit 0
