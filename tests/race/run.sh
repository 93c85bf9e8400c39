#!/bin/bash
# The thread-safety check: ksafe built with ThreadSanitizer (build-tsan/, clang), then
#   - the C programs that call ksafe from several threads: tests/integration/test_race.c
#     (the facade and the plugin from 6 threads, first use included), test_config's
#     threads case, test_producer, test_cache, test_plugin_c;
#   - ksafe-lint -j 2 and -j 4 over 2,000 of the bench's small configs and over tests/data,
#     in every output format, each compared byte for byte (stdout, stderr, exit status) with
#     -j 1; unreadable inputs in the middle of a run; --fix -j 4 on copies.
# Any report of ThreadSanitizer fails the check (it exits 66 then). Prints TAP, and
# "N passed, M failed" last; exit 0 only when nothing failed. About two minutes on 2 cores.
#
# Not helgrind: valgrind 3.19's helgrind does not model C11 atomics, so every reader of what
# ksafe publishes once per process with release/acquire (lib/props.c's table, lib/view.c's
# facts) looks racy to it, and it flags librdkafka's signals made without the lock held.
#
# librdkafka itself is not instrumented. Debian's 2.0.2 makes its threads and locks with
# glibc's C11 calls (thrd_create, mtx_lock), which neither TSan nor helgrind intercepts:
# tests/race/c11threads.c, preloaded, routes them through pthread_* so that TSan sees
# librdkafka's threads and locks. tests/race/tsan.supp names the one race reported inside
# librdkafka alone (no ksafe frame), and why.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-tsan
work=$(mktemp -d /tmp/ksafe-race-XXXXXX)
trap 'rm -rf "$work"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check NAME COMMAND...: ok when it exits 0
    local name=$1
    shift
    if "$@" >"$work/out" 2>&1; then ok "$name"; else
        not_ok "$name"
        sed -n '1,60p' "$work/out" | sed 's/^/# /'
    fi
}

# The build.
if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" "$root" -Db_sanitize=thread -Db_lundef=false \
        --buildtype=debug >"$work/setup" 2>&1 || { cat "$work/setup"; exit 1; }
fi
meson compile -C "$build" >"$work/compile" 2>&1 || { tail -n 40 "$work/compile"; exit 1; }
shim=$build/race-c11threads.so
cc -std=c11 -O1 -fPIC -shared -o "$shim" "$root/tests/race/c11threads.c" -lpthread ||
    exit 1

export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4"
TSAN_OPTIONS+=" suppressions=$root/tests/race/tsan.supp"
export CK_TAP_LOG_FILE_NAME=- CK_VERBOSITY=silent KSAFE_POLICY='' KSAFE_ENV=''
export KSAFE_TEST_DATA=$root/tests/data KSAFE_SOURCE_ROOT=$root
export KSAFE_PLUGIN_PATH=$build/lib/libksafe.so
run() { # the program under TSan, with the shim
    LD_PRELOAD=$shim "$@"
}

# 1. The C programs. Check forks a process per test (each a first use of everything
#    built once per process); CK_FORK=no runs them in one, the first test first.
tests=$build/tests
for fork in yes no; do
    CK_FORK=$fork check "test_race (CK_FORK=$fork)" run "$tests/test_race"
done
export CK_FORK=no
CK_RUN_CASE=threads check "test_config, its threads case" run "$tests/test_config"
check "test_producer" run "$tests/test_producer"
check "test_cache" run "$tests/test_cache"
check "test_plugin_c" run "$tests/test_plugin_c"

# 2. ksafe-lint: -j N says what -j 1 says, byte for byte.
lint=$build/tools/ksafe-lint
files=$HOME/.cache/ksafe/bench/inputs/files-10000
many=()
if [ -d "$files" ]; then
    mapfile -t many < <(find "$files" -maxdepth 1 -name '*.json' | sort | head -n 2000)
else
    # No bench inputs (tools/bench makes them): 2,000 small configs of our own.
    mkdir -p "$work/many"
    for i in $(seq -w 0 1999); do
        printf '{"acks": "%d", "linger.ms": %d, "client.id": "c%s"}\n' \
            $((i % 3 - 1)) $((i % 7)) "$i" >"$work/many/$i.json"
    done
    mapfile -t many < <(find "$work/many" -name '*.json' | sort)
fi
# Unreadable inputs in the middle: a dangling link, a missing name, a file over the size cap.
mkdir -p "$work/bad"
ln -s "$work/bad/nowhere" "$work/bad/dangling.json"
truncate -s 17M "$work/bad/huge.json"
mixed=("${many[@]:0:30}" "$work/bad/dangling.json" "${many[@]:30:30}" "$work/bad/missing.json"
       "${many[@]:60:30}" "$work/bad/huge.json" "${many[@]:90:30}")

same_as_one() { # same_as_one NAME JOBS ARGS...: -j JOBS against -j 1
    local name=$1 jobs=$2
    shift 2
    (cd "$work" && run "$lint" -j 1 "$@" >one.out 2>one.err; echo $? >one.rc)
    (cd "$work" && run "$lint" -j "$jobs" "$@" >many.out 2>many.err; echo $? >many.rc)
    if grep -q "ThreadSanitizer" "$work/one.err" \
            "$work/many.err"; then
        not_ok "$name: ThreadSanitizer reports"
        grep -h -A30 "WARNING: ThreadSanitizer" "$work/many.err" \
            "$work/one.err" | head -n 60 | sed 's/^/# /'
    elif ! cmp -s "$work/one.rc" "$work/many.rc" || ! cmp -s "$work/one.out" "$work/many.out" ||
            ! cmp -s "$work/one.err" "$work/many.err"; then
        not_ok "$name: -j $jobs differs from -j 1 (exit $(cat "$work/one.rc") vs $(cat "$work/many.rc"))"
        diff "$work/one.out" "$work/many.out" | head -n 10 | sed 's/^/# /'
        diff "$work/one.err" "$work/many.err" | head -n 10 | sed 's/^/# /'
    else
        ok "$name (exit $(cat "$work/many.rc"))"
    fi
}

formats=(text json sarif junit gitlab checkstyle github)
for f in text json sarif; do
    for j in 2 4; do
        same_as_one "2,000 configs, -f $f -j $j" $j -p builtin:default -f "$f" "${many[@]}"
    done
done
for f in "${formats[@]}"; do
    same_as_one "tests/data, -f $f -j 4" 4 -f "$f" "$root/tests/data"
done
for f in text json; do
    same_as_one "unreadable inputs in the middle, -f $f -j 4" 4 -f "$f" "${mixed[@]}"
done
same_as_one "--effective -j 4" 4 --effective -q "${many[@]:0:200}"

# Two names of one stream ("-" and /dev/stdin of a pipe): -j N as -j 1 (tests/cli/test_jobs.py).
check "tests/cli/test_jobs.py" python3 "$root/tests/cli/test_jobs.py" "$lint"

# 3. --fix -j 4 on copies: what -j 1 writes and says, in files and output alike.
mkdir -p "$work/fix1" "$work/fix4"
cp "$root"/tests/data/configs/* "$work/fix1/" 2>/dev/null
cp "$root"/tests/data/configs/* "$work/fix4/" 2>/dev/null
(cd "$work/fix1" && run "$lint" --fix -j 1 . >../fix1.out 2>../fix1.err; echo $? >../fix1.rc)
(cd "$work/fix4" && run "$lint" --fix -j 4 . >../fix4.out 2>../fix4.err; echo $? >../fix4.rc)
if grep -q "ThreadSanitizer" "$work/fix4.err"; then
    not_ok "--fix -j 4: ThreadSanitizer reports"
elif diff -r "$work/fix1" "$work/fix4" >/dev/null && cmp -s "$work/fix1.out" "$work/fix4.out" &&
        cmp -s "$work/fix1.err" "$work/fix4.err" && cmp -s "$work/fix1.rc" "$work/fix4.rc"; then
    ok "--fix -j 4 on copies of tests/data/configs"
else
    not_ok "--fix -j 4 differs from -j 1"
fi

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
