//! The README as a newcomer reads it from a fresh clone: every file it links
//! is in the repository, the design it points to is too, and the quick start
//! says where the binary it builds is.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The targets of `[text](target)` links that are not URLs or anchors.
fn relative_links(markdown: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or_default();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            links.push(target.to_string());
        }
    }
    links
}

#[test]
fn every_file_the_readme_links_is_in_the_repository() {
    for doc in ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"] {
        let text = std::fs::read_to_string(repo().join(doc)).unwrap();
        for link in relative_links(&text) {
            assert!(
                repo().join(&link).exists(),
                "{doc} links {link}, which a clone does not have"
            );
        }
    }
}

#[test]
fn the_readme_points_to_a_design_a_clone_has() {
    let readme = readme();
    assert!(
        !readme.contains("../shared/DESIGN.md"),
        "the README points outside the repository for the design"
    );
    assert!(readme.contains("(ARCHITECTURE.md)"));
    assert!(
        !readme.contains("Nothing is stored on disk yet"),
        "the README says nothing is stored, beside [storage]"
    );
}

#[test]
fn the_quick_start_says_where_the_built_binary_is() {
    let readme = readme();
    let start: String = readme.lines().take(15).collect::<Vec<_>>().join("\n");
    assert!(
        start.contains("cargo run --release -p diagbot -- serve"),
        "{start}"
    );
    assert!(
        start.contains("cargo test --workspace --all-targets"),
        "{start}"
    );
    assert!(start.contains("target/release/diagbot"), "{start}");
}
