#!/usr/bin/env bash
# Every scenario of the performance issue in one run, printed as one Markdown table: measure, Parley,
# anchor (curl, Chromium --app on the same ui/ folder, promptfoo), ratio, target, met or not.
# Numbers only: nothing here fails on a timing. Not part of .ci/run.
#   tests/bench.sh                       (release binaries from tools/package.sh, or cargo build --release)
#   RUNS=5 REPLIES=300 SKIP="long session" tests/bench.sh
# Installs its anchors when missing: Debian's chromium (apt), promptfoo (npm, only when the suites
# benchmark exists). The window scenarios run under Xvfb with a private D-Bus session.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
RUNS=${RUNS:-5}
REPLIES=${REPLIES:-1000}
SKIP=${SKIP:-}
APP=${APP:-$root/target/release/parley-desktop}
PARLEY=${PARLEY:-$root/target/release/parley}
PY=$(command -v /usr/bin/python3 || command -v python3)

if [ -z "${BENCH_INSIDE:-}" ]; then
  for b in "$APP" "$PARLEY"; do
    [ -x "$b" ] || { echo "no binary at $b: run tools/package.sh (or cargo build --release) first" >&2; exit 1; }
  done
  if ! command -v chromium >/dev/null; then
    echo "installing the anchor: Debian's chromium" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends chromium >&2 || true
    else sudo apt-get install -y --no-install-recommends chromium >&2 || true; fi
  fi
  # A throwaway keyring home (the window asks the Secret Service on start); a virtual display.
  export BENCH_INSIDE=1 XDG_DATA_HOME
  XDG_DATA_HOME=$(mktemp -d)
  # An unlocked throwaway keyring, as on a desktop session (without one, each Secret Service call
  # waits for the daemon to be activated and refuse: ~110 ms added to every `parley ask`). D-Bus
  # starts it on the first call (the warm-up runs and the key set-up come before any measure).
  tests/throwaway-keyring.sh "$XDG_DATA_HOME" parley-bench
  unset OPENAI_API_KEY OPENAI_BASE_URL
  exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" dbus-run-session -- "$0" "$@"
fi

scratch=$(mktemp -d)
started=()
cleanup() {
  for p in "${started[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  rm -rf "$scratch" "$XDG_DATA_HOME"
}
trap cleanup EXIT
skip() { [[ " $SKIP " == *" $1 "* ]]; }
log() { echo "bench: $*" >&2; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
met() { awk "BEGIN {print ($1) ? \"yes\" : \"no\"}"; }

tree_pids() {
  local pid=$1
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null); do tree_pids "$child"; done
}
pss_mib() {  # PSS summed over a process and its descendants
  local kb=0 s
  for p in $(tree_pids "$1"); do
    s=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    kb=$((kb + ${s:-0}))
  done
  calc "%.0f" "$kb / 1024"
}
now_ns() { date +%s%N; }
# Returns once FILE holds a line with TEXT (30 s at most). `tail -F` follows the file through
# inotify, so the wait takes no CPU from the program being measured (a polling loop would start a
# `grep` and a `sleep` every 10 ms on the same two cores as the window and its web process).
wait_for_line() {  # FILE TEXT
  local fd tail_pid
  exec {fd}< <(exec timeout 30 tail -n +1 -F "$1" 2>/dev/null)
  tail_pid=$!
  grep -q -m1 -F -- "$2" <&"$fd" || true
  exec {fd}<&-
  kill "$tail_pid" 2>/dev/null || true
}
drop_caches() { sync; (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; }

# ---- the window: start to page loaded, idle PSS 5 s after ----
parley_run() {  # DATA MEASURE_PSS -> "ms pss"
  local data=$1 log="$scratch/parley.log" start pid ms pss=0
  : >"$log"
  start=$(now_ns)
  setsid env PARLEY_TRACE=1 PARLEY_DATA_DIR="$data" NO_AT_BRIDGE=1 "$APP" 2>"$log" &
  pid=$!
  started+=("$pid")
  wait_for_line "$log" "page loaded"
  ms=$(( ($(now_ns) - start) / 1000000 ))
  if [ "$2" = 1 ]; then sleep 5; pss=$(pss_mib "$pid"); fi
  kill -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$ms $pss"
}
chromium_run() {  # PROFILE MEASURE_PSS -> "ms pss"
  local start pid ms pss=0
  : >"$scratch/loaded"
  start=$(now_ns)
  setsid chromium --no-sandbox --no-first-run --no-default-browser-check --password-store=basic \
    --user-data-dir="$1" --window-size=1100,760 --app="http://127.0.0.1:$ui_port/index.html" \
    >/dev/null 2>&1 &
  pid=$!
  started+=("$pid")
  wait_for_line "$scratch/loaded" ""
  ms=$(( ($(head -1 "$scratch/loaded") - start) / 1000000 ))
  if [ "$2" = 1 ]; then sleep 5; pss=$(pss_mib "$pid"); fi
  kill -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 0.5
  echo "$ms $pss"
}

if ! skip window; then
  : >"$scratch/loaded"
  setsid "$PY" tests/bench/serve_ui.py "$root/ui" "$scratch/loaded" >"$scratch/ui.port" 2>/dev/null &
  started+=("$!")
  for _ in $(seq 100); do [ -s "$scratch/ui.port" ] && break; sleep 0.05; done
  ui_port=$(cat "$scratch/ui.port")
  have_chromium=0; command -v chromium >/dev/null && have_chromium=1
  cold_p="n/a"; cold_c="n/a"
  if drop_caches; then
    cold_p=$(parley_run "$scratch/pdata" 0 | cut -d' ' -f1)
    if [ $have_chromium = 1 ]; then drop_caches; cold_c=$(chromium_run "$scratch/chrome" 0 | cut -d' ' -f1); fi
  fi
  log "window: warm-up"
  parley_run "$scratch/pdata" 0 >/dev/null
  [ $have_chromium = 1 ] && chromium_run "$scratch/chrome" 0 >/dev/null
  : >"$scratch/p.txt"; : >"$scratch/c.txt"
  for i in $(seq "$RUNS"); do
    log "window: run $i/$RUNS"
    parley_run "$scratch/pdata" 1 >>"$scratch/p.txt"
    [ $have_chromium = 1 ] && chromium_run "$scratch/chrome" 1 >>"$scratch/c.txt"
  done
  p_ms=$(cut -d' ' -f1 "$scratch/p.txt" | median); p_pss=$(cut -d' ' -f2 "$scratch/p.txt" | median)
  if [ $have_chromium = 1 ]; then
    c_ms=$(cut -d' ' -f1 "$scratch/c.txt" | median); c_pss=$(cut -d' ' -f2 "$scratch/c.txt" | median)
    row "Idle PSS, all processes, 5 s after load (MiB, median of $RUNS)" "$p_pss" "$c_pss (Chromium --app)" \
      "$(calc '%.2fx lighter' "$c_pss / $p_pss")" "≤ 200 and ≥ 1.8x lighter" \
      "$(met "$p_pss <= 200 && $c_pss / $p_pss >= 1.8")"
    row "Start to page loaded, warm (ms, median of $RUNS)" "$p_ms" "$c_ms (Chromium --app)" \
      "$(calc '%.2f' "$p_ms / $c_ms")" "< 400 and ahead of Chromium" "$(met "$p_ms < 400 && $p_ms < $c_ms")"
    row "Start to page loaded, cold (ms, one run)" "$cold_p" "$cold_c (Chromium --app)" \
      "$( [ "$cold_p" != n/a ] && [ "$cold_c" != n/a ] && calc '%.2f' "$cold_p / $cold_c" || echo -)" "reported" "-"
  else
    row "Idle PSS, all processes, 5 s after load (MiB)" "$p_pss" "no chromium" "-" "≤ 200" "$(met "$p_pss <= 200")"
    row "Start to page loaded, warm (ms)" "$p_ms" "no chromium" "-" "< 400" "$(met "$p_ms < 400")"
    row "Start to page loaded, cold (ms)" "$cold_p" "no chromium" "-" "reported" "-"
  fi
fi

# ---- the fake OpenAI server (ask vs curl, DB size) ----
# start_fake URL_FILE: the fake OpenAI server, its base URL written to URL_FILE. The release build,
# rebuilt when stale (cargo's no-op is ~0.3 s): a debug server spends ~40 ms of CPU building a
# 2,000-token reply before its first byte, swinging ±20 ms with the machine, which fell on the
# first-token difference the ask rows measure (+10.9 / +2.6 ms; +2.7 / +0.6 ms with this build).
start_fake() {
  cargo build --quiet --release --example fake-openai >&2
  setsid target/release/examples/fake-openai >"$1" 2>/dev/null &
  started+=("$!")
  for _ in $(seq 100); do [ -s "$1" ] && break; sleep 0.05; done
}
fake_server() {
  start_fake "$scratch/fake.url"
  url=$(cat "$scratch/fake.url")
}
url=""
if ! skip ask || ! skip db; then fake_server; fi

if ! skip ask; then
  log "parley ask vs curl -N (taking turns, $RUNS rounds)"
  body='{"model":"test-tokens-2000-paced-2","messages":[{"role":"user","content":"go"}],"stream":true,"stream_options":{"include_usage":true}}'
  # The same with the key in the keyring, read through the Secret Service's encrypted session (the
  # plain row has no keyring entry, as with a local server or a key from the environment).
  kdata="$scratch/askkeyring"
  PARLEY_DATA_DIR="$kdata" "$PARLEY" profiles add local --base-url "$url" >/dev/null
  PARLEY_DATA_DIR="$kdata" "$PARLEY" profiles default local >/dev/null
  printf sk-bench | PARLEY_DATA_DIR="$kdata" "$PARLEY" key set --profile local >/dev/null
  # curl, parley and parley with the keyring take turns, so a slow minute falls on all three; the
  # ratio and the difference are medians over the rounds (one machine moment each).
  { read -r c_wall c_ttft; read -r a_wall a_ttft a_ratio a_diff; read -r _ k_ttft _ k_diff; } < <(
    "$PY" tests/bench/stream_time.py "$RUNS" \
      -- '"content":"[^"]' curl -N -s -H 'Content-Type: application/json' -d "$body" "$url/chat/completions" \
      -- '\S' env PARLEY_DATA_DIR="$scratch/askdata" OPENAI_API_KEY=sk-bench \
           "$PARLEY" ask --base-url "$url" --model test-tokens-2000-paced-2 go \
      -- '\S' env PARLEY_DATA_DIR="$kdata" "$PARLEY" ask --model test-tokens-2000-paced-2 go)
  row "2,000-token local stream at 2 ms/token, wall (ms, median of $RUNS rounds)" "$a_wall (parley ask)" "$c_wall (curl -N)" \
    "$a_ratio" "≤ 1.02" "$(met "$a_ratio <= 1.02")"
  row "Same stream, time to first token (ms; ratio: median of each round's difference)" "$a_ttft" "$c_ttft (curl -N)" \
    "$a_diff ms" "within 5 ms" "$(met "$a_diff <= 5")"
  row "Same, the key in the keyring (ms)" "$k_ttft" "$c_ttft (curl -N)" \
    "$k_diff ms" "within 5 ms" "$(met "$k_diff <= 5")"
fi

if ! skip db; then
  log "database: 1,000 messages of about 600 characters through parley ask"
  db="$scratch/dbdata"
  # 500 different prompts of 600 characters of made-up words (an index of one repeated text would flatter).
  "$PY" -c "
import random
random.seed(15)
for _ in range(500):
    words, n = [], 0
    while n < 600:
        w = ''.join(random.choice('etaoinshrdlucmfwypvbgk') for _ in range(random.randint(2, 9)))
        words.append(w); n += len(w) + 1
    print(' '.join(words)[:600])" >"$scratch/prompts.txt"
  PARLEY_DATA_DIR="$db" "$PARLEY" conversations list >/dev/null
  empty=$("$PY" - "$db/parley.db" <<'EOF'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.execute("VACUUM"); c.close()
print(os.path.getsize(sys.argv[1]))
EOF
)
  i=0
  while read -r prompt; do
    cont=(); [ $((i++)) -gt 0 ] && cont=(-c)
    PARLEY_DATA_DIR="$db" OPENAI_API_KEY=sk-bench "$PARLEY" ask "${cont[@]}" --base-url "$url" \
      --model test-tokens-100 "$prompt" >/dev/null
  done <"$scratch/prompts.txt"
  read -r raw packed msgs chars < <("$PY" - "$db/parley.db" <<'EOF'
import os, sqlite3, sys
p = sys.argv[1]
c = sqlite3.connect(p); c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
raw = os.path.getsize(p)
n, chars = c.execute("SELECT count(*), avg(length(content)) FROM messages").fetchone()
c.execute("VACUUM"); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()
print(raw, os.path.getsize(p), n, round(chars))
EOF
)
  row "DB bytes per 1,000 messages ($msgs messages, ~$chars chars, after VACUUM)" \
    "$(( (packed - empty) * 1000 / msgs ))" "-" "-" "reported ($(( (raw - empty) * 1000 / msgs )) before VACUUM)" "-"
fi

# ---- in the real webview: the same window binary ($APP), driven through WebDriver ----
# The replies are sent by the page's own code (WebDriver's typing and its calls keep memory of their
# own), and the first sample, like the last, follows a memory release: what stays is what the replies
# left. After each quarter of the replies the bench pauses as a reader does, and the page releases
# memory on its own (ui/js/memory.js); PARLEY_BENCH_RELEASE_BETWEEN=0 sends them back to back.
if ! skip session; then
  log "one window session: $REPLIES streamed replies (e2e; ~12 min for 1,000)"
  PARLEY_E2E_APP="$APP" PARLEY_BENCH_INPAGE=1 PARLEY_BENCH_RELEASE_FIRST=1 PARLEY_BENCH_REPLIES=$REPLIES \
    PARLEY_BENCH_EVERY=$(( REPLIES >= 4 ? REPLIES / 4 : 1 )) \
    tests/run.sh --test e2e bench_session -- --ignored --nocapture >"$scratch/session.log" 2>&1 \
    || log "the session bench failed: $(tail -5 "$scratch/session.log")"
  v() { awk -v k="$1" '$1 == "BENCH" && $2 == k {print $3}' "$scratch/session.log"; }
  first=$(v session_pss_after_first_mib); all=$(v session_pss_after_all_mib); n=$(v session_replies)
  released=$(v session_pss_after_another_release_mib)
  if [ -n "$first" ] && [ -n "$all" ] && [ -n "$released" ]; then
    # PSS is read in MiB; the target is in MB (10^6 bytes): 1 MiB = 1.048576 MB.
    per=$(calc '%.1f' "($released - $first) * 1000 / ($n - 1)")
    per_mb=$(calc '%.1f' "($released - $first) * 1000 / ($n - 1) * 1.048576")
    # The samples between, each after a pause in which the page released on its own: "250: 212.3; …".
    between=$(awk '$1 == "BENCH" && $2 == "session_pss_released_after" {printf "%s%s: %s", sep, $3, $4; sep="; "}' "$scratch/session.log")
    row "Memory over $n streamed replies, one window, a pause every $(( n >= 4 ? n / 4 : 1 )) (MiB PSS, all processes: after the first reply and a release → 5 s after the last → after New chat and a release)" \
      "$first → $all → $released (≈ $per MiB = $per_mb MB per 1,000)${between:+; after a pause at $between}" "-" "-" "< 20 MB per 1,000" "$(met "$per_mb < 20")"
    row "Frame gaps while a reply streams, first reply / last 5 replies: p95, max (ms)" \
      "$(v gap_first_reply_p95_ms), $(v gap_first_reply_max_ms) / $(v gap_last_replies_p95_ms), $(v gap_last_replies_max_ms)" "-" "-" "≤ 50" \
      "$(met "$(v gap_first_reply_max_ms) <= 50 && $(v gap_last_replies_max_ms) <= 50")"
  else
    row "Memory growth / frame gaps over a session" "failed, see log" "-" "-" "< 20 MB, ≤ 50 ms" "no"
  fi
fi

if ! skip long; then
  log "long histories: 10,000 messages, 5,000 conversations (e2e bench_long_history)"
  PARLEY_E2E_APP="$APP" PARLEY_BENCH_SCROLLS=1 \
    tests/run.sh --test e2e bench_long_history -- --ignored --nocapture >"$scratch/long.log" 2>&1 \
    || log "the long-history bench failed: $(tail -5 "$scratch/long.log")"
  read -r open_ms side_ms scroll_p50 scroll_p95 scroll_max web_before web_after home_ms end_ms < <("$PY" - "$scratch/long.log" <<'EOF'
import json, re, statistics, sys
text = open(sys.argv[1], errors="replace").read()
def num(v): return f"{v:.0f}" if isinstance(v, (int, float)) else "?"
m = re.search(r"open a 10,000-message conversation[^:]*: \[([^\]]*)\]", text)
opens = [float(x) for x in m.group(1).split(",")] if m else []
m = re.search(r"sidebar, 5,003 conversations: (\{.*\})", text)
side = json.loads(m.group(1)).get("full", []) if m else []
scrolls = [json.loads(s) for s in re.findall(r"scroll 10,000 messages to the top: (\{.*\})", text)]
gap = lambda k: num(max(s.get(k, 0) for s in scrolls)) if scrolls else "?"
m = re.search(r"Ctrl\+Home / Ctrl\+End in 10,000 messages[^:]*: \[([^\]]*)\] / \[([^\]]*)\]", text)
ends = [statistics.median(float(x) for x in g.split(",")) for g in m.groups()] if m else ["?", "?"]
print(num(statistics.median(opens)) if opens else "?", num(statistics.median(side)) if side else "?",
      gap("p50"), gap("p95"), gap("max"),
      *(m.group(1) if m else "?" for m in (re.search(r"PSS \(web process, app\) MB: \(Some\((\d+)\)", text),
                                          re.search(r"30 s after closing: PSS \(Some\((\d+)\)", text))),
      *(num(e) for e in ends))
EOF
)
  row "Open a 10,000-message conversation to last message painted (ms, median)" "$open_ms" "-" "-" "< 200" \
    "$( [ "$open_ms" != "?" ] && met "$open_ms < 200" || echo "?")"
  row "Ctrl+Home / Ctrl+End in a 10,000-message conversation, key to first / last message painted (ms, median of 5)" \
    "$home_ms / $end_ms" "-" "-" "< 200 (as an open)" \
    "$( [ "$home_ms" != "?" ] && [ "$end_ms" != "?" ] && met "$home_ms < 200 && $end_ms < 200" || echo "?")"
  row "5,000-conversation sidebar paint (ms, median)" "$side_ms" "-" "-" "< 100" \
    "$( [ "$side_ms" != "?" ] && met "$side_ms < 100" || echo "?")"
  row "Web process after ten opens of 10,000-message conversations, 30 s after closing (MiB PSS)" \
    "$web_before → $web_after" "-" "-" "within 20 of the start" \
    "$( [ "$web_after" != "?" ] && [ "$web_before" != "?" ] && met "$web_after - $web_before <= 20" || echo "?")"
  row "Scroll 10,000 messages to the top at 1,500 px a frame, frame gap p50 / p95 / max (ms)" \
    "$scroll_p50 / $scroll_p95 / $scroll_max" "-" "-" "≤ one frame (16.7 ms at 60 Hz)" \
    "$( [ "$scroll_p95" != "?" ] && met "$scroll_p95 <= 17" || echo "?")"
fi

# ---- the evaluation runner: 1,000 cases, a server answering in 50 ms, -j 16; promptfoo alongside ----
# Self-contained (its own fake server, suite and data folder). Wall time against the ideal (cases ×
# latency ÷ concurrency = 3.125 s; target ≤ 1.2x) and peak RSS (`/usr/bin/time -v`, target < 60 MB);
# then the same config through `npx -y promptfoo@0.121` when npm can fetch it, and the ratio.
bench_suites() {
  local dir="$scratch/suites" cases=1000 lat=50 jobs=16 ideal t0 p_wall p_rss pf_wall pf_rss anchor ratio="-"
  mkdir -p "$dir"
  start_fake "$dir/url"
  { echo "q,__expected"; for i in $(seq 0 $((cases - 1))); do echo "question $i,contains: question $i"; done; } >"$dir/tests.csv"
  printf '%s\n' "description: bench" "prompts: ['{{q}}']" "providers:" \
    "  - id: openai:chat:suite-wait-$lat" "    config:" "      apiBaseUrl: $(cat "$dir/url")" \
    "tests: file://tests.csv" >"$dir/promptfooconfig.yaml"
  ideal=$(calc '%.3f' "$cases * $lat / 1000 / $jobs")
  suites_timed() {  # OUT_PREFIX CMD… -> "$1.time" (time -v), wall seconds on stdout
    local out=$1; shift
    t0=$(now_ns)
    /usr/bin/time -v -o "$out.time" "$@" >"$out.out" 2>"$out.err" || true
    calc '%.3f' "($(now_ns) - $t0) / 1e9"
  }
  suites_rss() { awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$1.time"; }
  suites_cpu() { awk -F': ' '/(User|System) time/ {s += $2} END {printf "%.2f", s}' "$1.time"; }
  log "suites: parley eval run, $cases cases at $lat ms, -j $jobs (ideal $ideal s)"
  p_wall=$(suites_timed "$dir/parley" env PARLEY_DATA_DIR="$dir/data" "$PARLEY" eval run "$dir/promptfooconfig.yaml" -j "$jobs" --no-cache)
  p_rss=$(suites_rss "$dir/parley")
  grep -q "$cases/$cases cells" "$dir/parley.out" || log "suites: parley did not finish every cell: $(tail -3 "$dir/parley.err")"
  if command -v npx >/dev/null && npm view promptfoo@0.121 version >/dev/null 2>&1; then
    log "suites: the same config through npx -y promptfoo@0.121 (the first run downloads it)"
    npx -y promptfoo@0.121 --version >/dev/null 2>&1 || true
    pf_wall=$(cd "$dir" && suites_timed "$dir/promptfoo" env OPENAI_API_KEY=sk-bench-not-used \
      PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 \
      npx -y promptfoo@0.121 eval -c "$dir/promptfooconfig.yaml" -j "$jobs" --no-cache --no-write --no-table)
    pf_rss=$(suites_rss "$dir/promptfoo")
    grep -q "1,000 passed" "$dir/promptfoo.out" || log "suites: promptfoo did not pass every case: $(tail -5 "$dir/promptfoo.out")"
    anchor="$pf_wall s = $(calc '%.2f' "$pf_wall / $ideal")x ideal, $pf_rss MB, CPU $(suites_cpu "$dir/promptfoo") s (promptfoo 0.121)"
    ratio="promptfoo/parley wall $(calc '%.2f' "$pf_wall / $p_wall")x"
  else
    anchor="promptfoo not run: npm cannot fetch promptfoo@0.121"
  fi
  row "Evaluation runner: $cases cases, $lat ms each, -j $jobs (wall vs ideal $ideal s; peak RSS)" \
    "$p_wall s = $(calc '%.2f' "$p_wall / $ideal")x ideal, $p_rss MB, CPU $(suites_cpu "$dir/parley") s" "$anchor" "$ratio" "≤ 1.2x, < 60 MB" \
    "$(met "$p_wall / $ideal <= 1.2 && $p_rss < 60")"
}
if ! skip suites; then bench_suites; fi

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "Machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), Xvfb; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "Parley $("$PARLEY" --version 2>/dev/null | head -1); binaries: $(du -h "$APP" | cut -f1) window, $(du -h "$PARLEY" | cut -f1) parley"
echo
echo "| Measure | Parley | Anchor | Ratio | Target | Met |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
