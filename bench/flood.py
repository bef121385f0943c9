#!/usr/bin/env python3
"""The 200-pattern flood of issue 11: N concurrent `GET /api/v1/grep` with
distinct patterns and max_lines=1000 over a log of 1.2 KB lines, against a
`diagbot serve` child; prints the answers' statuses and the child's RSS
before, at its peak (VmHWM) and after.

    python3 bench/flood.py [BINARY] [N]      # default target/release/diagbot, 200

The log (40 000 lines, 48 MB) and the config go to a temp dir; every request
stays on 127.0.0.1.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/diagbot"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
work = tempfile.mkdtemp(prefix="diagbot-flood-")
os.mkdir(os.path.join(work, "logs"))
with open(os.path.join(work, "logs", "app.log"), "w") as f:
    for i in range(40000):
        f.write(f"2026-01-27 10:{i // 60 % 60:02d}:{i % 60:02d},000 ERROR request {i} failed {'x' * 1150}\n")
port = 19000 + os.getpid() % 1000
config = os.path.join(work, "diagbot.toml")
with open(config, "w") as f:
    f.write(f'[logs]\npaths = ["{work}/logs"]\n[http]\nlisten = "127.0.0.1:{port}"\n')
# The binary's own defaults: no MIMALLOC_* variable (the unit sets none).
env = {k: v for k, v in os.environ.items() if not k.startswith("MIMALLOC_")}
child = subprocess.Popen([binary, "serve", "--config", config], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def mib(field):
    with open(f"/proc/{child.pid}/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) // 1024
    return -1


for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
        break
    except OSError:
        time.sleep(0.1)
time.sleep(1)
before = mib("VmRSS")
statuses = {}
lock = threading.Lock()


def ask(i):
    url = f"http://127.0.0.1:{port}/api/v1/grep?pattern=failed%7Czz{i}&max_lines=1000"
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            r.read()
            key = r.status
    except Exception as e:  # a refused or failed request is a result too
        key = type(e).__name__
    with lock:
        statuses[key] = statuses.get(key, 0) + 1


started = time.time()
threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{n} requests in {time.time() - started:.1f} s: {statuses}; "
      f"RSS before {before} MiB, peak {mib('VmHWM')} MiB, after {mib('VmRSS')} MiB")
child.terminate()
child.wait()
shutil.rmtree(work, ignore_errors=True)
