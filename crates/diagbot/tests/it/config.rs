//! `diagbot config check` on fixture files, one for each kind of mistake; the
//! first line of each fixture says what the message must say.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn each_mistake_gets_its_message_with_file_line_and_key() {
    let mut checked = 0;
    for file in fixtures() {
        let text = std::fs::read_to_string(&file).unwrap();
        let Some(expected) = text.lines().next().unwrap().strip_prefix("# expect: ") else {
            continue;
        };
        let out = Command::cargo_bin("diagbot")
            .unwrap()
            .args(["config", "check"])
            .arg(&file)
            .env_remove("DIAGBOT_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", file.display());
        assert!(
            stderr.contains(expected),
            "{}\n  said: {stderr}\n  want: {expected}",
            file.display()
        );
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} fixtures");
}

#[test]
fn a_valid_file_prints_the_effective_settings_with_the_token_masked() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/good.toml");
    Command::cargo_bin("diagbot")
        .unwrap()
        .args(["config", "check"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("is valid"))
        .stdout(predicate::str::contains("ttl = \"1m\""))
        .stdout(predicate::str::contains("budget = \"4MiB\""))
        .stdout(predicate::str::contains("token = \"\"   # set, not shown"))
        .stdout(predicate::str::contains("sekrit").not());
}

/// What `config check` prints is a configuration: checked again, it prints
/// the same (the round trip of settings is tested in `settings::tests`).
#[test]
fn config_check_output_checks_again_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("diagbot.toml");
    std::fs::write(
        &file,
        "[cache]\nttl = \"90s\"\n[[services]]\nname = \"bot\"\nprocess = { name = \"python3\", cmdline = 'bot\\.py' }\nmemory_limit = \"900MiB\"\n\
         [[formats]]\nname = \"shop\"\nglob = \"/opt/shop/**/*.log\"\ntimestamp = \"%d.%m.%Y %H:%M:%S%.3f\"\n\
         regex = '^(?P<time>\\S+ \\S+) \"?<(?P<level>\\w+)> (?P<message>.*)$'\n",
    )
    .unwrap();
    let check = |path: &std::path::Path| {
        let out = Command::cargo_bin("diagbot")
            .unwrap()
            .args(["config", "check"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        // The first line names the file.
        text.split_once('\n').unwrap().1.to_string()
    };
    let first = check(&file);
    assert!(first.contains("[[formats]]"), "{first}");
    let again = dir.path().join("again.toml");
    std::fs::write(&again, &first).unwrap();
    assert_eq!(check(&again), first);
}

#[test]
fn environment_overrides_show_in_check() {
    Command::cargo_bin("diagbot")
        .unwrap()
        .args(["config", "check"])
        .env_remove("DIAGBOT_CONFIG")
        .env("DIAGBOT_CACHE__TTL", "1s")
        .current_dir(tempfile::tempdir().unwrap().path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ttl = \"1s\""));
}

#[test]
fn the_example_is_valid() {
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["config", "example"])
        .output()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diagbot.toml");
    std::fs::write(&path, &out.stdout).unwrap();
    Command::cargo_bin("diagbot")
        .unwrap()
        .args(["config", "check"])
        .arg(&path)
        .assert()
        .code(0);
}

/// `serve` refuses what `config check` refuses: a format that cannot work.
#[test]
fn serve_refuses_a_bad_format_as_check_does() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config/format_bad_second.toml");
    Command::cargo_bin("diagbot")
        .unwrap()
        .arg("serve")
        .arg("--config")
        .arg(&file)
        .env("DIAGBOT_HTTP__LISTEN", "127.0.0.1:0")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "format_bad_second.toml:13: formats[1].timestamp: format \"billing\"",
        ));
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    Command::cargo_bin("diagbot")
        .unwrap()
        .arg("serve")
        .env_remove("DIAGBOT_CONFIG")
        .env("DIAGBOT_HTTP__LISTEN", "0.0.0.0:0")
        .current_dir(tempfile::tempdir().unwrap().path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "not a loopback address: set http.token",
        ));
}
