#!/usr/bin/env python3
"""ksafe-lint over many inputs: each input's findings written as it is judged (meson suite
'cli'), printed as TAP.

Usage: test_stream.py PATH/TO/ksafe-lint

- Peak memory does not grow with the number of inputs, in any format (GNU time's %M, the
  peak RSS of ksafe-lint alone): each report is freed once written, and what a format needs
  of the whole run is counted, or spooled to a temporary file.
- The JSON formats (json, sarif, gitlab), written element by element, are laid out exactly
  as a dump of the whole document with two spaces of indentation (what jansson's
  JSON_INDENT(2) and Python's json.dumps(indent=2) both write), whatever the run holds.
- Over many inputs, in every format, what the run counts in one place matches what it lists
  in another: JUnit's totals (written before its cases) and its cases, SARIF's ruleIndex and
  its rules array (written before its results), and its suppressed results after all others;
  unreadable inputs are said on stderr in input order, and findings come in input order.
- A file-wide suppression of thousands of findings, and two directives naming one finding
  (the first one's reason holds).

Every case runs the real binary on files written into a temporary directory.
Python's standard library only (GNU time for the memory test, else skipped).
"""
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Skip, lint_from_argv  # noqa: E402
from test_lint import Result, _commands, run_tests_in_tmp  # noqa: E402

LINT = None  # set in main() from argv[1]
EVERY_FORMAT = ('text', 'json', 'sarif', 'github', 'junit', 'gitlab', 'checkstyle', 'auto')
GNU_TIME = '/usr/bin/time'


def run(*args, stdin=None, cwd=None, timeout=120, env=None):
    """Run ksafe-lint with `args`; KSAFE_POLICY and KSAFE_ENV empty, GITHUB_ACTIONS=true
    (-f auto: GitHub groups)."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    environ = dict(os.environ, KSAFE_POLICY='', KSAFE_ENV='', GITHUB_ACTIONS='true')
    environ.update(env or {})
    proc = subprocess.run([LINT, *args], input=stdin if stdin is not None else b'',
                          capture_output=True, cwd=cwd, env=environ, timeout=timeout)
    result = Result(proc.returncode, proc.stdout.decode('utf-8', 'replace'),
                    proc.stderr.decode('utf-8', 'replace'))
    _commands.append((args, None, result))
    return result


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


# One of these per input, in turn: a suppressed finding and another, three findings, clean,
# an unknown key (a finding of a rule that is not the policy's), four findings.
KINDS = [
    'acks=all\n# ksafe-lint: disable=ksafe-unknown-property -- generated\nbogus.key=1\n'
    'enable.idempotence=true\nlinger.mss=5\n',
    'acks=1\nclient.id=c{i}\n',
    'enable.idempotence=true\nacks=all\nmax.in.flight=5\n',
    'enable.idempotence=true\nacks=all\nmax.in.flight=5\nlinger.mss=5\n',
    'delivery.timeout.ms=0\n',
]


def make_inputs(d, n, unreadable_every=0):
    """n configs in d (c00000.properties ...); every `unreadable_every`-th one holds a NUL
    byte (unreadable: an error in input order)."""
    for i in range(n):
        if unreadable_every and i % unreadable_every == unreadable_every - 1:
            write(os.path.join(d, f'c{i:05d}.properties'), b'acks=1\n\0\n')
        else:
            write(os.path.join(d, f'c{i:05d}.properties'), KINDS[i % len(KINDS)].format(i=i))
    return d


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run_tests():
    return run_tests_in_tmp(TESTS, 'ksafe-stream-')


# ---------------------------------------------------------------------------
# Memory: flat in the number of inputs
# ---------------------------------------------------------------------------

def peak_kb(args, cwd):
    """ksafe-lint's own peak RSS in KB, as GNU time measures it (its child alone: not this
    Python process, which a fork would count)."""
    env = dict(os.environ, KSAFE_POLICY='', KSAFE_ENV='', GITHUB_ACTIONS='true')
    proc = subprocess.run([GNU_TIME, '-f', 'peak-kb %M', LINT, *args], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    found = re.findall(rb'^peak-kb (\d+)$', proc.stderr, re.M)
    return int(found[-1]) if found else None


@test
def test_memory_flat_every_format(t, tmp):
    """peak memory, every format: 3000 inputs take less than 1 KB more per input than 200"""
    if not os.access(GNU_TIME, os.X_OK):
        raise Skip('no GNU time at /usr/bin/time (Debian package time)')
    with open(LINT, 'rb') as f:
        if b'__asan_init' in f.read():
            raise Skip('an AddressSanitizer build: its quarantine keeps what is freed')
    small = make_inputs(os.path.join(tmp, 'small'), 200)
    big = make_inputs(os.path.join(tmp, 'big'), 3000)
    # Every report kept to the end took 4.7 KB (text) to 10 KB (SARIF) per input; now the
    # inputs' names, and SARIF's and GitLab's identities of the results made (duplicates
    # are dropped), take 30 to 450 bytes.
    for fmt in EVERY_FORMAT:
        few = peak_kb(['-f', fmt, '-p', 'builtin:default', small], tmp)
        many = peak_kb(['-f', fmt, '-p', 'builtin:default', big], tmp)
        if few is None or many is None:
            t.ok(False, f'-f {fmt}: GNU time measured the run')
            continue
        per_input = (many - few) * 1024 / 2800
        t.ok(per_input < 1024, f'-f {fmt}: {few} KB for 200 inputs, {many} KB for 3000: '
                               f'{per_input:.0f} bytes more per input')


# ---------------------------------------------------------------------------
# The JSON formats, element by element, laid out as one document
# ---------------------------------------------------------------------------

def whole_document(text):
    """`text` parsed and dumped again whole, with two spaces of indentation."""
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + '\n'


@test
def test_json_layout_as_one_document(t, tmp):
    """-f json, sarif, gitlab: byte for byte the layout of the whole document dumped at once"""
    d = make_inputs(os.path.join(tmp, 'in'), 40, unreadable_every=13)
    clean = write(os.path.join(tmp, 'clean', 'ok.properties'),
                  'enable.idempotence=true\nacks=all\nmax.in.flight=5\n')
    outside = write(os.path.join(tmp, 'out', 'o.properties'), 'acks=0\nfoo.bar=1\n')
    cases = [
        ('no input has a finding', [clean], {}),
        ('findings, suppressions, unreadable inputs', [d], {}),
        ('one file named twice', [clean, os.path.join(d, 'c00001.properties'),
                                  './' + os.path.relpath(os.path.join(d, 'c00001.properties'),
                                                         tmp)], {}),
        ('-q', ['-q', d], {}),
        ('--ignore', ['--ignore', 'ksafe-unknown-property', d], {}),
        ('a file outside --base-dir', ['--base-dir', os.path.join(tmp, 'in'), d, outside], {}),
        ('standard input and -X', ['-X', 'linger.ms=5', '-'], {'stdin': 'acks=1\nfoo=2\n'}),
        ('only unreadable inputs', [os.path.join(tmp, 'missing.properties')], {}),
    ]
    for fmt in ('json', 'sarif', 'gitlab'):
        for what, args, kw in cases:
            r = run('-f', fmt, *args, cwd=tmp, stdin=kw.get('stdin'))
            try:
                want = whole_document(r.out)
            except ValueError as e:
                t.ok(False, f'-f {fmt}, {what}: not JSON ({e})')
                continue
            t.eq(r.out, want, f'-f {fmt}, {what}: laid out as the whole document')


# ---------------------------------------------------------------------------
# Many inputs: what is counted agrees with what is listed, in input order
# ---------------------------------------------------------------------------

@test
def test_many_inputs_consistent(t, tmp):
    """400 inputs (some unreadable, one named twice): every format's counts match its lists"""
    d = make_inputs(os.path.join(tmp, 'in'), 400, unreadable_every=97)
    twice = os.path.join(d, 'c00000.properties')  # a suppressed finding and another
    args = ['-p', 'builtin:default', d, twice]
    unreadable = [f'{d}/c{i:05d}.properties' for i in range(400) if i % 97 == 96]
    text = run(*args, cwd=tmp)
    # stderr: the unreadable inputs in input order, then the summary.
    said = re.findall(r'^ksafe-lint: (\S+): contains a NUL byte', text.err, re.M)
    t.eq(said, unreadable, 'stderr names the unreadable inputs in input order')
    # text: findings in input order.
    files = [line.split(':', 1)[0] for line in text.out.splitlines()]
    order = [f for i, f in enumerate(files) if i == 0 or files[i - 1] != f]
    t.ok(order[:-1] == sorted(set(order)) and order[-1] == twice,
         f'text: findings in input order (the file named twice last): {order[:3]} ... '
         f'{order[-3:]}')
    summary = re.search(r'(\d+) files checked: (\d+) errors, (\d+) warnings, (\d+) suppressed, '
                        r'(\d+) unreadable', text.err)
    t.ok(summary is not None, f'text: a summary line: {text.err[-300:]!r}')
    if summary is None:
        return
    checked, errors, warnings, suppressed, bad = map(int, summary.groups())
    t.eq((checked, bad), (401 - len(unreadable), len(unreadable)), 'summary: files, unreadable')
    t.eq(errors + warnings, len(text.out.splitlines()), 'summary: one line per finding')

    doc = json.loads(run('-f', 'json', *args, cwd=tmp).out)
    t.eq((doc['summary']['errors'], doc['summary']['warnings'], doc['summary']['suppressed']),
         (errors, warnings, suppressed), 'json: the summary is the text summary')
    t.eq(len(doc['findings']), errors + warnings, 'json: one record per finding')
    t.eq([u['file'] for u in doc['unreadable']], unreadable, 'json: unreadable in input order')

    sarif = json.loads(run('-f', 'sarif', *args, cwd=tmp).out)['runs'][0]
    rules = [rule['id'] for rule in sarif['tool']['driver']['rules']]
    t.eq(len(rules), len(set(rules)), 'sarif: each rule once')
    t.ok(all(0 <= res['ruleIndex'] < len(rules) and rules[res['ruleIndex']] == res['ruleId']
             for res in sarif['results']), 'sarif: every ruleIndex names its ruleId')
    kinds = ['suppressions' in res for res in sarif['results']]
    t.eq(kinds, sorted(kinds), 'sarif: the suppressed results after all others')
    # One file named twice: each result once.
    t.eq(sum(kinds), suppressed - 1, 'sarif: each suppressed finding once (one file twice)')
    t.eq(len(kinds) - sum(kinds), errors + warnings - 1, 'sarif: each other finding once')
    t.eq(sarif['invocations'][0]['executionSuccessful'], False, 'sarif: unreadable inputs fail')

    root = ET.fromstring(run('-f', 'junit', *args, cwd=tmp).out)
    suite = root.find('testsuite')
    cases = suite.findall('testcase')
    counted = {k: int(suite.get(k)) for k in ('tests', 'failures', 'errors', 'skipped')}
    listed = {'tests': len(cases),
              'failures': sum(c.find('failure') is not None for c in cases),
              'errors': sum(c.find('error') is not None for c in cases),
              'skipped': sum(c.find('skipped') is not None for c in cases)}
    t.eq(counted, listed, 'junit: the totals (written first) count the cases')
    t.eq(root.get('tests'), suite.get('tests'), 'junit: testsuites counts as its suite')
    props = {p.get('name'): p.get('value') for p in suite.iter('property')}
    t.eq(props.get('suppressed'), str(suppressed), 'junit: the suppressed property')
    t.eq(len({c.get('name') for c in cases}), 400, 'junit: one file named twice, once')

    check = ET.fromstring(run('-f', 'checkstyle', *args, cwd=tmp).out)
    t.eq(len(check.findall('file')), 400, 'checkstyle: each input once')
    issues = json.loads(run('-f', 'gitlab', *args, cwd=tmp).out)
    t.eq(len({i['fingerprint'] for i in issues}), len(issues), 'gitlab: fingerprints unique')
    t.eq([i['location']['path'] for i in issues if i['check_name'] == 'ksafe-unreadable'],
         [os.path.relpath(u, tmp) for u in unreadable], 'gitlab: unreadable last, in order')
    groups = run('-f', 'auto', *args, cwd=tmp).out
    t.eq(len(re.findall(r'^::group::', groups, re.M)),
         len(re.findall(r'^::endgroup::', groups, re.M)), 'auto: groups closed')
    t.eq(len(re.findall(r'^::group::.*: unreadable$', groups, re.M)), len(unreadable),
         'auto: each unreadable input a group')


@test
def test_jobs_same_output(t, tmp):
    """--jobs 1, 2, 16: the same stdout, stderr and exit status in every format, in input order"""
    # More inputs than the ring of results waiting (64): it wraps.
    d = make_inputs(os.path.join(tmp, 'in'), 150, unreadable_every=41)
    runs = [
        ('a directory and a file named twice', ['-p', 'builtin:default', d,
                                                os.path.join(d, 'c00003.properties')], None),
        ('standard input among files', [os.path.join(d, 'c00001.properties'), '-', d],
         'acks=1\nbogus.thing=2\n'),
        ('-q --ignore', ['-q', '--ignore', 'ksafe-unknown-property', d], None),
    ]
    for fmt in EVERY_FORMAT:
        for what, args, stdin in runs:
            one = run('-j', '1', '-f', fmt, *args, cwd=tmp, stdin=stdin)
            for jobs in ('2', '16'):
                many = run('-j', jobs, '-f', fmt, *args, cwd=tmp, stdin=stdin)
                t.ok(many == one, f'-f {fmt}, {what}: -j {jobs} as -j 1')
    one = run('-j', '1', '--effective', d, cwd=tmp)
    t.ok(run('-j', '2', '--effective', d, cwd=tmp) == one, '--effective: -j 2 as -j 1')
    for bad in ('0', '17', 'x', '2x', ''):
        r = run('-j', bad, d, cwd=tmp)
        t.eq(r.code, 2, f'-j {bad!r}: bad usage')
        t.contains(r.err, '--jobs takes a number', f'-j {bad!r}: says why')


@test
def test_directory_walk_entry_types(t, tmp):
    """a directory search by entry type: links followed (a loop once), broken ones unreadable, FIFOs skipped"""
    root = os.path.join(tmp, 'tree')
    write(os.path.join(root, 'a.properties'), 'acks=1\n')
    write(os.path.join(root, 'sub', 'b.properties'), 'acks=1\n')
    write(os.path.join(root, 'sub', 'deeper', 'c.json'), '{"acks": 1}\n')
    write(os.path.join(root, 'sub', 'skip.txt'), 'acks=1\n')
    write(os.path.join(tmp, 'elsewhere', 'd.conf'), 'acks=1\n')
    os.symlink(os.path.join(tmp, 'elsewhere'), os.path.join(root, 'linked'))   # a dir link
    os.symlink('..', os.path.join(root, 'sub', 'up'))                          # a loop
    os.symlink('a.properties', os.path.join(root, 'z-link.properties'))        # a file link
    os.symlink('/nonexistent/x', os.path.join(root, 'broken.properties'))      # broken
    os.mkfifo(os.path.join(root, 'pipe.properties'))                           # never opened
    r = run('-f', 'json', root, cwd=tmp, timeout=30)
    doc = json.loads(r.out)
    checked = sorted({f['file'] for f in doc['findings']})
    want = sorted(os.path.join(root, n) for n in (
        'a.properties', 'linked/d.conf', 'sub/b.properties', 'sub/deeper/c.json',
        'z-link.properties'))
    t.eq(checked, want, 'the files found, links followed, the loop not again')
    t.eq([u['file'] for u in doc['unreadable']], [os.path.join(root, 'broken.properties')],
         'a broken link is an unreadable input')
    t.eq(doc['summary']['files'], 5, 'five files checked')
    # The project config's include globs: files named from the current directory when
    # they are below it, else by their absolute path.
    proj = os.path.join(tmp, 'proj')
    for name in ('a.properties', 'sub/b.properties', 'sub/deep/c.properties'):
        write(os.path.join(proj, name), 'acks=1\n')
    write(os.path.join(proj, '.ksafe-lint.json'),
          '{"include": ["**/*.properties"], "exclude": ["sub/deep/**"]}')
    for cwd, want in ((proj, ['a.properties', 'sub/b.properties']),
                      (os.path.join(proj, 'sub'),
                       [os.path.join(proj, 'a.properties'), 'b.properties'])):
        r = run('-f', 'json', cwd=cwd, timeout=30)
        t.eq(sorted({f['file'] for f in json.loads(r.out)['findings']}), want,
             f'include, from {os.path.relpath(cwd, tmp)}')


@test
def test_effective_before_findings(t, tmp):
    """--effective over several files: every config first, then the findings"""
    d = make_inputs(os.path.join(tmp, 'in'), 6)
    r = run('--effective', d, cwd=tmp)
    lines = r.out.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith('# ')]
    finds = [i for i, line in enumerate(lines) if re.match(r'^\S+:\d+:\d+: ', line)]
    t.eq(len(heads), 6, 'one --effective block per input')
    t.ok(finds and max(heads) < min(finds), 'the findings after every block')


# ---------------------------------------------------------------------------
# Suppressions: many in one file, and one finding named twice
# ---------------------------------------------------------------------------

@test
def test_many_suppressions(t, tmp):
    """a file-wide directive over 3000 findings, and per-line ones: each suppressed once"""
    keys = ''.join(f'acme.setting{i}=1\n' for i in range(3000))
    cases = [
        # (what, text, suppressed, shown unknown-property findings)
        ('file-wide', '# ksafe-lint: disable=ksafe-unknown-property -- generated\n' + keys,
         3000, 0),
        ('every other line',
         ''.join(f'# ksafe-lint: disable=ksafe-unknown-property -- line {i}\nacme.k{i}=1\n'
                 if i % 2 else f'acme.k{i}=1\n' for i in range(2000)), 1000, 1000),
        ('none', keys, 0, 3000),
    ]
    for what, text, suppressed, left in cases:
        path = write(os.path.join(tmp, f'{what}.properties'), text)
        doc = json.loads(run('-f', 'json', '-p', 'builtin:default', path).out)
        unknown = [f for f in doc['findings'] if f['rule'] == 'ksafe-unknown-property']
        t.eq((doc['summary']['suppressed'], len(unknown)), (suppressed, left), what)
        sarif = json.loads(run('-f', 'sarif', '-p', 'builtin:default', path).out)
        marked = [r for r in sarif['runs'][0]['results'] if 'suppressions' in r]
        t.eq(len(marked), suppressed, f'{what}: sarif lists each suppressed finding once')
    # Two directives name one finding: the first one's reason holds.
    path = write(os.path.join(tmp, 'twice.properties'),
                 '# ksafe-lint: disable=ksafe-unknown-property -- the file\n'
                 '# ksafe-lint: disable=ksafe-unknown-property -- the line\n'
                 'acme.thing=1\n')
    sarif = json.loads(run('-f', 'sarif', '-p', 'builtin:default', path).out)
    why = [s.get('justification') for r in sarif['runs'][0]['results']
           for s in r.get('suppressions', [])]
    t.eq(why, ['the file'], 'two directives: suppressed once, by the first')


def main():
    global LINT
    LINT = lint_from_argv()
    if not LINT:
        return 2
    return run_tests()


if __name__ == '__main__':
    sys.exit(main())
