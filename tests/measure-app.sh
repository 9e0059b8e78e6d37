#!/usr/bin/env bash
# Measures the window: start to "page loaded" (first paint of the UI), and idle memory of the app with its
# WebKit helper processes (RSS and PSS; PSS does not double-count shared pages). Prints numbers only.
#   tests/measure-app.sh [path/to/parley]   (default: target/release/parley; build it with cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/parley}
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release)" >&2; exit 1; }
runs=${RUNS:-5}
cold=${COLD:-1}   # COLD=0 keeps the page cache warm
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

tree_pids() {  # the process and all its descendants
  local pid=$1
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null); do tree_pids "$child"; done
}

# A throwaway keyring home: the app asks the Secret Service on start.
export XDG_DATA_HOME="$scratch/xdg"
mkdir -p "$XDG_DATA_HOME"
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" dbus-run-session -- bash -c '
  bin=$1; runs=$2; scratch=$3; want_cold=$4
  '"$(declare -f tree_pids)"'
  loads=()
  for i in $(seq 1 "$runs"); do
    cold=warm
    if [ "$want_cold" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && cold=cold; fi
    : > "$scratch/log"
    start=$(date +%s%N)
    PARLEY_TRACE=1 PARLEY_DATA_DIR="$scratch/data" NO_AT_BRIDGE=1 "$bin" 2>"$scratch/log" &
    pid=$!
    until grep -q "page loaded" "$scratch/log" 2>/dev/null; do sleep 0.01; done
    end=$(date +%s%N)
    loads+=("$(( (end - start) / 1000000 ))")
    if [ "$i" -eq "$runs" ]; then
      sleep 5   # let it settle: idle
      rss=0; pss=0; names=""
      for p in $(tree_pids "$pid"); do
        [ -r /proc/$p/smaps_rollup ] || continue
        r=$(awk "/^Rss:/ {print \$2}" /proc/$p/smaps_rollup); s=$(awk "/^Pss:/ {print \$2}" /proc/$p/smaps_rollup)
        rss=$((rss + r)); pss=$((pss + s)); names="$names $(cat /proc/$p/comm)"
      done
      echo "idle memory after 5 s (processes:$names)"
      echo "  RSS $((rss / 1024)) MiB   PSS $((pss / 1024)) MiB"
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
  sorted=$(printf "%s\n" "${loads[@]}" | sort -n | tr "\n" " ")
  echo "start to page loaded ($cold caches), ms over $runs runs: $sorted"
' measure "$bin" "$runs" "$scratch" "$cold" 2>&1 | grep -v "^dbus-daemon\|^GNOME_KEYRING\|^SSH_AUTH\|^SpiRegistry"
