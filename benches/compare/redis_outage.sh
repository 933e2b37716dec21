#!/usr/bin/env bash
# BENCHMARKS.md §8: what polls see while the Redis store stops answering, and after.
#
#   benches/compare/redis_outage.sh        # release build of this checkout
#
# One Redis (append-only file, `appendfsync always`, so a restart keeps the records) and one
# mock `serve --store redis://…?timeout_ms=500`. Eight pollers poll one validation in a loop
# for 24 s (benches/compare/outage_poll.py, one keep-alive connection each). At 3 s Redis is
# SIGSTOPped for 5 s, then SIGCONTed; at 13 s it is killed (SIGKILL) and restarted 3 s later
# on the same port. The mock is never restarted. Per second: 200s, 503s with Retry-After,
# other answers, and the slowest answer.
source "$(dirname "$0")/common.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
RDIR=$(mktemp -d)
redis_up() {
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always \
    --dir "$RDIR" --daemonize no >> "$OUT/redis-outage.log" 2>&1 &
  RPID=$!; PIDS+=("$RPID")
  until redis-cli -p "$RPORT" ping >/dev/null 2>&1; do sleep 0.05; done
}
redis_up
start outage 0 "$BIN/truidentidad-mock" serve --port 0 --pending-for 0s --seed 1 --no-request-log \
  --store "redis://127.0.0.1:$RPORT/0?timeout_ms=500"
ID=$(curl -s -X POST "$URL/v1/validations" -H 'Truora-API-Key: bench' -d type=government \
  -d account_id=success.bench | grep -o 'VLD[0-9a-f]*')
python3 "$(dirname "$0")/outage_poll.py" "$URL/v1/validations/$ID" 24 > "$OUT/outage.txt" &
POLLER=$!
sleep 3; kill -STOP "$RPID"; echo "# 3 s: SIGSTOP redis"
sleep 5; kill -CONT "$RPID"; echo "# 8 s: SIGCONT redis"
sleep 5; kill -KILL "$RPID"; wait "$RPID" 2>/dev/null || true; echo "# 13 s: SIGKILL redis"
sleep 3; redis_up; echo "# 16 s: redis restarted"
wait "$POLLER"
cat "$OUT/outage.txt"
echo "# mock pid $PID still the same process: $(kill -0 "$PID" && echo yes)"
rm -rf "$RDIR"
