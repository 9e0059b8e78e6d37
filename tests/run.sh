#!/usr/bin/env bash
# Runs the whole test suite against throwaway services only: a virtual display (Xvfb), a private D-Bus
# session with a fresh gnome-keyring, temp data dirs, and OpenAI-compatible servers on 127.0.0.1.
# Your real keyring and your real Parley data are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/xdg-data" PARLEY_DATA_DIR="$scratch/parley-data" PARLEY_TEST_KEYRING=private
# The throwaway keyring: D-Bus starts its daemon, unlocked, on the first Secret Service call.
tests/throwaway-keyring.sh "$XDG_DATA_HOME" parley-test-keyring
# Unset what could leak real settings or send test traffic elsewhere.
unset OPENAI_API_KEY OPENAI_BASE_URL http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" dbus-run-session -- bash -c '
  set -euo pipefail
  # The web process extension the window loads (a cdylib: `cargo test` builds only its tests).
  cargo build --locked -p parley-webext
  cargo test --locked "$@"
' parley-tests "$@"
