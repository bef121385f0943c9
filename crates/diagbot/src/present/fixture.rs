//! A status and an OOM report with every part filled (and text that needs
//! escaping), for the renderers' tests.

use diagbot_core::probe::oom::OomReport;
use diagbot_core::probe::Status;

/// A host with swap, two disks, a trend and an unavailable source; a unit
/// that is active, a process match that is not running and in a restart
/// loop, and a service nothing is known of.
pub fn status() -> Status {
    let trend = |text: &str, restart_loop: Option<&str>| {
        serde_json::json!({
            "trend": { "verdict": "climbing", "bytes_per_sec": 111848.0, "limit_in_secs": 3120.0 },
            "samples": 20, "span_secs": 600.0, "limit_bytes": 559939584u64,
            "latest_bytes": 227540992u64, "instance": null,
            "restart_loop": restart_loop.map(|t| serde_json::json!({
                "deaths": 4, "oom_kills": 4, "over_secs": 10800.0,
                "climb_bytes_per_sec": 111848.0, "text": t
            })),
            "text": text
        })
    };
    serde_json::from_value(serde_json::json!({
        "host": {
            "memory": { "total_bytes": 1007681536u64, "available_bytes": 409600000u64, "used_bytes": 598081536u64 },
            "swap": { "total_bytes": 536870912u64, "free_bytes": 268435456u64, "used_bytes": 268435456u64 },
            "load": [1.5, 0.75, 0.25],
            "cpu_percent": 12.4,
            "uptime_secs": 90061.0,
            "disks": [
                { "mount": "/", "device": "/dev/vda1", "total_bytes": 26843545600u64, "available_bytes": 10737418240u64, "used_percent": 59.6 },
                { "mount": "/srv/<data>", "device": "/dev/vdb", "total_bytes": 1073741824u64, "available_bytes": 1024u64, "used_percent": 99.9 }
            ],
            "unavailable": [ { "source": "disk /mnt/x", "reason": "Permission denied (os error 13)" } ]
        },
        "host_memory_trend": trend("+0.2 MiB/min over 60 min", None),
        "services": [
            {
                "name": "crypto-bot", "unit": "crypto-bot.service", "state": "active", "sub_state": "running",
                "main_pid": 1207, "main_start_ticks": 360000, "pids": [1207, 1300],
                "rss_bytes": 167772160u64, "memory_limit_bytes": 943718400u64, "memory_limit_source": "cgroup",
                "memory_used_percent": 17.78, "restarts": 3, "last_result": "oom-kill", "running_secs": 3600.0,
                "cgroup": null,
                "memory_trend": trend("+6.4 MiB/min over 10 min, limit 534 MiB reached in about 52 min", None),
                "unavailable": []
            },
            {
                "name": "<worker & co>", "unit": null, "state": "not running", "sub_state": null,
                "main_pid": null, "main_start_ticks": null, "pids": [],
                "rss_bytes": null, "memory_limit_bytes": 1007681536u64, "memory_limit_source": "host memory",
                "memory_used_percent": null, "restarts": null, "last_result": null, "running_secs": null,
                "cgroup": null,
                "memory_trend": trend(
                    "not running since 14:01 (last instance climbed +6.4 MiB/min)",
                    Some("killed 4 times in 3 h, each time after climbing ~6.4 MiB/min from ~143 MiB to ~521 MiB (OOM kill each time; pids 908, 1207, 1302, 1400)")
                ),
                "unavailable": [ { "source": "process match", "reason": "cannot list /proc: <denied>" } ]
            },
            {
                "name": "web", "unit": "web.service", "state": "failed", "sub_state": "failed",
                "main_pid": null, "main_start_ticks": null, "pids": [],
                "rss_bytes": 5000u64, "memory_limit_bytes": null, "memory_limit_source": null,
                "memory_used_percent": null, "restarts": 0, "last_result": "success", "running_secs": 42.0,
                "cgroup": null, "memory_trend": null, "unavailable": []
            },
            {
                "name": "ghost", "unit": "ghost.service", "state": null, "sub_state": null,
                "main_pid": null, "main_start_ticks": null, "pids": [],
                "rss_bytes": null, "memory_limit_bytes": null, "memory_limit_source": null,
                "memory_used_percent": null, "restarts": null, "last_result": null, "running_secs": null,
                "cgroup": null, "memory_trend": null,
                "unavailable": [ { "source": "systemd (ghost.service)", "reason": "systemctl show failed (exit status: 1): System has not been booted with systemd" } ]
            }
        ],
        "diagbot": {
            "rss_bytes": 9437184u64, "open_fds": 12,
            "cache": {
                "hits": 10, "misses": 3, "loads": 3, "load_errors": 0, "load_seconds_total": 0.5,
                "evictions_expired": 1, "evictions_size": 0, "evictions_explicit": 0, "replaced": 0,
                "entries": 2, "bytes": 20480u64, "budget_bytes": 67108864u64, "ttl_seconds": 300
            }
        }
    }))
    .expect("the fixture is a status")
}

/// The host without swap, trend, cache or services.
pub fn bare_status() -> Status {
    let mut status = status();
    status.host.swap = Some(diagbot_core::probe::host::Swap {
        total_bytes: 0,
        free_bytes: 0,
        used_bytes: 0,
    });
    status.host.disks.clear();
    status.host.unavailable.clear();
    status.host_memory_trend = None;
    status.services.clear();
    status.diagbot.cache = None;
    status
}

/// Two kills, one named by the kernel log and restarted, one only in a journal.
pub fn oom_report() -> OomReport {
    serde_json::from_value(serde_json::json!({
        "kills": [
            {
                "time": "2026-02-27T10:00:00+01:00", "pid": 908, "process": "python3",
                "rss_bytes": 579014656u64, "total_vm_bytes": 1503653888u64,
                "cgroup": "/system.slice/crypto-bot.service", "constraint": "CONSTRAINT_MEMCG",
                "service": "crypto-bot", "restart_counter": 3,
                "sources": ["kernel log", "journal of crypto-bot.service"]
            },
            {
                "time": null, "pid": null, "process": null, "rss_bytes": null, "total_vm_bytes": null,
                "cgroup": null, "constraint": null, "service": null, "restart_counter": null,
                "sources": ["journal of <x>.service"]
            }
        ],
        "kills_since_boot": 3,
        "services": [ { "service": "crypto-bot", "cgroup": "/system.slice/crypto-bot.service", "oom_kills": 1 } ],
        "unavailable": [ { "source": "journalctl -k", "reason": "cannot run journalctl: No such file or directory (os error 2)" } ],
        "note": "the kernel counted 1 OOM kill(s) since boot whose victim diagbot cannot name: <see>",
        "kernel_log": "/var/log/kern.log"
    }))
    .expect("the fixture is an OOM report")
}
