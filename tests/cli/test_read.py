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
import json
import os
import resource
import subprocess
import sys

LINT = None  # set in main() from argv[1]

# The helpers shared with the other CLI suites (this file has its own runner: each test
# gets a temporary directory).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import lint_from_argv  # noqa: E402
from test_lint import (Result, _commands, effective_values,  # noqa: E402
                       findings, read_bytes, run_tests_in_tmp)

def run(*args, stdin=None, cwd=None, timeout=60):
    """Run ksafe-lint with `args`; KSAFE_POLICY and KSAFE_ENV empty."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    env = dict(os.environ, KSAFE_POLICY='', KSAFE_ENV='')
    proc = subprocess.run([LINT, *args], input=stdin if stdin is not None else b'',
                          capture_output=True, cwd=cwd, env=env, timeout=timeout)
    result = Result(proc.returncode, proc.stdout.decode('utf-8', 'replace'),
                    proc.stderr.decode('utf-8', 'replace'))
    _commands.append((args, None, result))
    return result


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run_tests():
    return run_tests_in_tmp(TESTS, 'ksafe-read-')


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
# JSON: default.topic.config merged as Python's confluent-kafka merges it
# ---------------------------------------------------------------------------

# librdkafka's canonical names of the aliases used below.
CANONICAL = {'acks': 'request.required.acks', 'request.required.acks': 'request.required.acks',
             'delivery.timeout.ms': 'message.timeout.ms',
             'message.timeout.ms': 'message.timeout.ms',
             'enable.idempotence': 'enable.idempotence', 'linger.ms': 'queue.buffering.max.ms',
             'bootstrap.servers': 'metadata.broker.list'}


def as_read(value):
    """A JSON value as librdkafka reads it back (for the properties used here)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '-1' if value == 'all' else str(value)

NO_RULES = '{"ksafe_policy": 1, "name": "none", "allow_unsafe": true, "rules": []}'


def python_merge(text):
    """What confluent-kafka's Producer(dict) hands librdkafka, in order:
    json.loads, then PyDict_Update(conf, conf['default.topic.config']) and
    the key deleted (confluent_kafka.c, common_conf_setup). The last
    setting of a property wins in librdkafka."""
    conf = json.loads(text)
    nested = conf.get('default.topic.config')
    if isinstance(nested, dict):
        conf.update(nested)
        del conf['default.topic.config']
    values = {}
    for key, value in conf.items():
        values[CANONICAL[key]] = as_read(value)
    return values


MERGES = [
    # top-level and nested: the nested value wins, at the top-level key's place
    '{"acks": "all", "default.topic.config": {"acks": 1}}',
    '{"acks": 1, "default.topic.config": {"acks": "all"}}',
    # an alias in the nested object comes after every top-level key
    '{"acks": 1, "default.topic.config": {"request.required.acks": "all"}}',
    '{"default.topic.config": {"acks": 1}, "request.required.acks": "all"}',
    # ...but a nested key the top level has takes that key's (earlier) place
    '{"acks": "all", "default.topic.config": {"acks": 1}, "request.required.acks": "all"}',
    '{"message.timeout.ms": 30000, "default.topic.config": {"delivery.timeout.ms": 0}}',
    '{"default.topic.config": {"delivery.timeout.ms": 0}, "message.timeout.ms": 30000}',
    # a global property inside it is merged too
    '{"enable.idempotence": true, "default.topic.config": {"enable.idempotence": false}}',
    '{"bootstrap.servers": "k:9092", "default.topic.config": {}}',
    '{"default.topic.config": {"linger.ms": 5, "acks": 1}, "linger.ms": 7, "acks": "all"}',
]


@test
def test_default_topic_config_merge(t, tmp):
    """default.topic.config: each setting as Python's merge leaves it (--effective)"""
    policy = write(tmp, 'none.json', NO_RULES)
    for i, text in enumerate(MERGES):
        path = write(tmp, f'm{i}.json', text)
        r = run('-p', policy, '--effective', path)
        got = effective_values(r.out)
        want = python_merge(text)
        t.eq({k: got.get(k) for k in want}, want, text)
        # (a key and its alias in one object stay ksafe-json-duplicate errors)
        t.eq([f.rule for f in findings(r.out)
              if f.severity == 'error' and f.rule != 'ksafe-json-duplicate'], [],
             f'{text}: errors')


@test
def test_default_topic_config_findings(t, tmp):
    """default.topic.config: acks=1 and message.timeout.ms=0 inside it are found at file:line:col"""
    text = ('{\n'
            '  "bootstrap.servers": "kafka:9092",\n'
            '  "enable.idempotence": true,\n'
            '  "acks": "all",\n'
            '  "default.topic.config": {\n'
            '    "acks": 1,\n'
            '      "message.timeout.ms": 0\n'
            '  }\n'
            '}\n')
    path = write(tmp, 'p.json', text)
    r = run(path)
    t.eq(r.code, 1, 'exit')
    t.eq([(f.line, f.col, f.severity, f.rule) for f in findings(r.out)],
         [(4, 3, 'warning', 'ksafe-duplicate'), (6, 5, 'error', 'acks-all'),
          (7, 7, 'error', 'delivery-timeout'),
          (7, 7, 'error', 'delivery-covers-request')], 'findings')
    # not an object, nested twice, null inside
    cases = [
        ('{"default.topic.config": "acks=1"}', 'ksafe-invalid-value',
         'default.topic.config must be a JSON object'),
        ('{"default.topic.config": {"default.topic.config": {"acks": 1}}}',
         'ksafe-invalid-value', "Python's client drops it"),
        ('{"default.topic.config": {"acks": null}}', 'ksafe-invalid-value', 'null'),
        ('{"default.topic.config": {"acks": 1}, "default.topic.config": {"linger.ms": 5}}',
         'ksafe-invalid-value', 'never reaches the client'),
        ('{"default.topic.config": {"ackz": 1}}', 'ksafe-unknown-property',
         'did you mean "acks"?'),
    ]
    for text, rule, message in cases:
        path = write(tmp, 'c.json', text)
        r = run(path)
        got = [f for f in findings(r.out) if f.rule == rule]
        if t.eq(len(got), 1, f'{text}: one {rule}'):
            t.contains(got[0].message, message, text)
            t.eq(got[0].severity, 'error', f'{text}: severity')
    # inside a --json-pointer object too
    path = write(tmp, 'ptr.json', '{"kafka": {"producer": {"enable.idempotence": true,\n'
                 '  "default.topic.config": {"acks": 0}}}}')
    r = run('--json-pointer', '/kafka/producer', path)
    t.eq([(f.line, f.col, f.rule) for f in findings(r.out)], [(2, 28, 'acks-all')],
         '--json-pointer')


@test
def test_default_topic_config_fix(t, tmp):
    """--fix repairs inside default.topic.config, keeps the rest byte for byte, and holds"""
    text = ('{\r\n'
            '  "bootstrap.servers": "kafka:9092",\r\n'
            '  "default.topic.config": {"acks": 1, "message.timeout.ms": 0, "linger.ms": 5},\r\n'
            '  "client.id": "billing"\r\n'
            '}\r\n')
    path = write(tmp, 'f.json', text)
    r = run('--fix', path)
    t.eq(r.code, 0, '--fix exit')
    fixed = read_bytes(path).decode()
    t.eq(fixed, '{\r\n'
         '  "bootstrap.servers": "kafka:9092",\r\n'
         '  "default.topic.config": {"acks": "all", "message.timeout.ms": 120000, '
         '"linger.ms": 5},\r\n'
         '  "client.id": "billing",\r\n'
         '  "enable.idempotence": true\r\n'
         '}\r\n', 'the repaired file')
    merged = python_merge(json.dumps({k: v for k, v in json.loads(fixed).items()
                                      if k in CANONICAL or k == 'default.topic.config'}))
    t.eq(merged.get('request.required.acks'), '-1', 'Python sees acks=all')
    t.eq(merged.get('message.timeout.ms'), '120000', 'Python sees the bounded timeout')
    r = run(path)
    t.eq((r.code, findings(r.out)), (0, []), 'a second run is clean')
    # A forbidden property removed from the nested object keeps valid JSON. (Forbidden means
    # "not set to anything but what librdkafka uses unset": linger.ms=5 is its default.)
    policy = write(tmp, 'forbid.json', '{"ksafe_policy": 1, "name": "f", "extends": '
                   '"builtin:default", "rules": [{"id": "no-linger", "property": "linger.ms", '
                   '"forbidden": true, "action": "enforce"}]}')
    for text in ('{"enable.idempotence": true, "max.in.flight": 5,\n'
                 ' "default.topic.config": {"linger.ms": 7}, "client.id": "x"}',
                 '{"enable.idempotence": true, "max.in.flight": 5,\n'
                 ' "default.topic.config": {"acks": "all", "linger.ms": 7}}',
                 '{"enable.idempotence": true, "max.in.flight": 5,\n'
                 ' "default.topic.config": {"linger.ms": 7, "acks": "all"}, "linger.ms": 9}'):
        path = write(tmp, 'r.json', text)
        r = run('-p', policy, '--fix', path)
        out = read_bytes(path).decode()
        try:
            doc = json.loads(out)
        except ValueError as e:
            t.ok(False, f'{text}: --fix wrote invalid JSON {out!r}: {e}')
            continue
        t.ok('linger.ms' not in json.dumps(doc), f'{text}: linger.ms removed: {out!r}')
        t.eq(r.code, 0, f'{text}: exit')


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


# ---------------------------------------------------------------------------
# .properties: --dialect java as java.util.Properties, kcat's -F otherwise
# ---------------------------------------------------------------------------

JAVA_CASES = [
    # (file bytes, [(line, col, severity, rule)] under --dialect java, part of a message)
    (b'enable.idempotence=true\nmax.in.flight=5\ndelivery.timeout.m\\s=0\n',
     [(3, 1, 'error', 'delivery-timeout'), (3, 1, 'error', 'delivery-covers-request')],
     'delivery.timeout.ms is 0'),
    (b'enable.idempotence=true\nmax.in.flight=5\n\\u0061cks=\\u0031\n',
     [(3, 1, 'error', 'acks-all')], 'acks is 1'),
    (b'enable.idempotence=true\nmax.in.flight=5\nacks : \\\n    1\n',
     [(3, 1, 'error', 'acks-all')], 'acks is 1'),
    (b'\xef\xbb\xbfacks=1\nenable.idempotence=true\nmax.in.flight=5\n',
     [(1, 1, 'error', 'ksafe-unknown-property')], 'acks never reaches the client'),
    (b'\xef\xbb\xbf# producer\nenable.idempotence=true\nmax.in.flight=5\n',
     [(1, 1, 'warning', 'ksafe-unknown-property')], 'a property named'),
    (b'enable.idempotence=true\nmax.in.flight=5\nacks=\\u00G1\n',
     [(3, 1, 'error', 'ksafe-invalid-value')], 'malformed \\uXXXX'),
    (b'enable.idempotence=true\nmax.in.flight=5\n! acks=1\nacks=all   \n', [], None),
]

KCAT_CASES = [
    # the same kind of files in the librdkafka dialect: what kcat -F refuses
    (b'\xef\xbb\xbfenable.idempotence=true\nmax.in.flight=5\n',
     [(1, 1, 'error', 'ksafe-kcat-syntax')], 'byte order mark'),
    (b'\xef\xbb\xbf\nenable.idempotence=true\nmax.in.flight=5\n',
     [(1, 1, 'error', 'ksafe-kcat-syntax')], 'byte order mark'),
    (b'enable.idempotence=true\nmax.in.flight=5\n! a comment\n',
     [(3, 1, 'error', 'ksafe-kcat-syntax')], "does not read '!' as a comment"),
    (b'enable.idempotence=true\nmax.in.flight=5\n# a comment\n', [], None),
]


@test
def test_java_and_kcat_readers(t, tmp):
    """--dialect java reads as java.util.Properties; kcat's BOM and '!' refusals are errors"""
    for dialect, cases in (('java', JAVA_CASES), ('librdkafka', KCAT_CASES)):
        for i, (data, want, message) in enumerate(cases):
            path = write(tmp, f'{dialect}{i}.properties', data)
            r = run('--dialect', dialect, path)
            got = findings(r.out)
            t.eq([(f.line, f.col, f.severity, f.rule) for f in got], want,
                 f'{dialect}: {data!r}')
            if message and got:
                t.contains(got[0].message, message, f'{dialect}: {data!r}')
            t.lacks(r.out, '\ufeff', f'{dialect}: {data!r}: no BOM in the output')


@test
def test_java_effective_and_fix(t, tmp):
    """--dialect java: --effective shows values unescaped, secrets redacted; --fix in place"""
    data = (b'enable.idempotence=true\n'
            b'max.in.flight=5\n'
            b'client.id=caf\\u00e9\\tbar\n'
            b'sasl.password=pw\\u002dsecret\\u002d42\n'
            b'delivery.timeout.m\\s = 0\n'
            b'acks   1\n')
    path = write(tmp, 'j.properties', data)
    r = run('--dialect', 'java', '--effective', path)
    values = effective_values(r.out)
    t.eq(values.get('client.id'), 'caf\u00e9\\tbar', 'client.id unescaped, the tab shown')
    t.eq(values.get('sasl.password'), '(redacted)', 'sasl.password')
    t.eq(values.get('message.timeout.ms'), '120000', 'after enforcement')
    t.lacks(r.out + r.err, 'secret-42', '--effective')
    t.lacks(r.out + r.err, 'pw-secret', '--effective')
    r = run('--dialect', 'java', '--fix', path)
    t.eq(r.code, 0, '--fix exit')
    t.eq(read_bytes(path), data.replace(b'\\s = 0\n', b'\\s = 120000\n')
         .replace(b'acks   1\n', b'acks   all\n'), 'the fixed file')
    r = run('--dialect', 'java', path)
    t.eq((r.code, findings(r.out)), (0, []), 'a second run is clean')


def main():
    global LINT
    LINT = lint_from_argv()
    if not LINT:
        return 2
    return run_tests()


if __name__ == '__main__':
    sys.exit(main())
