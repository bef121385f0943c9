use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load_text(text: &str) -> Result<Settings, ConfigError> {
    load_str(text, "diagbot.toml", &env(&[]))
}

#[test]
fn defaults_without_a_file() {
    let s = load_text("").unwrap();
    assert_eq!(s.log_paths, [PathBuf::from("/var/log")]);
    assert_eq!(s.cache.ttl, Duration::from_secs(300));
    assert_eq!(s.cache.budget_bytes, 8 << 20);
    assert_eq!(s.cache.warn_entries, 20);
    assert_eq!(s.refresh_interval, Duration::from_secs(300));
    assert_eq!(s.refresh.len(), 5);
    assert_eq!(s.listen.to_string(), format!("127.0.0.1:{DEFAULT_PORT}"));
    assert!(s.token.is_empty());
}

#[test]
fn the_example_parses_to_the_defaults() {
    let example = load_text(EXAMPLE).unwrap();
    let defaults = load_text("").unwrap();
    assert_eq!(example.to_toml(), defaults.to_toml());
}

#[test]
fn human_durations_and_sizes() {
    let s = load_text("[cache]\nttl = \"1m30s\"\nbudget = \"512KiB\"\n[refresh]\ninterval = 2\n")
        .unwrap();
    assert_eq!(s.cache.ttl, Duration::from_secs(90));
    assert_eq!(s.cache.budget_bytes, 512 << 10);
    assert_eq!(s.refresh_interval, Duration::from_secs(2));
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
    assert_eq!(s.cache.ttl, Duration::from_secs(1));
    assert_eq!(s.cache.warn_entries, 3);
    assert_eq!(
        s.log_paths,
        [PathBuf::from("/tmp/a"), PathBuf::from("/tmp/b")]
    );
    assert_eq!(s.listen.port(), 0);
    // The refresh queries search the overridden paths.
    assert_eq!(s.refresh[0].query.paths, s.log_paths);
}

#[test]
fn a_bad_environment_override_names_the_variable() {
    let e = load_str("", "diagbot.toml", &env(&[("DIAGBOT_CACHE__TTL", "soon")])).unwrap_err();
    assert!(
        e.0.contains("DIAGBOT_CACHE__TTL") && e.0.contains("invalid duration"),
        "{e}"
    );
    let e = load_str(
        "",
        "diagbot.toml",
        &env(&[("DIAGBOT_CACHE__COLOUR", "red")]),
    )
    .unwrap_err();
    assert!(e.0.contains("unknown field `colour`"), "{e}");
}

#[test]
fn errors_name_the_file_the_line_and_the_key() {
    let cases: [(&str, &str); 9] = [
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
    ];
    for (text, expected) in cases {
        let e = load_text(text).unwrap_err();
        assert!(
            e.0.starts_with(expected),
            "{text:?}\n  gave: {e}\n  want: {expected}"
        );
    }
}

#[test]
fn refresh_queries_are_checked() {
    let e = load_text("[refresh]\nqueries = [ { name = \"x\", kind = \"grep\" } ]\n").unwrap_err();
    assert!(
        e.0.contains("refresh.queries: x: a grep query needs a pattern"),
        "{e}"
    );
    let e = load_text("[refresh]\nqueries = [ { name = \"x\", kind = \"tail\" } ]\n").unwrap_err();
    assert!(e.0.contains("kind \"tail\""), "{e}");
    let s =
        load_text("[refresh]\nqueries = [ { name = \"t\", pattern = \"x\", since = \"1h\" } ]\n")
            .unwrap();
    assert!(s.refresh[0].query.has_relative_window());
}

#[test]
fn a_token_allows_any_address_and_never_prints() {
    let s = load_text("[http]\nlisten = \"0.0.0.0:9187\"\ntoken = \"hunter2\"\n").unwrap();
    assert_eq!(s.token.expose(), "hunter2");
    assert!(!s.to_toml().contains("hunter2"));
    assert!(!format!("{s:?}").contains("hunter2"));
    assert!(s.to_toml().contains("token = \"****\""));
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
    assert_eq!(load_text(&text).unwrap().token.expose(), "s3cret");
    let e = load_text("[http]\ntoken_file = \"/nonexistent/token\"\n").unwrap_err();
    assert!(
        e.0.starts_with("diagbot.toml:2: http.token_file: cannot read /nonexistent/token"),
        "{e}"
    );
}
