#!/usr/bin/env python3
"""Idle footprint, side by side: `diagbot serve` on the packaged
configuration (`diagbot config example`, its log paths pointed at a temp
dir) and Monit (Debian's `monit`) watching the same log for the same word,
started together; after SECS seconds (default 20) each one's RSS, split into
anonymous and file-backed pages, and its threads, from /proc/PID/status.
Then diagbot is asked one of each kind of question (errors, grep, groups,
status, history, explain, the dashboard, /metrics) and measured again: the
figure of a daemon in use, with the code of every front end run once.

    python3 bench/footprint.py [BINARY] [SECS]    # default target/release/diagbot, 20

The binary runs with its own defaults: no MIMALLOC_* variable is passed on.
Everything stays on 127.0.0.1 and in a temp dir.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from packaged import own_defaults_env, packaged_config

binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/diagbot")
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
work = tempfile.mkdtemp(prefix="diagbot-footprint-")
logs = os.path.join(work, "logs")
os.mkdir(logs)
log = os.path.join(logs, "app.log")
with open(log, "w") as f:
    for i in range(2000):
        level = "ERROR" if i % 50 == 0 else "INFO"
        f.write(f"2026-01-27 10:{i // 60 % 60:02d}:{i % 60:02d},000 {level} request {i} done\n")


config = os.path.join(work, "diagbot.toml")
port = packaged_config(binary, logs, config)
env = own_defaults_env()
env["DIAGBOT_STORAGE__PATH"] = os.path.join(work, "diagbot.db")

monit = shutil.which("monit")
monitrc = os.path.join(work, "monitrc")
with open(monitrc, "w") as f:
    f.write(f"set daemon 30\nset logfile {work}/monit.log\nset idfile {work}/monit.id\n"
            f"set statefile {work}/monit.state\n"
            f"check file app with path {log}\n  if content = \"ERROR\" then alert\n")
os.chmod(monitrc, 0o600)

children = {"diagbot": subprocess.Popen([binary, "serve", "--config", config], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)}
if monit:
    children["monit"] = subprocess.Popen([monit, "-I", "-c", monitrc],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
else:
    print("monit not found (apt-get install monit): diagbot alone")
time.sleep(secs)


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else ""
    return fields


version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
print(f"after {secs:.0f} s idle ({version}, {os.path.getsize(binary) / 1e6:.1f} MB binary):")
print(f"{'':10} {'RSS':>9} {'anon':>9} {'file':>9} {'threads':>8}")
for name, child in children.items():
    if child.poll() is not None:
        print(f"{name:10} exited with {child.returncode}")
        continue
    s = status(child.pid)
    mib = lambda k: f"{int(s.get(k, 0)) / 1024:.1f} MiB"
    print(f"{name:10} {mib('VmRSS'):>9} {mib('RssAnon'):>9} {mib('RssFile'):>9} {s.get('Threads', '?'):>8}")


def ask_everything():
    base = f"http://127.0.0.1:{port}"
    for path in ["/api/v1/errors", "/api/v1/grep?pattern=ERROR", "/api/v1/groups",
                 "/api/v1/status", "/api/v1/oom", "/api/v1/history?series=host.load1&since=1h",
                 "/api/v1/cache", "/", "/metrics", "/healthz"]:
        try:
            urllib.request.urlopen(base + path, timeout=30).read()
        except OSError as e:
            print(f"  {path}: {e}")


if children["diagbot"].poll() is None:
    ask_everything()
    time.sleep(5)
    s = status(children["diagbot"].pid)
    mib = lambda k: f"{int(s.get(k, 0)) / 1024:.1f} MiB"
    print(f"{'in use':10} {mib('VmRSS'):>9} {mib('RssAnon'):>9} {mib('RssFile'):>9} {s.get('Threads', '?'):>8}"
          "   (diagbot after one of each question)")
for child in children.values():
    child.terminate()
    child.wait()
shutil.rmtree(work, ignore_errors=True)
