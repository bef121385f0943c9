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

const FORMATS: &str = "[[formats]]\nname = \"shop\"\nglob = \"shop-*.log\"\ntimestamp = \"%d.%m.%Y %H:%M:%S\"\n\n\
                       [[formats]]\nname = \"billing\"\nglob = \"/opt/billing/**/*.log\"\ntimestamp = \"%Y%m%d-%H%M%S\"\n\
                       regex = '^(?P<time>\\S+) <(?P<level>\\w+)> (?P<message>.*)$'\n";

#[test]
fn formats_load_round_trip_and_reach_the_refresh_queries() {
    let s = load_str(FORMATS, "diagbot.toml", &env(&[])).unwrap();
    let names: Vec<&str> = s.formats.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["shop", "billing"]);
    assert_eq!(
        s.formats[1].regex.as_deref(),
        Some(r"^(?P<time>\S+) <(?P<level>\w+)> (?P<message>.*)$")
    );
    // Every warm answer is read with them, as a question asked by hand is.
    assert!(s.refresh.iter().all(|q| q.query.formats == s.formats));
    let written = toml::to_string(&raw::RawCore::from(&s)).unwrap();
    let back = load_str(&written, "written.toml", &env(&[])).unwrap();
    assert_eq!(back, s, "{written}");
    // Without formats the file has no [[formats]] at all.
    let plain = toml::to_string(&raw::RawCore::from(&Settings::default())).unwrap();
    assert!(!plain.contains("formats"), "{plain}");
}

/// A mistake in the second `[[formats]]` table names the line of its key.
#[test]
fn a_bad_second_format_names_its_key_and_line() {
    let cases = [
        (
            "timestamp = \"%Y-%m-%d %Q\"",
            "diagbot.toml:8: formats[1].timestamp: format \"b\": invalid timestamp pattern",
        ),
        (
            "timestamp = \"%H:%M:%S\"",
            "diagbot.toml:8: formats[1].timestamp: format \"b\": invalid timestamp pattern \"%H:%M:%S\": it must hold a date",
        ),
        (
            "timestamp = \"%Y-%m-%d %H:%M:%S\"\nregex = \"(?P<time>[0-9\"",
            "diagbot.toml:9: formats[1].regex: format \"b\": invalid regex",
        ),
        (
            "timestamp = \"%Y-%m-%d %H:%M:%S\"\nregex = \"^(?P<when>\\\\S+)\"",
            "diagbot.toml:9: formats[1].regex: format \"b\": the regex has no named group `time`",
        ),
        (
            "timestamp = \"%Y-%m-%d %H:%M:%S\"\ncolour = \"red\"",
            "diagbot.toml:9: formats[1].colour: unknown field `colour`",
        ),
    ];
    for (rest, expected) in cases {
        let text = format!(
            "[[formats]]\nname = \"a\"\nglob = \"*.log\"\ntimestamp = \"%Y-%m-%d %H:%M:%S\"\n\n\
             [[formats]]\nname = \"b\"\n{rest}\nglob = \"*.log\"\n"
        );
        let e = load_str(&text, "diagbot.toml", &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(expected),
            "{rest:?}\n  gave: {e}\n  want: {expected}"
        );
    }
    let twice = "[[formats]]\nname = \"a\"\nglob = \"*\"\ntimestamp = \"%Y-%m-%d %H:%M\"\n\
                 [[formats]]\nname = \"a\"\nglob = \"*\"\ntimestamp = \"%Y-%m-%d %H:%M\"\n";
    let e = load_str(twice, "diagbot.toml", &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("diagbot.toml:5: formats[1].name: a: the name is used twice"),
        "{e}"
    );
}

/// Variables of diagbot's that are not keys do not make a configuration invalid.
#[test]
fn variables_that_are_not_keys_are_left_alone() {
    let vars = env(&[
        ("DIAGBOT_CONFIG", "/etc/diagbot/diagbot.toml"),
        ("DIAGBOT_TOKEN", "for --remote"),
        ("DIAGBOT_LOGHUB", "/data"),
        ("DIAGBOT_FUZZ_CASES", "100"),
    ]);
    assert_eq!(
        load_str("", "diagbot.toml", &vars).unwrap(),
        Settings::default()
    );
    let e = load_str("", "diagbot.toml", &env(&[("DIAGBOT_TOKEN_X", "1")])).unwrap_err();
    assert!(e.to_string().starts_with("DIAGBOT_TOKEN_X: "), "{e}");
}

#[test]
fn max_decompressed_is_bounded_and_named_with_its_line() {
    let s = load_str(
        "[logs]\nmax_decompressed = \"64MiB\"\n",
        "diagbot.toml",
        &env(&[]),
    )
    .unwrap();
    assert_eq!(s.max_decompressed, 64 << 20);
    assert_eq!(Settings::default().max_decompressed, 1 << 30);
    let e = load_str(
        "[logs]\nmax_decompressed = \"1KiB\"\n",
        "diagbot.toml",
        &env(&[]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("diagbot.toml:2") && e.contains("logs.max_decompressed"),
        "{e}"
    );
}

#[test]
fn a_service_s_numbers_are_checked_and_named() {
    let with = |numbers: &str| {
        load_str(
            &format!("[[services]]\nname = \"bot\"\nprocess = {{ name = \"python3\" }}\nnumbers = [{numbers}]\n"),
            "diagbot.toml",
            &env(&[]),
        )
    };
    let s = with("{ template = \"Cache size: <num>  entries\", warn_above = 20 }").unwrap();
    let n = &s.services[0].numbers[0];
    assert_eq!(
        (n.name.as_str(), n.template.as_str(), n.slot, n.warn_above),
        (
            "cache_size_entries",
            "Cache size: <num> entries",
            0,
            Some(20.0)
        )
    );
    let no_num = with("{ template = \"Cache size\" }")
        .unwrap_err()
        .to_string();
    assert!(
        no_num.contains("services[0].numbers[0]") && no_num.contains("has no <num>"),
        "{no_num}"
    );
    let slot = with("{ template = \"moved <num> of <num>\", variable = 3 }")
        .unwrap_err()
        .to_string();
    assert!(slot.contains("the template has 2 <num>"), "{slot}");
    let name = with("{ template = \"a <num>\", name = \"Bad Name\" }")
        .unwrap_err()
        .to_string();
    assert!(
        name.contains("lower-case letters, digits and _ only"),
        "{name}"
    );
    // Written back, read back the same.
    let written = toml::to_string(&raw::RawCore::from(&s)).unwrap();
    let again = load_str(&written, "diagbot.toml", &env(&[]));
    assert_eq!(again.unwrap().services, s.services);
}
