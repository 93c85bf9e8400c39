#!/bin/bash
# ksafe as installed from its Debian packages (libksafe1, libksafe-dev, ksafe-tools), used
# the way a user uses it, from a directory outside any source tree and with nothing of a
# build tree on any path: no LD_LIBRARY_PATH, no PKG_CONFIG_PATH, no KSAFE_POLICY.
#
#   tests/deb/installed.sh           TAP on stdout; exit 0 when every check passed
#
# Run by tests/deb/test_deb.sh after `apt-get install ./*.deb`, and by autopkgtest
# (debian/tests/control). It leaves nothing behind: its scratch directory and, when it made
# one, /etc/ksafe/policy.json are removed on any exit.
set -uo pipefail

unset LD_LIBRARY_PATH PKG_CONFIG_PATH KSAFE_POLICY KSAFE_ENV
SYSTEM_POLICY=/etc/ksafe/policy.json

# shellcheck source-path=SCRIPTDIR source=tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
# has NEEDLE TEXT: TEXT contains NEEDLE (a fixed string).
has() { [[ $2 == *"$1"* ]]; }

scratch=$(mktemp -d /tmp/ksafe-installed.XXXXXX)
made_etc=false made_policy=false
cleanup() {
    if $made_policy; then rm -f "$SYSTEM_POLICY"; fi
    if $made_etc; then rmdir /etc/ksafe 2>/dev/null; fi
    rm -rf "$scratch"
}
trap cleanup EXIT
cd "$scratch" || exit 2

# 1. The example program, built against the installed header, library and ksafe.pc.
example=/usr/share/doc/libksafe-dev/examples/safe_producer.c
flags=$(pkg-config --cflags --libs ksafe 2>&1)
check "pkg-config --cflags --libs ksafe: $flags" $?
# shellcheck disable=SC2086 # one word per flag
out=$(cc -o safe_producer "$example" $flags 2>&1)
check "cc $example \$(pkg-config --cflags --libs ksafe)" $? "$out"
out=$(./safe_producer 2>&1)
check "the example runs on the mock cluster with the installed libksafe.so.1" $? "$out"
lib=$(ldd ./safe_producer | awk '$1 == "libksafe.so.1" { print $3 }')
[[ $lib == /usr/lib/*/libksafe.so.1 || $lib == /lib/*/libksafe.so.1 ]]
check "it loaded the packaged library ($lib)" $?

# 2. ksafe-lint on the installed examples, with the installed schema and policies.
data=/usr/share/ksafe
out=$(ksafe-lint "$data/examples/producer-unsafe.properties" 2>&1)
status=$?
[ "$status" -eq 1 ] && has "[acks-all]" "$out"
check "ksafe-lint $data/examples/producer-unsafe.properties: exit 1 with the acks-all finding" \
    $? "$out"
out=$(ksafe-lint -p "$data/examples/org-policy.json" -e dev \
    "$data/examples/producer-safe.properties" "$data/examples/producer-safe.json" 2>&1)
check "ksafe-lint -p $data/examples/org-policy.json -e dev on the safe examples: exit 0" $? "$out"
out=$(ksafe-lint -p "$data/examples/org-policy.json" -e prod \
    "$data/examples/producer-safe.properties" 2>&1)
status=$?
[ "$status" -eq 1 ] && has "[tls]" "$out"
check "ksafe-lint -p $data/examples/org-policy.json -e prod: exit 1, prod requires TLS" $? "$out"
out=$(ksafe-lint -p "$data/policies/default.json" "$data/examples/producer-safe.properties" 2>&1)
check "ksafe-lint -p $data/policies/default.json (the installed copy of the default)" $? "$out"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$data/policy.schema.json"
check "$data/policy.schema.json is JSON" $?
out=$(man -w ksafe-lint 2>&1)
check "man ksafe-lint: $out" $?
if [ -e /usr/bin/ksafe-verify ]; then
    out=$(man -w ksafe-verify 2>&1)
    check "ksafe-verify is installed, and its manual page: $out" $?
    out=$(ksafe-verify -n 200 --faults none --profile idempotent -q 2>&1)
    check "ksafe-verify -n 200 --faults none --profile idempotent: exit 0" $? "$out"
fi

# 3. The plugin by its bare name, with no path: kcat and Python's client find libksafe.so on
# the loader's default path, and the policy is active.
kcat_refuses() { # kcat_refuses PROPERTY NEEDLE...: the plugin refuses -X PROPERTY
    local out status needle
    out=$(kcat -X plugin.library.paths=libksafe -X "$1" -P -b localhost:1 \
        -X test.mock.num.brokers=1 -t t </dev/null 2>&1)
    status=$?
    for needle in "${@:2}"; do has "$needle" "$out" || status=99; done
    [ "$status" -ne 0 ] && [ "$status" -ne 99 ]
    check "kcat -X plugin.library.paths=libksafe -X $1: refused with ksafe's message" $? "$out"
}
if command -v kcat >/dev/null; then
    out=$(echo hello | kcat -X plugin.library.paths=libksafe -X debug=conf -P -b localhost:1 \
        -X test.mock.num.brokers=1 -t t 2>&1)
    status=$?
    has "ksafe: policy builtin:default (no environment) active" "$out" || status=99
    has "enable.idempotence = true" "$out" || status=99
    check "kcat -X plugin.library.paths=libksafe: produces, idempotent, policy active" \
        "$status" "$out"
    kcat_refuses enable.idempotence=false "refuses enable.idempotence=false" "[idempotence]"
    kcat_refuses max.in.flight=4294967301 "[ksafe-misread-value]"
else
    echo "ok $((n += 1)) # SKIP kcat is not installed"
fi

py=/usr/bin/python3
if $py -c 'import confluent_kafka' 2>/dev/null; then
    out=$($py - 2>&1 <<'EOF'
import confluent_kafka as ck
try:
    ck.Producer({'plugin.library.paths': 'libksafe', 'test.mock.num.brokers': 1, 'acks': '1'})
    print('created')
except ck.KafkaException as e:
    print(e.args[0].str())
p = ck.Producer({'plugin.library.paths': 'libksafe', 'test.mock.num.brokers': 1})
p.produce('t', b'hello')
print('unflushed', p.flush(30))
EOF
)
    status=$?
    has "ksafe: policy builtin:default (no environment) refuses acks=1" "$out" || status=99
    has "unflushed 0" "$out" || status=99
    check "python3: plugin.library.paths=libksafe refuses acks=1, and a producer without it delivers" \
        "$status" "$out"
else
    echo "ok $((n += 1)) # SKIP python3-confluent-kafka is not installed"
fi

# 4. The organisation policy in /etc/ksafe/policy.json, read when KSAFE_POLICY is unset:
# by the plugin and by ksafe-lint; one that cannot be used fails closed.
if [ -e "$SYSTEM_POLICY" ] || [ -L "$SYSTEM_POLICY" ]; then
    echo "ok $((n += 1)) # SKIP $SYSTEM_POLICY exists on this machine: not touched"
elif [ "$(id -u)" -ne 0 ]; then
    echo "ok $((n += 1)) # SKIP not root: cannot write $SYSTEM_POLICY"
else
    if [ ! -d /etc/ksafe ]; then mkdir /etc/ksafe && made_etc=true; fi
    made_policy=true
    cat >"$SYSTEM_POLICY" <<'EOF'
{"ksafe_policy": 1, "name": "org-from-etc", "extends": "builtin:default",
 "rules": [{"id": "no-linger", "property": "linger.ms", "max": 50, "action": "reject"}]}
EOF
    if command -v kcat >/dev/null; then
        kcat_refuses linger.ms=100 "policy org-from-etc" "[no-linger]"
    fi
    printf 'bootstrap.servers=kafka:9092\nlinger.ms=100\n' >producer.properties
    out=$(ksafe-lint producer.properties 2>&1)
    status=$?
    [ "$status" -eq 1 ] && has "[no-linger]" "$out"
    check "ksafe-lint with KSAFE_POLICY unset judges by $SYSTEM_POLICY" $? "$out"
    out=$(KSAFE_POLICY=builtin:default ksafe-lint producer.properties 2>&1)
    status=$?
    [ "$status" -eq 1 ] && has "[idempotence]" "$out" && ! has "[no-linger]" "$out"
    check "KSAFE_POLICY=builtin:default still names the built-in policy" $? "$out"
    echo '{"ksafe_policy": 1, "rules": [' >"$SYSTEM_POLICY"
    out=$(ksafe-lint producer.properties 2>&1)
    status=$?
    [ "$status" -eq 2 ] && has "$SYSTEM_POLICY" "$out"
    check "a broken $SYSTEM_POLICY fails closed (ksafe-lint exit 2, the file named)" $? "$out"
    if command -v kcat >/dev/null; then
        out=$(kcat -X plugin.library.paths=libksafe -P -b localhost:1 \
            -X test.mock.num.brokers=1 -t t </dev/null 2>&1)
        status=$?
        [ "$status" -ne 0 ] && has "$SYSTEM_POLICY" "$out"
        check "a broken $SYSTEM_POLICY fails closed in kcat too" $? "$out"
    fi
fi

tap_end
