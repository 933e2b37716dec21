#!/usr/bin/env bash
# live.sh N [P=30] [PLATEAU=60]: ~N live validations polled every 1 s for PLATEAU seconds.
# arrivals at N/P per second for P+PLATEAU s; each validation is given up after P s
# (--poll-deadline P, < --pending-for 120s, so all are still pending = live on the mock).
# The mock runs on CPU 0, the load tool on CPU 1; figures land in benches/compare/results/live-N/.
#   benches/compare/live.sh 30000
# MOCK_BIN / LOAD_BIN: binaries to serve and to load with (default: both the fresh release
# build), e.g. a copy kept aside so a rebuild does not change them mid-series, or an older
# load tool against the same mock. OUT_TAG names the results directory (live-N-TAG).

N=$1; P=${2:-30}; PL=${3:-60}
source "$(dirname "$0")/common.sh"
if [ -z "${MOCK_BIN:-}" ] || [ -z "${LOAD_BIN:-}" ]; then build; fi
MB=${MOCK_BIN:-$BIN/truidentidad-mock}; LB=${LOAD_BIN:-$BIN/truidentidad-mock}
O=$OUT/live-$N${OUT_TAG:+-$OUT_TAG}; mkdir -p $O
R=$(python3 -c "print(round($N/$P))"); D=$((P+PL))
taskset -c 0 $MB serve --port 0 --pending-for 120s > $O/mock.stdout 2> $O/mock.stderr & MP=$!; PIDS+=("$MP")
for _ in $(seq 50); do URL=$(grep -o 'http://[0-9.:]*' $O/mock.stdout || true); [ -n "$URL" ] && break; sleep 0.1; done
cmd=(taskset -c 1 $LB load --target $URL --rate $R --duration ${D}s --poll-interval 1s --poll-deadline ${P}s --max-in-flight 1000000 --threads 1 --seed 7 --json $O/load.json)
echo "\$ ${cmd[*]}" > $O/cmd.txt
timeout 180 "${cmd[@]}" > $O/load.stdout 2> $O/load.stderr & LP=$!
sleep 1; LC=$(pgrep -P $LP); echo "load tool pid $LC" > $O/pids.txt
tk() { awk '{print $14 + $15}' /proc/$1/stat; }
sleep $((P+4)); m0=$(tk $MP); l0=$(tk $LC); t0=$(date +%s.%N); b0=$(stat -c %s $O/mock.stderr)
sleep $(((PL-10)/2)); ss -s | sed -n 2p > $O/ss.txt; ls /proc/$MP/fd | wc -l | sed "s/^/mock fds /" >> $O/ss.txt; sleep $(((PL-10)/2)); m1=$(tk $MP); l1=$(tk $LC); t1=$(date +%s.%N); b1=$(stat -c %s $O/mock.stderr)
rss=$(awk '/VmRSS/ {print $2}' /proc/$MP/status); lrss=$(awk '/VmRSS/ {print $2}' /proc/$LC/status)
wait $LP || echo "load exit $?"
hz=$(getconf CLK_TCK)
python3 - <<PY | tee $O/summary.txt
import json
j=json.load(open("$O/load.json")); w=$t1-$t0
print(f"mock request-log bytes/s in the window {($b1-$b0)/w:.0f}")
print(f"N=$N rate=$R/s duration=${D}s deadline=${P}s plateau window {w:.0f}s")
print(f"mock CPU {($m1-$m0)/$hz/w*100:.0f}% of a core, load tool CPU {($l1-$l0)/$hz/w*100:.0f}%; mock RSS {$rss/1024:.1f} MB, load RSS {$lrss/1024:.1f} MB")
p=j['poll']['latency_ms']; v=j['validations']
print(f"polls {j['poll']['count']} p50 {p['p50']} p99 {p['p99']} p999 {p['p999']} max {p['max']} ms; create p99 {j['create']['latency_ms']['p99']} ms")
print(f"started {v['started']} finished {v['finished']} dropped {v['dropped']} polls/validation {v['polls_per_validation']:.2f} (intended ~{$P-1}); outcomes {j['outcomes']}; errors {j['errors']}; req/s overall {j['requests']['per_second']:.0f}")
PY
grep -o '\[ *[0-9]*s/[0-9]*s\] [0-9]* req/s.*in-flight [0-9]*' $O/load.stderr | tr '\n' ';' | sed 's/;/\n/g' | awk 'NR%2==0' | tee -a $O/summary.txt
cat $O/ss.txt | tee -a $O/summary.txt; kill $MP; wait $MP 2>/dev/null || true
ls -la $O/mock.stderr | awk '{print "mock log bytes", $5}'; rm -f $O/mock.stderr
