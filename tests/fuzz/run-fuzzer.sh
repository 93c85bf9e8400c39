#!/bin/sh
# Run one libFuzzer target for a bounded time (tests/meson.build's suite
# "libfuzzer", and tools/fuzz):
#   run-fuzzer.sh FUZZER WORKDIR SECONDS DICT SEED_DIR... [-- LIBFUZZER_ARGS...]
# New inputs go to WORKDIR/corpus (the seed directories are only read), a
# crash, a leak, a broken invariant or a slow input (over 25 s) to
# WORKDIR/crashes/, and the exit status is libFuzzer's: 0 when nothing was found, 1 for a
# finding, 70 for a slow input (never 77, which meson reads as a skipped test).
set -eu
fuzzer=$1 work=$2 seconds=$3 dict=$4
shift 4
seeds=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    # A seed directory that does not exist (no regression input yet) is skipped.
    if [ -d "$1" ]; then seeds="$seeds $1"; fi
    shift
done
[ $# -gt 0 ] && shift
mkdir -p "$work/corpus" "$work/crashes"
# shellcheck disable=SC2086 # one word per seed directory (no blanks in them)
exec "$fuzzer" -max_total_time="$seconds" -timeout=25 -error_exitcode=1 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$dict" -artifact_prefix="$work/crashes/" "$@" \
    "$work/corpus" $seeds
