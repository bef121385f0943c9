#!/usr/bin/env bash
# Builds the Debian package: target/debian/diagbot_VERSION-1_ARCH.deb.
#   packaging/deb.sh            # needs cargo-deb: cargo install cargo-deb --locked
# The man page, the shell completions and the example configuration are
# written by the binary just built, from its own command-line definition
# and defaults, so they are never out of step with it.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb >/dev/null || {
  echo "error: cargo-deb not found; install it with: cargo install cargo-deb --locked" >&2
  exit 1
}
cargo build --release -p diagbot --bin diagbot
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/diagbot"
assets="$target_dir/release/deb-assets"
rm -rf "$assets" && mkdir -p "$assets"
"$bin" config example > "$assets/diagbot.toml"
mkdir "$assets/man"
"$bin" man --dir "$assets/man"
gzip -9n "$assets"/man/*.1
"$bin" completions bash > "$assets/diagbot.bash"
"$bin" completions zsh > "$assets/_diagbot"
"$bin" completions fish > "$assets/diagbot.fish"
# The example configuration must be one the binary accepts as it ships.
"$bin" config check "$assets/diagbot.toml" >/dev/null
cargo deb -p diagbot --no-build "$@"
