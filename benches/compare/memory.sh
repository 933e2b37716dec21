#!/usr/bin/env bash
# Figure 4 of BENCHMARKS.md: the mock's RSS with 10k, 100k and 1M stored validations (default
# settings: request log to a file, journal of 10,000), then a soak: polling load for SOAK
# seconds (default 600) with the store capped, RSS sampled every 10 s.
#
#   benches/compare/memory.sh                  # SOAK=600 SOAK_RATE=500
source "$(dirname "$0")/common.sh"
build
SOAK=${SOAK:-600}; SOAK_RATE=${SOAK_RATE:-500}
start mem 0 "$BIN/truidentidad-mock" serve --port 0 --seed 1 --max-validations 2000000; MEM=$URL; MPID=$PID
sleep 0.5
base=$(rss_kib "$MPID"); prev_n=0; prev_rss=$base
echo "# stored validations -> RSS (KiB), and KiB per validation since the previous step"
echo "0 $base"
for n in 10000 100000 1000000; do
  fill "$MEM" $((n - prev_n))
  rss=$(rss_kib "$MPID")
  awk -v n=$n -v r=$rss -v pn=$prev_n -v pr=$prev_rss 'BEGIN { printf "%d %d  (%.0f bytes per validation)\n", n, r, (r-pr)*1024/(n-pn) }'
  prev_n=$n; prev_rss=$rss
done
kill "$MPID"

echo "# soak: ${SOAK}s of polling at ${SOAK_RATE}/s (3 s pending, 1 s polls), store capped at 100,000"
start soak 0 "$BIN/truidentidad-mock" serve --port 0 --seed 1 --max-validations 100000; SOAKURL=$URL; SPID=$PID
taskset -c 1 "$BIN/truidentidad-mock" load --target "$SOAKURL" --rate "$SOAK_RATE" --duration "${SOAK}s" \
    --threads 1 --quiet --json "$OUT/soak.json" > "$OUT/soak.txt" &
LPID=$!
for t in $(seq 10 10 "$SOAK"); do sleep 10; echo "t=${t}s rss_kib=$(rss_kib "$SPID")"; done
wait "$LPID"; cat "$OUT/soak.txt"
