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
mkdir -p "$XDG_DATA_HOME/dbus-1/services"
# The throwaway keyring: D-Bus starts its daemon on the first Secret Service call, unlocked with a
# fixed password over files in $scratch ($XDG_DATA_HOME's service folder comes before the system's).
# Should the daemon die mid-run (it crashed once; D-Bus then started the stock one, locked, which
# asked for a password no one could type and the run hung), the next call starts it the same way.
cat >"$scratch/keyring-daemon" <<'SH'
#!/bin/sh
printf parley-test-keyring | exec gnome-keyring-daemon --foreground --unlock --components=secrets
SH
chmod +x "$scratch/keyring-daemon"
for name in org.freedesktop.secrets org.gnome.keyring; do
  printf '[D-BUS Service]\nName=%s\nExec=%s\n' "$name" "$scratch/keyring-daemon" \
    >"$XDG_DATA_HOME/dbus-1/services/$name.service"
done
# Unset what could leak real settings or send test traffic elsewhere.
unset OPENAI_API_KEY OPENAI_BASE_URL http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" dbus-run-session -- bash -c '
  set -euo pipefail
  # The web process extension the window loads (a cdylib: `cargo test` builds only its tests).
  cargo build --locked -p parley-webext
  cargo test --locked "$@"
' parley-tests "$@"
