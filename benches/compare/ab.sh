#!/usr/bin/env bash
# A/B of server binaries (or flags) under wrk: CPU µs per request and req/s, rounds
# alternating between the variants so the shared machine's drift hits all alike. Each
# server runs pinned to CPU 0; wrk runs pinned to CPU 1 (-t1 -c64). Variants are whole
# command lines separated by ';' and must print `listening on http://…` (the mock and
# floor-server do). Used for BENCHMARKS.md §1's per-change comparisons.
#
#   benches/compare/ab.sh GET 6 "/tmp/old serve --port 0 --threads 1 --pending-for 0s;\
#       /tmp/new serve --port 0 --threads 1 --pending-for 0s"      # DUR=3s by default
#
# GET reads one `success` validation created at start (floor-server answers any path);
# POST sends benches/compare/post.lua's create. Prints each round, then per variant the
# median req/s and median CPU µs per request. Wrap in `flock /tmp/bench.lock` when other
# benchmarks may run. PREFILL=N first creates N validations in each variant (with the load
# tool in $BIN), so a POST comparison at the store's cap starts at the cap.
source "$(dirname "$0")/common.sh"
need_wrk
export DUR=${DUR:-3s} CONNS=${CONNS:-64} CLIENT_CPU=1
EP=${1:?GET or POST}; ROUNDS=${2:?rounds}; shift 2
IFS=';' read -ra VARS <<< "$*"
URLS=(); IDS=()
for i in "${!VARS[@]}"; do
  # shellcheck disable=SC2086 # a variant is a command line
  start "ab$i" 0 ${VARS[$i]}; URLS+=("$URL")
  IDS+=("$(curl -s -X POST "$URL/v1/validations" -H 'Truora-API-Key: bench' -d type=government \
      -d account_id=success.bench | grep -o 'VLD[0-9a-f]*' || echo VLD0)")
done
if [ "${PREFILL:-0}" -gt 0 ]; then
  for u in "${URLS[@]}"; do fill "$u" "$PREFILL"; done
fi
T=$OUT/ab.txt; : > "$T"
for r in $(seq "$ROUNDS"); do
  for i in "${!VARS[@]}"; do
    if [ "$EP" = GET ]; then res=$(wrk_run "${PIDS[$i]}" "${URLS[$i]}/v1/validations/${IDS[$i]}")
    else res=$(wrk_run "${PIDS[$i]}" "${URLS[$i]}/v1/validations" "$(dirname "$0")/post.lua"); fi
    echo "$r $i $res" | tee -a "$T"
  done
done
python3 - "$T" "${VARS[@]}" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r, i, rps, p50, p99, bad, cpu = line.split()
    rows[int(i)].append((float(rps), float(cpu)))
print("# variant  median req/s  median CPU µs/req  (per round)")
for i in sorted(rows):
    print(f"{i} {statistics.median(x[0] for x in rows[i]):10.0f} {statistics.median(x[1] for x in rows[i]):8.2f}  "
          f"{[x[1] for x in rows[i]]}  {sys.argv[2 + i]}")
PY
