#!/usr/bin/env python3
"""How ksafe-lint reads config files, as their real consumers read them
(meson suite 'cli'), printed as TAP.

Usage: test_read.py PATH/TO/ksafe-lint

- JSON configs with a nested "default.topic.config" object, merged the way
  Python's confluent-kafka merges it (PyDict_Update into the top level).
- Values that librdkafka 2.0.2 refuses, strings included, and names it does
  not know (an error in the librdkafka dialect, a warning under --dialect
  java), with librdkafka's own message and never a secret.
- --dialect java read as java.util.Properties.load reads, and what kcat -F
  refuses (a BOM, '!' comments) in the librdkafka dialect.
- "did you mean" in time close to linear in the input.

Every case runs the real binary on files written into a temporary directory.
Python's standard library only.
"""
import collections
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import traceback

LINT = None  # set in main() from argv[1]

Result = collections.namedtuple('Result', 'code out err')
_commands = []  # what the current test ran, shown when it fails


def run(*args, stdin=None, cwd=None, timeout=60):
    """Run ksafe-lint with `args`; KSAFE_POLICY and KSAFE_ENV empty."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    env = dict(os.environ, KSAFE_POLICY='', KSAFE_ENV='')
    proc = subprocess.run([LINT, *args], input=stdin if stdin is not None else b'',
                          capture_output=True, cwd=cwd, env=env, timeout=timeout)
    result = Result(proc.returncode, proc.stdout.decode('utf-8', 'replace'),
                    proc.stderr.decode('utf-8', 'replace'))
    _commands.append((args, result))
    return result


FINDING_RE = re.compile(r'^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): '
                        r'(?P<severity>error|warning|fixed): (?P<message>.*) '
                        r'\[(?P<rule>[A-Za-z0-9_.-]+)\]$')
Finding = collections.namedtuple('Finding', 'file line col severity rule message')


def findings(out):
    result = []
    for line in out.splitlines():
        m = FINDING_RE.match(line)
        if m:
            result.append(Finding(m['file'], int(m['line']), int(m['col']), m['severity'],
                                  m['rule'], m['message']))
    return result


def effective_values(out):
    """name -> value of the `name=value  # comment` lines of --effective."""
    values = {}
    for line in out.splitlines():
        m = re.match(r'^([A-Za-z0-9_.]+)=(.*?)(\s+#.*)?$', line)
        if m:
            values[m[1]] = m[2]
    return values


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


class Checks:
    """Collects the failed checks of one test instead of stopping at the first."""

    def __init__(self):
        self.failures = []

    def ok(self, cond, what):
        if not cond:
            self.failures.append(what)
        return bool(cond)

    def eq(self, actual, expected, what):
        return self.ok(actual == expected, f'{what}: expected {expected!r}, got {actual!r}')

    def contains(self, text, part, what):
        return self.ok(part in text, f'{what}: {part!r} not in {text[:400]!r}')

    def lacks(self, text, part, what):
        return self.ok(part not in text, f'{what}: {part!r} should not be in the output')


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run_tests():
    print(f'1..{len(TESTS)}')
    failed = 0
    for i, fn in enumerate(TESTS, 1):
        desc = (fn.__doc__ or fn.__name__).strip().splitlines()[0].replace('#', '\\#')
        t = Checks()
        del _commands[:]
        try:
            with tempfile.TemporaryDirectory(prefix='ksafe-read-') as tmp:
                fn(t, tmp)
        except Exception:
            t.failures.append('exception:\n' + traceback.format_exc())
        if not t.failures:
            print(f'ok {i} - {desc}')
            continue
        failed += 1
        print(f'not ok {i} - {desc}')
        for failure in t.failures:
            for line in failure.splitlines():
                print(f'# {line}')
        for args, res in _commands[-3:]:
            print(f'#   $ ksafe-lint {" ".join(args)}')
            print(f'#   exit {res.code}')
            for name, text in (('stdout', res.out), ('stderr', res.err)):
                for line in text.splitlines()[:15]:
                    print(f'#   {name}: {line}')
    sys.stdout.flush()
    return 1 if failed else 0


# ---------------------------------------------------------------------------
# "Did you mean": close to linear in the input
# ---------------------------------------------------------------------------

@test
def test_did_you_mean_is_fast(t, tmp):
    """did-you-mean over 1.3 MB of unknown keys takes well under a second per MB"""
    import random
    rng = random.Random(11)
    cases = []
    # 1.3 MB of long unknown keys (5.1 s before the bounded search), and
    # 10,000 short ones (1.4 s before).
    lines, size, i = [], 0, 0
    while size < 1300000:
        key = 'x%05d.' % i + ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz.')
                                     for _ in range(rng.randint(10, 120)))
        lines.append(key + '=v\n')
        size += len(lines[-1])
        i += 1
    cases.append(('long.properties', ''.join(lines), len(lines)))
    cases.append(('short.properties',
                  ''.join(f'acme.producer.setting{i}.value=1\n' for i in range(10000)), 10000))
    for name, text, count in cases:
        path = write(tmp, name, text)
        # CPU time, not wall time: the machine may be busy with other work.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = run('-f', 'json', path, timeout=120)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        took = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        t.eq(r.code, 1, f'{name}: unknown properties are errors')
        doc = json.loads(r.out)
        unknown = [f for f in doc['findings'] if f['rule'] == 'ksafe-unknown-property']
        t.eq(len(unknown), count, f'{name}: one finding per unknown key')
        # Generous: the bounded search takes about 0.4 s here, the full one 5 s.
        t.ok(took < 2.5, f'{name}: {count} unknown keys took {took:.2f} s of CPU')
    # The suggestions themselves are unchanged.
    path = write(tmp, 'typos.properties',
                 'enable.idempotance=true\nbootstrap.server=x\nackz=all\nzzzzzzzzzzzz=1\n')
    r = run(path)
    msgs = [f.message for f in findings(r.out)]
    for want in ('did you mean "enable.idempotence"?', 'did you mean "bootstrap.servers"?',
                 'did you mean "acks"?', '"zzzzzzzzzzzz" (not in librdkafka'):
        t.ok(any(want in m for m in msgs), f'a finding says {want}: {msgs}')


# ---------------------------------------------------------------------------
# Values and names librdkafka refuses
# ---------------------------------------------------------------------------

REFUSED = [
    # (line, dialect, rule or None, severity, part of the message)
    ('sasl.mechanisms=', 'librdkafka', 'ksafe-invalid-value', 'error',
     'Invalid value for configuration property "sasl.mechanisms"'),
    ('sasl.oauthbearer.client.id=my-client', 'librdkafka', 'ksafe-invalid-value', 'error',
     'not supported in this build: OAuth/OIDC depends on libcurl'),
    ('sasl.oauthbearer.client.secret=oauth-cli-s3cret', 'librdkafka', 'ksafe-invalid-value',
     'error', '"sasl.oauthbearer.client.secret" not supported in this build'),
    ('enable.idempotance=true', 'librdkafka', 'ksafe-unknown-property', 'error',
     'did you mean "enable.idempotence"?'),
    ('enable.idempotance=true', 'java', 'ksafe-unknown-property', 'warning',
     'did you mean "enable.idempotence"?'),
    ('ssl.truststore.location=/etc/kafka/truststore.jks', 'librdkafka', 'ksafe-invalid-value',
     'error', 'Java TrustStores are not supported, use `ssl.ca.location`'),
    ('ssl.truststore.location=/etc/kafka/truststore.jks', 'java', None, None, None),
    ('test.mock.num.brokers=3', 'librdkafka', None, None, None),
    ('client.id=billing', 'librdkafka', None, None, None),
]


@test
def test_librdkafka_refuses(t, tmp):
    """what librdkafka refuses is an error with its own message; unknown names by dialect"""
    for i, (line, dialect, rule, severity, message) in enumerate(REFUSED):
        base = 'enable.idempotence=true\nmax.in.flight=5\n'
        path = write(tmp, f'r{i}.properties', base + line + '\n')
        for fmt in ('text', 'json'):
            r = run('--dialect', dialect, '-f', fmt, path)
            t.lacks(r.out + r.err, 'cli-s3cret', f'{line} ({fmt}): the secret')
        r = run('--dialect', dialect, path)
        got = [(f.line, f.severity, f.rule) for f in findings(r.out)]
        want = [(3, severity, rule)] if rule else []
        t.eq(got, want, f'{line} --dialect {dialect}')
        t.eq(r.code, 1 if severity == 'error' else 0, f'{line} --dialect {dialect}: exit')
        if rule and findings(r.out):
            t.contains(findings(r.out)[0].message, message, f'{line}: the message')


def main():
    global LINT
    if len(sys.argv) != 2:
        print('Bail out! usage: test_read.py PATH/TO/ksafe-lint')
        return 2
    LINT = os.path.abspath(sys.argv[1])
    if not os.access(LINT, os.X_OK):
        print(f'Bail out! no ksafe-lint at {LINT}')
        return 2
    return run_tests()


if __name__ == '__main__':
    sys.exit(main())
