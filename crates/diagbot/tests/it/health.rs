//! `diagbot status` and `diagbot oom` for services, on fixture trees for
//! `/proc` and `/sys` (cgroup v1 and v2) with fake `systemctl` and
//! `journalctl` executables printing recorded output; and the daemon's watch
//! of a unit that systemd restarts again and again.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{Local, TimeZone};
use serde_json::{json, Value};

const MIB: u64 = 1 << 20;

/// The original incident: python3 (pid 908) of crypto-bot.service killed in its
/// cgroup at 10:00:00, restarted by systemd as pid 1207 (restart counter 3).
const KERN_LOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/kern-oom.log"
));

const UNIT: &str = "crypto-bot.service";
const CGROUP: &str = "/system.slice/crypto-bot.service";

pub fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Microseconds since the epoch of 2026-02-27 `h:m:s`, local time (as the kernel log's).
fn at(h: u32, m: u32, s: u32) -> i64 {
    Local
        .with_ymd_and_hms(2026, 2, 27, h, m, s)
        .single()
        .unwrap()
        .timestamp_micros()
}

fn journal_line(usec: i64, message: &str) -> String {
    json!({ "__REALTIME_TIMESTAMP": usec.to_string(), "_PID": "1", "MESSAGE": message }).to_string()
}

/// A process in the fixture `/proc`: RSS in KiB, started `started_secs` after boot.
pub fn process(
    root: &Path,
    pid: u32,
    argv: &[&str],
    rss_kib: u64,
    started_secs: u64,
    cgroup: &str,
) {
    let dir = format!("proc/{pid}");
    write(
        root,
        &format!("{dir}/cmdline"),
        &format!("{}\0", argv.join("\0")),
    );
    write(root, &format!("{dir}/comm"), &format!("{}\n", argv[0]));
    write(
        root,
        &format!("{dir}/status"),
        &format!("Name:\t{}\nVmRSS:\t{rss_kib} kB\n", argv[0]),
    );
    let ticks = rustix_ticks() * started_secs;
    write(
        root,
        &format!("{dir}/stat"),
        &format!(
            "{pid} ({}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 {ticks} 1000000 2000 18446744073709551615\n",
            argv[0]
        ),
    );
    write(root, &format!("{dir}/cgroup"), cgroup);
}

/// Clock ticks per second, as diagbot reads them (100 on Linux).
fn rustix_ticks() -> u64 {
    100
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// The host after the incident: the restarted bot at 150 MiB in a 900 MiB cgroup.
    fn incident() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "proc/meminfo",
            "MemTotal:         961000 kB\nMemFree:  100000 kB\nMemAvailable:     400000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
        );
        write(root, "proc/vmstat", "pgfault 10\noom_kill 1\n");
        write(root, "proc/uptime", "7200.00 7000.00\n");
        write(root, "proc/loadavg", "0.10 0.20 0.30 1/100 1300\n");
        write(root, "proc/mounts", "");
        write(
            root,
            "proc/stat",
            "cpu 1 2 3 4 5 6 7 0 0 0\nbtime 1772182800\n",
        );
        process(
            root,
            1207,
            &["python3", "/opt/bot/bot.py"],
            150 * 1024,
            3600,
            &format!("0::{CGROUP}\n"),
        );
        // The bot's child, in the same cgroup: the service's RSS sums both.
        process(
            root,
            1300,
            &["python3", "-c", "worker"],
            10 * 1024,
            3700,
            &format!("0::{CGROUP}\n"),
        );
        let cg = format!("sys/fs/cgroup{CGROUP}");
        write(
            root,
            &format!("{cg}/memory.current"),
            &(170 * MIB).to_string(),
        );
        write(root, &format!("{cg}/memory.max"), &(900 * MIB).to_string());
        write(
            root,
            &format!("{cg}/memory.events"),
            "low 0\nhigh 0\nmax 40\noom 1\noom_kill 1\noom_group_kill 0\n",
        );
        write(root, &format!("{cg}/cgroup.procs"), "1207\n1300\n");
        write(root, "kern.log", KERN_LOG);
        script(
            &root.join("systemctl"),
            &format!(
                "[ \"$1\" = show ] && [ \"$2\" = {UNIT} ] || {{ echo \"unexpected: $*\" >&2; exit 3; }}\n\
                 cat <<'OUT'\nLoadState=loaded\nActiveState=active\nSubState=running\nMainPID=1207\n\
                 NRestarts=3\nResult=oom-kill\nMemoryCurrent=178257920\nMemoryMax=infinity\n\
                 ControlGroup={CGROUP}\nExecMainStartTimestampMonotonic=3600000000\nOUT\n"
            ),
        );
        let journal = [
            journal_line(
                at(9, 0, 0),
                "crypto-bot.service: Scheduled restart job, restart counter is at 2.",
            ),
            journal_line(at(9, 30, 0), "fetched 12 prices, restart later"),
            journal_line(
                at(10, 0, 0),
                "crypto-bot.service: A process of this unit has been killed by the OOM killer.",
            ),
            journal_line(
                at(10, 0, 0),
                "crypto-bot.service: Main process exited, code=killed, status=9/KILL",
            ),
            journal_line(
                at(10, 0, 1),
                "crypto-bot.service: Failed with result 'oom-kill'.",
            ),
            journal_line(
                at(10, 0, 6),
                "crypto-bot.service: Scheduled restart job, restart counter is at 3.",
            ),
        ]
        .join("\n");
        script(
            &root.join("journalctl"),
            &format!(
                "case \"$1\" in\n  -u) [ \"$2\" = {UNIT} ] || exit 3\ncat <<'OUT'\n{journal}\nOUT\n;;\n  \
                 -k) echo 'No journal files were found.' >&2; exit 1;;\nesac\n"
            ),
        );
        write(
            root,
            "diagbot.toml",
            &format!(
                "[system]\nproc_root = {proc:?}\nsys_root = {sys:?}\nkernel_log = {kern:?}\nkmsg = \"\"\n\
                 systemctl = {systemctl:?}\njournalctl = {journalctl:?}\n\n\
                 [[services]]\nname = \"crypto-bot\"\nunit = {UNIT:?}\nlogs = []\n",
                proc = root.join("proc"),
                sys = root.join("sys"),
                kern = root.join("kern.log"),
                systemctl = root.join("systemctl"),
                journalctl = root.join("journalctl"),
            ),
        );
        Fixture { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The command's table output.
    fn text(&self, args: &[&str], code: i32) -> String {
        let out = Command::cargo_bin("diagbot")
            .unwrap()
            .args(args)
            .arg("--config")
            .arg(self.path("diagbot.toml"))
            .env_remove("DIAGBOT_CONFIG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str], code: i32) -> Value {
        let out = Command::cargo_bin("diagbot")
            .unwrap()
            .args(args)
            .arg("--json")
            .arg("--config")
            .arg(self.path("diagbot.toml"))
            .env_remove("DIAGBOT_CONFIG")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// The original incident end to end: who was killed, when, at what RSS, in
/// which service, and that systemd restarted it (restart 3).
#[test]
fn oom_reports_the_killed_and_restarted_unit() {
    let f = Fixture::incident();
    let v = f.json(&["oom"], 0);
    let kills = v["kills"].as_array().unwrap();
    assert_eq!(kills.len(), 1, "{v:#}");
    let kill = &kills[0];
    assert_eq!(kill["pid"], 908);
    assert_eq!(kill["process"], "python3");
    assert_eq!(kill["rss_bytes"], (562_104 + 3316) * 1024);
    assert_eq!(kill["service"], "crypto-bot");
    assert_eq!(kill["cgroup"], CGROUP);
    assert_eq!(kill["restart_counter"], 3);
    assert_eq!(
        kill["sources"],
        json!(["kernel log", "journal of crypto-bot.service"])
    );
    assert!(kill["time"]
        .as_str()
        .unwrap()
        .starts_with("2026-02-27T10:00:00"));
    assert_eq!(
        v["services"],
        json!([{ "service": "crypto-bot", "cgroup": CGROUP, "oom_kills": 1 }])
    );
    assert_eq!(v["note"], Value::Null);

    // And for people.
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["oom", "--config"])
        .arg(f.path("diagbot.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        regex_line(
            &text,
            &[
                "908",
                "python3",
                "552.2 MiB",
                "crypto-bot",
                "yes, restart 3"
            ]
        ),
        "{text}"
    );
    assert!(
        text.contains("crypto-bot: 1 OOM kill(s) counted by its cgroup"),
        "{text}"
    );
}

/// Whether one line of `text` holds all of `parts` in order.
fn regex_line(text: &str, parts: &[&str]) -> bool {
    text.lines().any(|line| {
        let mut rest = line;
        parts.iter().all(|p| match rest.find(p) {
            Some(i) => {
                rest = &rest[i + p.len()..];
                true
            }
            None => false,
        })
    })
}

/// Without the kernel log, systemd's journal still shows the kill and the
/// restart; the victim is unknown and the note says why no log names it.
#[test]
fn oom_from_the_unit_journal_alone() {
    let f = Fixture::incident();
    let config = fs::read_to_string(f.path("diagbot.toml")).unwrap().replace(
        f.path("kern.log").to_str().unwrap(),
        "/nonexistent/kern.log",
    );
    fs::write(f.path("diagbot.toml"), config).unwrap();
    let v = f.json(&["oom"], 0);
    let kill = &v["kills"][0];
    assert_eq!(kill["pid"], Value::Null);
    assert_eq!(kill["service"], "crypto-bot");
    assert_eq!(kill["restart_counter"], 3);
    assert_eq!(kill["sources"], json!(["journal of crypto-bot.service"]));
    assert_eq!(
        v["kills"].as_array().unwrap().len(),
        1,
        "the two journal lines are one kill"
    );
    let sources: Vec<&str> = v["unavailable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["/nonexistent/kern.log", "journalctl -k"]);
    assert!(
        v["unavailable"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("No journal files were found."),
        "{v:#}"
    );
    // The kernel log is not there: that is said, and no access advice (it
    // used to say "needs group adm" whatever the cause).
    let note = v["note"].as_str().unwrap();
    assert!(
        note.contains("1 OOM kill(s)") && note.contains("/nonexistent/kern.log not found"),
        "{note}"
    );
    assert!(!note.contains("group adm"), "{note}");
}

#[test]
fn status_shows_the_unit_state_rss_limit_restarts_and_result() {
    let f = Fixture::incident();
    let v = f.json(&["status"], 0);
    let s = &v["services"][0];
    assert_eq!(s["name"], "crypto-bot");
    assert_eq!(s["state"], "active");
    assert_eq!(s["sub_state"], "running");
    assert_eq!(s["main_pid"], 1207);
    assert_eq!(s["pids"], json!([1207, 1300]));
    assert_eq!(
        s["rss_bytes"],
        160 * MIB,
        "summed over the cgroup's processes"
    );
    assert_eq!(s["memory_limit_bytes"], 900 * MIB);
    assert_eq!(s["memory_limit_source"], "cgroup");
    let share = s["memory_used_percent"].as_f64().unwrap();
    assert!((share - 100.0 * 160.0 / 900.0).abs() < 0.01, "{share}");
    assert_eq!(s["restarts"], 3);
    assert_eq!(s["last_result"], "oom-kill");
    // Started 3600 s after boot, uptime 7200 s.
    assert_eq!(s["running_secs"], 3600.0);
    assert_eq!(s["cgroup"]["version"], 2);
    assert_eq!(s["cgroup"]["oom_kills"], 1);
    assert_eq!(s["unavailable"], json!([]));
    assert_eq!(
        s["memory_trend"],
        Value::Null,
        "trends need the daemon's samples"
    );
}

/// As on this machine: no systemd. The unit's fields are unavailable, with
/// systemctl's own reason; nothing crashes, nothing reads as zero.
#[test]
fn status_without_systemd_says_why() {
    let f = Fixture::incident();
    // What systemctl prints on a machine not booted with systemd (recorded here).
    script(
        &f.path("systemctl"),
        "echo 'System has not been booted with systemd as init system (PID 1). Can'\"'\"'t operate.' >&2\n\
         echo 'Failed to connect to bus: Host is down' >&2\nexit 1\n",
    );
    let v = f.json(&["status"], 0);
    let s = &v["services"][0];
    assert_eq!(s["state"], Value::Null);
    assert_eq!(s["restarts"], Value::Null);
    assert_eq!(s["rss_bytes"], Value::Null);
    assert_eq!(
        s["unavailable"][0]["source"],
        "systemd (crypto-bot.service)"
    );
    let reason = s["unavailable"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("System has not been booted with systemd"),
        "{reason}"
    );
    // No systemctl at all.
    let config = fs::read_to_string(f.path("diagbot.toml")).unwrap().replace(
        f.path("systemctl").to_str().unwrap(),
        "/nonexistent/systemctl",
    );
    fs::write(f.path("diagbot.toml"), config).unwrap();
    let v = f.json(&["status"], 0);
    let reason = v["services"][0]["unavailable"][0]["reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("cannot run /nonexistent/systemctl"),
        "{reason}"
    );
}

/// A process match on a cgroup v1 host (as this machine is): RSS from /proc,
/// the limit from the v1 memory controller.
#[test]
fn process_match_on_cgroup_v1() {
    let f = Fixture::incident();
    let root = f.dir.path();
    process(
        root,
        4242,
        &["node", "/srv/api/server.js", "--port", "8080"],
        300 * 1024,
        7000,
        "5:memory:/process_api/api\n4:pids:/\n0::/\n",
    );
    process(
        root,
        4300,
        &["node", "/srv/other.js"],
        50 * 1024,
        7000,
        "0::/\n",
    );
    let cg = "sys/fs/cgroup/memory/process_api/api";
    write(
        root,
        &format!("{cg}/memory.usage_in_bytes"),
        &(320 * MIB).to_string(),
    );
    write(
        root,
        &format!("{cg}/memory.limit_in_bytes"),
        &(512 * MIB).to_string(),
    );
    write(
        root,
        &format!("{cg}/memory.oom_control"),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    );
    let config = fs::read_to_string(f.path("diagbot.toml")).unwrap();
    let config = config.replace(
        &format!("[[services]]\nname = \"crypto-bot\"\nunit = {UNIT:?}\nlogs = []\n"),
        "[[services]]\nname = \"api\"\nprocess = { name = \"node\", cmdline = 'server\\.js' }\n",
    );
    fs::write(f.path("diagbot.toml"), config).unwrap();
    let v = f.json(&["status"], 0);
    let s = &v["services"][0];
    assert_eq!(s["name"], "api");
    assert_eq!(s["state"], "running");
    assert_eq!(s["pids"], json!([4242]));
    assert_eq!(s["rss_bytes"], 300 * MIB);
    assert_eq!(s["memory_limit_bytes"], 512 * MIB);
    assert_eq!(s["memory_limit_source"], "cgroup");
    assert_eq!(s["cgroup"]["version"], 1);
    assert_eq!(s["running_secs"], 200.0);
}

/// A match for `bot\.py` also matches another user's `leakybot.py`: the
/// service is the oldest match and its process tree (its worker counts, the
/// other program does not), and status says what it left out.
#[test]
fn a_process_match_counts_one_process_tree_and_names_the_others() {
    let f = Fixture::incident();
    let root = f.dir.path();
    // Not the incident's bot: this host runs the ones below.
    fs::remove_dir_all(f.path("proc/1207")).unwrap();
    process(
        root,
        4242,
        &["python3", "/srv/bot/bot.py"],
        150 * 1024,
        6000,
        "0::/\n",
    );
    process(
        root,
        4250,
        &["python3", "/srv/bot/bot.py", "--worker"],
        40 * 1024,
        6100,
        "0::/\n",
    );
    // The worker is the bot's child.
    let stat = fs::read_to_string(f.path("proc/4250/stat")).unwrap();
    fs::write(
        f.path("proc/4250/stat"),
        stat.replacen(" S 1 ", " S 4242 ", 1),
    )
    .unwrap();
    process(
        root,
        5100,
        &["python3", "/home/eve/leakybot.py"],
        264 * 1024,
        6500,
        "0::/\n",
    );
    let config = fs::read_to_string(f.path("diagbot.toml")).unwrap();
    let config = config.replace(
        &format!("[[services]]\nname = \"crypto-bot\"\nunit = {UNIT:?}\nlogs = []\n"),
        "[[services]]\nname = \"bot\"\nprocess = { cmdline = 'bot\\.py' }\n",
    );
    fs::write(f.path("diagbot.toml"), config).unwrap();
    let v = f.json(&["status"], 0);
    let s = &v["services"][0];
    assert_eq!(s["main_pid"], 4242, "{v}");
    assert_eq!(s["pids"], json!([4242, 4250]));
    assert_eq!(s["rss_bytes"], 190 * MIB);
    assert_eq!(s["other_matches"], json!([5100]));
    let text = f.text(&["status"], 0);
    assert!(
        text.contains("bot: 2 processes (pids 4242, 4250); the process match also found pids 5100 outside pid 4242's process tree: not counted"),
        "{text}"
    );
}

/// `/dev/kmsg` records carry microseconds since boot; with `btime` they are wall times.
#[test]
fn oom_from_kmsg_records() {
    let f = Fixture::incident();
    let kmsg = f.path("kmsg");
    fs::write(
        &kmsg,
        "6,100,3590000000,-;eth0: link up\n\
         4,101,3600000000,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/crypto-bot.service,task=python3,pid=908,uid=1000\n \
         SUBSYSTEM=memory\n\
         3,102,3600000100,-;Out of memory: Killed process 908 (python3) total-vm:1468412kB, anon-rss:562104kB, file-rss:3316kB, shmem-rss:0kB, UID:1000 pgtables:1300kB oom_score_adj:0\n",
    )
    .unwrap();
    let config = fs::read_to_string(f.path("diagbot.toml"))
        .unwrap()
        .replace(f.path("kern.log").to_str().unwrap(), "")
        .replace("kmsg = \"\"", &format!("kmsg = {kmsg:?}"));
    fs::write(f.path("diagbot.toml"), config).unwrap();
    let v = f.json(&["oom"], 0);
    let kill = &v["kills"][0];
    assert_eq!(kill["pid"], 908);
    assert_eq!(kill["constraint"], "CONSTRAINT_NONE");
    assert_eq!(kill["sources"][0], "kernel log (kmsg)");
    // btime 1772182800 + 3600 s.
    let time = chrono::DateTime::parse_from_rfc3339(kill["time"].as_str().unwrap()).unwrap();
    assert_eq!(time.timestamp(), 1_772_182_800 + 3600);
}

/// Writes `text` to `root/rel` through a rename, so that a reader never sees half of it.
fn replace(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    let tmp = p.with_extension("new");
    fs::write(&tmp, text).unwrap();
    fs::rename(tmp, p).unwrap();
}

/// The origin story as systemd tells it, on fixture trees: bot.service grows
/// from 100 MiB past its 300 MiB limit, the kernel kills it (its line in the
/// kernel log, the host's `oom_kill` count up) and systemd restarts it under
/// a new `MainPID` with `NRestarts` up, three times. Each climb is warned
/// about before the kill, each kill named, each restart said with the new
/// PID, and the third death is a restart loop.
#[test]
fn a_unit_restarted_after_each_oom_kill_is_a_restart_loop() {
    use crate::common::{eventually, TestDaemon};
    use diagbot_core::health::Event;
    use std::io::Write;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "proc/meminfo",
        "MemTotal: 961000 kB\nMemFree: 1000 kB\nMemAvailable: 600000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
    );
    write(root, "proc/vmstat", "oom_kill 0\n");
    write(root, "proc/uptime", "7200.00 7000.00\n");
    write(
        root,
        "proc/stat",
        "cpu 1 2 3 4 5 6 7 0 0 0\nbtime 1772182800\n",
    );
    write(root, "kern.log", "");
    fs::create_dir_all(root.join("sys")).unwrap();
    let show = |pid: u32, restarts: u32, result: &str| {
        format!("LoadState=loaded\nActiveState=active\nSubState=running\nMainPID={pid}\nNRestarts={restarts}\nResult={result}\n")
    };
    replace(root, "show.txt", &show(2000, 0, "success"));
    script(
        &root.join("systemctl"),
        &format!("cat {:?}\n", root.join("show.txt")),
    );
    write(
        root,
        "diagbot.toml",
        &format!(
            "[logs]\npaths = [{logs:?}]\n[refresh]\ninterval = \"1h\"\n\
             [system]\nproc_root = {proc:?}\nsys_root = {sys:?}\nkernel_log = {kern:?}\nkmsg = \"\"\n\
             systemctl = {systemctl:?}\njournalctl = \"/nonexistent/journalctl\"\n\
             [health]\nsample_interval = \"100ms\"\ntrend_window = \"60s\"\ntrend_min_span = \"1s\"\noom_horizon = \"1h\"\n\
             restart_loop = 2\nrestart_loop_window = \"10m\"\n\
             [[services]]\nname = \"bot\"\nunit = \"bot.service\"\nmemory_limit = \"300MiB\"\n",
            logs = root.join("kern.log"),
            proc = root.join("proc"),
            sys = root.join("sys"),
            kern = root.join("kern.log"),
            systemctl = root.join("systemctl"),
        ),
    );
    let rss = |pid: u32, mib: u64| {
        replace(
            root,
            &format!("proc/{pid}/status"),
            &format!("Name:\tpython3\nVmRSS:\t{} kB\n", mib * 1024),
        );
    };
    process(
        root,
        2000,
        &["python3", "/opt/bot/bot.py"],
        100 * 1024,
        3600,
        "0::/\n",
    );
    let d = TestDaemon::start(&root.join("diagbot.toml"));
    let mut events = d.state.events.subscribe();
    let mut seen: Vec<Event> = Vec::new();
    let mut wait_for = |seen: &mut Vec<Event>, what: &str, found: &dyn Fn(&Event) -> bool| {
        eventually(what, Duration::from_secs(20), || {
            while let Ok(e) = events.try_recv() {
                seen.push(e);
            }
            if seen.iter().any(found) {
                Ok(())
            } else {
                Err(seen.clone())
            }
        });
    };
    // diagbot's first sample is the baseline.
    eventually("the first sample", Duration::from_secs(20), || {
        !d.json("/api/v1/status")["services"][0]["memory_trend"].is_null()
    });
    for round in 0..3u32 {
        let pid = 2000 + round;
        // The climb: 4 MiB every 50 ms from 100 MiB to the limit.
        for mib in (100..=300).step_by(4) {
            rss(pid, mib);
            // A sleep: the climb is a rate over time, read by samples every 100 ms.
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_for(
            &mut seen,
            "warning",
            &|e| matches!(e, Event::ProjectedOom { service: Some(s), .. } if s == "bot"),
        );
        // The kill, as the kernel logs it and counts it ...
        let now = Local::now().format("%b %e %H:%M:%S");
        let mut kern = fs::OpenOptions::new()
            .append(true)
            .open(root.join("kern.log"))
            .unwrap();
        writeln!(kern, "{now} vps kernel: Out of memory: Killed process {pid} (python3) total-vm:900000kB, anon-rss:307200kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:900kB oom_score_adj:0").unwrap();
        replace(root, "proc/vmstat", &format!("oom_kill {}\n", round + 1));
        // ... and systemd's restart under a new PID.
        process(
            root,
            pid + 1,
            &["python3", "/opt/bot/bot.py"],
            100 * 1024,
            3700 + 100 * u64::from(round),
            "0::/\n",
        );
        replace(root, "show.txt", &show(pid + 1, round + 1, "oom-kill"));
        fs::remove_dir_all(root.join(format!("proc/{pid}"))).unwrap();
        wait_for(
            &mut seen,
            "kill",
            &|e| matches!(e, Event::OomKill { service: Some(s), victim: Some(v), .. } if s == "bot" && v.pid == Some(pid)),
        );
        wait_for(
            &mut seen,
            "restart",
            &|e| matches!(e, Event::Restart { pid: Some(p), .. } if *p == pid + 1),
        );
        let kinds: Vec<&str> = seen.iter().map(Event::kind).collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "projected_oom").count(),
            1,
            "one warning per climb: {seen:#?}"
        );
        assert!(
            !kinds.contains(&"exited") && !kinds.contains(&"started"),
            "one event per fact: {seen:#?}"
        );
        if round < 2 {
            assert!(!kinds.contains(&"restart_loop"), "{seen:#?}");
            seen.clear();
        }
    }
    wait_for(&mut seen, "restart loop", &|e| {
        matches!(e, Event::RestartLoop { deaths: 3, .. })
    });
    let status = d.json("/api/v1/status");
    let found = &status["services"][0]["memory_trend"]["restart_loop"];
    let text = found["text"].as_str().unwrap();
    assert!(
        text.starts_with("killed 3 times in ")
            && text.ends_with("(OOM kill each time; pids 2000, 2001, 2002)")
            && text.contains("each time after climbing ~"),
        "{text}"
    );
    assert_eq!(found["oom_kills"], 3);
}
