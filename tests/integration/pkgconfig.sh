#!/bin/sh
# A program outside the tree builds with `pkg-config --cflags --libs ksafe`
# (meson's uninstalled .pc) and gets a working, safe producer.
# Usage: pkgconfig.sh BUILD_ROOT SOURCE_ROOT [EXTRA_CFLAGS]   (prints TAP)
# EXTRA_CFLAGS is -fsanitize=... in a sanitizer build, whose library needs it.
set -u
build=$1 src=$2 extra=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..3"
export PKG_CONFIG_PATH="$build/meson-uninstalled"
if flags=$(pkg-config --cflags --libs ksafe) &&
   ${CC:-cc} -std=c11 -Wall -Wextra -Werror $extra "$src/examples/safe_producer.c" $flags \
     -Wl,-rpath,"$build/lib" -o "$tmp/safe_producer" 2>"$tmp/cc.log"; then
  echo "ok 1 - examples/safe_producer.c builds with pkg-config ksafe"
else
  echo "not ok 1 - build failed:"; sed 's/^/# /' "$tmp/cc.log"
  exit 0
fi
if "$tmp/safe_producer" >"$tmp/out" 2>"$tmp/err" && grep -q "10 of 10" "$tmp/out" &&
   grep -q "acks-all" "$tmp/err"; then
  echo "ok 2 - it delivers 10 messages and reports the enforced acks"
else
  echo "not ok 2 - unexpected output:"; sed 's/^/# /' "$tmp/out" "$tmp/err"
fi
# A policy that cannot be loaded: no report, errstr says why, exit 1 (no crash).
KSAFE_POLICY="$tmp/no-such-policy.json" "$tmp/safe_producer" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "cannot load the policy" "$tmp/err"; then
  echo "ok 3 - without a policy it fails cleanly (exit 1, errstr printed)"
else
  echo "not ok 3 - exit $rc:"; sed 's/^/# /' "$tmp/out" "$tmp/err"
fi
