#!/bin/bash
# ksafe's Debian packages, built, judged and used (tools/test's "deb" leg):
#  1. dpkg-buildpackage -us -uc -b from a copy of the source tree (what git tracks or would
#     track: uncommitted changes included, build directories not);
#  2. lintian on the result: no error and no warning (the ones that this packaging causes on
#     purpose are overridden in debian/*.lintian-overrides, each with its reason);
#  3. what is in each package: the plugin's libksafe.so link in libksafe1, ksafe-verify in
#     ksafe-tools when the tree builds it, no /etc/ksafe/policy.json shipped;
#  4. apt-get install ./libksafe1_*.deb alone: kcat and python3 load plugin.library.paths=libksafe
#     with no path and no LD_LIBRARY_PATH;
#  5. apt-get install the rest, then tests/deb/installed.sh (also debian/tests' autopkgtest):
#     the example built with pkg-config, ksafe-lint on /usr/share/ksafe, the plugin, the
#     system policy;
#  6. apt-get purge: the machine is as it was, also when a step fails (trap);
#  7. meson dist: the tarball holds every file git tracks, and it configures with the tests.
#
#   tests/deb/test_deb.sh SOURCE_ROOT      TAP on stdout; needs root, dpkg-dev, debhelper,
#                                          lintian (tools/setup.sh installs them for the leg)
set -uo pipefail

src=$(cd "${1:?usage: test_deb.sh SOURCE_ROOT}" && pwd)
PACKAGES=(libksafe1 libksafe-dev ksafe-tools)

# shellcheck source-path=SCRIPTDIR source=tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
bail() { echo "Bail out! $*"; exit 1; }
installed() { dpkg-query -W -f '${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

[ "$(id -u)" -eq 0 ] || bail "needs root (apt-get install, /etc/ksafe)"
for tool in dpkg-buildpackage dh lintian apt-get; do
    command -v "$tool" >/dev/null || bail "$tool is missing (tools/setup.sh installs it for the deb leg)"
done
for p in "${PACKAGES[@]}"; do
    state=$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null)
    if [ -n "$state" ] && [[ $state != un* ]]; then
        bail "$p is already on this machine ($state): not touching it (apt-get purge ${PACKAGES[*]})"
    fi
done

work=$(mktemp -d /tmp/ksafe-deb.XXXXXX)
we_installed=false
cleanup() {
    if $we_installed; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${PACKAGES[@]}" >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Build, from a copy: dpkg-buildpackage writes its .debs into the parent directory.
mkdir "$work/src"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 cp -P --parents -t "$work/src" 2>/dev/null)
start=$SECONDS
out=$(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b 2>&1)
check "dpkg-buildpackage -us -uc -b ($((SECONDS - start)) s)" $? "$out"
shopt -s nullglob
debs=("$work"/*.deb)
shopt -u nullglob
for p in "${PACKAGES[@]}"; do
    [ -f "$(echo "$work/${p}_"*.deb)" ]
    check "built $p" $? "$(ls "$work")"
done
if [ "$failed" -gt 0 ]; then echo "1..$n"; exit 1; fi
deb() { echo "$work/${1}_"*.deb; }

# 2. lintian: errors and warnings both fail (info and pedantic tags are only shown).
start=$SECONDS
out=$(lintian --fail-on error,warning --display-info "$work"/*.changes 2>&1)
status=$?
check "lintian: no error, no warning ($((SECONDS - start)) s)" $status "$out"
out=$(grep -v -e '^N:' -e 'running with root privileges' <<<"$out")
if [ -n "$out" ]; then printf '%s\n' "$out" | sed 's/^/# lintian: /'; fi

# 3. Contents.
contents() { dpkg-deb -c "$(deb "$1")" | awk '{ print $6, $7, $8 }'; }
out=$(contents libksafe1)
grep -Eq '^\./usr/lib/[^/]+/libksafe\.so -> libksafe\.so\.1$' <<<"$out"
check "libksafe1 ships the plugin's name, libksafe.so -> libksafe.so.1" $? "$out"
grep -Eq '^\./usr/lib/[^/]+/libksafe\.so\.1\.[0-9.]+ *$' <<<"$out"
check "libksafe1 ships libksafe.so.1 (the soname)" $? "$out"
! grep -q '/etc/' <<<"$out$(contents ksafe-tools)$(contents libksafe-dev)"
check "no package ships anything in /etc (the system policy is the administrator's)" $?
out=$(contents libksafe-dev)
grep -q 'usr/include/ksafe.h' <<<"$out" && grep -q 'pkgconfig/ksafe.pc' <<<"$out" &&
    grep -q 'libksafe.a' <<<"$out"
check "libksafe-dev ships ksafe.h, ksafe.pc and libksafe.a" $? "$out"
out=$(contents ksafe-tools)
grep -q '^\./usr/bin/ksafe-lint ' <<<"$out" && grep -q 'usr/share/ksafe/policy.schema.json' <<<"$out" &&
    grep -q 'usr/share/man/man1/ksafe-lint.1' <<<"$out"
check "ksafe-tools ships ksafe-lint, its manual page and /usr/share/ksafe" $? "$out"
if grep -q "'ksafe-verify'" "$src/tools/meson.build"; then
    grep -q '^\./usr/bin/ksafe-verify ' <<<"$out"
    check "ksafe-tools ships ksafe-verify (the tree builds it)" $? "$out"
fi
out=$(dpkg-deb -f "$(deb ksafe-tools)" Depends)
grep -Eq 'libksafe1 \(>= [0-9.]+\)' <<<"$out"
check "ksafe-tools depends on libksafe1 by the symbols file: $out" $? "$out"

# 4. The runtime package alone: the plugin is found by its bare name.
export DEBIAN_FRONTEND=noninteractive
we_installed=true
out=$(apt-get install -y -q --no-install-recommends "$(deb libksafe1)" 2>&1)
check "apt-get install ./$(basename "$(deb libksafe1)")" $? "$out"
cd "$work" || bail "cd $work"
if command -v kcat >/dev/null; then
    out=$(env -u LD_LIBRARY_PATH -u KSAFE_POLICY -u KSAFE_ENV kcat -X plugin.library.paths=libksafe \
        -X enable.idempotence=false -P -b localhost:1 -X test.mock.num.brokers=1 -t t </dev/null 2>&1)
    status=$?
    [ "$status" -ne 0 ] && [[ $out == *"ksafe: policy builtin:default (no environment) refuses enable.idempotence=false"* ]]
    check "libksafe1 alone: kcat -X plugin.library.paths=libksafe refuses enable.idempotence=false" $? "$out"
fi
if /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null; then
    out=$(env -u LD_LIBRARY_PATH -u KSAFE_POLICY -u KSAFE_ENV /usr/bin/python3 -c '
import confluent_kafka as ck
try:
    ck.Producer({"plugin.library.paths": "libksafe", "test.mock.num.brokers": 1, "acks": "1"})
    print("created")
except ck.KafkaException as e:
    print(e.args[0].str())' 2>&1)
    [[ $out == *"ksafe: policy builtin:default (no environment) refuses acks=1"* ]]
    check "libksafe1 alone: python3 Producer({plugin.library.paths: libksafe, acks: 1}) is refused" $? "$out"
fi

# 5. Everything, used from outside the source tree.
out=$(apt-get install -y -q --no-install-recommends "${debs[@]}" 2>&1)
check "apt-get install ./*.deb" $? "$out"
out=$(env -u LD_LIBRARY_PATH "$src/tests/deb/installed.sh" 2>&1)
status=$?
printf '%s\n' "$out" | sed 's/^/#   /'
check "tests/deb/installed.sh on the installed packages (its TAP above)" $status

# 6. Purge: nothing of ksafe is left on the machine.
out=$(apt-get purge -y -q "${PACKAGES[@]}" 2>&1)
check "apt-get purge -y ${PACKAGES[*]}" $? "$out"
we_installed=false
left=""
for p in "${PACKAGES[@]}"; do if installed "$p"; then left+=" $p"; fi; done
files=()
for f in /usr/lib/*/libksafe.* /usr/include/ksafe.h /usr/bin/ksafe-lint /usr/share/ksafe \
    /etc/ksafe/policy.json; do
    if [ -e "$f" ] || [ -L "$f" ]; then files+=("$f"); fi
done
[ -z "$left" ] && [ ${#files[@]} -eq 0 ]
check "the machine is as it was (no package, no file of ksafe left)" $? "$left ${files[*]}"

# 7. meson dist: the release tarball holds what the build needs.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    out=$( (meson setup "$work/dist-build" "$src" -Dtests=disabled &&
        meson dist -C "$work/dist-build" --no-tests --allow-dirty --formats xztar) 2>&1)
    check "meson dist --no-tests --formats xztar" $? "$out"
    tarball=$(echo "$work"/dist-build/meson-dist/ksafe-*.tar.xz)
    if [ -f "$tarball" ]; then
        top=$(basename "$tarball" .tar.xz)
        missing=$(comm -23 <(git -C "$src" ls-files | sort) \
            <(tar -tJf "$tarball" | sed "s|^$top/||" | sort))
        [ -z "$missing" ]
        check "the tarball holds every file git tracks (conf/, tests/data/, debian/ ...)" $? "$missing"
        mkdir "$work/dist" && tar -xJf "$tarball" -C "$work/dist"
        out=$(meson setup "$work/dist-setup" "$work/dist/$top" -Dtests=enabled 2>&1)
        check "the tarball configures with its tests (every file meson names is there)" $? "$out"
    fi
fi

tap_end
