#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::{Path, PathBuf};
use std::time::Duration;

use diagbot_core::config::parse_size;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load_text(text: &str) -> Result<DaemonSettings, ConfigError> {
    load_str(text, "diagbot.toml", &env(&[]))
}

/// What `config check` prints, read back.
fn round_trip(s: &DaemonSettings) -> DaemonSettings {
    let written = s.to_toml();
    load_str(&written, "written.toml", &env(&[]))
        .unwrap_or_else(|e| panic!("config check's output does not load: {e}\n{written}"))
}

#[test]
fn defaults_without_a_file() {
    let s = load_text("").unwrap();
    assert_eq!(s.core.log_paths, [PathBuf::from("/var/log")]);
    assert_eq!(s.core.cache.ttl, Duration::from_secs(300));
    assert_eq!(s.core.cache.budget_bytes, 8 << 20);
    assert_eq!(s.core.cache.warn_entries, 20);
    assert_eq!(s.core.refresh_interval, Duration::from_secs(300));
    assert_eq!(s.core.refresh.len(), 5);
    assert_eq!(
        s.http.listen.to_string(),
        format!("127.0.0.1:{DEFAULT_PORT}")
    );
    assert!(s.http.token.is_empty());
    assert_eq!(s, DaemonSettings::default());
}

#[test]
fn the_example_loads_to_the_defaults_and_round_trips() {
    let example = load_text(EXAMPLE).unwrap();
    assert_eq!(example, load_text("").unwrap());
    assert_eq!(round_trip(&example), example);
}

/// The example's commented `[[formats]]`, taken in, is a format that loads.
#[test]
fn the_example_format_loads_when_uncommented() {
    let (before, format) = EXAMPLE.split_once("# [[formats]]").unwrap();
    let uncommented: String = format!("# [[formats]]{format}")
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
        .collect();
    let s = load_text(&format!("{before}{uncommented}")).unwrap();
    assert_eq!(s.core.formats.len(), 1);
    assert_eq!(s.core.formats[0].name, "shop");
    assert!(s.core.formats[0].regex.is_some());
}

/// Every section set away from its default: `config check` prints what loads
/// back to equal settings (secrets read from files are written as the files).
#[test]
fn a_file_with_every_section_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let api_token = dir.path().join("api-token");
    std::fs::write(&api_token, "hunter2\n").unwrap();
    let bot_token = dir.path().join("bot-token");
    std::fs::write(&bot_token, "123456:AAbb-cc_dd\n").unwrap();
    let text = format!(
        "[logs]\npaths = [\"/tmp/a\", \"/tmp/b\"]\n\
         [search]\nthreads = 3\n\
         [cache]\nttl = \"90s\"\nbudget = \"2MiB\"\nwarn_entries = 7\nmax_concurrent_loads = 3\n\
         [refresh]\ninterval = \"1m30s\"\nqueries = [ {{ name = \"errs\", kind = \"errors\", max_lines = 5 }}, {{ name = \"t\", pattern = \"timed? out\", ignore_case = true, since = \"2h\" }}, {{ name = \"at\", pattern = \"x\", since = \"2026-01-27T10:00:00+02:00\" }} ]\n\
         [http]\nlisten = \"0.0.0.0:9999\"\ntoken_file = {api_token:?}\nrequest_timeout = \"10s\"\n\
         [log]\nlevel = \"warn,diagbot=debug\"\nformat = \"json\"\n\
         [system]\nproc_root = \"/fixture/proc\"\nsys_root = \"/fixture/sys\"\nkernel_log = \"/var/log/kern.log\"\nkmsg = \"\"\nsystemctl = \"/bin/sc\"\njournalctl = \"/bin/jc\"\n\
         [health]\nsample_interval = \"5s\"\ntrend_window = \"2h\"\ntrend_min_span = \"20m\"\noom_horizon = \"3h\"\nerror_burst_lines = 5\nerror_burst_window = \"1m\"\nrestart_loop = 5\nrestart_loop_window = \"12h\"\n\
         [groups]\nmax = 300\nquiet = \"2h\"\nalerts = false\n\
         [telegram]\ntoken_file = {bot_token:?}\napi_url = \"http://127.0.0.1:8081/\"\nallowed_chats = [1, -2]\nalert_chats = [3]\nalert_cooldown = \"2m\"\noutbox_size = 7\n\
         [storage]\nenabled = false\npath = \"/srv/diagbot/h.db\"\nmax_size = \"16MiB\"\n[storage.retention]\nraw = \"1d\"\nfive_minutes = \"7d\"\nhourly = \"90d\"\nmax_events = 500\n\
         [[services]]\nname = \"bot\"\nunit = \"bot.service\"\nprocess = {{ name = \"python3\", cmdline = 'bot\\.py' }}\nlogs = [\"/opt/bot/bot.log\"]\nmemory_limit = \"900MiB\"\n\
         [[services]]\nname = \"api\"\nprocess = {{ pidfile = \"/run/api.pid\" }}\n\
         [[formats]]\nname = \"shop\"\nglob = \"shop-*.log\"\ntimestamp = \"%d.%m.%Y %H:%M:%S%.3f\"\n\
         [[formats]]\nname = \"billing\"\nglob = \"/opt/billing/**/*.log\"\ntimestamp = \"%Y%m%d-%H%M%S\"\nregex = '^(?P<time>\\S+) <(?P<level>\\w+)> (?P<message>.*)$'\n",
    );
    let s = load_text(&text).unwrap();
    assert_eq!(s.http.token.expose(), "hunter2");
    assert_eq!(
        s.telegram.as_ref().unwrap().api_url,
        "http://127.0.0.1:8081"
    );
    assert_eq!(
        s.core.log_paths.len(),
        3,
        "the service's log is searched too"
    );
    assert_eq!(s.core.search_threads, 3);
    assert_eq!(s.core.groups.max, 300);
    assert_eq!(s.core.groups.quiet, Duration::from_secs(7200));
    assert!(!s.core.groups.alerts);
    assert_eq!(s.core.formats.len(), 2);
    assert_eq!(s.core.formats[1].name, "billing");
    assert!(!s.storage.enabled);
    assert_eq!(
        s.storage.path.as_deref(),
        Some(Path::new("/srv/diagbot/h.db"))
    );
    assert_eq!(s.storage.max_size, 16 << 20);
    assert_eq!(s.storage.retention.raw, Duration::from_secs(86_400));
    assert_eq!(s.storage.retention.max_events, 500);
    let back = round_trip(&s);
    assert_eq!(back.source, None);
    assert_eq!(back.core.formats, s.core.formats);
    assert_eq!(DaemonSettings { source: None, ..s }, back);
}

#[test]
fn inline_secrets_are_never_printed_and_the_rest_still_loads() {
    let s = load_text(
        "[http]\nlisten = \"0.0.0.0:9187\"\ntoken = \"hunter2\"\n[telegram]\ntoken = \"123456:AAsecret\"\n",
    )
    .unwrap();
    let written = s.to_toml();
    assert!(
        !written.contains("hunter2") && !written.contains("AAsecret"),
        "{written}"
    );
    assert!(!format!("{s:?}").contains("hunter2"));
    assert!(
        written.contains("token = \"\"   # set, not shown"),
        "{written}"
    );
    // Without its token the API may not listen beyond loopback: the printed
    // file says so rather than loading to something else.
    let e = load_str(&written, "written.toml", &env(&[])).unwrap_err();
    assert!(e.to_string().contains("http.listen"), "{e}");
}

#[test]
fn human_durations_and_sizes() {
    let s = load_text("[cache]\nttl = \"1m30s\"\nbudget = \"512KiB\"\n[refresh]\ninterval = 2\n")
        .unwrap();
    assert_eq!(s.core.cache.ttl, Duration::from_secs(90));
    assert_eq!(s.core.cache.budget_bytes, 512 << 10);
    assert_eq!(s.core.refresh_interval, Duration::from_secs(2));
    assert_eq!(parse_size("8MiB"), Ok(8 << 20));
    assert_eq!(parse_size("1 GB"), Ok(1_000_000_000));
    assert!(parse_size("8 parsecs").is_err());
}

#[test]
fn environment_overrides_every_key() {
    let vars = env(&[
        ("DIAGBOT_CACHE__TTL", "1s"),
        ("DIAGBOT_CACHE__WARN_ENTRIES", "3"),
        ("DIAGBOT_LOGS__PATHS", r#"["/tmp/a", "/tmp/b"]"#),
        ("DIAGBOT_HTTP__LISTEN", "127.0.0.1:0"),
        ("DIAGBOT_CONFIG", "/not/a/key.toml"),
        ("HOME", "/root"),
    ]);
    let s = load_str("[cache]\nttl = \"5m\"\n", "diagbot.toml", &vars).unwrap();
    assert_eq!(s.core.cache.ttl, Duration::from_secs(1));
    assert_eq!(s.core.cache.warn_entries, 3);
    assert_eq!(
        s.core.log_paths,
        [PathBuf::from("/tmp/a"), PathBuf::from("/tmp/b")]
    );
    assert_eq!(s.http.listen.port(), 0);
    // The refresh queries search the overridden paths.
    assert_eq!(s.core.refresh[0].query.paths(), s.core.log_paths);
}

/// An override's mistake names the variable, never a line of the file.
#[test]
fn a_bad_environment_override_names_the_variable() {
    let file = "[log]\nlevel = \"info\"\n\n\n\n\n\n\n\n\n\n\n[cache]\nttl = \"5m\"\n";
    for (var, value, problem) in [
        ("DIAGBOT_CACHE__TTL", "soon", "invalid duration"),
        ("DIAGBOT_CACHE__COLOUR", "red", "unknown field `colour`"),
        ("DIAGBOT_CACHE__BUDGET", "0", "must be more than 0"),
        ("DIAGBOT_HTTP__LISTEN", "nowhere", "is not an address"),
    ] {
        let e = load_str(file, "diagbot.toml", &env(&[(var, value)])).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{var}: ")) && text.contains(problem),
            "{var}={value}: {text}"
        );
        assert!(!text.contains("diagbot.toml"), "{text}");
    }
}

#[test]
fn errors_name_the_file_the_line_and_the_key() {
    let cases: [(&str, &str); 16] = [
        (
            "[log]\nlevel = \"loud\"\n",
            "diagbot.toml:2: log.level: \"loud\" is not one of trace",
        ),
        (
            "[cache]\nttl = \"5 parsecs\"\n",
            "diagbot.toml:2: cache.ttl: invalid duration",
        ),
        (
            "[cache]\nbudget = \"lots\"\n",
            "diagbot.toml:2: cache.budget: invalid size",
        ),
        (
            "[cache]\nwarn_entries = \"many\"\n",
            "diagbot.toml:2: cache.warn_entries: invalid type",
        ),
        (
            "[logs]\npaths = [\"/var/log\"]\ncolour = 1\n",
            "diagbot.toml:3: logs.colour: unknown field `colour`",
        ),
        (
            "[cahce]\nttl = \"1m\"\n",
            "diagbot.toml:1: cahce: unknown field `cahce`",
        ),
        (
            "[http]\nlisten = \"0.0.0.0:80\"\n",
            "diagbot.toml:2: http.listen: 0.0.0.0:80 is not a loopback address",
        ),
        (
            "[http]\nlisten = \"localhost\"\n",
            "diagbot.toml:2: http.listen: \"localhost\" is not an address",
        ),
        ("[cache]\nttl = \"1m\"\nttl = \"2m\"\n", "diagbot.toml:3"),
        // Values that would make `serve` panic later are refused here.
        (
            "[cache]\nttl = \"999999999999999w\"\n",
            "diagbot.toml:2: cache.ttl: invalid duration",
        ),
        (
            "[search]\n# scan threads\nthreads = 100000\n",
            "diagbot.toml:3: search.threads: must be from 0 (automatic) to 256",
        ),
        (
            "[cache]\n\nmax_concurrent_loads = 4611686018427387904\n",
            "diagbot.toml:3: cache.max_concurrent_loads: must be from 1 to 1024",
        ),
        (
            "[groups]\nquiet = \"1h\"\nmax = 0\n",
            "diagbot.toml:3: groups.max: must be from 1 to 100000",
        ),
        (
            "[groups]\n\nquiet = \"0s\"\n",
            "diagbot.toml:3: groups.quiet: must be at least 1s",
        ),
        (
            "[groups]\nmax = 10\nbudget = \"1KiB\"\n",
            "diagbot.toml:3: groups.budget: must be at least 64KiB",
        ),
        (
            "[refresh]\nqueries = [\n  { name = \"bad\", pattern = \"(unclosed\" },\n]\n",
            "diagbot.toml:3: refresh.queries[0]: bad: invalid regex",
        ),
    ];
    for (text, expected) in cases {
        let e = load_text(text).unwrap_err().to_string();
        assert!(
            e.starts_with(expected),
            "{text:?}\n  gave: {e}\n  want: {expected}"
        );
    }
}

/// A mistake in the third `[[services]]` table names that table's line.
#[test]
fn a_mistake_in_the_third_service_names_its_line() {
    let text = "[[services]]\nname = \"a\"\nunit = \"a.service\"\n\n\
                [[services]]\nname = \"b\"\nunit = \"b.service\"\n\n\
                [[services]]\nname = \"c\"\nprocess = { cmdline = \"(\" }\n";
    let e = load_text(text).unwrap_err().to_string();
    assert!(
        e.starts_with("diagbot.toml:9: services[2].process.cmdline: c: invalid regex"),
        "{e}"
    );
    let typo = "[[services]]\nname = \"a\"\nunit = \"a.service\"\n\n[[services]]\nname = \"b\"\nunti = \"b\"\n";
    let e = load_text(typo).unwrap_err().to_string();
    assert!(
        e.starts_with("diagbot.toml:7: services[1].unti: unknown field `unti`"),
        "{e}"
    );
}

#[test]
fn refresh_queries_are_checked() {
    let e = load_text("[refresh]\nqueries = [ { name = \"x\", kind = \"grep\" } ]\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("refresh.queries[0]: x: a grep query needs a pattern"),
        "{e}"
    );
    let e = load_text("[refresh]\nqueries = [ { name = \"x\", kind = \"tail\" } ]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("kind \"tail\""), "{e}");
    let s =
        load_text("[refresh]\nqueries = [ { name = \"t\", pattern = \"x\", since = \"1h\" } ]\n")
            .unwrap();
    assert!(s.core.refresh[0].query.has_relative_window());
}

#[test]
fn token_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "s3cret\n").unwrap();
    let text = format!(
        "[http]\nlisten = \"0.0.0.0:1\"\ntoken_file = {:?}\n",
        path.display().to_string()
    );
    assert_eq!(load_text(&text).unwrap().http.token.expose(), "s3cret");
    let e = load_text("[http]\ntoken_file = \"/nonexistent/token\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("diagbot.toml:2: http.token_file: cannot read /nonexistent/token"),
        "{e}"
    );
}

/// A reload keeps the startup part and names each startup key that changed.
#[test]
fn a_reload_keeps_the_startup_part_and_names_what_waits() {
    let old = load_text("[telegram]\ntoken = \"1:a\"\nallowed_chats = [1]\n").unwrap();
    let new = load_text(
        "[[formats]]\nname = \"shop\"\nglob = \"*.log\"\ntimestamp = \"%d.%m.%Y %H:%M\"\n\
         [http]\nlisten = \"127.0.0.1:1\"\ntoken = \"t\"\nrequest_timeout = \"5s\"\n\
         [search]\nthreads = 4\n\
         [groups]\nmax = 10\nquiet = \"1h\"\nalerts = false\n\
         [cache]\nttl = \"1m\"\nbudget = \"1MiB\"\nwarn_entries = 2\n[log]\nformat = \"json\"\nlevel = \"debug\"\n\
         [telegram]\ntoken = \"2:b\"\napi_url = \"http://127.0.0.1:1\"\noutbox_size = 5\nalert_cooldown = \"1m\"\nallowed_chats = [9]\n\
         [storage]\nenabled = false\npath = \"/tmp/x.db\"\nmax_size = \"1MiB\"\n[storage.retention]\nraw = \"1h\"\n",
    )
    .unwrap();
    assert_eq!(
        old.startup_changes(&new),
        [
            "http.listen",
            "search.threads",
            "cache.ttl",
            "cache.budget",
            "log.format",
            "storage.enabled",
            "storage.path",
            "storage.max_size",
            "storage.retention",
            "groups.max",
            "telegram.token",
            "telegram.api_url",
            "telegram.outbox_size",
            "telegram.alert_cooldown"
        ]
    );
    let applied = old.reloaded(new);
    assert_eq!(applied.storage, old.storage);
    assert_eq!(applied.http.listen, old.http.listen);
    assert_eq!(applied.core.cache.ttl, old.core.cache.ttl);
    assert_eq!(applied.core.search_threads, old.core.search_threads);
    assert_eq!(applied.core.groups.max, old.core.groups.max);
    assert_eq!(
        applied.telegram.as_ref().unwrap().token,
        old.telegram.as_ref().unwrap().token
    );
    // The live part is the new one.
    assert_eq!(applied.http.token.expose(), "t");
    assert_eq!(applied.http.request_timeout, Duration::from_secs(5));
    assert_eq!(applied.core.cache.warn_entries, 2);
    assert_eq!(applied.log.level, "debug");
    assert_eq!(applied.core.groups.quiet, Duration::from_secs(3600));
    assert!(!applied.core.groups.alerts);
    assert_eq!(applied.telegram.unwrap().allowed_chats, [9]);
    assert_eq!(applied.core.formats[0].name, "shop");
    assert_eq!(applied.core.refresh[0].query.formats, applied.core.formats);
    assert!(old.startup_changes(&old.clone()).is_empty());
}

/// The daemon's file checks `[[formats]]` as the core does: a pattern that
/// cannot work names its table's key and line, for `config check` and `serve` alike.
#[test]
fn a_bad_format_names_its_key_and_line() {
    let text = "[log]\nlevel = \"info\"\n\n[[formats]]\nname = \"a\"\nglob = \"*.log\"\ntimestamp = \"%Y-%m-%d %H:%M\"\n\n\
                [[formats]]\nname = \"b\"\nglob = \"*.log\"\ntimestamp = \"%Y-%m-%d\"\n";
    let e = load_text(text).unwrap_err().to_string();
    assert!(
        e.starts_with("diagbot.toml:12: formats[1].timestamp: format \"b\": invalid timestamp pattern \"%Y-%m-%d\""),
        "{e}"
    );
}

/// `[storage]`: its default path follows systemd's StateDirectory, and a
/// retention that keeps a coarser tier shorter than a finer one is refused.
#[test]
fn storage_defaults_and_rules() {
    let s = load_text("").unwrap();
    assert!(s.storage.enabled);
    assert_eq!(s.storage.path, None);
    assert_eq!(s.storage.max_size, 64 << 20);
    assert_eq!(s.storage.retention.raw, Duration::from_secs(48 * 3600));
    assert_eq!(
        s.storage.retention.five_minutes,
        Duration::from_secs(30 * 86_400)
    );
    assert_eq!(
        s.storage.retention.hourly,
        Duration::from_secs(365 * 86_400)
    );
    assert_eq!(s.storage.retention.max_events, 100_000);
    let systemd = |k: &str| (k == "STATE_DIRECTORY").then(|| "/var/lib/diagbot".to_string());
    assert_eq!(
        s.storage.resolved_path(&systemd),
        PathBuf::from("/var/lib/diagbot/diagbot.db")
    );
    let e = load_text("[storage.retention]\nraw = \"40d\"\n").unwrap_err();
    assert!(e.to_string().contains("storage.retention"), "{e}");
    let e = load_text("[storage]\npath = \"relative.db\"\n").unwrap_err();
    assert!(e.to_string().contains("storage.path"), "{e}");
    let e = load_text("[storage]\nmax_size = \"1KiB\"\n").unwrap_err();
    assert!(e.to_string().contains("storage.max_size"), "{e}");
}
