#!/usr/bin/env bash
# diagbot's journal search against journalctl, side by side, on one
# generated journal.
#
#   bench/journal.sh                 # 300,000 entries, 7 rounds
#   bench/journal.sh 30000           # a quick run
#   ROUNDS=9 bench/journal.sh
#   KEEP=1 bench/journal.sh          # keep the temporary directory (it is named)
#   DIAGBOT=/path/to/diagbot bench/journal.sh    # that binary, no build
#
# Writes ENTRIES journal entries of five services (nginx access and error
# lines, Python logging lines, tracebacks as multi-line MESSAGEs, PostgreSQL
# lines; priorities mixed) in export format, and turns them into journal
# files with systemd-journal-remote (it rotates its output after about
# 175,000 such entries, so 300,000 make two files; both are read), under a
# temporary directory in /tmp that is removed at the end. Then, for a rare
# literal, a common literal and a case-insensitive pattern over the whole
# journal, and the case-insensitive one within one unit:
#   - checks that `diagbot grep P --journal --count` gives the number of
#     entries `journalctl -g P -o json` prints (the script stops if not);
#   - times diagbot against journalctl's default output, `-o cat`, `-o
#     export`, and the very command diagbot runs (its `-o export` with
#     `--output-fields`), runs alternating, medians;
#   - samples the peak RSS (VmHWM) of diagbot and of its journalctl child.
# And the same for `diagbot errors --journal` against `journalctl -p 3`.
#
# Needs journalctl and systemd-journal-remote (apt-get install
# systemd-journal-remote; DIAGBOT_JOURNAL_REMOTE names another path) and
# GNU time (apt-get install time). Prints markdown for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${1:-300000}
ROUNDS=${ROUNDS:-7}
REMOTE=${DIAGBOT_JOURNAL_REMOTE:-/lib/systemd/systemd-journal-remote}

for tool in journalctl python3 /usr/bin/time "$REMOTE"; do
  command -v "$tool" >/dev/null || {
    echo "bench/journal.sh: $tool is missing (apt-get install systemd-journal-remote time)" >&2
    exit 2
  }
done
if [ -z "${DIAGBOT:-}" ]; then
  cargo build --quiet --release -p diagbot --bin diagbot
  DIAGBOT=$PWD/target/release/diagbot
fi

TMP=$(mktemp -d /tmp/diagbot-journal-bench.XXXXXX)
if [ -n "${KEEP:-}" ]; then
  echo "keeping $TMP" >&2
else
  trap 'rm -rf "$TMP"' EXIT
fi
mkdir "$TMP/journal" "$TMP/nologs"
cat >"$TMP/diagbot.toml" <<EOF
[logs]
paths = ["$TMP/nologs"]

[journal]
directory = "$TMP/journal"
EOF

# The entries, in export format, into systemd-journal-remote.
python3 - "$ENTRIES" <<'PY' | "$REMOTE" --split-mode=none --output="$TMP/journal/bench.journal" - >"$TMP/remote.err" 2>&1 || { cat "$TMP/remote.err" >&2; exit 1; }
import random
import struct
import sys

n = int(sys.argv[1])
rng = random.Random(20261130)
out = sys.stdout.buffer
boot = b"5f0c2a9e8d7b4c1fa3e6b2d9c8f70a14"
machine = b"8c1d6e2f4a3b5c7d9e0f1a2b3c4d5e6f"
t0 = 1_767_571_200_000_000  # 2026-01-05T00:00:00Z in µs
mono0 = 86_400_000_000  # a day after boot

units = {
    # unit: (weight, comm, exe, cmdline, pid, uid)
    "nginx.service": (0.35, "nginx", "/usr/sbin/nginx", "nginx: worker process", 912, 33),
    "api.service": (0.30, "gunicorn", "/usr/bin/python3.11",
                    "/opt/api/venv/bin/python /opt/api/venv/bin/gunicorn app.wsgi -w 4", 1204, 1001),
    "worker.service": (0.15, "celery", "/usr/bin/python3.11",
                       "/opt/api/venv/bin/python -m celery -A app worker -c 2", 1311, 1001),
    "crypto-bot.service": (0.12, "python3", "/usr/bin/python3.11", "/opt/bot/venv/bin/python -m bot", 1450, 1002),
    "postgresql.service": (0.08, "postgres", "/usr/lib/postgresql/15/bin/postgres",
                           "postgres: 15/main: app app 127.0.0.1(51234) idle", 1588, 110),
}
names = list(units)
weights = [units[u][0] for u in names]
invocation = {u: ("%032x" % rng.getrandbits(128)).encode() for u in names}
stream = {u: ("%032x" % rng.getrandbits(128)).encode() for u in names}
ips = ["10.0.3.%d" % i for i in range(2, 60)] + ["203.0.113.%d" % i for i in range(1, 40)]
agents = ['"python-requests/2.31.0"', '"Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"',
          '"curl/7.88.1"', '"Prometheus/2.45.0"', '"okhttp/4.12.0"']
paths = ["/api/v1/orders", "/api/v1/orders/%d", "/api/v1/users/%d", "/api/v1/prices?symbol=BTCUSDT",
         "/static/app.%x.js", "/healthz", "/metrics", "/api/v1/auth/refresh", "/login"]
path_w = [0.18, 0.12, 0.14, 0.12, 0.08, 0.12, 0.08, 0.08, 0.08]  # /api/v1/orders: 30 % of nginx lines
modules = ["app.views", "app.db", "app.auth", "app.cache", "app.payments"]
TRACE_TAILS = [
    ("requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.exchange.example', port=443): "
     "Read timed out. (read timeout=30)"),
    "ConnectionResetError: [Errno 104] Connection reset by peer",
    "KeyError: 'price'",
    "asyncio.exceptions.TimeoutError",
    "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
]


def stamp(us):
    s, frac = divmod(us, 1_000_000)
    import time
    tm = time.gmtime(s)
    return tm, frac


def pylog(us, level, module, text):
    tm, frac = stamp(us)
    return "%04d-%02d-%02d %02d:%02d:%02d,%03d %s [%s] %s" % (
        tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac // 1000, level, module, text)


def traceback(where, tail):
    return "\n".join([
        "Traceback (most recent call last):",
        '  File "/opt/%s/venv/lib/python3.11/site-packages/%s/core.py", line %d, in run' % (where, where, rng.randint(20, 400)),
        "    result = self.step(ctx)",
        '  File "/opt/%s/%s/exchange.py", line %d, in fetch' % (where, where, rng.randint(20, 400)),
        "    resp = self.session.get(url, timeout=30)",
        tail,
    ])


LEVEL_PRIORITY = {"DEBUG": 7, "INFO": 6, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}


def message(unit, us):
    """(priority, text) of one entry of `unit` at `us`."""
    r = rng.random()
    if unit == "nginx.service":
        if r < 0.003:
            return 3, ("%s [error] 912#912: *%d connect() failed (111: Connection refused) while connecting "
                       "to upstream, client: %s, server: api.example, request: \"GET /api/v1/prices HTTP/1.1\", "
                       "upstream: \"http://127.0.0.1:8000/api/v1/prices\"") % (
                time_nginx(us), rng.randint(1, 10**6), rng.choice(ips))
        if r < 0.006:
            return 3, ("%s [error] 912#912: *%d upstream timed out (110: Connection timed out) while reading "
                       "response header from upstream, client: %s") % (time_nginx(us), rng.randint(1, 10**6), rng.choice(ips))
        path = rng.choices(paths, path_w)[0]
        if "%d" in path:
            path = path % rng.randint(1, 99999)
        elif "%x" in path:
            path = path % rng.getrandbits(32)
        method = "POST" if path.endswith(("orders", "refresh", "login")) and rng.random() < 0.5 else "GET"
        status = rng.choices([200, 201, 304, 404, 499, 502], [0.86, 0.04, 0.04, 0.04, 0.01, 0.01])[0]
        tm, _ = stamp(us)
        return (6 if status < 500 else 4), '%s - - [%02d/Jan/%04d:%02d:%02d:%02d +0000] "%s %s HTTP/1.1" %d %d "-" %s' % (
            rng.choice(ips), tm.tm_mday, tm.tm_year, tm.tm_hour, tm.tm_min, tm.tm_sec, method, path, status,
            rng.randint(0, 40000), rng.choice(agents))
    if unit == "api.service":
        module = rng.choice(modules)
        if r < 0.002:
            return 3, pylog(us, "ERROR", "app.db", "could not connect to server: connection refused "
                            "(is the server running on host \"127.0.0.1\" and accepting TCP/IP connections on port 5432?)")
        if r < 0.006:
            return 3, pylog(us, "ERROR", module, "request failed: GET /orders/%d\n%s" % (
                rng.randint(1, 99999), traceback("api", rng.choice(TRACE_TAILS))))
        if r < 0.03:
            return 4, pylog(us, "WARNING", module, "slow query: %d ms for user %d" % (rng.randint(500, 5000), rng.randint(1, 9999)))
        if r < 0.25:
            return 7, pylog(us, "DEBUG", module, "cache %s for key user:%d" % (rng.choice(["hit", "miss"]), rng.randint(1, 9999)))
        return 6, pylog(us, "INFO", module, "%s order %d for user %d in %d ms" % (
            rng.choice(["created", "listed", "updated", "fetched"]), rng.randint(1, 99999), rng.randint(1, 9999), rng.randint(2, 400)))
    if unit == "worker.service":
        job = rng.randint(10**5, 10**6)
        if r < 0.0027:
            return 3, pylog(us, "ERROR", "celery.worker", "Error 111 connecting to 127.0.0.1:6379. connection refused.")
        if r < 0.02:
            return 3, pylog(us, "ERROR", "app.tasks", "job %d (send_invoice) failed: timeout after 30s" % job)
        if r < 0.06:
            return 4, pylog(us, "WARNING", "app.tasks", "job %d (send_invoice) retry %d of 5 in 10s" % (job, rng.randint(1, 5)))
        return 6, pylog(us, "INFO", "celery.worker", "Task app.tasks.%s[%08x-%04x] succeeded in %.3fs: None" % (
            rng.choice(["send_invoice", "sync_prices", "cleanup"]), rng.getrandbits(32), rng.getrandbits(16), rng.random() * 3))
    if unit == "crypto-bot.service":
        if r < 0.01:
            return 3, pylog(us, "ERROR", "bot.exchange", "fetch_ticker BTCUSDT failed\n" + traceback("bot", rng.choice(TRACE_TAILS)))
        if r < 0.002 + 0.01:
            return 2, pylog(us, "CRITICAL", "bot.main", "MemoryError while building the order book")
        if r < 0.06:
            return 4, pylog(us, "WARNING", "bot.exchange", "rate limited (429), sleeping %ds" % rng.randint(1, 10))
        return 6, pylog(us, "INFO", "bot.strategy", "%s signal=%s price=%.2f position=%.4f" % (
            rng.choice(["BTCUSDT", "ETHUSDT", "SOLUSDT"]), rng.choice(["hold", "buy", "sell"]),
            rng.uniform(20000, 70000), rng.random()))
    # postgresql.service
    if r < 0.01:
        return 3, "ERROR:  duplicate key value violates unique constraint \"orders_pkey\""
    if r < 0.015:
        return 2, "FATAL:  terminating connection due to idle-in-transaction timeout"
    if r < 0.2:
        return 6, "LOG:  checkpoint complete: wrote %d buffers (%.1f%%); 0 WAL file(s) added, 0 removed, %d recycled" % (
            rng.randint(10, 4000), rng.random() * 10, rng.randint(0, 3))
    return 6, "LOG:  duration: %.3f ms  statement: SELECT * FROM orders WHERE user_id = %d" % (
        rng.uniform(0.1, 900), rng.randint(1, 9999))


def time_nginx(us):
    tm, _ = stamp(us)
    return "%04d/%02d/%02d %02d:%02d:%02d" % (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)


def field(name, value):
    if isinstance(value, str):
        value = value.encode()
    if any(b < 0x20 and b != 0x09 for b in value):
        return name + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
    return name + b"=" + value + b"\n"


us = t0
buf = []
for i in range(n):
    us += rng.randint(1, 1_000_000)
    unit = rng.choices(names, weights)[0]
    _, comm, exe, cmdline, pid, uid = units[unit]
    priority, text = message(unit, us)
    ident = unit.split(".")[0]
    buf.append(b"".join([
        field(b"__REALTIME_TIMESTAMP", str(us)),
        field(b"__MONOTONIC_TIMESTAMP", str(us - t0 + mono0)),
        field(b"_BOOT_ID", boot),
        field(b"_MACHINE_ID", machine),
        field(b"_HOSTNAME", "vps"),
        field(b"_TRANSPORT", "stdout"),
        field(b"PRIORITY", str(priority)),
        field(b"SYSLOG_FACILITY", "3"),
        field(b"SYSLOG_IDENTIFIER", ident),
        field(b"_PID", str(pid)),
        field(b"_UID", str(uid)),
        field(b"_GID", str(uid)),
        field(b"_COMM", comm),
        field(b"_EXE", exe),
        field(b"_CMDLINE", cmdline),
        field(b"_CAP_EFFECTIVE", "0"),
        field(b"_SYSTEMD_CGROUP", "/system.slice/" + unit),
        field(b"_SYSTEMD_UNIT", unit),
        field(b"_SYSTEMD_SLICE", "system.slice"),
        field(b"_SYSTEMD_INVOCATION_ID", invocation[unit]),
        field(b"_STREAM_ID", stream[unit]),
        field(b"MESSAGE", text),
        b"\n",
    ]))
    if len(buf) >= 2000:
        out.write(b"".join(buf))
        buf.clear()
out.write(b"".join(buf))
PY

python3 - "$DIAGBOT" "$TMP" "$ENTRIES" "$ROUNDS" <<'PY'
import os
import statistics
import subprocess
import sys
import threading
import time

diagbot, tmp, entries, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
jdir = os.path.join(tmp, "journal")
cfg = os.path.join(tmp, "diagbot.toml")
J = ["journalctl", "--no-pager", "--directory=" + jdir]
D = [diagbot]
# What diagbot asks journalctl for (crates/diagbot-core/src/journal.rs, `Journal::args`).
D_FIELDS = "--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,_SOURCE_REALTIME_TIMESTAMP"


def run(cmd, out=subprocess.DEVNULL):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, check=True)


def count_json(cmd):
    """Entries journalctl prints with -o json: one line each."""
    p = subprocess.Popen(cmd + ["-o", "json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    n = sum(1 for _ in p.stdout)
    if p.wait() not in (0, 1):  # 1: no entry matched
        sys.exit("journalctl failed: %s" % cmd)
    return n


def timed(cmd):
    """Wall ms and user+sys CPU ms (the process and its children)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1000
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        sys.exit("failed (%d): %s" % (p.returncode, " ".join(cmd)))
    return wall, (ru.ru_utime + ru.ru_stime) * 1000


def race(cmds):
    """Runs each command of `cmds` in turn, `rounds` times; median wall and CPU ms of each."""
    for cmd in cmds:  # one untimed run each: the journal file in the page cache
        timed(cmd)
    walls = [[] for _ in cmds]
    cpus = [[] for _ in cmds]
    for _ in range(rounds):
        for i, cmd in enumerate(cmds):
            w, c = timed(cmd)
            walls[i].append(w)
            cpus[i].append(c)
    return [(statistics.median(w), statistics.median(c), min(w), max(w)) for w, c in zip(walls, cpus)]


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def children(pid):
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def peak_rss(cmd):
    """Peak VmHWM and largest RssAnon sample of the process and of its
    children, sampled every 2 ms until it exits (KiB), and GNU time's
    maximum resident set of the same command (another run)."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    top = anon = kid = kid_anon = 0
    while p.poll() is None:
        top = max(top, status_kib(p.pid, "VmHWM") or 0)
        anon = max(anon, status_kib(p.pid, "RssAnon") or 0)
        for c in children(p.pid):
            kid = max(kid, status_kib(c, "VmHWM") or 0)
            kid_anon = max(kid_anon, status_kib(c, "RssAnon") or 0)
        time.sleep(0.002)
    gt = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return top, anon, kid, kid_anon, int(gt.stderr.strip().splitlines()[-1])


def pcre_literal(text):
    """A literal in PCRE2 (crates/diagbot-core/src/journal.rs, `pcre_literal`)."""
    return "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in text)


def prefilter(dargs):
    """The --grep diagbot gives journalctl for an ASCII literal, with case
    (crates/diagbot-core/src/engine/journal.rs, `literal_prefilter`): with -i,
    each letter spelled with its cases, k and s with their third."""
    if "-i" not in dargs:
        return pcre_literal(dargs[-1])
    out = []
    for c in dargs[-1]:
        l = c.lower() if c.isascii() else c
        if l == "k":
            out.append("(?:k|K|\u212a)")
        elif l == "s":
            out.append("(?:s|S|\u017f)")
        elif l.isascii() and l.isalpha():
            out.append("[%s%s]" % (l, l.upper()))
        else:
            out.append(pcre_literal(c))
    return "".join(out)


def mib(kib):
    return "%.1f MiB" % (kib / 1024)


size = sum(os.path.getsize(os.path.join(jdir, f)) for f in os.listdir(jdir))
files = sorted(os.listdir(jdir))
total = count_json(J)
if total != entries:
    sys.exit("the journal holds %d entries, not %d" % (total, entries))
version = run(["journalctl", "--version"], subprocess.PIPE).stdout.decode().splitlines()[0]
print("Journal: %d entries in %d file(s) (%s), %.1f MiB; %s; %d cores; %d rounds, runs alternating, medians"
      % (total, len(files), ", ".join(files), size / 2**20, version, os.cpu_count(), rounds))
print()

patterns = [
    # name, diagbot's pattern, journalctl's, diagbot's source, journalctl's
    ("rare literal", ["connection refused"], ["--case-sensitive=true", "-g", "connection refused"], ["--journal"], []),
    ("common literal", ["/api/v1/orders"], ["--case-sensitive=true", "-g", "/api/v1/orders"], ["--journal"], []),
    ("case-insensitive", ["-i", "timeout"], ["--case-sensitive=false", "-g", "timeout"], ["--journal"], []),
    ("case-insensitive, one unit (12 % of entries)", ["-i", "timeout"], ["--case-sensitive=false", "-g", "timeout"],
     ["--unit", "crypto-bot"], ["--unit=crypto-bot.service"]),
]
rows = []
rss = []
commands = []
for name, dargs, jargs, dsrc, jsrc in patterns:
    dcmd = D + ["grep"] + dargs + dsrc + ["--count", "--config", cfg]
    jcmd = J + jsrc + jargs
    got = int(run(dcmd, subprocess.PIPE).stdout.decode().split()[0])
    want = count_json(jcmd)
    if got != want:
        sys.exit("count mismatch for %s: diagbot %d, journalctl -o json %d\n  %s\n  %s"
                 % (dargs, got, want, " ".join(dcmd), " ".join(jcmd + ["-o", "json"])))
    # The journalctl command diagbot runs for this pattern: a literal goes to --grep.
    own = J + ["--all", "--output=export", D_FIELDS] + jsrc + ["--case-sensitive=true", "--grep=" + prefilter(dargs)]
    res = race([dcmd, jcmd, jcmd + ["-o", "cat"], jcmd + ["-o", "export"], own])
    label = " ".join(dargs + dsrc)
    rows.append((name, label, got, want, res))
    commands.append((dcmd, jcmd, own))
    rss.append(("diagbot grep %s --count" % label, peak_rss(dcmd)))

print("| pattern | count (diagbot = journalctl) | % of entries | diagbot ms | journalctl ms | `-o cat` ms | `-o export` ms | diagbot's own journalctl ms | diagbot / journalctl | / `-o cat` | / `-o export` | / its own journalctl |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for name, pat, got, want, res in rows:
    d, j, c, e, o = (r[0] for r in res)
    print("| %s: `%s` | %d | %.2f %% | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |" % (
        name, pat, got, 100 * got / total, d, j, c, e, o, d / j, d / c, d / e, d / o))
print()
def show(cmd):
    return " ".join(("'%s'" % a if " " in a else a) for a in cmd).replace(tmp, "$TMP").replace(diagbot, "diagbot")


print("The commands of each row (journalctl's default output, then the same with `-o cat` or `-o export` added):")
print()
for dcmd, jcmd, own in commands:
    print("    " + show(dcmd))
    print("    " + show(jcmd))
    print("    " + show(own) + "    # diagbot's own")
print()
print("CPU, user + system, process and children, medians ms:")
print()
for name, pat, got, want, res in rows:
    print("- `%s`: diagbot %.0f, journalctl %.0f, `-o cat` %.0f, `-o export` %.0f, diagbot's own journalctl %.0f"
          % ((pat,) + tuple(r[1] for r in res)))
print()
print("Spread of wall ms (min-max): ")
print()
for name, pat, got, want, res in rows:
    print("- `%s`: " % pat + ", ".join("%.0f-%.0f" % (r[2], r[3]) for r in res))
print()

# errors: every entry of the journal through export format.
ecmd = D + ["errors", "--journal", "--config", cfg]
res = race([ecmd, J + ["-p", "3", "-o", "export"], J + ["-o", "export"],
            J + ["--all", "--output=export", D_FIELDS]])
print("| command | wall ms | CPU ms | / diagbot |")
print("|---|---|---|---|")
labels = ["`diagbot errors --journal`", "`journalctl -p 3 -o export`", "`journalctl -o export`",
          "`journalctl --all -o export --output-fields=…` (what diagbot runs)"]
for label, r in zip(labels, res):
    print("| %s | %.0f | %.0f | %.2f |" % (label, r[0], r[1], r[0] / res[0][0]))
print()
rss.append(("diagbot errors --journal", peak_rss(ecmd)))

print("Peak RSS: VmHWM of each process, and the largest RssAnon seen, sampled every 2 ms; GNU time's %M")
print("is the larger of diagbot's and its reaped child's (wait4 reports both); journalctl maps the journal")
print("files, whose pages count in its RSS.")
print()
print("| command | diagbot (anonymous) | its journalctl child (anonymous) | GNU time %M |")
print("|---|---|---|---|")
for cmd, (top, anon, kid, kid_anon, gt) in rss:
    print("| `%s` | %s (%s) | %s (%s) | %s |" % (cmd, mib(top), mib(anon), mib(kid), mib(kid_anon), mib(gt)))
PY
