#!/usr/bin/env python3
"""ksafe-lint's output paths under hostile input (meson suite 'cli'), as TAP.

Usage: test_output.py PATH/TO/ksafe-lint

Whatever a config, a policy, the command line or a file name holds, no
output of ksafe-lint gets a line, a record or a terminal escape sequence
that ksafe did not write: each format is read by its real consumer's parser
(json.loads, xml.etree, line counting for text, GitHub commands and
--effective) and must hold as many records and lines as the same run with
a plain string. Also --fix keeping a file's owner (run as root), and
standard input read once, with the files' size cap.

It reuses test_lint.py's runner and helpers. Python's standard library only.
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import lint_from_argv  # noqa: E402
import test_lint as base  # noqa: E402  (its tests are not run here)
from test_lint import (GITHUB_RE, ORG_POLICY, Result, _commands, findings,  # noqa: E402
                       lint_env, read_bytes, run)

del base.TESTS[:]
test = base.test


# ---------------------------------------------------------------------------
# Running with any bytes
# ---------------------------------------------------------------------------

def shown_arg(a):
    return a.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')


def run_raw(*args, stdin=b'', env=None, cwd=None, prefix=()):
    """run() without decoding: (code, stdout bytes, stderr bytes). Arguments
    may hold any byte but NUL (str with surrogate escapes, as os.fsencode)."""
    proc = subprocess.run([*prefix, base.LINT, *args], input=stdin, capture_output=True,
                          cwd=cwd or base.DATA, env=lint_env(env), timeout=120)
    _commands.append(([shown_arg(a) for a in args], env,
                      Result(proc.returncode, proc.stdout.decode('utf-8', 'replace'),
                             proc.stderr.decode('utf-8', 'replace'))))
    return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------------------
# Hostile strings x every place x every format
# ---------------------------------------------------------------------------

# Each would be a line, a cursor move, a terminal command or a broken record
# of its own if printed raw. '\udcXX' is the byte XX that is not UTF-8 (file
# names, .properties values and -X arguments can hold it; JSON cannot).
HOSTILE = [
    'a\nx.properties:1:1: error: forged [forged]',
    'a\r\nb',
    'cr\roverwrite',
    '\x1b[2J\x1b[31mred\x1b[0m',
    '\x1b]0;title\x07',
    '\x9b31m C1 CSI',
    '\x85 NEL',
    '\x01\x08\x0b\x0c\x1f\x7f',
    'sep\u2028line\u2029para',
    'bidi \u202e \u2066 x',
    '\ufffe\uffff',
    '</failure><![CDATA[ & "\' %0A::error::forged',
    'latin1 \udce9\udcff',
]
# What no output may hold raw: controls but '\n', C1, separators, bidi
# overrides and isolates, XML noncharacters.
UNSAFE_CP = re.compile('[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069'
                       '\ufffe\uffff]')


def benign(i):
    return f'plain{i}'


def utf8(s):
    return s.encode('utf-8', 'surrogateescape')


def is_utf8(s):
    try:
        s.encode('utf-8')
        return True
    except UnicodeEncodeError:
        return False


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


PLAIN_CONFIG = b'acks=1\nlinger.ms=5\nclient.id=x\n'


def policy_json(rules=(), name='p', allow_unsafe=False):
    """The default policy plus warn rules linger.ms <= 3 with the given (id, why)."""
    doc = {'ksafe_policy': 1, 'name': name, 'extends': 'builtin:default',
           'rules': [{'id': rule_id, 'property': 'linger.ms', 'max': 3, 'action': 'warn',
                      'why': why} for rule_id, why in rules]}
    if allow_unsafe:
        doc['allow_unsafe'] = True
    return utf8(json.dumps(doc))


# A place sets up one run in `tmp` with the strings `ss` (one, or all of the
# table when the place can hold many) and returns its arguments.

def _value_json(tmp, ss):
    for i, s in enumerate(ss):
        write(os.path.join(tmp, f'c{i}.json'),
              utf8(json.dumps({'acks': s, 'client.id': s, 'linger.ms': 5})))
    return [f'c{i}.json' for i in range(len(ss))]


def _value_properties(tmp, ss):
    for i, s in enumerate(ss):
        write(os.path.join(tmp, f'c{i}.properties'),
              b'acks=' + utf8(s) + b'\nclient.id=' + utf8(s) + b'\nlinger.ms=5\n')
    return [f'c{i}.properties' for i in range(len(ss))]


def _value_x(tmp, ss):
    (s,) = ss
    write(os.path.join(tmp, 'c.properties'), PLAIN_CONFIG)
    return ['-X', 'acks=' + s, '-X', 'client.id=' + s, 'c.properties']


def _name_json(tmp, ss):
    for i, s in enumerate(ss):
        write(os.path.join(tmp, f'c{i}.json'), utf8(json.dumps({s: '1', 'linger.ms': 5})))
    return [f'c{i}.json' for i in range(len(ss))]


def _name_x(tmp, ss):
    write(os.path.join(tmp, 'c.properties'), PLAIN_CONFIG)
    return [a for i, s in enumerate(ss) for a in ('-X', f'{s}{i}=1')] + ['c.properties']


def _file_name(tmp, ss):
    names = [f'c{i}-' + s.replace('/', '_') + '.properties' for i, s in enumerate(ss)]
    for name in names:
        write(os.path.join(tmp, name), PLAIN_CONFIG)
    return names + ['missing-' + ss[0].replace('/', '_') + '.properties']


def _rule_id(tmp, ss):
    write(os.path.join(tmp, 'c.properties'), PLAIN_CONFIG)
    write(os.path.join(tmp, 'p.json'), policy_json([(s, 'why') for s in ss]))
    return ['-p', 'p.json', 'c.properties']


def _why(tmp, ss):
    write(os.path.join(tmp, 'c.properties'), PLAIN_CONFIG)
    write(os.path.join(tmp, 'p.json'), policy_json([(f'r{i}', s) for i, s in enumerate(ss)]))
    return ['-p', 'p.json', 'c.properties']


def _policy_name(tmp, ss):
    (s,) = ss
    write(os.path.join(tmp, 'c.properties'), PLAIN_CONFIG)
    write(os.path.join(tmp, 'p.json'), policy_json([('r', 'why')], name=s, allow_unsafe=True))
    return ['-p', 'p.json', 'c.properties']


def _env(tmp, ss):
    (s,) = ss
    write(os.path.join(tmp, 'c.properties'), PLAIN_CONFIG)
    return ['-p', ORG_POLICY, '-e', s, 'c.properties']


def _policy_file_name(tmp, ss):
    (s,) = ss
    write(os.path.join(tmp, 'c.properties'), PLAIN_CONFIG)
    name = 'p-' + s.replace('/', '_') + '.json'
    write(os.path.join(tmp, name), b'{"ksafe_policy": 1,')
    return ['-p', name, 'c.properties']


ALL_FORMATS = ('text', 'json', 'sarif', 'github', 'junit', 'gitlab', 'checkstyle',
               '--effective')
# -f auto in GitHub Actions is -f github's commands, in groups titled by file name.
FILE_NAME_FORMATS = ALL_FORMATS + ('auto',)
# The policy is loaded (and refused) before any format is chosen: its
# errors go to stderr alike in every format, so one format is enough there.
BEFORE_FORMATS = ('text',)

# place: (setup, many strings in one run, valid UTF-8 only, one line only,
#         from the policy, formats)
PLACES = {
    'value in JSON': (_value_json, True, True, False, False, ALL_FORMATS),
    'value in .properties': (_value_properties, True, False, True, False, ALL_FORMATS),
    'value in -X': (_value_x, False, False, False, False, ALL_FORMATS),
    'property name in JSON': (_name_json, True, True, False, False, ALL_FORMATS),
    'property name in -X': (_name_x, True, False, False, False, ALL_FORMATS),
    'file name': (_file_name, True, False, False, False, FILE_NAME_FORMATS),
    'rule id': (_rule_id, True, True, False, True, ALL_FORMATS),
    'why': (_why, True, True, False, True, ALL_FORMATS),
    'policy name': (_policy_name, False, True, False, True, ALL_FORMATS),
    'environment name': (_env, False, False, False, False, BEFORE_FORMATS),
    'policy file name': (_policy_file_name, False, False, False, False, BEFORE_FORMATS),
}

FORMAT_ARGS = {'text': [], 'json': ['-f', 'json'], 'sarif': ['-f', 'sarif'],
               'github': ['-f', 'github'], 'junit': ['-f', 'junit'],
               'gitlab': ['-f', 'gitlab'], 'checkstyle': ['-f', 'checkstyle'],
               'auto': ['-f', 'auto'], '--effective': ['--effective']}
# -f auto as in GitHub Actions: workflow commands in groups.
FORMAT_ENV = {'auto': {'GITHUB_ACTIONS': 'true'}}
GROUP_LINE = re.compile(r'^::(group::.+|endgroup::)$')


def decoded(data, what, t):
    """`data` as text when it is UTF-8 with no unsafe character (newlines aside)."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        t.ok(False, f'{what}: not UTF-8: {e}')
        return None
    m = UNSAFE_CP.search(text)
    t.ok(not m, f'{what}: raw {m and m[0]!r} at {m and m.start()}: {text[:300]!r}')
    return text


# A text finding whose rule id may hold any printable character.
TEXT_LINE = re.compile(r'^.+?:\d+:\d+: (error|warning|fixed): .* \[.+\]$')
EFFECTIVE_LINE = re.compile(r'^(# .*, as librdkafka would use it after enforcement|'
                            r'[a-z0-9_.]+=.*)$')


def records(fmt, out, t, what):
    """What a consumer of the format reads on stdout, counted by its own parser."""
    text = decoded(out, what + ': stdout', t)
    if text is None:
        return None
    if not text:
        return 0
    lines = text.split('\n')
    if not t.eq(lines[-1], '', f'{what}: stdout ends with a newline'):
        return None
    lines = lines[:-1]
    if fmt in ('text', 'github', '--effective', 'auto'):
        pattern = {'text': TEXT_LINE, 'github': GITHUB_RE, '--effective': EFFECTIVE_LINE,
                   'auto': GITHUB_RE}[fmt]
        if fmt == 'auto':  # the group lines hold the file name: one each
            groups = [line for line in lines if GROUP_LINE.match(line)]
            t.eq(len(groups) % 2, 0, f'{what}: ::group:: and ::endgroup:: in pairs')
            lines = [line for line in lines if not GROUP_LINE.match(line)]
        bad = [line for line in lines if not pattern.match(line) and not TEXT_LINE.match(line)]
        t.eq(bad[:3], [], f'{what}: lines that are no {fmt} record')
        return len(lines)
    if fmt == 'gitlab':
        return [(i['check_name'], i['severity']) for i in json.loads(text)]
    if fmt == 'checkstyle':
        root = ET.fromstring(text)
        return [len(f.findall('error')) for f in root.iter('file')]
    if fmt == 'json':
        doc = json.loads(text)
        return (len(doc['findings']), len(doc['unreadable']), doc['summary'])
    if fmt == 'sarif':
        sarif_run = json.loads(text)['runs'][0]
        return (len(sarif_run['results']), len(sarif_run['tool']['driver']['rules']),
                len(sarif_run['invocations'][0]['toolExecutionNotifications']))
    if fmt == 'junit':
        root = ET.fromstring(text)
        return [(len(c.findall('failure')), len(c.findall('error')))
                for c in root.iter('testcase')]
    raise ValueError(fmt)


def outcome(fmt, setup, ss, t, what):
    """(exit, records, stderr lines) of one run with strings `ss` in place."""
    with tempfile.TemporaryDirectory() as tmp:
        code, out, err = run_raw(*FORMAT_ARGS[fmt], *setup(tmp, ss), cwd=tmp,
                                 env=FORMAT_ENV.get(fmt))
    try:
        got = records(fmt, out, t, what)
    except (ValueError, ET.ParseError) as e:  # json.JSONDecodeError is a ValueError
        t.ok(False, f'{what}: stdout does not parse as {fmt}: {e}: {out[:300]!r}')
        got = None
    err_text = decoded(err, what + ': stderr', t)
    return code, got, err_text.count('\n') if err_text is not None else None


# What a format holds for a refused policy, as records() counts it.
REFUSED = {'sarif': (0, 0, 1),
           'json': (0, 0, {'files': 0, 'unreadable': 0, 'errors': 0, 'warnings': 0,
                           'fixed': 0, 'suppressed': 0}),
           'junit': [(0, 1)],
           'github': 1,
           'auto': 1,
           'gitlab': [('ksafe-policy', 'blocker')],
           'checkstyle': [1]}


@test
def test_hostile_strings(t):
    """hostile strings in values, names, rule ids, policy names, reasons and file names: each format parses with as many records and lines as with plain strings"""
    jobs = []
    for place, (setup, many, need_utf8, one_line, from_policy, formats) in PLACES.items():
        strings = [s for s in HOSTILE if (is_utf8(s) or not need_utf8) and
                   not (one_line and re.search('[\r\n]', s))]
        groups = [strings] if many else [[s] for s in strings]
        for fmt in formats:
            for group in groups:
                jobs.append((place, fmt, setup, group, from_policy))
    # Each run against the same run with plain strings (plain0, plain1, ...).
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [(job, pool.submit(outcome, job[1], job[2], job[3], t,
                                     f'{job[3]!r} as {job[0]}, {job[1]}'),
                    pool.submit(outcome, job[1], job[2], [benign(i) for i in range(len(job[3]))],
                                t, f'plain as {job[0]}, {job[1]}'))
                   for job in jobs]
        for (place, fmt, _, group, from_policy), hostile, plain in futures:
            got, want = hostile.result(), plain.result()
            what = f'{group!r} as {place}, -f {fmt}'
            if from_policy and got[0] == 2 and want[0] != 2:
                # The policy loader refused it: one line on stderr, and in a
                # report format a document that says so (SARIF: a log with no
                # result, no rule and the error as its one notification; JSON:
                # no finding; JUnit: one case in error; GitHub: one ::error).
                refused = REFUSED.get(fmt, 0)
                t.eq((got[1], got[2]), (refused, 1),
                     f'{what}: refused policy (records, stderr lines)')
                continue
            t.eq(got, want, f'{what}: (exit, records, stderr lines)')


@test
def test_hostile_check_and_print_policy(t):
    """--check-policy and --print-policy with a hostile policy name: one stderr line, JSON that parses"""
    for s in [s for s in HOSTILE if is_utf8(s)]:
        with tempfile.TemporaryDirectory() as tmp:
            write(os.path.join(tmp, 'p.json'), policy_json([('r', s)], name=s))
            code, out, err = run_raw('--check-policy', '-p', 'p.json', cwd=tmp)
            text = decoded(err, f'{s!r}: --check-policy stderr', t)
            t.eq(text and text.count('\n'), 1, f'{s!r}: --check-policy stderr lines')
            if any(ord(c) < 0x20 or ord(c) == 0x7f for c in s):
                # A name with a control character cannot be printed as meant: refused.
                t.eq(code, 2, f'{s!r}: --check-policy exit (refused)')
                t.contains(text or '', 'name: cannot hold control characters',
                           f'{s!r}: --check-policy says why')
                continue
            t.eq(code, 0, f'{s!r}: --check-policy exit')
            code, out, err = run_raw('--print-policy', '-p', 'p.json', cwd=tmp)
            t.eq(code, 0, f'{s!r}: --print-policy exit')
            decoded(out, f'{s!r}: --print-policy stdout', t)
            doc = json.loads(out)
            t.eq(doc.get('name'), s, f'{s!r}: --print-policy name (JSON-escaped, exact)')


@test
def test_non_utf8_file_names_every_format(t):
    """file names that are not UTF-8 are carried by every format: \\xNN in text, JSON, JUnit, GitHub; %XX in SARIF URIs"""
    raw = 'caf\udce9-\udcff.properties'   # bytes 0xE9 and 0xFF: latin-1, not UTF-8
    missing = 'gone-\udcfe.properties'
    with tempfile.TemporaryDirectory() as tmp:
        write(os.path.join(tmp, raw), b'acks=1\n')
        shown, shown_missing = 'caf\\xe9-\\xff.properties', 'gone-\\xfe.properties'
        code, out, err = run_raw('-f', 'json', raw, missing, cwd=tmp)
        t.eq(code, 2, 'json: exit')
        doc = json.loads(out)
        t.eq(sorted({f['file'] for f in doc['findings']}), [shown], 'json: findings\' file')
        t.eq([u['file'] for u in doc['unreadable']], [shown_missing], 'json: unreadable')
        t.eq((doc['summary']['files'], doc['summary']['unreadable']), (1, 1), 'json: summary')
        code, out, err = run_raw('-f', 'junit', raw, missing, cwd=tmp)
        root = ET.fromstring(out)
        t.eq(sorted({c.get('name') for c in root.iter('testcase')}), [shown, shown_missing],
             'junit: testcases name each file')
        t.eq(sorted({c.get('file') for c in root.iter('testcase')}), [shown, shown_missing],
             'junit: and so do their file attributes')
        t.ok(root.find(".//testcase[@name='%s']/error" % shown_missing) is not None,
             'junit: the unreadable file has an <error>')
        code, out, err = run_raw('-f', 'sarif', raw, missing, cwd=tmp)
        sarif_run = json.loads(out)['runs'][0]
        uris = {r['locations'][0]['physicalLocation']['artifactLocation']['uri']
                for r in sarif_run['results']}
        t.eq(uris, {'caf%E9-%FF.properties'}, 'sarif: URIs percent-encode every byte')
        notes = [n['message']['text'] for n in
                 sarif_run['invocations'][0]['toolExecutionNotifications']]
        t.eq(len(notes), 1, 'sarif: one notification for the unreadable file')
        t.ok(notes and notes[0].startswith(shown_missing + ': '), f'sarif: notification {notes}')
        code, out, err = run_raw('-f', 'github', raw, cwd=tmp)
        t.ok(out and all(line.startswith(f'::error file={shown},') for line in
                         out.decode().splitlines()), f'github: file= {out[:200]!r}')
        code, out, err = run_raw(raw, missing, cwd=tmp)
        t.eq({f.file for f in findings(out.decode())}, {shown}, 'text: file')
        t.ok(f'ksafe-lint: {shown_missing}: cannot read'.encode() in err, 'text: stderr')


# ---------------------------------------------------------------------------
# --fix keeps the owner and the mode, or refuses
# ---------------------------------------------------------------------------

NOBODY = 65534
FIXABLE = b'# a comment\nacks=1\n'


def setpriv():
    return shutil.which('setpriv')


@test
def test_fix_keeps_owner_and_mode(t):
    """--fix by root on a file another user owns keeps its owner, group and mode"""
    if os.geteuid() != 0:
        return  # needs root to give a file to another user
    for mode in (0o640, 0o600, 0o664, 0o755):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'p.properties')
            write(path, FIXABLE)
            os.chown(path, NOBODY, NOBODY)
            os.chmod(path, mode)
            code, out, err = run_raw('--fix', path, cwd=tmp)
            t.eq(code, 0, f'mode {mode:o}: exit')
            st = os.stat(path)
            t.eq((st.st_uid, st.st_gid, st.st_mode & 0o7777), (NOBODY, NOBODY, mode),
                 f'mode {mode:o}: (uid, gid, mode) after --fix')
            t.ok(b'acks=all' in read_bytes(path), f'mode {mode:o}: fixed')
            t.eq(sorted(os.listdir(tmp)), ['p.properties'], 'no temporary file left')


@test
def test_fix_refuses_when_owner_cannot_be_kept(t):
    """--fix by a user who cannot give the new file the old owner: exit 2, a clear error, the file unchanged"""
    if os.geteuid() != 0 or not setpriv():
        return  # needs root to run the linter as another user
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)  # nobody may create the temporary file here
        path = os.path.join(tmp, 'p.properties')
        write(path, FIXABLE)
        os.chmod(path, 0o666)  # and may write the file, owned by root
        before = os.stat(path)
        code, out, err = run_raw('--fix', path, cwd=tmp,
                                 prefix=(setpriv(), f'--reuid={NOBODY}', f'--regid={NOBODY}',
                                         '--clear-groups'))
        t.eq(code, 2, 'exit')
        t.eq(read_bytes(path), FIXABLE, 'the file is unchanged')
        st = os.stat(path)
        t.eq((st.st_uid, st.st_gid, st.st_mode & 0o7777, st.st_ino),
             (before.st_uid, before.st_gid, 0o666, before.st_ino), 'owner, mode and inode')
        t.ok(b'cannot keep the owner' in err, f'stderr says why: {err!r}')
        t.eq(sorted(os.listdir(tmp)), ['p.properties'], 'no temporary file left')
        t.eq([f for f in findings(out.decode()) if f.severity == 'fixed'], [],
             'nothing reported as fixed')
        # Its own file, the same user may fix.
        os.chown(path, NOBODY, NOBODY)
        code, out, err = run_raw('--fix', path, cwd=tmp,
                                 prefix=(setpriv(), f'--reuid={NOBODY}', f'--regid={NOBODY}',
                                         '--clear-groups'))
        t.eq(code, 0, 'its own file: exit')
        st = os.stat(path)
        t.eq((st.st_uid, st.st_gid, st.st_mode & 0o7777), (NOBODY, NOBODY, 0o666),
             'its own file: owner and mode')


# ---------------------------------------------------------------------------
# Standard input: the files' size cap (64 MiB through a pipe: slow under ASan)
# ---------------------------------------------------------------------------

@test
def test_stdin_size_cap(t):
    """standard input has the files' size cap, in the same words: endless input ends with exit 2"""
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, 'big.properties')
        with open(big, 'wb') as f:
            f.truncate((64 << 20) + 1)
        r = run(big)
        t.exit(r, 2, 'a file over the cap')
        file_words = 'big.properties: cannot read: larger than 64 MiB'
        t.contains(r.err, file_words, 'a file over the cap')
    for fmt in ('text', 'json'):
        with open('/dev/zero', 'rb') as zero:
            proc = subprocess.run([base.LINT, '-f', fmt, '-'], cwd=base.DATA, stdin=zero,
                                  capture_output=True, env=lint_env(), timeout=120)
        err = proc.stderr.decode()
        t.eq(proc.returncode, 2, f'-f {fmt}: exit status')
        t.contains(err, 'ksafe-lint: <stdin>: cannot read: larger than 64 MiB', f'-f {fmt}')
        if fmt == 'json':
            doc = json.loads(proc.stdout)
            t.eq(doc['unreadable'], [{'file': '<stdin>',
                                      'message': 'cannot read: larger than 64 MiB'}],
                 'json: unreadable')
    # Exactly at the cap is read (a JSON object left open: refused by the
    # JSON reader, quickly, not for its size); one byte more is not.
    data = b'{' + b' ' * ((64 << 20) - 1)
    r = run('-', stdin=data)
    t.exit(r, 2, 'at the cap: read')
    t.lacks(r.err, 'larger than', 'at the cap')
    t.contains(r.err, 'ksafe-lint: <stdin>:1:', 'at the cap: the JSON reader\'s error')
    r = run('-', stdin=data + b' ')
    t.exit(r, 2, 'one byte over the cap')
    t.contains(r.err, '<stdin>: cannot read: larger than 64 MiB', 'one byte over the cap')


def main():
    base.LINT = lint_from_argv()
    if not base.LINT:
        return 2
    return base.run_tests()


if __name__ == '__main__':
    sys.exit(main())
