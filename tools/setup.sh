# shellcheck shell=bash
# Sourced by tools/test and tools/run: installs the Debian packages the build needs
# (only those missing), then configures and compiles ksafe.
# Sets BUILD, the build directory: $KSAFE_BUILDDIR, else "build" (relative to the repo root).

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
BUILD=${KSAFE_BUILDDIR:-build}

# need PACKAGE PROBE...: PACKAGE is missing when PROBE fails.
missing=""
need() { "${@:2}" >/dev/null 2>&1 || missing+="${missing:+ }$1"; }
need gcc            command -v gcc
need pkg-config     command -v pkg-config
need meson          command -v meson
need ninja-build    command -v ninja
need valgrind       command -v valgrind
need librdkafka-dev pkg-config --exists rdkafka
need libjansson-dev pkg-config --exists jansson
need check          pkg-config --exists check
need python3-jsonschema python3 -c "import jsonschema"
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "${0##*/}: missing packages: $missing" >&2
        echo "${0##*/}: run as root, or: sudo apt-get install $missing" >&2
        exit 2
    fi
    echo "${0##*/}: installing $missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y --no-install-recommends $missing
fi

if [ -f "$BUILD/meson-private/coredata.dat" ]; then
    meson setup --reconfigure "$BUILD"
else
    meson setup "$BUILD"
fi
meson compile -C "$BUILD"
