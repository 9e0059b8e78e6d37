#!/bin/sh
# Runs every cargo-fuzz target of fuzz/ for a bounded time (not in CI). Needs a nightly toolchain
# and cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in fuzz/artifacts/<target>/; keep each
# as a regression test next to the code it broke.
# Usage: tests/fuzz.sh [seconds per target, default 300] [target…]
set -eu
cd "$(dirname "$0")/../fuzz"
secs=${1:-300}
[ $# -gt 0 ] && shift
targets=${*:-"sse prompt_import variables"}
for t in $targets; do
    echo "fuzz: $t for ${secs}s"
    cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048
done
