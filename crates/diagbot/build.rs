//! `diagbot --version` names the commit it was built from: `0.2.0 (a1b2c3d)`,
//! or `0.2.0` alone when built outside a git checkout (a source tarball).

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let dirty = commit.is_some()
        && Command::new("git")
            .args(["diff", "--quiet", "HEAD", "--"])
            .status()
            .is_ok_and(|s| s.code() == Some(1));
    let version = env!("CARGO_PKG_VERSION");
    let long = match commit {
        Some(c) if dirty => format!("{version} ({c}, modified)"),
        Some(c) => format!("{version} ({c})"),
        None => version.to_string(),
    };
    // Not DIAGBOT_…: cargo also sets it when it runs the tests, and the
    // daemon reads DIAGBOT_* variables as configuration.
    println!("cargo:rustc-env=LONG_VERSION={long}");
    // Built again when the checkout moves to another commit.
    let git = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.git");
    for file in ["HEAD", "index"] {
        let path = git.join(file);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
