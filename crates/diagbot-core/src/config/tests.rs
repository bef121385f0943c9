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
