# shellcheck shell=bash
# TAP for the packaging scripts (sourced): check DESCRIPTION STATUS [DETAIL] prints one
# "ok N"/"not ok N" line, and under a failure the last 40 lines of DETAIL as comments;
# tap_end prints the plan and returns 1 when any check failed.
n=0 failed=0
check() {
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then
        echo "ok $n - $1"
    else
        failed=$((failed + 1))
        echo "not ok $n - $1"
        if [ -n "${3:-}" ]; then printf '%s\n' "$3" | tail -n 40 | sed 's/^/#   /'; fi
    fi
}
tap_end() {
    echo "1..$n"
    [ "$failed" -eq 0 ]
}
