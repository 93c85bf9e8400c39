#!/bin/bash
# One release number everywhere it is written (README.md, "Releases and rev:"): the version
# in meson.build is the upstream version of debian/changelog's newest entry and the version of
# NEWS's newest entry, and the tag vVERSION is what the README's pre-commit `rev:`, the
# README's and action.yml's `uses: ksafe/ksafe@` and NEWS name.
#
#   tests/deb/release.sh SOURCE_ROOT VERSION SOVERSION     TAP on stdout
set -uo pipefail

root=${1:?usage: release.sh SOURCE_ROOT VERSION SOVERSION}
version=${2:?} soversion=${3:?}
tag=v$version

# shellcheck source-path=SCRIPTDIR source=tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# debian/changelog: "ksafe (VERSION-REVISION) DIST; urgency=..." on its first line.
got=$(sed -n '1s/^ksafe (\([^)-]*\)-[^)]*).*/\1/p' "$root/debian/changelog")
[ "$got" = "$version" ]
check "debian/changelog's newest entry is $version (got '$got')" $?

# NEWS: the first "ksafe X.Y.Z (...)" heading.
heading=$(grep -m1 -E '^ksafe [0-9]+\.[0-9]+\.[0-9]+ ' "$root/NEWS")
[[ $heading == "ksafe $version "* ]] && [[ $heading == *"$tag"* ]]
check "NEWS's newest entry is $version, tagged $tag: '$heading'" $?

# The refs that users copy.
refs=$(grep -hoE '(rev: v[0-9][0-9.]*|ksafe/ksafe@v[0-9][0-9.]*)' "$root/README.md" \
    "$root/action.yml" | sort -u)
[ -n "$refs" ] && ! grep -qv -e "rev: $tag\$" -e "ksafe/ksafe@$tag\$" <<<"$refs"
check "README.md's rev: and uses: ksafe/ksafe@ (and action.yml's) name $tag" $? "$refs"

# The soname names the runtime package, and the symbols file is for that soname.
grep -q "^Package: libksafe$soversion\$" "$root/debian/control"
check "debian/control's runtime package is libksafe$soversion (soname libksafe.so.$soversion)" $?
head -n1 "$root/debian/libksafe$soversion.symbols" 2>/dev/null |
    grep -q "^libksafe.so.$soversion libksafe$soversion "
check "debian/libksafe$soversion.symbols is for libksafe.so.$soversion" $?

tap_end
