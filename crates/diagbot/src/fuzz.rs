//! Fuzz-style property tests of every parser a user or a client reaches:
//! the configuration (TOML and environment overrides), durations and sizes,
//! the HTTP API's query parameters, and Telegram commands. `cargo fuzz`
//! needs a nightly toolchain this project does not use, so these run a fixed
//! number of random cases with proptest on stable: `DIAGBOT_FUZZ_CASES`
//! (default 2000) sets how many, e.g. `DIAGBOT_FUZZ_CASES=200000 cargo test
//! -p diagbot --lib fuzz` for a long run. Each asserts the documented outcome
//! (a value or a clear error), never a panic.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("DIAGBOT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Text that looks like a configuration: real section and key names, values
/// of every shape, and noise.
fn config_text() -> impl Strategy<Value = String> {
    let section = prop::sample::select(vec![
        "[logs]",
        "[cache]",
        "[refresh]",
        "[http]",
        "[log]",
        "[system]",
        "[health]",
        "[telegram]",
        "[[services]]",
        "[cahce]",
        "[",
        "",
    ]);
    let key = prop::sample::select(vec![
        "paths",
        "ttl",
        "budget",
        "warn_entries",
        "max_concurrent_loads",
        "interval",
        "queries",
        "listen",
        "token",
        "token_file",
        "request_timeout",
        "level",
        "format",
        "proc_root",
        "sample_interval",
        "trend_window",
        "trend_min_span",
        "restart_loop",
        "name",
        "unit",
        "process",
        "memory_limit",
        "outbox_size",
        "api_url",
        "commands_per_second",
        "x",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        "\"[0-9]{1,20} ?(ms|s|m|h|d|w|parsecs|MiB|GB|)\"",
        "\"[ -~]{0,30}\"",
        "\\[\"[a-z/]{0,10}\"(, \"[a-z/]{0,10}\")?\\]",
        Just("{ name = \"x\", pattern = \"(\" }".to_string()),
        Just(
            "[ { name = \"q\", kind = \"grep\", pattern = \"a|b\", since = \"1h\" } ]".to_string()
        ),
        Just("{ name = \"p\", cmdline = \"[\" }".to_string()),
        "[ -~]{0,20}",
        any::<bool>().prop_map(|b| b.to_string()),
    ];
    prop::collection::vec((section, prop::collection::vec((key, value), 0..4)), 0..6).prop_map(
        |sections| {
            sections
                .into_iter()
                .map(|(s, kv)| {
                    let body: String = kv
                        .into_iter()
                        .map(|(k, v)| format!("{k} = {v}\n"))
                        .collect();
                    format!("{s}\n{body}")
                })
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Any file and any overrides: settings, or an error that says where.
    #[test]
    fn any_configuration_loads_or_says_where(
        text in config_text(),
        overrides in prop::collection::btree_map(
            "DIAGBOT_[A-Z_]{1,12}(__[A-Z_]{1,12})?", "[ -~]{0,16}", 0..3),
    ) {
        let env: BTreeMap<String, String> = overrides;
        match crate::settings::load_str(&text, "fuzz.toml", &env) {
            Ok(settings) => {
                // What loads is printed as what loads back.
                let again = crate::settings::load_str(&settings.to_toml(), "again.toml", &BTreeMap::new());
                if settings.http.token.is_empty() || settings.http.listen.ip().is_loopback() {
                    prop_assert!(again.is_ok(), "{:?}", again.err());
                }
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(!message.is_empty());
                prop_assert!(
                    message.starts_with("fuzz.toml") || message.starts_with("DIAGBOT_"),
                    "{message}"
                );
            }
        }
    }

    /// Durations and sizes: a value or a message, for any text.
    #[test]
    fn any_duration_or_size_parses_or_explains(text in "[ -~]{0,24}") {
        if let Err(e) = diagbot_core::when::parse_duration(&text) {
            prop_assert!(!e.is_empty());
        }
        if let Err(e) = diagbot_core::config::parse_size(&text) {
            prop_assert!(!e.is_empty());
        }
        let _ = diagbot_core::when::TimeBound::parse(&text);
    }

    /// Any Telegram message is a command (unknown ones ask for help).
    #[test]
    fn any_telegram_message_is_a_command(text in "\\PC{0,64}") {
        let command = crate::telegram::commands::parse(&text);
        prop_assert!(!command.name().is_empty());
    }
}

/// Any query string on any route: JSON with a status a client expects (200,
/// 400 naming the parameter, 404), never a 500 or a dropped connection.
#[test]
fn any_query_parameters_get_a_json_answer() {
    use axum::body::Body;
    use axum::http::Request;
    use proptest::test_runner::{Config, TestRunner};
    use tower::ServiceExt;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.log"),
        "2026-01-27 10:00:00 ERROR a\n2026-01-27 10:00:01 INFO b\n",
    )
    .unwrap();
    let mut settings = crate::settings::DaemonSettings::default();
    settings.core.log_paths = vec![dir.path().to_path_buf()];
    settings.core.proc_root = dir.path().join("no-proc");
    settings.core.kmsg = None;
    settings.core.journalctl = "/nonexistent/journalctl".into();
    settings.storage.enabled = false;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = crate::state::AppState::new(settings);
    let router = crate::http::router(state);
    let route = prop::sample::select(vec![
        "/api/v1/grep",
        "/api/v1/errors",
        "/api/v1/oom",
        "/api/v1/cache",
    ]);
    let name = prop::sample::select(vec![
        "pattern",
        "ignore_case",
        "fixed_strings",
        "since",
        "until",
        "max_lines",
        "paths",
        "x",
    ]);
    let value = prop_oneof![
        "[ -~]{0,12}",
        Just("1h".to_string()),
        Just("(".to_string()),
        Just("2026-01-27T10:00:00".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just(dir.path().display().to_string()),
        Just("/etc".to_string()),
    ];
    let strategy = (route, prop::collection::vec((name, value), 0..5));
    let mut runner = TestRunner::new(Config::with_cases(cases() / 4));
    runner
        .run(&strategy, |(route, params)| {
            let query: String = params
                .iter()
                .map(|(k, v)| format!("{k}={}", percent(v)))
                .collect::<Vec<_>>()
                .join("&");
            let uri = format!("{route}?{query}");
            let response = runtime.block_on(
                router
                    .clone()
                    .oneshot(Request::get(&uri).body(Body::empty()).unwrap()),
            );
            let response = response.unwrap();
            let status = response.status().as_u16();
            prop_assert!([200, 400, 404].contains(&status), "{uri}: {status}");
            let body = runtime
                .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
                .unwrap();
            let json: Result<serde_json::Value, _> = serde_json::from_slice(&body);
            prop_assert!(json.is_ok(), "{uri}: {}", String::from_utf8_lossy(&body));
            if status == 400 {
                prop_assert!(json.unwrap()["parameter"].is_string(), "{uri}");
            }
            Ok(())
        })
        .unwrap();
}

/// Every byte but unreserved ones escaped.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
