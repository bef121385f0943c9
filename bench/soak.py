#!/usr/bin/env python3
"""24 hours of diagbot's 5-minute refresh cycles, compressed into about five minutes.

TTL and refresh interval 1 s, 288 cycles. Meanwhile a writer appends to the logs
(rotating them every 50 cycles, gzipping the older rotation) and a client sends
queries over HTTP, several a second, half repeated and half with patterns never
seen before. Every cycle samples diagbot's RSS and its cache's entries and bytes.

Writes a CSV and an SVG chart, prints a table like the original bot's, and checks
the bars: RSS at the last cycle within 10 % of RSS at cycle 30, largest RSS at most
24 MiB, cache bytes within the budget at every sample, no failed request.

    python3 bench/soak.py [--cycles 288] [--out bench-data/soak] [--chart docs/soak.svg] [--telegram] [--explain on|off]

With --telegram, diagbot's Telegram bot runs too, against a fake Bot API served
here on loopback: an allowed chat sends a command every cycle, a stranger every
tenth, and a service whose logs are the writer's raises error-burst alerts;
one more bar checks that every command was answered.

Standard library only. Exits 1 if a bar is missed.
"""
import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET = 8 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """User and system CPU time of a process so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid, field="VmRSS"):
    """VmRSS (all resident memory), or RssAnon (heap and stacks) or RssFile (mapped code)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


TOKEN = "123456789:AASoakTokenForBenchmarksOnly"
OPERATOR, STRANGER = 1001, 2002
COMMANDS = ["/status", "/errors", "/grep ERROR", "/oom", "/cache", "/services", "/errors 1h", "/grep Traceback"]


class FakeBotApi(threading.Thread):
    """The Telegram Bot API as diagbot's bot uses it: getMe, getUpdates (held up
    to a second when there is nothing), sendMessage, sendChatAction."""

    def __init__(self):
        super().__init__(daemon=True)
        self.cond = threading.Condition()
        self.updates, self.next_id, self.sent = [], 0, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                method = self.path.rsplit("/", 1)[-1].lower()
                if not self.path.startswith(f"/bot{TOKEN}/"):
                    return self.answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                if method == "getme":
                    return self.answer(200, {"ok": True, "result": {
                        "id": 1, "is_bot": True, "first_name": "diagbot", "username": "diagbot_soak_bot",
                        "can_join_groups": False, "can_read_all_group_messages": False,
                        "supports_inline_queries": False, "can_connect_to_business": False,
                        "has_main_web_app": False}})
                if method == "getupdates":
                    offset = body.get("offset", 0)
                    with fake.cond:
                        fake.updates = [u for u in fake.updates if u["update_id"] >= offset]
                        if not fake.updates:
                            fake.cond.wait(timeout=1.0)
                        result = list(fake.updates)
                    return self.answer(200, {"ok": True, "result": result})
                if method == "sendchataction":
                    return self.answer(200, {"ok": True, "result": True})
                if method == "sendmessage":
                    with fake.cond:
                        fake.sent.append((body["chat_id"], body["text"]))
                        n = len(fake.sent)
                    return self.answer(200, {"ok": True, "result": {
                        "message_id": n, "date": int(time.time()),
                        "chat": {"id": body["chat_id"], "type": "private", "first_name": "Op"},
                        "text": body["text"]}})
                return self.answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})

            def answer(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def run(self):
        self.server.serve_forever()

    def say(self, chat, text):
        with self.cond:
            self.next_id += 1
            self.updates.append({"update_id": self.next_id, "message": {
                "message_id": self.next_id, "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Op"},
                "from": {"id": chat, "is_bot": False, "first_name": "Op"}, "text": text}})
            self.cond.notify_all()

    def sent_to(self, chat):
        with self.cond:
            return [text for c, text in self.sent if c == chat]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


class Writer(threading.Thread):
    """Appends service log lines; rotates when asked."""

    def __init__(self, logs):
        super().__init__(daemon=True)
        self.logs = logs
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.n = 0
        self.rotations = 0

    def line(self):
        self.n += 1
        t = time.strftime("%Y-%m-%d %H:%M:%S")
        kind = self.n % 20
        if kind == 0:
            return (f"{t},000 - bot.trader - ERROR - order {self.n} failed\n"
                    "Traceback (most recent call last):\n"
                    f"  File \"/opt/bot/trader.py\", line {self.n % 900}, in place\n"
                    "ConnectionError: connection reset by peer\n")
        if kind == 7:
            return f"{t},000 - bot.api - WARNING - request {self.n} timed out\n"
        return f"{t},000 - worker - INFO - heartbeat {self.n} ok, queue depth {self.n % 97}\n"

    def run(self):
        path = os.path.join(self.logs, "bot.log")
        while not self.stop.is_set():
            with self.lock, open(path, "a") as f:
                f.write("".join(self.line() for _ in range(5)))
            time.sleep(0.1)

    def rotate(self):
        """bot.log -> bot.log.1; an older bot.log.1 is gzipped to bot.log.N.gz; at most 4 kept."""
        with self.lock:
            self.rotations += 1
            one = os.path.join(self.logs, "bot.log.1")
            if os.path.exists(one):
                with open(one, "rb") as src, gzip.open(os.path.join(self.logs, f"bot.log.{self.rotations}.gz"), "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.remove(one)
            gz = sorted((f for f in os.listdir(self.logs) if f.endswith(".gz")),
                        key=lambda f: int(f.split(".")[2]))
            for old in gz[:-4]:
                os.remove(os.path.join(self.logs, old))
            os.rename(os.path.join(self.logs, "bot.log"), one)
            open(os.path.join(self.logs, "bot.log"), "w").close()


class Client(threading.Thread):
    """Several queries a second: half repeated, half never seen before."""

    REPEATED = ["ERROR", "Traceback", "timed out", "ConnectionError", "queue depth 5"]

    def __init__(self, base, per_second):
        super().__init__(daemon=True)
        self.base = base
        self.gap = 1.0 / per_second
        self.stop = threading.Event()
        self.sent = 0
        self.failed = []

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            if i % 2:
                pattern = self.REPEATED[i % len(self.REPEATED)]
            else:
                pattern = f"heartbeat {i}[0-9]* ok|never-seen-{i}"
            url = f"{self.base}/api/v1/grep?" + urllib.parse.urlencode({"pattern": pattern})
            try:
                status, _ = get(url)
                if status != 200:
                    self.failed.append(f"{pattern}: HTTP {status}")
            except (urllib.error.URLError, OSError) as e:
                self.failed.append(f"{pattern}: {e}")
            self.sent += 1
            time.sleep(self.gap)


def svg_chart(rows, path):
    """RSS and cache bytes (MiB) per cycle, as a plain SVG line chart."""
    w, h, pad = 900, 360, 50
    cycles = [r["cycle"] for r in rows]
    top = max(24.0, max(r["rss_mib"] for r in rows), BUDGET / 2**20) * 1.1
    def x(c): return pad + (w - 2 * pad) * (c - cycles[0]) / max(1, cycles[-1] - cycles[0])
    def y(v): return h - pad - (h - 2 * pad) * v / top
    def line(key, colour):
        pts = " ".join(f"{x(r['cycle']):.1f},{y(r[key]):.1f}" for r in rows)
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>'
    grid = "".join(
        f'<line x1="{pad}" x2="{w - pad}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
        f'<text x="{pad - 8}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:g}</text>'
        for v in range(0, int(top) + 1, 4))
    limits = (f'<line x1="{pad}" x2="{w - pad}" y1="{y(24):.1f}" y2="{y(24):.1f}" stroke="#c00" stroke-dasharray="6 4"/>'
              f'<text x="{w - pad}" y="{y(24) - 5:.1f}" font-size="11" text-anchor="end" fill="#c00">RSS bar 24 MiB</text>'
              f'<line x1="{pad}" x2="{w - pad}" y1="{y(BUDGET / 2**20):.1f}" y2="{y(BUDGET / 2**20):.1f}" stroke="#888" stroke-dasharray="2 4"/>'
              f'<text x="{w - pad}" y="{y(BUDGET / 2**20) - 5:.1f}" font-size="11" text-anchor="end" fill="#888">cache budget 8 MiB</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif">'
           f'<rect width="{w}" height="{h}" fill="white"/>{grid}{limits}'
           f'{line("rss_mib", "#1f77b4")}{line("cache_mib", "#2ca02c")}'
           f'<text x="{w / 2}" y="20" font-size="14" text-anchor="middle">diagbot soak: {len(rows)} refresh cycles (24 h of 5-minute cycles, 1 s each)</text>'
           f'<text x="{pad}" y="{h - 15}" font-size="12" fill="#1f77b4">RSS (MiB)</text>'
           f'<text x="{pad + 90}" y="{h - 15}" font-size="12" fill="#2ca02c">cache bytes (MiB)</text>'
           f'<text x="{w - pad}" y="{h - 15}" font-size="12" text-anchor="end">cycle</text></svg>')
    with open(path, "w") as f:
        f.write(svg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=288)
    ap.add_argument("--per-second", type=float, default=6.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-data", "soak"))
    ap.add_argument("--chart", default=None, help="SVG path (default: OUT.svg)")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for diagbot's environment")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "diagbot"))
    ap.add_argument("--telegram", action="store_true", help="run the Telegram bot against a fake Bot API")
    ap.add_argument("--storage", choices=["on", "off"], default="on",
                    help="keep history (in the run's own directory) or not")
    ap.add_argument("--explain", choices=["on", "off"], default=None,
                    help="watch the writer as a service sampled every second; 'on' also follows "
                         "a number of its lines (numbers) and asks /api/v1/explain every 10 cycles")
    ap.add_argument("--sample-interval", default=None,
                    help='health.sample_interval, such as "1s" (default: the default, 30s)')
    args = ap.parse_args()
    if args.binary.endswith(os.path.join("release", "diagbot")):
        subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "diagbot", "--bin", "diagbot"], cwd=ROOT, check=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    chart = args.chart or args.out + ".svg"

    work = tempfile.mkdtemp(prefix="diagbot-soak-")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    open(os.path.join(logs, "bot.log"), "w").close()
    port = free_port()
    config = os.path.join(work, "diagbot.toml")
    with open(config, "w") as f:
        f.write(f'[logs]\npaths = ["{logs}"]\n[cache]\nttl = "1s"\nbudget = "{BUDGET}"\n'
                f'[refresh]\ninterval = "1s"\n[http]\nlisten = "127.0.0.1:{port}"\n[log]\nlevel = "warn"\n')
        db = os.path.join(work, "history", "diagbot.db")
        f.write(f'[storage]\nenabled = {"true" if args.storage == "on" else "false"}\npath = "{db}"\n')
        if args.sample_interval and not args.telegram and not args.explain:
            f.write(f'[health]\nsample_interval = "{args.sample_interval}"\n')
        if args.explain and not args.telegram:
            f.write(f'[health]\nsample_interval = "1s"\n'
                    f'[[services]]\nname = "soak-writer"\nprocess = {{ pidfile = "{work}/writer.pid" }}\n'
                    f'logs = ["{logs}"]\n')
            with open(os.path.join(work, "writer.pid"), "w") as pidfile:
                pidfile.write(str(os.getpid()))
        if args.explain == "on" and not args.telegram:
            f.write('numbers = [{ template = "heartbeat <num> ok, queue depth <num>", variable = 2 }]\n')
        fake = None
        if args.telegram:
            fake = FakeBotApi()
            fake.start()
            f.write(f'[health]\nsample_interval = "1s"\nerror_burst_lines = 20\nerror_burst_window = "30s"\n'
                    f'[telegram]\ntoken = "{TOKEN}"\napi_url = "http://127.0.0.1:{fake.port}"\n'
                    f'allowed_chats = [{OPERATOR}]\nalert_chats = [{OPERATOR}]\nalert_cooldown = "30s"\n'
                    f'[[services]]\nname = "soak-writer"\nprocess = {{ pidfile = "{work}/writer.pid" }}\n'
                    f'logs = ["{logs}"]\n')
            with open(os.path.join(work, "writer.pid"), "w") as pidfile:
                pidfile.write(str(os.getpid()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIAGBOT_")}
    env.update(dict(kv.split("=", 1) for kv in args.env))
    daemon = subprocess.Popen([args.binary, "serve", "--config", config], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "diagbot.log"), "w"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            get(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    writer, client = Writer(logs), Client(base, args.per_second)
    writer.start()
    client.start()
    rows = []
    started = time.monotonic()
    try:
        for cycle in range(1, args.cycles + 1):
            time.sleep(max(0.0, started + cycle - time.monotonic()))
            if cycle % 50 == 0:
                writer.rotate()
            if fake:
                fake.say(OPERATOR, COMMANDS[cycle % len(COMMANDS)])
                if cycle % 10 == 0:
                    fake.say(STRANGER, "/status")
            if daemon.poll() is not None:
                sys.exit(f"diagbot exited with {daemon.returncode} at cycle {cycle}; see {work}/diagbot.log")
            if args.explain == "on" and cycle % 10 == 0:
                get(base + "/api/v1/explain?service=soak-writer", timeout=60)
            _, body = get(base + "/api/v1/cache")
            answer = json.loads(body)
            cache, tails = answer["cache"], answer["tails"]
            rows.append({"cycle": cycle, "seconds": round(time.monotonic() - started, 2),
                         "rss_mib": rss_bytes(daemon.pid) / 2**20,
                         "anon_mib": rss_bytes(daemon.pid, "RssAnon") / 2**20,
                         "file_mib": rss_bytes(daemon.pid, "RssFile") / 2**20,
                         "cache_entries": cache["entries"], "cache_bytes": cache["bytes"],
                         "cache_mib": cache["bytes"] / 2**20, "tail_queries": tails["queries"],
                         "tail_bytes": tails["bytes"], "requests": client.sent,
                         "telegram_sent": len(fake.sent) if fake else 0,
                         "failed": len(client.failed)})
    finally:
        if fake:
            time.sleep(3)  # for the answers to the last commands
        client.stop.set()
        writer.stop.set()
        client.join(timeout=15)
        cpu = cpu_seconds(daemon.pid) if daemon.poll() is None else float("nan")
        daemon.terminate()
        daemon.wait(timeout=10)

    with open(args.out + ".csv", "w") as f:
        keys = ["cycle", "seconds", "rss_mib", "anon_mib", "file_mib", "cache_entries", "cache_bytes", "tail_queries",
                "tail_bytes", "requests", "failed", "telegram_sent"]
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join(f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + "\n")
    svg_chart(rows, chart)

    print(f"{'simulated time':>14}  {'cycle':>5}  {'cache entries':>13}  {'cache KiB':>9}  {'RSS MiB':>7}  status")
    for r in rows:
        if r["cycle"] in (1, 30) or r["cycle"] % 24 == 0:
            minutes = r["cycle"] * 5
            within = r["cache_bytes"] <= BUDGET
            print(f"{minutes // 60:>8d} h {minutes % 60:02d}m  {r['cycle']:>5}  {r['cache_entries']:>13}  "
                  f"{r['cache_bytes'] / 1024:>9.1f}  {r['rss_mib']:>7.1f}  {'ok' if within else 'OVER BUDGET'}")
    at30 = next(r for r in rows if r["cycle"] == min(30, len(rows)))["rss_mib"]
    last = rows[-1]["rss_mib"]
    peak = max(r["rss_mib"] for r in rows)
    over = [r["cycle"] for r in rows if r["cache_bytes"] > BUDGET]
    bars = [
        (f"RSS at the last cycle {last:.2f} MiB within 10 % of cycle 30's {at30:.2f} MiB ({100 * (last - at30) / at30:+.1f} %)",
         abs(last - at30) <= 0.10 * at30),
        (f"largest RSS {peak:.2f} MiB at most 24 MiB", peak <= 24),
        (f"cache bytes within the {BUDGET >> 20} MiB budget at all {len(rows)} samples", not over),
        (f"no failed request ({client.sent} sent, {len(client.failed)} failed)", not client.failed),
    ]
    if fake:
        answers = fake.sent_to(OPERATOR)
        replies = [t for t in answers if not t.startswith("⚠")]
        alerts = len(answers) - len(replies)
        refusals = fake.sent_to(STRANGER)
        bars.append((f"every command answered ({len(replies)} answers to {args.cycles} commands; "
                     f"{alerts} alerts; {len(refusals)} refusal(s) to {args.cycles // 10} stranger messages)",
                     len(replies) >= args.cycles and len(refusals) == 1))
    print(f"\ndiagbot's CPU time (user + system): {cpu:.2f} s over {len(rows)} cycles, "
          f"{1000 * cpu / max(1, len(rows)):.1f} ms per cycle (refreshes, requests and sampling)")
    print()
    for text, ok in bars:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    for failure in client.failed[:5]:
        print("  failed:", failure)
    if args.storage == "on":
        sizes = {suffix: os.path.getsize(db + suffix) for suffix in ("", "-wal", "-shm")
                 if os.path.exists(db + suffix)}
        total = sum(sizes.values())
        parts = ", ".join(f"{k or 'db'} {v // 1024} KiB" for k, v in sizes.items())
        print(f"history file: {total / 1024:.0f} KiB ({parts}); cap 64 MiB")
    print(f"\nCSV: {args.out}.csv  chart: {chart}  diagbot's log: {args.out}.log")
    shutil.copy(os.path.join(work, "diagbot.log"), args.out + ".log")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(ok for _, ok in bars) else 1)


if __name__ == "__main__":
    main()
