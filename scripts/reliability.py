#!/usr/bin/env python3
"""Reliability measurements for RELIABILITY.md: a bounded soak (RSS over time while
validations are created and finished continuously) and a restart (save/load time and file
size with --state-file). Standard library only; loopback only; every run is bounded.

Usage:
  python3 scripts/reliability.py soak    --bin target/release/truidentidad-mock --minutes 10
  python3 scripts/reliability.py restart --bin target/release/truidentidad-mock --validations 100000
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

KEY = "reliability"
FORM = {"Truora-API-Key": KEY, "Content-Type": "application/x-www-form-urlencoded"}


def start(binary, *args):
    proc = subprocess.Popen(
        [binary, "serve", "--port", "0", "--no-request-log", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on http://"):
        proc.kill()
        sys.exit(f"unexpected first line: {line!r}: {proc.stderr.read()}")
    host, port = line.removeprefix("listening on http://").rsplit(":", 1)
    return proc, host, int(port)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(host, port, stop, counts, lock):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    n = 0
    while not stop.is_set():
        conn.request("POST", "/v1/validations", "type=government&account_id=soak&timeout=5", FORM)
        body = json.loads(conn.getresponse().read())
        vid = body["validation_id"]
        conn.request("GET", f"/v1/validations/{vid}", headers={"Truora-API-Key": KEY})
        conn.getresponse().read()
        n += 2
        if n % 200 == 0:
            with lock:
                counts[0] += 200
    conn.close()


def soak(args):
    proc, host, port = start(
        args.bin, "--pending-for", "1s",
        "--max-validations", str(args.max_validations),
        "--journal-capacity", str(args.journal_capacity),
    )
    stop, lock, counts = threading.Event(), threading.Lock(), [0]
    threads = [threading.Thread(target=worker, args=(host, port, stop, counts, lock)) for _ in range(args.clients)]
    for t in threads:
        t.start()
    print(f"{'elapsed':>8} {'requests':>10} {'req/s':>8} {'RSS MiB':>8} {'stored':>8}")
    start_t = time.time()
    last_n, last_t = 0, start_t
    deadline = start_t + args.minutes * 60
    try:
        while time.time() < deadline:
            time.sleep(min(args.every, max(0.0, deadline - time.time())))
            now = time.time()
            with lock:
                n = counts[0]
            c = http.client.HTTPConnection(host, port, timeout=10)
            c.request("GET", "/_mock/health")
            health = json.loads(c.getresponse().read())
            c.close()
            rate = (n - last_n) / (now - last_t)
            print(f"{now - start_t:>7.0f}s {n:>10} {rate:>8.0f} {rss_mib(proc.pid):>8.1f} {health['validations']:>8}", flush=True)
            last_n, last_t = n, now
    finally:
        stop.set()
        for t in threads:
            t.join()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def restart(args):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "state.json")
        proc, host, port = start(args.bin, "--state-file", path, "--journal-capacity", "10000")
        conn = http.client.HTTPConnection(host, port, timeout=10)
        t0 = time.time()
        for i in range(args.validations):
            conn.request("POST", "/v1/validations", f"type=government&account_id=restart-{i}", FORM)
            conn.getresponse().read()
        print(f"created {args.validations} validations in {time.time() - t0:.1f}s; RSS {rss_mib(proc.pid):.1f} MiB")
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        print(f"SIGTERM to exit (drain + save): {time.time() - t0:.2f}s; state file {os.path.getsize(path) / 2**20:.1f} MiB")
        t0 = time.time()
        proc, host, port = start(args.bin, "--state-file", path)
        print(f"restart to listening (load): {time.time() - t0:.2f}s; RSS {rss_mib(proc.pid):.1f} MiB")
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request("GET", "/_mock/health")
        print("after restart:", c.getresponse().read().decode())
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("soak", help="RSS over time under continuous create+poll load")
    s.add_argument("--bin", required=True)
    s.add_argument("--minutes", type=float, default=10)
    s.add_argument("--every", type=float, default=30, help="seconds between samples")
    s.add_argument("--clients", type=int, default=4)
    s.add_argument("--max-validations", type=int, default=100_000)
    s.add_argument("--journal-capacity", type=int, default=10_000)
    r = sub.add_parser("restart", help="save and load time with --state-file")
    r.add_argument("--bin", required=True)
    r.add_argument("--validations", type=int, default=100_000)
    args = p.parse_args()
    {"soak": soak, "restart": restart}[args.cmd](args)


if __name__ == "__main__":
    main()
