use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_defaults_keep_every_rule() {
    let s = load_str("", "diagbot.toml", &env(&[])).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.log_paths, [PathBuf::from("/var/log")]);
    assert_eq!(s.refresh.len(), 5);
}

#[test]
fn the_core_reads_only_its_own_sections() {
    let e = load_str("[http]\nlisten = \"127.0.0.1:1\"\n", "core.toml", &env(&[])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("core.toml:1: http: unknown field `http`"),
        "{e}"
    );
}

#[test]
fn written_settings_load_back_the_same() {
    let text = "[logs]\npaths = [\"/tmp/x\"]\n[cache]\nttl = \"90s\"\n[refresh]\nqueries = [ { name = \"t\", pattern = \"x\", ignore_case = true, since = \"1h\", max_lines = 7 } ]\n\
                [[services]]\nname = \"bot\"\nprocess = { name = \"python3\" }\nlogs = [\"/tmp/bot.log\"]\nmemory_limit = \"400MiB\"\n";
    let s = load_str(text, "diagbot.toml", &env(&[])).unwrap();
    let written = toml::to_string(&raw::RawCore::from(&s)).unwrap();
    let back = load_str(&written, "written.toml", &env(&[])).unwrap();
    assert_eq!(back, s, "{written}");
}

/// The daemon leaves a small machine's cores to the services it watches, and
/// its scan threads always run at a lower priority.
#[test]
fn scan_threads_default_to_the_machine_and_run_at_a_lower_priority() {
    use crate::workers::{cores, daemon_count, DAEMON_NICE};
    let automatic = load_str("", "diagbot.toml", &env(&[])).unwrap();
    assert_eq!(automatic.search_threads, 0);
    let threads = automatic.scan_threads();
    assert_eq!(threads.count.get(), daemon_count(cores()));
    assert_eq!(threads.nice, Some(DAEMON_NICE));
    let three = load_str("[search]\nthreads = 3\n", "diagbot.toml", &env(&[])).unwrap();
    assert_eq!(three.scan_threads().count.get(), 3);
    assert_eq!(three.scan_threads().nice, Some(DAEMON_NICE));
    let from_env = load_str(
        "",
        "diagbot.toml",
        &env(&[("DIAGBOT_SEARCH__THREADS", "2")]),
    )
    .unwrap();
    assert_eq!(from_env.search_threads, 2);
}
