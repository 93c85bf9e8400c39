#!/bin/sh
# The shared library exports exactly the functions that ksafe.h declares.
# Usage: exported_symbols.sh LIBKSAFE.so ksafe.h   (prints TAP)
set -eu
lib=$1 header=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort >"$tmp/exported"
{ grep -o 'ksafe_[a-z_]*(' "$header" | tr -d '('; echo conf_init; } | sort -u >"$tmp/declared"
echo "1..2"
if extra=$(comm -23 "$tmp/exported" "$tmp/declared") && [ -z "$extra" ]; then
  echo "ok 1 - no symbol exported beyond the header"
else
  echo "not ok 1 - exported but not declared: $extra"
fi
if missing=$(comm -13 "$tmp/exported" "$tmp/declared") && [ -z "$missing" ]; then
  echo "ok 2 - every declared function is exported"
else
  echo "not ok 2 - declared but not exported: $missing"
fi
