# shellcheck shell=bash
# Sourced by tools/test and tools/run: installs the Debian packages the build and the CI
# matrix need (only those missing), then configures and compiles ksafe.
# Sets BUILD, the build directory: $KSAFE_BUILDDIR, else "build" (relative to the repo root),
# and defines configure(). With SETUP_BUILD=false (tools/test --matrix) it configures and
# compiles nothing: each leg has its own build directory.

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
# What only the test suites use (tools/run sets SETUP_TESTS=false: a newcomer's first run
# installs no test client).
if [ "${SETUP_TESTS:-true}" = true ]; then
    need clang-format   command -v clang-format
    # tests/cli/test_formats.py: xmllint validates JUnit and Checkstyle against their XSDs, and
    # junitparser reads JUnit back (Debian installs it for /usr/bin/python3).
    need libxml2-utils  command -v xmllint
    # tests/cli/test_stream.py: GNU time measures ksafe-lint's peak memory.
    need time           test -x /usr/bin/time
    need python3-junitparser sh -c 'python3 -c "import junitparser" || /usr/bin/python3 -c "import junitparser"'
    # The plugin suite's real clients (tests/plugin/test_plugin.py): kcat, Python's client and
    # rsyslog's omkafka, all on the same librdkafka.
    need kcat           command -v kcat
    need python3-confluent-kafka /usr/bin/python3 -c "import confluent_kafka"
    need rsyslog-kafka  compgen -G "/usr/lib/*/rsyslog/omkafka.so"
fi
# The CI matrix only (tools/test --matrix sets SETUP_MATRIX=true): clang, its sanitizer
# and libFuzzer runtimes, and llvm-symbolizer for readable sanitizer stacks; expat, with
# which the lint fuzz target checks that JUnit output is well-formed XML. tools/run and a
# plain tools/test do without them.
if [ "${SETUP_MATRIX:-false}" = true ]; then
    need clang          command -v clang
    need libclang-rt-14-dev compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a"
    need llvm-14        command -v llvm-symbolizer-14
    need libexpat1-dev  pkg-config --exists expat
fi
# tools/test's deb leg only (SETUP_DEB=true): what builds and judges the Debian packages.
if [ "${SETUP_DEB:-false}" = true ]; then
    need dpkg-dev       command -v dpkg-buildpackage
    need debhelper      command -v dh
    need lintian        command -v lintian
fi
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

# configure DIR [CC [MESON-SETUP-OPTIONS...]]: set up (or reconfigure) the build in DIR,
# with the C compiler CC when it is made (a build directory keeps its compiler).
configure() {
    local dir=$1 cc=${2:-}
    shift $(($# < 2 ? $# : 2))
    if [ -f "$dir/meson-private/coredata.dat" ]; then
        meson setup --reconfigure "$dir" "$@"
    elif [ -n "$cc" ]; then
        CC=$cc meson setup "$dir" "$@"
    else
        meson setup "$dir" "$@"
    fi
}

# The libFuzzer build (tools/test's fuzz leg, tools/fuzz): clang, ASan and UBSan.
# shellcheck disable=SC2034 # used by the scripts that source this
FUZZ_BUILD=build-fuzz
# shellcheck disable=SC2034,SC2054 # the same; the comma is in the value
FUZZ_OPTIONS=(-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false
              -Dc_args=-fno-sanitize-recover=all)

if [ "${SETUP_BUILD:-true}" != false ]; then
    configure "$BUILD"
    meson compile -C "$BUILD"
fi
