#!/usr/bin/env bash
# BENCHMARKS.md §8: the Redis store (`serve --store redis://…`) next to the in-memory store,
# one replica vs two behind nginx (docs/ops/nginx.conf), and how much Redis itself takes.
#
#   benches/compare/redis.sh          # ROUNDS=3 DUR=3s by default
#
# Part 1 (same as ab.sh): each mock with one worker thread pinned to CPU 0, wrk pinned to
# CPU 1 (-t1 -c64), Redis pinned to CPU 1 too; rounds alternate between the two stores. The
# mock's CPU per request and Redis's are read from /proc separately. Part 2: replicas and
# nginx unpinned, wrk -t1 -c64 through nginx. Part 3: `INFO commandstats` over one run of
# each endpoint (Redis calls per request), and `redis-benchmark` running the poll's own
# script on one stored validation (what one Redis can answer). Needs redis-server,
# redis-tools, nginx and wrk (installed on demand from Debian).
source "$(dirname "$0")/common.sh"
need_wrk
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v nginx >/dev/null \
  || { apt-get update -qq && apt-get install -y -qq redis-server redis-tools nginx >/dev/null; }
export DUR=${DUR:-3s} CONNS=${CONNS:-64} CLIENT_CPU=1
ROUNDS=${ROUNDS:-3}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

RPORT=$(free_port)
taskset -c 1 redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no > "$OUT/redis.log" 2>&1 &
RPID=$!; PIDS+=("$RPID")
until redis-cli -p "$RPORT" ping >/dev/null 2>&1; do sleep 0.1; done
STORE="redis://127.0.0.1:$RPORT/0"
BASE=("$BIN/truidentidad-mock" serve --threads 1 --pending-for 0s --seed 1 --no-request-log)
M=("${BASE[@]}" --port 0)

create() { curl -s -X POST "$1/v1/validations" -H 'Truora-API-Key: bench' -d type=government \
  -d account_id=success.bench | grep -o 'VLD[0-9a-f]*'; }

# run LABEL PID URL [LUA]: one wrk run, then the mock's and Redis's CPU µs per request.
run() {
  local label=$1 pid=$2 url=$3 lua=${4:-}
  local r0; r0=$(cpu_ticks "$RPID")
  local res; res=$(wrk_run "$pid" "$url" "$lua")
  local r1; r1=$(cpu_ticks "$RPID")
  local reqs; reqs=$(awk '/ requests in / {print $1}' "$OUT/wrk.last")
  local redis_us; redis_us=$(awk -v t=$((r1 - r0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" \
    'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
  echo "$label $res $redis_us" | tee -a "$T"
}

echo "# part 1: label req/s p50_ms p99_ms non2xx mock_cpu_us/req redis_cpu_us/req"
T=$OUT/redis-ab.txt; : > "$T"
start mem 0 "${M[@]}"; MEM=$URL; MEMPID=$PID
start red 0 "${M[@]}" --store "$STORE?namespace=bench"; RED=$URL; REDPID=$PID
MEMID=$(create "$MEM"); REDID=$(create "$RED")
for r in $(seq "$ROUNDS"); do
  run "GET-memory" "$MEMPID" "$MEM/v1/validations/$MEMID"
  run "GET-redis" "$REDPID" "$RED/v1/validations/$REDID"
  run "POST-memory" "$MEMPID" "$MEM/v1/validations" "$(dirname "$0")/post.lua"
  run "POST-redis" "$REDPID" "$RED/v1/validations" "$(dirname "$0")/post.lua"
done
python3 - "$T" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, rps, p50, p99, bad, cpu, rcpu = line.split()
    rows[label].append((float(rps), float(p99), float(cpu), float(rcpu)))
print("# median over rounds: label req/s p99_ms mock_cpu_us/req redis_cpu_us/req")
for k in sorted(rows):
    m = lambda i: statistics.median(x[i] for x in rows[k])
    print(f"{k:12} {m(0):9.0f} {m(1):8.3f} {m(2):7.1f} {m(3):7.1f}")
PY

echo "# part 3a: Redis calls per request (INFO commandstats over one run each)"
for ep in GET POST; do
  redis-cli -p "$RPORT" config resetstat >/dev/null
  if [ "$ep" = GET ]; then wrk_run "$REDPID" "$RED/v1/validations/$REDID" >/dev/null
  else wrk_run "$REDPID" "$RED/v1/validations" "$(dirname "$0")/post.lua" >/dev/null; fi
  reqs=$(awk '/ requests in / {print $1}' "$OUT/wrk.last")
  redis-cli -p "$RPORT" info commandstats | tr -d '\r' | python3 -c '
import sys, re
reqs = int(sys.argv[1]); ep = sys.argv[2]
calls = {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_([a-z|]+):calls=(\d+)", sys.stdin.read())}
trips = sum(v for k, v in calls.items() if k in ("evalsha", "eval", "lpop", "incrby", "get", "ping", "hmget", "rpush", "zrevrange", "xrevrange", "xlen", "set", "multi", "exec", "script|load"))
print(f"{ep}: {reqs} requests; commands per request: " + ", ".join(f"{k} {v / reqs:.3f}" for k, v in sorted(calls.items())))
' "$reqs" "$ep"
done

echo "# part 3b: redis-benchmark (-c 50), plain commands and the poll script on a stored record"
taskset -c 1 redis-benchmark -p "$RPORT" -q -c 50 -n 200000 -t get,incr,hset 2>/dev/null | tr '\r' '\n' | grep -v '^$' | tail -3
SHA=$(python3 - "$ROOT/mock-server/src/store/redis/scripts.rs" <<'PY'
import hashlib, re, sys
src = open(sys.argv[1]).read()
body = re.search(r'POLL: LazyLock<Script> = LazyLock::new\(\|\| \{\s*Script::new\(\s*r"(.*?)",\s*\)', src, re.S).group(1)
print(hashlib.sha1(body.encode()).hexdigest())
PY
)
NOW=1000000000
taskset -c 1 redis-benchmark -p "$RPORT" -q -c 50 -n 200000 evalsha "$SHA" 2 "bench:v:$REDID" bench:clock "$NOW" 2>/dev/null \
  | tr '\r' '\n' | grep -v '^$' | tail -1

echo "# part 2: one vs two replicas behind nginx (unpinned), GET and POST, req/s"
kill "$MEMPID" "$REDPID" 2>/dev/null || true
P1=$(free_port); P2=$(free_port)
"${BASE[@]}" --store "$STORE?namespace=lb" --port "$P1" > "$OUT/r1.stdout" 2>/dev/null & PIDS+=("$!"); R1=$!
"${BASE[@]}" --store "$STORE?namespace=lb" --port "$P2" > "$OUT/r2.stdout" 2>/dev/null & PIDS+=("$!"); R2=$!
sleep 1
for n in 1 2; do
  NG=$(mktemp -d); LB=$(free_port)
  sed -e "s/127.0.0.1:8080/127.0.0.1:$LB/" -e "s/127.0.0.1:8081/127.0.0.1:$P1/" -e "s/127.0.0.1:8082/127.0.0.1:$P2/" \
    "$ROOT/docs/ops/nginx.conf" > "$NG/nginx.conf"
  [ "$n" = 1 ] && sed -i "/127.0.0.1:$P2/d" "$NG/nginx.conf"
  nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" & NGPID=$!
  sleep 0.5
  ID=$(create "http://127.0.0.1:$LB")
  for ep in GET POST; do
    for r in $(seq "$ROUNDS"); do
      if [ "$ep" = GET ]; then res=$(CLIENT_CPU=0,1 wrk_run "$R1" "http://127.0.0.1:$LB/v1/validations/$ID")
      else res=$(CLIENT_CPU=0,1 wrk_run "$R1" "http://127.0.0.1:$LB/v1/validations" "$(dirname "$0")/post.lua"); fi
      echo "replicas=$n $ep round $r: $res"
    done
  done
  kill -TERM "$NGPID"; wait "$NGPID" 2>/dev/null || true; rm -rf "$NG"
done
