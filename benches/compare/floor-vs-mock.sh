#!/usr/bin/env bash
# Figure 1 of BENCHMARKS.md: the mock's GET /v1/validations/{id} and POST /v1/validations
# against the floor (a hyper server returning a fixed body), side by side in one run.
# Each server runs pinned to CPU 0 with one worker thread; wrk runs pinned to CPU 1 with one
# thread and 64 keep-alive connections. Rounds alternate servers so drift hits all alike.
#
#   benches/compare/floor-vs-mock.sh            # ROUNDS=3 DUR=10s CONNS=64
source "$(dirname "$0")/common.sh"
need_wrk; build
ROUNDS=${ROUNDS:-3}
export DUR=${DUR:-10s} CONNS=${CONNS:-64} CLIENT_CPU=1

start floor 0 "$BIN/floor-server" --port 0 --threads 1; FLOOR=$URL
# --pending-for 0s: validations are `success` at once, so each round can create a fresh GET
# target (the POST rounds fill the store to its 1M cap, and eviction then removes the oldest
# finished validations, the first round's GET target among them).
start mock-default 0 "$BIN/truidentidad-mock" serve --port 0 --seed 1 --threads 1 --pending-for 0s; MOCK=$URL
start mock-quiet 0 "$BIN/truidentidad-mock" serve --port 0 --seed 1 --threads 1 --pending-for 0s --no-request-log --journal-capacity 0; QUIET=$URL
# A second floor for POST only: the least a create can do (read the form, store its
# account_id under a new id in a map bounded at the mock's default 1M, answer). What it loses
# against the fixed-body floor is the price of storing at all; the rest is the mock's own.
start floor-create 0 "$BIN/floor-server" --port 0 --threads 1 --store 1000000; CREATE=$URL

id_of() { curl -s -X POST "$1/v1/validations" -H 'Truora-API-Key: bench' -d type=government -d account_id=success.bench | grep -o 'VLD[0-9a-f]*'; }

echo "# wrk -t1 -c$CONNS -d$DUR, servers: 1 worker thread on CPU 0, wrk on CPU 1; $(nproc) cores"
T=$OUT/floor-vs-mock.txt
printf "%-6s %-5s %-13s %9s %9s %9s %7s %12s\n" round ep server req/s p50_ms p99_ms non2xx cpu_us/req | tee "$T"
run_side() { # round endpoint side
  local u pid path lua=
  case $3 in floor) u=$FLOOR; pid=${PIDS[0]};; mock-default) u=$MOCK; pid=${PIDS[1]};; mock-quiet) u=$QUIET; pid=${PIDS[2]};;
    floor-create) u=$CREATE; pid=${PIDS[3]};; esac
  if [ "$2" = GET ]; then
    case $3 in floor) path=/v1/validations/VLD0;; mock-default) path=/v1/validations/$ID_MOCK;; mock-quiet) path=/v1/validations/$ID_QUIET;; esac
  else path=/v1/validations; lua=$(dirname "$0")/post.lua; fi
  read -r rps p50 p99 bad cpu < <(wrk_run "$pid" "$u$path" $lua)
  printf "%-6s %-5s %-13s %9s %9s %9s %7s %12s\n" "$1" "$2" "$3" "$rps" "$p50" "$p99" "$bad" "$cpu" | tee -a "$T"
}
for r in $(seq "$ROUNDS"); do
  ID_MOCK=$(id_of "$MOCK"); ID_QUIET=$(id_of "$QUIET")  # fresh, already `success`
  for side in floor mock-default mock-quiet; do run_side "$r" GET "$side"; done
  for side in floor floor-create mock-default mock-quiet; do run_side "$r" POST "$side"; done
done
python3 "$(dirname "$0")/ratios.py" "$T"
echo "# RSS after the run (KiB): mock-default $(rss_kib "${PIDS[1]}"), mock-quiet $(rss_kib "${PIDS[2]}"), floor $(rss_kib "${PIDS[0]}"), floor-create $(rss_kib "${PIDS[3]}")"
