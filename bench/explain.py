#!/usr/bin/env python3
"""What explaining costs the daemon: 5 services whose logs carry 50 templates
of 3 numbers each, written to all along, side by side with and without
explain's work.

"off": the daemon samples (every second) and follows nothing more.
"on": each service also follows 3 configured numbers (`numbers`), and
every 10 s the bench asks `/api/v1/explain` for each service (the daemon's
own explainer asks once every 10 minutes: this is 60 times as often).

For each mode: the daemon's CPU seconds per sample, its RSS at the end and
its peak (VmHWM), and the explain answers' time. Standard library only.

    DIAGBOT=target/release/diagbot python3 bench/explain.py [--secs 120]
"""
import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = 5
TEMPLATES = 50


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_field(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def writer(dirs, stop):
    """Every 0.1 s, a line of a random template to each service's log."""
    rng = random.Random(7)
    files = [open(os.path.join(d, "app.log"), "a", buffering=1) for d in dirs]
    counters = [[0] * TEMPLATES for _ in dirs]
    while not stop.is_set():
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        for i, f in enumerate(files):
            t = rng.randrange(TEMPLATES)
            counters[i][t] += rng.randrange(5)
            f.write(
                f"{now},{rng.randrange(1000):03d} INFO worker: job{t} step {counters[i][t]} "
                f"of {rng.randrange(100)} took {rng.randrange(900)} ms\n"
            )
        time.sleep(0.1)
    for f in files:
        f.close()


def run(mode, secs, binary, work):
    dirs = []
    for i in range(SERVICES):
        d = os.path.join(work, mode, f"svc{i}")
        os.makedirs(d)
        dirs.append(d)
    pidfile = os.path.join(work, mode, "bench.pid")
    with open(pidfile, "w") as f:
        f.write(str(os.getpid()))
    port = free_port()
    lines = [
        f'[http]\nlisten = "127.0.0.1:{port}"\n',
        f'[storage]\npath = "{os.path.join(work, mode, "diagbot.db")}"\n',
        '[health]\nsample_interval = "1s"\n',
    ]
    for i, d in enumerate(dirs):
        lines.append(
            f'[[services]]\nname = "svc{i}"\nprocess = {{ pidfile = "{pidfile}" }}\nlogs = ["{d}"]\n'
        )
        if mode == "on":
            numbers = ", ".join(
                f'{{ template = "job{t} step <num> of <num> took <num> ms", name = "job{t}_step" }}'
                for t in range(3)
            )
            lines.append(f"numbers = [{numbers}]\n")
    config = os.path.join(work, mode, "diagbot.toml")
    with open(config, "w") as f:
        f.write("".join(lines))
    stop = threading.Event()
    w = threading.Thread(target=writer, args=(dirs, stop), daemon=True)
    w.start()
    time.sleep(2)
    daemon = subprocess.Popen(
        [binary, "serve", "--config", config],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, mode, "diagbot.log"), "w"),
        env={**os.environ, "DIAGBOT_CONFIG": config},
    )
    explain_secs = []
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        cpu0, t0 = cpu_seconds(daemon.pid), time.time()
        next_explain = t0 + 10
        while time.time() - t0 < secs:
            time.sleep(0.5)
            if mode == "on" and time.time() >= next_explain:
                next_explain += 10
                for i in range(SERVICES):
                    started = time.time()
                    urllib.request.urlopen(f"{base}/api/v1/explain?service=svc{i}", timeout=60).read()
                    explain_secs.append(time.time() - started)
        elapsed = time.time() - t0
        cpu = cpu_seconds(daemon.pid) - cpu0
        rss = status_field(daemon.pid, "VmRSS")
        hwm = status_field(daemon.pid, "VmHWM")
    finally:
        daemon.terminate()
        daemon.wait()
        stop.set()
        w.join()
    samples = elapsed  # one a second
    return {
        "mode": mode,
        "cpu_ms_per_sample": 1000 * cpu / samples,
        "rss_mib": rss / 2**20,
        "peak_mib": hwm / 2**20,
        "explains": len(explain_secs),
        "explain_ms_median": 1000 * sorted(explain_secs)[len(explain_secs) // 2] if explain_secs else None,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=int, default=120)
    args = ap.parse_args()
    binary = os.environ.get("DIAGBOT", os.path.join(ROOT, "target", "release", "diagbot"))
    with tempfile.TemporaryDirectory() as work:
        rows = [run("off", args.secs, binary, work), run("on", args.secs, binary, work)]
    print("mode  cpu ms/sample  RSS MiB  peak MiB  explains  explain ms (median)")
    for r in rows:
        med = "-" if r["explain_ms_median"] is None else f"{r['explain_ms_median']:.0f}"
        print(
            f"{r['mode']:<4}  {r['cpu_ms_per_sample']:>13.2f}  {r['rss_mib']:>7.1f}  "
            f"{r['peak_mib']:>8.1f}  {r['explains']:>8}  {med:>19}"
        )
    gap = rows[1]["rss_mib"] - rows[0]["rss_mib"]
    print(f"RSS on - off: {gap:+.1f} MiB (bar: within 2 MiB)")
    return 0 if abs(gap) <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
