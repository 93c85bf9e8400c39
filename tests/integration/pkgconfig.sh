#!/bin/sh
# A program outside the tree builds with `pkg-config --cflags --libs ksafe`, from the build
# tree (meson's uninstalled .pc) and from an installation (`meson install --destdir`), and
# gets a working, safe producer. The installed header also compiles as C++.
# Usage: pkgconfig.sh BUILD_ROOT SOURCE_ROOT PREFIX LIBDIR SOVERSION [EXTRA_CFLAGS]  (prints TAP)
# EXTRA_CFLAGS is -fsanitize=... in a sanitizer build, whose library needs it.
set -u
build=$1 src=$2 prefix=$3 libdir=$4 soversion=$5 extra=${6:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..8"
cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror"

# The example prints what it did; "10 of 10" delivered, and the acks it enforced.
runs_safely() { # runs_safely PROGRAM N DESCRIPTION
  if "$1" >"$tmp/out" 2>"$tmp/err" && grep -q "10 of 10" "$tmp/out" &&
     grep -q "acks-all" "$tmp/err"; then
    echo "ok $2 - $3"
  else
    echo "not ok $2 - $3: unexpected output:"; sed 's/^/# /' "$tmp/out" "$tmp/err"
  fi
}

export PKG_CONFIG_PATH="$build/meson-uninstalled"
if flags=$(pkg-config --cflags --libs ksafe) &&
   ${CC:-cc} $cflags $extra "$src/examples/safe_producer.c" $flags \
     -Wl,-rpath,"$build/lib" -o "$tmp/safe_producer" 2>"$tmp/cc.log"; then
  echo "ok 1 - examples/safe_producer.c builds with pkg-config ksafe (uninstalled)"
else
  echo "not ok 1 - build failed:"; sed 's/^/# /' "$tmp/cc.log"
  exit 0
fi
runs_safely "$tmp/safe_producer" 2 "it delivers 10 messages and reports the enforced acks"
# A policy that cannot be loaded: no report, errstr says why, exit 1 (no crash).
KSAFE_POLICY="$tmp/no-such-policy.json" "$tmp/safe_producer" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "cannot load the policy" "$tmp/err"; then
  echo "ok 3 - without a policy it fails cleanly (exit 1, errstr printed)"
else
  echo "not ok 3 - exit $rc:"; sed 's/^/# /' "$tmp/out" "$tmp/err"
fi

# Installed into a staging directory, as a package build does. Its .pc names the real
# prefix; pkg-config is told where the staged copy is (rdkafka's .pc, with absolute
# paths, is not affected).
dest="$tmp/dest"
case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac
if meson install -C "$build" --no-rebuild --quiet --destdir "$dest" --tags devel,runtime \
     >"$tmp/install.log" 2>&1 &&
   [ -f "$dest$prefix/include/ksafe.h" ] && [ -f "$dest$libdir/pkgconfig/ksafe.pc" ] &&
   [ -L "$dest$libdir/libksafe.so" ] && [ -e "$dest$libdir/libksafe.so.$soversion" ]; then
  echo "ok 4 - meson install puts ksafe.h, ksafe.pc and libksafe.so.$soversion in place"
else
  echo "not ok 4 - install incomplete:"; sed 's/^/# /' "$tmp/install.log"
  find "$dest" | sed 's/^/# /'
  exit 0
fi
export PKG_CONFIG_PATH="$dest$libdir/pkgconfig"
if flags=$(pkg-config --define-variable=prefix="$dest$prefix" --cflags --libs ksafe) &&
   ${CC:-cc} $cflags $extra "$src/examples/safe_producer.c" $flags \
     -Wl,-rpath,"$dest$libdir" -o "$tmp/installed_producer" 2>"$tmp/cc.log"; then
  echo "ok 5 - examples/safe_producer.c builds with the installed ksafe.pc"
else
  echo "not ok 5 - build failed ($flags):"; sed 's/^/# /' "$tmp/cc.log"
  exit 0
fi
needed=$(readelf -d "$tmp/installed_producer" | sed -n 's/.*(NEEDED).*\[\(libksafe[^]]*\)\]/\1/p')
if [ "$needed" = "libksafe.so.$soversion" ]; then
  echo "ok 6 - the program needs libksafe.so.$soversion, the soname"
else
  echo "not ok 6 - the program needs '$needed'"
fi
runs_safely "$tmp/installed_producer" 7 "linked to the installed library, it delivers and enforces"

# C++ programs include the same header (extern "C", the attributes, the _INIT macros).
cxx=${CXX:-c++}
if ! command -v "$cxx" >/dev/null; then
  echo "ok 8 # SKIP no C++ compiler"
  exit 0
fi
cat >"$tmp/app.cc" <<'EOF'
#include <ksafe.h>
int main()
{
        ksafe_config_options_t options = KSAFE_CONFIG_OPTIONS_INIT;
        ksafe_error_t err;
        ksafe_policy_t *policy = ksafe_policy_default();
        bool ok = policy && ksafe_version() == KSAFE_VERSION;
        ksafe_policy_destroy(policy);
        (void)options;
        (void)err;
        return ok ? 0 : 1;
}
EOF
flags=$(pkg-config --define-variable=prefix="$dest$prefix" --cflags --libs ksafe)
if $cxx -std=c++11 -Wall -Wextra -Wpedantic -Werror $extra "$tmp/app.cc" $flags \
     -Wl,-rpath,"$dest$libdir" -o "$tmp/app" 2>"$tmp/cc.log" && "$tmp/app"; then
  echo "ok 8 - a C++ program includes ksafe.h, links and runs"
else
  echo "not ok 8 - C++ build or run failed:"; sed 's/^/# /' "$tmp/cc.log"
fi
