#!/bin/sh
# The C sources are formatted as .clang-format says (clang-format 14): any
# difference fails, with the diff. Fix with: clang-format -i FILE...
#
# Usage: clang-format.sh SOURCE_ROOT [CLANG_FORMAT]
# The directories checked are listed here, explicitly: every directory of C sources.
root=${1:?usage: clang-format.sh SOURCE_ROOT [CLANG_FORMAT]}
cf=${2:-clang-format}
DIRS="include lib tools tests/unit tests/integration tests/plugin tests/bench tests/fuzz tests/verify tests/race"
FILES="tests/common.h"
# Files not to check (none today).
SKIP=""

cd "$root" || exit 1
if ! command -v "$cf" >/dev/null 2>&1; then
        echo "1..0 # SKIP $cf not installed"
        exit 0
fi
list=$(for d in $DIRS; do find "$d" -maxdepth 1 -name '*.[ch]'; done | sort; echo "$FILES")
for f in $SKIP; do list=$(echo "$list" | grep -vxF "$f"); done
n=$(echo "$list" | wc -w)
# One clang-format for every file (fast); a diff for each file it names.
# shellcheck disable=SC2086
bad=$("$cf" --style=file --dry-run $list 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: .*code should be clang-formatted.*/\1/p' | sort -u)
echo "1..$n"
i=0
failed=0
for f in $list; do
        i=$((i + 1))
        if ! echo "$bad" | grep -qxF "$f"; then
                echo "ok $i - $f"
                continue
        fi
        echo "not ok $i - $f is not formatted (clang-format -i $f)"
        "$cf" --style=file "$f" | diff -u "$f" - | head -40 | sed 's/^/# /'
        failed=1
done
exit $failed
