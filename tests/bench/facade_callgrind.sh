#!/bin/bash
# Instructions per create, counted by callgrind: what ksafe_producer_new() costs
# next to a bare rd_kafka_new() + rd_kafka_destroy(), whatever else the machine runs.
#
#   tests/bench/facade_callgrind.sh [BUILD_DIR [POLICY [ROUNDS]]]
#
# For each mode of `bench_facade one` (bare, null: policy NULL with KSAFE_POLICY naming
# POLICY, loaded: POLICY loaded once; enforce: ksafe_conf_enforce() alone), the whole
# process (every thread) is counted twice, with 1 and with 1 + ROUNDS operations: the
# difference over ROUNDS is one operation, without the process's start-up and first-use
# setup. Prints "mode instructions ratio-to-bare", one line each.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
policy=${2:-$here/../../conf/policies/default.json}
rounds=${3:-10}
bench=$build/tests/bench_facade
[ -x "$bench" ] || { echo "facade_callgrind: no $bench (meson compile -C $build)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "facade_callgrind: valgrind is not installed" >&2; exit 2; }
policy=$(cd "$(dirname "$policy")" && pwd)/$(basename "$policy")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions of `bench_facade one MODE N POLICY`, every thread.
count() {
    KSAFE_POLICY=$policy KSAFE_ENV='' valgrind --tool=callgrind \
        --callgrind-out-file="$tmp/out.%p" "$bench" one "$1" "$2" "$policy" 2>"$tmp/log" >/dev/null ||
        { cat "$tmp/log" >&2; exit 1; }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/log"
}

bare=""
printf '%-8s %12s %8s\n' mode instructions x-bare
for mode in bare null loaded enforce; do
    one=$(count "$mode" 1)
    many=$(count "$mode" $((rounds + 1)))
    per=$(((many - one) / rounds))
    [ -n "$bare" ] || bare=$per
    printf '%-8s %12d %8s\n' "$mode" "$per" "$(awk -v a="$per" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')"
done
