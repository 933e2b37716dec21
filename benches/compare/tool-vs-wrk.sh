#!/usr/bin/env bash
# Figure 3 of BENCHMARKS.md: the load tool's raw mode against wrk (and oha if installed) at
# their maximum rate on the floor server. Server on CPU 0 (1 thread), client on CPU 1
# (1 thread), 64 connections, rounds alternate clients.
#
#   benches/compare/tool-vs-wrk.sh             # ROUNDS=3 DUR=5s CONNS=64
source "$(dirname "$0")/common.sh"
need_wrk; build
ROUNDS=${ROUNDS:-3}; DUR=${DUR:-5s}; CONNS=${CONNS:-64}
start floor 0 "$BIN/floor-server" --port 0 --threads 1; FLOOR=$URL
T=$OUT/tool-vs-wrk.txt; : > "$T"
for r in $(seq "$ROUNDS"); do
  w=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DUR" -H 'Truora-API-Key: bench' "$FLOOR/v1/validations/VLD0" | awk '/Requests\/sec/ {print $2}')
  echo "$r wrk $w" | tee -a "$T"
  taskset -c 1 "$BIN/truidentidad-mock" load --target "$FLOOR" --raw get --validation-id VLD0 \
      --concurrency "$CONNS" --duration "$DUR" --threads 1 --quiet --json "$OUT/tool.json" > /dev/null
  echo "$r truidentidad-load $(python3 -c "import json;print(json.load(open('$OUT/tool.json'))['requests']['per_second'])")" | tee -a "$T"
  if command -v oha >/dev/null; then
    o=$(taskset -c 1 oha -z "$DUR" -c "$CONNS" --no-tui -H 'Truora-API-Key: bench' --output-format json "$FLOOR/v1/validations/VLD0" | python3 -c "import json,sys;print(json.load(sys.stdin)['summary']['requestsPerSec'])")
    echo "$r oha $o" | tee -a "$T"
  fi
done
python3 - "$T" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for r, tool, v in rows:
    by.setdefault(tool, {})[r] = float(v)
print("# median req/s over rounds, and ratio to wrk of the same round")
for tool, vals in by.items():
    ratios = [vals[r] / by["wrk"][r] for r in vals if r in by["wrk"]]
    print(f"{tool:18} {statistics.median(vals.values()):10.0f} req/s  {statistics.median(ratios)*100:6.1f}% of wrk")
PY
