#!/usr/bin/env bash
# Instructions per request of server binaries, counted by callgrind: unlike CPU time, the count
# does not depend on what else the shared machine is doing, so a small change in the request
# path shows up even when wrk's rounds (ab.sh) scatter by ±10 %.
#
#   benches/compare/instructions.sh GET  "/tmp/old serve --port 0 --threads 1 --pending-for 0s;\
#       /tmp/new serve --port 0 --threads 1 --pending-for 0s"
#   N=4000 benches/compare/instructions.sh POST "…"
#
# Each variant runs twice under callgrind, serving N and then 2N requests of the endpoint
# (the load tool's raw mode, one connection-pool thread, from $LOAD or the first variant's
# binary); the difference divided by N is the per-request count, free of start-up and
# shutdown. Takes a minute or two per variant: callgrind runs the server ~50x slower.
source "$(dirname "$0")/common.sh"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
EP=${1:?GET or POST}; shift
N=${N:-2000}
IFS=';' read -ra VARS <<< "$*"
case "$EP" in GET) RAW=get ;; POST) RAW=create ;; *) echo "GET or POST" >&2; exit 2 ;; esac
read -ra FIRST <<< "${VARS[0]}"
LOAD=${LOAD:-${FIRST[0]}}

# run_once I COUNT: total instructions (Ir) of variant I serving COUNT requests.
run_once() {
  local i=$1 count=$2 out=$OUT/cg.$1.$2
  rm -f "$out".*
  # shellcheck disable=SC2086 # a variant is a command line
  start "cg$i-$count" 0 valgrind --tool=callgrind --callgrind-out-file="$out.%p" ${VARS[$i]}
  "$LOAD" load --target "$URL" --raw "$RAW" --concurrency 8 --duration 600s \
      --max-requests "$count" --threads 1 --quiet > /dev/null
  kill -INT "$PID"; wait "$PID" 2>/dev/null || true
  awk '/^summary:|^totals:/ {print $2; exit}' "$out".*
}

echo "# variant  instructions per $EP  (N=$N; from runs of N and 2N requests)"
for i in "${!VARS[@]}"; do
  a=$(run_once "$i" "$N"); b=$(run_once "$i" $((2 * N)))
  echo "$i $(( (b - a) / N ))  ${VARS[$i]}"
done
