"""Summarises floor-vs-mock.txt: per round, each mock's figures relative to the floor of the
same round, then the median over rounds (drift on a shared machine hits a round's sides alike).
`floor-create` (POST only) is floor-server --store: a minimal create, the floor for anything
that stores what it is sent.

capacity = floor CPU per request / mock CPU per request: the share of the floor's throughput
the mock reaches when both are CPU-bound on the same core, independent of the CPU share the
machine happened to give each run."""
import statistics
import sys

rows = [l.split() for l in open(sys.argv[1]) if l[:1].isdigit()]
by = {(r[0], r[1], r[2]): r for r in rows}
rounds = sorted({r[0] for r in rows}, key=int)
print(f"# median over {len(rounds)} rounds, each mock relative to the floor of the same round")
print(f"{'ep':5} {'server':13} {'req/s vs floor':>15} {'middle half':>13} {'p99 vs floor':>13} {'capacity (CPU/req)':>19} {'cpu_us/req':>11}")
def summarise(ep, side, ref):
    rps, p99, cap, cpu = [], [], [], []
    for r in rounds:
        f, m = by.get((r, ep, ref)), by.get((r, ep, side))
        if not f or not m:
            continue
        rps.append(float(m[3]) / float(f[3]))
        p99.append(float(m[5]) / float(f[5]))
        if float(m[7]) > 0:
            cap.append(float(f[7]) / float(m[7]))
        cpu.append(float(m[7]))
    if rps:
        # The spread of the per-round ratios (25th to 75th percentile): on a shared
        # machine a median a few points from a target says little when this is wide.
        q = statistics.quantiles(rps, n=4) if len(rps) > 1 else [rps[0]] * 3
        spread = f"{q[0]*100:.0f}-{q[2]*100:.0f}%"
        print(f"{ep:5} {side:13} {statistics.median(rps)*100:14.1f}% {spread:>13} {statistics.median(p99):12.2f}x "
              f"{statistics.median(cap)*100 if cap else 0:18.1f}% {statistics.median(cpu):11.1f}")


for ep in ("GET", "POST"):
    for side in ("floor", "floor-create", "mock-default", "mock-quiet"):
        summarise(ep, side, "floor")
if any(k[2] == "floor-create" for k in by):
    print("# POST relative to floor-create (the minimal create) instead of the fixed-body floor")
    for side in ("mock-default", "mock-quiet"):
        summarise("POST", side, "floor-create")
