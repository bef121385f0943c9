#!/usr/bin/env python3
"""A daemon watching a directory of many small files: its peak memory
against the unit's MemoryMax=64M. FILES one-line logs (default 100,000)
are written in one directory, `diagbot serve` runs on the packaged
configuration with its log paths pointed there and its refresh every 20 s,
and VmHWM (the peak RSS) and VmRSS are read from /proc every 0.2 s until
REFRESHES background refreshes have run (default 3).

    python3 bench/many_files.py [BINARY ...]     # default target/release/diagbot
    FILES=20000 REFRESHES=2 python3 bench/many_files.py new/diagbot old/diagbot

Several binaries run one after the other on the same files, so two builds
are compared on one tree. Everything stays on 127.0.0.1 and in a temp dir.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from packaged import own_defaults_env, packaged_config

binaries = [os.path.abspath(b) for b in sys.argv[1:]] or [os.path.abspath("target/release/diagbot")]
files = int(os.environ.get("FILES", "100000"))
refreshes = int(os.environ.get("REFRESHES", "3"))
work = tempfile.mkdtemp(prefix="diagbot-many-files-")
logs = os.path.join(work, "logs")
os.mkdir(logs)
for i in range(files):
    with open(os.path.join(logs, f"{i:06d}.log"), "w") as f:
        f.write(f"2026-01-27 10:00:{i % 60:02d},000 {'ERROR' if i % 10 == 0 else 'INFO'} job {i} done\n")


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = int(value.split()[0]) if value.split() and value.split()[0].isdigit() else 0
    return fields


def refresh_runs(port):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    m = re.search(r"^diagbot_refresh_runs_total (\d+)", text, re.M)
    return int(m.group(1)) if m else None


def why(line):
    """The reason a refresh log line gives for not keeping a query's tails."""
    reason = line.split("reads everything again:", 1)[-1]
    return re.sub(r"\s*query=\S+\s*$", "", reason).strip()


def measure(binary):
    config = os.path.join(work, "diagbot.toml")
    port = packaged_config(binary, logs, config)
    env = own_defaults_env()
    env["DIAGBOT_STORAGE__PATH"] = os.path.join(work, f"diagbot-{port}.db")
    env["DIAGBOT_REFRESH__INTERVAL"] = "20s"
    log = open(os.path.join(work, f"diagbot-{port}.log"), "w")
    child = subprocess.Popen([binary, "serve", "--config", config], env=env,
                             stdout=log, stderr=log)
    started = time.time()
    peak_rss = 0
    idle = []
    runs = 0
    try:
        while time.time() - started < 60 + 40 * refreshes:
            if child.poll() is not None:
                raise SystemExit(f"{binary} exited with {child.returncode}")
            s = status(child.pid)
            peak_rss = max(peak_rss, s["VmRSS"])
            now_runs = refresh_runs(port)
            if now_runs is not None and now_runs > runs:
                runs = now_runs
                idle.append(status(child.pid)["VmRSS"])
                if runs >= refreshes:
                    break
            time.sleep(0.2)
        s = status(child.pid)
    finally:
        child.terminate()
        child.wait()
        log.close()
    warned = [l for l in open(log.name) if "incremental state not kept" in l]
    return {
        "peak": max(s["VmHWM"], peak_rss),
        "after": idle,
        "runs": runs,
        "why": why(warned[-1]) if warned else None,
    }


print(f"{files} one-line files in one watched directory; {refreshes} refreshes every 20 s")
print()
print("| binary | peak RSS (VmHWM) | RSS after each refresh | tails |")
print("|---|---|---|---|")
for binary in binaries:
    r = measure(binary)
    after = ", ".join(f"{kb / 1024:.0f}" for kb in r["after"])
    why = r["why"] or "kept"
    print(f"| {binary} | {r['peak'] / 1024:.1f} MiB | {after} MiB | {why} |")
shutil.rmtree(work, ignore_errors=True)
