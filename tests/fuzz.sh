#!/bin/sh
# Runs every cargo-fuzz target of fuzz/ for a bounded time (not in CI), one at a time, at low
# priority. Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Built without a
# sanitizer (the code under test is safe Rust; SQLite is bundled) but with debug assertions, so
# overflows count as crashes. Crashes land in fuzz/artifacts/<target>/; keep each as a regression
# test next to the code it broke (see `fuzz_regressions` tests in parley-core).
# Usage: tests/fuzz.sh [seconds per target, default 300] [target…]
set -eu
cd "$(dirname "$0")/../fuzz"
secs=${1:-300}
[ $# -gt 0 ] && shift
targets=${*:-"sse responses_stream parley_import chatgpt_import prompt_import suite_config variables"}
for t in $targets; do
    echo "fuzz: $t for ${secs}s"
    mkdir -p "corpus/$t"
    seeds="seeds/$t"
    [ -d "$seeds" ] || seeds=""
    nice -n 19 cargo +nightly fuzz run -s none -a "$t" "corpus/$t" $seeds -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=20
done
