"""Polls one URL from 8 threads for N seconds; prints one line per second: 200s, 503s that
carried Retry-After, 503s without it, other answers, transport errors, and the slowest answer.
Used by redis_outage.sh (BENCHMARKS.md §8)."""

import collections
import http.client
import sys
import threading
import time
import urllib.parse

url, seconds = sys.argv[1], float(sys.argv[2])
u = urllib.parse.urlsplit(url)
start = time.monotonic()
rows = collections.defaultdict(lambda: collections.Counter())
slowest = collections.defaultdict(float)
lock = threading.Lock()


def poller():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    while (t0 := time.monotonic()) - start < seconds:
        try:
            conn.request("GET", u.path, headers={"Truora-API-Key": "bench"})
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                kind = "ok"
            elif r.status == 503:
                kind = "503_retry_after" if r.getheader("Retry-After") else "503_bare"
            else:
                kind = f"other_{r.status}"
        except OSError:
            kind = "transport_error"
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        t1 = time.monotonic()
        second = int(t0 - start)
        with lock:
            rows[second][kind] += 1
            slowest[second] = max(slowest[second], t1 - t0)


threads = [threading.Thread(target=poller) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("second  200  503+Retry-After  503-bare  other  transport  slowest_ms")
for s in sorted(rows):
    c = rows[s]
    other = sum(v for k, v in c.items() if k.startswith("other_"))
    print(
        f"{s:>6} {c['ok']:>4} {c['503_retry_after']:>16} {c['503_bare']:>9} {other:>6}"
        f" {c['transport_error']:>10} {slowest[s] * 1000:>11.0f}"
    )
