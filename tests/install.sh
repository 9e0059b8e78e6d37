#!/usr/bin/env bash
# Installs the .deb, uses it, removes it, and checks the user's data is still there. Not part of
# .ci/run. Needs root (apt). Two places:
#   tests/install.sh [the.deb]                       on this machine (apt install ./the.deb, then dpkg -r)
#   CHROOT=/var/tmp/parley-chroot tests/install.sh   in a clean Debian made by
#       debootstrap --variant=minbase bookworm /var/tmp/parley-chroot http://deb.debian.org/debian
# Checks: apt resolves the declared dependencies; `parley --version`; `parley ask` streams from the local
# fake OpenAI server (cargo build --example fake-openai); the window (through `parley` with no
# subcommand) paints its page under Xvfb; the desktop entry and icons; after removal the binaries are
# gone and the data folder with its database is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(realpath "${1:-$(ls -t target/release/bundle/deb/*.deb | head -1)}")
chroot_dir=${CHROOT:-}
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
in_target() {  # runs a command on the machine under test
  if [ -n "$chroot_dir" ]; then chroot "$chroot_dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
  else "$@"; fi
}

[ "$(id -u)" = 0 ] || { echo "run as root (apt install)" >&2; exit 1; }
[ -x target/debug/examples/fake-openai ] || cargo build --quiet --example fake-openai
scratch=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$scratch"
  if [ -n "$chroot_dir" ]; then
    umount "$chroot_dir/proc" 2>/dev/null || umount -l "$chroot_dir/proc" 2>/dev/null || true
    umount "$chroot_dir/dev" 2>/dev/null || umount -l "$chroot_dir/dev" 2>/dev/null || true
  fi
}
trap cleanup EXIT
target/debug/examples/fake-openai >"$scratch/url" &
server_pid=$!
for _ in $(seq 100); do [ -s "$scratch/url" ] && break; sleep 0.05; done
url=$(cat "$scratch/url")

echo "installing $(basename "$deb") ($(du -h "$deb" | cut -f1)) ${chroot_dir:+into $chroot_dir}"
if [ -n "$chroot_dir" ]; then
  mount --bind /proc "$chroot_dir/proc"; mount --bind /dev "$chroot_dir/dev"
  cp "$deb" "$chroot_dir/tmp/parley.deb"
  in_target apt-get update -q >/dev/null
  # The package's own dependencies, plus what this test needs to show a window.
  in_target env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    /tmp/parley.deb xvfb xauth dbus >"$scratch/apt.log" 2>&1 \
    && ok "apt install ./$(basename "$deb") in a clean Debian" || { bad "apt install"; tail -20 "$scratch/apt.log"; exit 1; }
  home=/tmp/home
else
  if dpkg-query -W parley >/dev/null 2>&1; then echo "a package named parley is installed already; remove it first" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$scratch/apt.log" 2>&1 \
    && ok "apt install ./$(basename "$deb")" || { bad "apt install"; tail -20 "$scratch/apt.log"; exit 1; }
  home=$scratch/home
fi
mkdir -p "${chroot_dir}$home"
# The user's own data folder ($HOME/.local/share/parley), as after a real first start.
as_user=(env HOME="$home" XDG_DATA_HOME= PARLEY_DATA_DIR= OPENAI_API_KEY=sk-install NO_AT_BRIDGE=1)

v=$(in_target "${as_user[@]}" parley --version 2>&1) && ok "parley --version: $v" || bad "parley --version: $v"
reply=$(in_target "${as_user[@]}" parley ask --base-url "$url" --model test-tokens-20 "hello" 2>&1) \
  && [[ "$reply" == *tok19* ]] && ok "parley ask streamed from $url: ${reply:0:40}…" || bad "parley ask: $reply"
db="${chroot_dir}$home/.local/share/parley/parley.db"
[ -s "$db" ] && ok "data folder made: ${db#"$chroot_dir"}" || bad "no database at $db"

for size in 16 32 48 128 256 512; do
  [ -s "${chroot_dir}/usr/share/icons/hicolor/${size}x${size}/apps/parley-desktop.png" ] || bad "no ${size}px icon"
done
ok "icons 16…512 px in hicolor"
entry="${chroot_dir}/usr/share/applications/Parley.desktop"
grep -q "^Exec=parley-desktop" "$entry" && ok "desktop entry: $(grep -E '^(Name|Exec|Icon)=' "$entry" | tr '\n' ' ')" \
  || bad "desktop entry $entry"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$entry" && ok "desktop-file-validate" || bad "desktop-file-validate"
fi

# The window, opened the way a user would from a terminal: `parley` with no subcommand.
in_target "${as_user[@]}" PARLEY_TRACE=1 xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  dbus-run-session -- timeout 60 parley >"$scratch/window.log" 2>&1 &
window=$!
for _ in $(seq 600); do grep -q "page loaded" "$scratch/window.log" && break; sleep 0.1; done
if grep -q "page loaded" "$scratch/window.log"; then ok "the window painted its page under Xvfb ($(grep -m1 'page loaded' "$scratch/window.log" | sed 's/.*\] //'))"
else bad "the window did not load: $(tail -5 "$scratch/window.log")"; fi
# The web process extension: installed, named by the window, and mapped into its web process.
ext_in=""
for p in $(pgrep -f WebKitWebProcess 2>/dev/null); do
  grep -qs "HOME=$home" "/proc/$p/environ" && grep -qs libparley_webext.so "/proc/$p/maps" && ext_in=$p
done
[ -s "${chroot_dir}/usr/lib/parley/libparley_webext.so" ] && grep -q "web process extension from /usr/bin/../lib/parley" "$scratch/window.log" \
  && [ -n "$ext_in" ] && ok "the web process extension is installed and loaded into the web process (pid $ext_in)" \
  || bad "web process extension: $(grep -m1 'extension' "$scratch/window.log"), in a web process: ${ext_in:-none}"
for p in $(in_target pgrep -x parley-desktop 2>/dev/null); do
  grep -qs "HOME=$home" "/proc/$p/environ" && kill "$p" 2>/dev/null || true
done
# xvfb-run stops its Xvfb once the window has exited; signalled itself, it left the Xvfb running.
for _ in $(seq 50); do kill -0 "$window" 2>/dev/null || break; sleep 0.1; done
pkill -TERM -P "$window" 2>/dev/null || true
wait "$window" 2>/dev/null || true

before=$(sha256sum "$db" | cut -d' ' -f1)
in_target dpkg -r parley >"$scratch/remove.log" 2>&1 && ok "dpkg -r parley" || bad "dpkg -r: $(tail -3 "$scratch/remove.log")"
[ ! -e "${chroot_dir}/usr/bin/parley" ] && [ ! -e "${chroot_dir}/usr/bin/parley-desktop" ] && [ ! -e "${chroot_dir}/usr/lib/parley" ] \
  && ok "binaries removed" || bad "binaries left behind"
[ "$(sha256sum "$db" | cut -d' ' -f1)" = "$before" ] && ok "the user's data is still there, unchanged (${db#"$chroot_dir"})" \
  || bad "the data changed or went away"
[ -z "$chroot_dir" ] && rm -rf "$home"

echo
[ "$fails" = 0 ] && echo "install test: all passed" || { echo "install test: $fails failed"; exit 1; }
