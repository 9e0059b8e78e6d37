#!/usr/bin/env bash
# Builds the Debian package: target/release/bundle/deb/Parley_<version>_<arch>.deb (xz) with the window
# (/usr/bin/parley-desktop), the headless /usr/bin/parley, the web process extension
# (/usr/lib/parley/libparley_webext.so), a desktop entry and icons at every size made from
# icons/source.png. Installs tauri-cli if missing (prebuilt through npm when npm is there, else cargo install).
# Not part of .ci/run. Usage: tools/package.sh        (env NICE=0 to build at normal priority)
set -euo pipefail
cd "$(dirname "$0")/.."

tauri=()
if cargo tauri --version >/dev/null 2>&1; then
  tauri=(cargo tauri)
else
  tools="${XDG_CACHE_HOME:-$HOME/.cache}/parley-tools"
  if [ ! -x "$tools/node_modules/.bin/tauri" ] && command -v npm >/dev/null; then
    echo "installing tauri-cli 2 (prebuilt, npm) into $tools" >&2
    npm install --no-audit --no-fund --prefix "$tools" "@tauri-apps/cli@^2" >&2 || true
  fi
  if [ -x "$tools/node_modules/.bin/tauri" ]; then
    tauri=("$tools/node_modules/.bin/tauri")
  else
    echo "installing tauri-cli 2 with cargo (compiles for a while)" >&2
    cargo install tauri-cli --version "^2" --locked
    tauri=(cargo tauri)
  fi
fi

nice=()
[ "${NICE:-1}" = 0 ] || nice=(nice -n 19)

# Icons at every size from one source image (the first listed is the window's own icon).
"${tauri[@]}" icon icons/source.png -o icons $(for s in 16 24 32 48 64 128 256 512; do echo "-p $s"; done) >/dev/null

# The window runs ui/app.bundle.js: a package of ui/js/ changes that were not bundled would ship the old
# page (tools/bundle.sh --check needs npm; without it, the test suite's check is what guards this).
if command -v npm >/dev/null 2>&1; then tools/bundle.sh --check; fi

# The headless binary and the web process extension go into the package beside the window
# (tauri.conf.json bundle.linux.deb.files: /usr/bin/parley, /usr/lib/parley/libparley_webext.so).
"${nice[@]}" cargo build --release --locked -p parley-cli --bin parley
"${nice[@]}" cargo build --release --locked -p parley-webext
"${nice[@]}" "${tauri[@]}" build --bundles deb -- --locked

deb=$(ls -t target/release/bundle/deb/*.deb | head -1)
# tauri's bundler compresses with gzip (15 MB); xz brings the same files under 10 MB. dpkg reads both.
repack=$(mktemp -d)
trap 'rm -rf "$repack"' EXIT
dpkg-deb -R "$deb" "$repack/pkg"
"${nice[@]}" dpkg-deb -Zxz -z9 --root-owner-group --build "$repack/pkg" "$deb" >/dev/null
ls -l "$deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
