#!/usr/bin/env python3
"""ksafe-lint's command-line tests (meson suite 'cli'), printed as TAP.

Usage: test_lint.py PATH/TO/ksafe-lint

Each test runs the real binary and checks what a user sees: the exit status
(0 clean or warnings only, 1 errors, 2 bad usage / unreadable input / bad
policy), what goes to stdout and what to stderr, and the exact
file:line:col of each finding. The fixtures are in tests/data/cli
($KSAFE_TEST_DATA/cli, else found relative to this file). Tests that
rewrite files (--fix) work on copies in a temporary directory: nothing is
ever written into the source tree.

Python's standard library only.
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import lint_from_argv, run_tap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(
    os.environ.get('KSAFE_TEST_DATA') or os.path.join(HERE, '..', 'data'), 'cli'))
ROOT = os.path.normpath(os.environ.get('KSAFE_SOURCE_ROOT') or os.path.join(HERE, '..', '..'))
EXAMPLES = os.path.join(ROOT, 'conf', 'examples')
ORG_POLICY = os.path.join(EXAMPLES, 'org-policy.json')
LINT = None  # set in main() from argv[1]

# The values in secrets.properties (and the example's password): none of
# them may appear in any output of ksafe-lint.
SECRETS = ['hunter2-secret', 'keypass-secret-42', 'MIIEpemsecret99', 'alice-secret-user',
           'oauth-secret-77', 's3cr3t-do-not-print']


# ---------------------------------------------------------------------------
# Running the linter and reading its output
# ---------------------------------------------------------------------------

Result = collections.namedtuple('Result', 'code out err')
_commands = []  # what the current test ran, shown when it fails


def lint_env(env=None):
    """The environment of a run: KSAFE_POLICY and KSAFE_ENV empty unless given."""
    full = dict(os.environ, KSAFE_POLICY='', KSAFE_ENV='')
    full.update(env or {})
    return full


def run(*args, stdin=None, env=None, cwd=DATA):
    """Run ksafe-lint with `args` in `cwd` (the fixtures by default).

    Returns (code, stdout, stderr) as text. stdin is bytes or str; without
    it, standard input is empty (never the TAP harness's)."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    proc = subprocess.run([LINT, *args], input=stdin if stdin is not None else b'',
                          capture_output=True, cwd=cwd, env=lint_env(env), timeout=60)
    result = Result(proc.returncode, proc.stdout.decode('utf-8', 'replace'),
                    proc.stderr.decode('utf-8', 'replace'))
    _commands.append((args, env, result))
    return result


# file:line:col: severity: message [rule]   (severity "fixed" with --fix)
FINDING_RE = re.compile(r'^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): '
                        r'(?P<severity>error|warning|fixed): (?P<message>.*) '
                        r'\[(?P<rule>[A-Za-z0-9_.-]+)\]$')
Finding = collections.namedtuple('Finding', 'file line col severity rule message')


def findings(out):
    """The findings of a text-format stdout, in order."""
    result = []
    for line in out.splitlines():
        m = FINDING_RE.match(line)
        if m:
            result.append(Finding(m['file'], int(m['line']), int(m['col']), m['severity'],
                                  m['rule'], m['message']))
    return result


def where(out):
    """(file, line, col, rule) of each text finding: what an editor jumps to."""
    return [(f.file, f.line, f.col, f.rule) for f in findings(out)]


def files_in_order(out):
    """The files that findings name, each once, in output order."""
    seen = []
    for f in findings(out):
        if f.file not in seen:
            seen.append(f.file)
    return seen


def effective_values(out):
    """name -> value of the `name=value  # comment` lines of --effective."""
    values = {}
    for line in out.splitlines():
        m = re.match(r'^([A-Za-z0-9_.]+)=(.*?)(\s+#.*)?$', line)
        if m:
            values[m[1]] = m[2]
    return values


def copy_fixtures(tmp, *names):
    """Copy fixtures into `tmp` (for --fix); returns their new paths."""
    return [shutil.copy(os.path.join(DATA, name), tmp) for name in names]


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


# ---------------------------------------------------------------------------
# A small TAP runner: one test per function, every failed check reported
# ---------------------------------------------------------------------------

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
        return self.ok(part in text, f'{what}: {part!r} not in {text[:300]!r}')

    def lacks(self, text, part, what):
        return self.ok(part not in text, f'{what}: {part!r} should not be in the output')

    def exit(self, result, code, what='exit status'):
        return self.eq(result.code, code, what)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def lint_commands(t, last=4):
    """What a failed test ran: the last `last` ksafe-lint runs, with their output."""
    del t
    lines = []
    for args, env, res in _commands[-last:]:
        shown_env = ' '.join(f'{k}={v}' for k, v in (env or {}).items())
        lines.append(f'$ {shown_env + " " if shown_env else ""}ksafe-lint {" ".join(args)}')
        lines.append(f'exit {res.code}')
        for name, text in (('stdout', res.out), ('stderr', res.err)):
            lines += [f'{name}: {line}' for line in text.splitlines()[:15]]
    return lines


def run_tests():
    def call(fn, t):
        del _commands[:]
        fn(t)
    return run_tap(TESTS, Checks, call, lint_commands)


def run_tests_in_tmp(tests, prefix):
    """Run `tests` as TAP, each as fn(checks, tmp) in a temporary directory of its own that
    is removed after it; a failed test shows its last three ksafe-lint runs."""
    def call(fn, t):
        del _commands[:]
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            fn(t, tmp)
    return run_tap(tests, Checks, call, lambda t: lint_commands(t, 3))


# ---------------------------------------------------------------------------
# Help, version and bad usage
# ---------------------------------------------------------------------------

@test
def test_help(t):
    """--help prints the usage and the exit codes to stdout and exits 0"""
    r = run('--help')
    t.exit(r, 0)
    t.contains(r.out, 'Usage: ksafe-lint', '--help on stdout')
    t.eq(r.err, '', 'stderr')
    t.ok(re.search(r'exit status', r.out, re.I), '--help documents the exit status')
    for code in '012':
        t.ok(re.search(rf'^\s*{code}\s+\S', r.out, re.M), f'--help explains exit code {code}')
    for fmt in ('text', 'json', 'sarif', 'github', 'junit'):
        t.contains(r.out, fmt, '--help names each output format')


@test
def test_version(t):
    """--version prints the versions of ksafe, librdkafka and jansson"""
    r = run('--version')
    t.exit(r, 0)
    t.ok(re.search(r'ksafe\S*\s+\d+\.\d+\.\d+', r.out), f'ksafe version in {r.out!r}')
    t.ok(re.search(r'librdkafka\s+\d+\.\d+\.\d+', r.out), f'librdkafka version in {r.out!r}')
    t.ok(re.search(r'jansson\s+\d+\.\d+', r.out), f'jansson version in {r.out!r}')


@test
def test_bad_usage(t):
    """bad options, missing arguments and no input are exit 2 with a message on stderr"""
    cases = [
        ('--bogus', 'crlf.properties'),
        ('-p',),                              # missing argument
        ('crlf.properties', '--format'),      # missing argument, last
        (),                                   # no file at all
        ('-f', 'xml', 'crlf.properties'),
        ('-W', 'warnings', 'crlf.properties'),
        ('-X', 'acks', 'crlf.properties'),    # not KEY=VALUE
        ('-X', '=1', 'crlf.properties'),
        ('--dialect', 'cobol', 'crlf.properties'),
    ]
    for args in cases:
        r = run(*args)
        what = f'ksafe-lint {" ".join(args)}'
        t.exit(r, 2, what)
        t.eq(r.out, '', f'{what}: stdout')
        t.ok(r.err.startswith('ksafe-lint: '), f'{what}: stderr starts with "ksafe-lint: ": '
             f'{r.err!r}')


# ---------------------------------------------------------------------------
# Input syntaxes, each with the file:line:col of its findings
# ---------------------------------------------------------------------------

@test
def test_properties_separators(t):
    """key=value, key: value and key value are all read, at their line"""
    r = run('syntax.properties')
    t.exit(r, 1)
    found = where(r.out)
    t.ok(('syntax.properties', 4, 1, 'acks-all') in found, f'acks: 1 at 4:1 in {found}')
    t.ok(('syntax.properties', 5, 1, 'in-flight') in found,
         f'max.in.flight 7 at 5:1 in {found}')


@test
def test_properties_comments(t):
    """comment lines (starting with a hash or a !) are not settings"""
    r = run('syntax.properties')
    t.ok(findings(r.out), 'the file has findings')
    for f in findings(r.out):
        if (f.line, f.rule) == (2, 'ksafe-kcat-syntax'):
            continue  # kcat reads a '!' line as a property: said in the librdkafka dialect
        t.ok(f.line > 2, f'nothing is reported on the comment lines 1-2: {f}')
        t.ok(f.rule not in ('ksafe-duplicate', 'ksafe-unknown-property'),
             f'"! acks=0" in a comment is no setting: {f}')


@test
def test_properties_continuation(t):
    """a backslash continuation is reported at its first physical line"""
    r = run('syntax.properties')
    found = where(r.out)
    t.ok(('syntax.properties', 8, 1, 'retries') in found, f'retries=\\ 0 at 8:1 in {found}')
    t.ok(all(f.line not in (7, 9) for f in findings(r.out)),
         'no finding on the continued lines 7 and 9')


@test
def test_properties_indented_key(t):
    """an indented key is reported at its own column"""
    r = run('syntax.properties')
    found = where(r.out)
    t.ok(('syntax.properties', 10, 5, 'ksafe-misread-value') in found,
         f'"    linger.ms = 5abc" at 10:5 in {found}')


@test
def test_properties_crlf(t):
    """CRLF line endings: same lines, and no \\r in values or messages"""
    t.ok(b'\r\n' in read_bytes(os.path.join(DATA, 'crlf.properties')),
         'fixture crlf.properties has CRLF line endings (check .gitattributes)')
    r = run('crlf.properties')
    t.exit(r, 1)
    t.eq(where(r.out), [('crlf.properties', 2, 1, 'acks-all'),
                        ('crlf.properties', 3, 1, 'in-flight')], 'findings')
    t.lacks(r.out, '\r', 'stdout')
    t.contains(r.out, 'acks is 1;', 'the value without its \\r')


@test
def test_properties_bom(t):
    """a UTF-8 BOM is skipped: the first key is known and at column 1 (kcat refuses the line)"""
    t.ok(read_bytes(os.path.join(DATA, 'bom.properties')).startswith(b'\xef\xbb\xbf'),
         'fixture bom.properties starts with a BOM')
    r = run('bom.properties')
    t.exit(r, 1)
    t.eq(where(r.out), [('bom.properties', 1, 1, 'ksafe-kcat-syntax'),
                        ('bom.properties', 1, 1, 'acks-all')], 'findings')
    t.lacks(r.out, '\ufeff', 'stdout')


@test
def test_json_flat(t):
    """a flat JSON object: findings at the line and column of the key"""
    r = run('flat.json')
    t.exit(r, 1)
    t.eq(where(r.out), [('flat.json', 3, 5, 'acks-all')], 'findings')


@test
def test_json_bom(t):
    """a JSON file with a UTF-8 BOM and CRLF is read like one without"""
    r = run('bom.json')
    t.exit(r, 1)
    t.eq(where(r.out), [('bom.json', 3, 3, 'acks-all')], 'findings')
    t.eq(r.err.count('ksafe-lint: bom.json'), 0, 'no read error on stderr')


@test
def test_json_pointer(t):
    """--json-pointer /kafka/producer reads the nested object, at its real lines"""
    r = run('--json-pointer', '/kafka/producer', 'nested.json')
    t.exit(r, 1)
    t.eq(where(r.out), [('nested.json', 7, 7, 'acks-all')],
         'findings (acks is on line 7, column 7 of nested.json)')


@test
def test_json_pointer_bad(t):
    """a JSON pointer that names nothing, or is no pointer, is exit 2"""
    for pointer in ('/kafka/nope', 'kafka'):
        r = run('--json-pointer', pointer, 'nested.json')
        t.exit(r, 2, f'--json-pointer {pointer}')
        t.eq(findings(r.out), [], f'--json-pointer {pointer}: no findings')
        t.contains(r.err, 'ksafe-lint: nested.json', f'--json-pointer {pointer}: stderr')
        t.contains(r.err, f'"{pointer}"', f'--json-pointer {pointer}: stderr names it')


@test
def test_stdin(t):
    """- reads standard input, properties or JSON, as <stdin>"""
    r = run('-', stdin='enable.idempotence=true\nacks=1\n')
    t.exit(r, 1, 'properties on stdin')
    t.eq(where(r.out), [('<stdin>', 2, 1, 'acks-all')], 'properties on stdin')
    r = run('-', stdin='{\n "enable.idempotence": true,\n "acks": 1\n}\n')
    t.exit(r, 1, 'JSON on stdin')
    t.eq(where(r.out), [('<stdin>', 3, 2, 'acks-all')], 'JSON on stdin')


@test
def test_stdin_once(t):
    """'-' given twice (or more) is bad usage (exit 2) before anything is read or judged"""
    for args in (('-', '-'), ('-', 'duplicate.properties', '-'), ('-f', 'json', '-', '-', '-'),
                 ('-X', 'acks=all', '-', '-')):
        r = run(*args, stdin='enable.idempotence=true\nacks=1\n')
        t.exit(r, 2, f'{args}')
        t.eq(r.out, '', f'{args}: nothing on stdout')
        t.contains(r.err, "'-' (standard input) is given more than once", f'{args}: stderr')
    r = run('-', 'duplicate.properties', stdin='acks=1\n')
    t.exit(r, 1, "'-' once, with a file")
    t.eq(files_in_order(r.out), ['<stdin>', 'duplicate.properties'], "'-' once: both judged")


@test
def test_named_pipes(t):
    """a named pipe (`ksafe-lint <(cmd)`, /dev/stdin of a pipe) is read like standard input;
    --fix refuses it; a device is refused without reading it"""
    import threading
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (('fifo', ()), ('fifo.json', ()), ('fifo', ('--fix',))):
            fifo = os.path.join(tmp, name)
            os.mkfifo(fifo)
            text = ('{"acks": 1}\n' if name.endswith('.json') else 'acks=1\n').encode()

            def feed(path=fifo, data=text):
                with open(path, 'wb') as w:
                    w.write(data)
            writer = threading.Thread(target=feed)
            writer.start()
            r = run(*extra, fifo)
            writer.join(timeout=30)
            os.unlink(fifo)
            if extra:
                t.exit(r, 2, f'{name} --fix')
                t.contains(r.err, f'{fifo}: --fix rewrites files only', f'{name} --fix: why')
                continue
            t.exit(r, 1, name)
            t.ok((fifo, 1, 1 if name == 'fifo' else 2, 'acks-all') in where(r.out),
                 f'{name}: acks-all found at its line: {r.out!r}')
    r = run('/dev/stdin', stdin='enable.idempotence=true\nacks=1\n')
    t.exit(r, 1, '/dev/stdin')
    t.contains(r.out, '/dev/stdin:2:1: error: acks is 1', '/dev/stdin: file:line')
    r = run('/dev/zero')
    t.exit(r, 2, 'a device')
    t.contains(r.err, '/dev/zero: cannot read: a character device, not a regular file',
               'a device: why')


@test
def test_many_files(t):
    """many files are linted in the order given, and counted in the summary"""
    r = run('crlf.properties', 'flat.json', 'duplicate.properties')
    t.exit(r, 1)
    t.eq(files_in_order(r.out), ['crlf.properties', 'flat.json', 'duplicate.properties'],
         'files in order')
    t.contains(r.err, '3 files checked', 'summary')


@test
def test_directory(t):
    """a directory is searched recursively, in sorted order, for .properties/.conf/.json"""
    r = run('tree')
    t.exit(r, 1)
    t.eq(where(r.out), [('tree/a/x.json', 2, 2, 'acks-all'),
                        ('tree/a/y.properties', 2, 1, 'acks-all'),
                        ('tree/b/z.conf', 2, 1, 'acks-all')], 'findings')


@test
def test_directory_skips_dot_files(t):
    """dot-files and dot-directories are not searched"""
    r = run('tree')
    t.ok(files_in_order(r.out), 'files were found')
    for name in files_in_order(r.out):
        t.ok('/.' not in name, f'{name} is hidden and should have been skipped')


@test
def test_directory_ext(t):
    """--ext changes the extensions searched in directories"""
    r = run('--ext', 'txt,cfg', 'tree')
    t.exit(r, 1)
    t.eq(files_in_order(r.out), ['tree/a/w.txt', 'tree/c.cfg'], 'files found')


@test
def test_x_alone(t):
    """-X key=value alone is linted as <command line>"""
    r = run('-X', 'acks=1', '-X', 'enable.idempotence=true')
    t.exit(r, 1)
    t.eq([(f.file, f.rule) for f in findings(r.out)], [('<command line>', 'acks-all')],
         'findings')
    r = run('-X', 'acks=all', '-X', 'enable.idempotence=true')
    t.exit(r, 0, 'a safe command line')
    t.eq(findings(r.out), [], 'a safe command line: findings')


@test
def test_x_wins_over_file(t):
    """-X with a file: the -X value wins and its findings name <command line>"""
    r = run('-X', 'acks=all', 'override.properties')      # the file says acks=1
    t.exit(r, 0, '-X acks=all over acks=1')
    t.eq(where(r.out), [('override.properties', 2, 1, 'ksafe-duplicate')],
         '-X acks=all: the file\'s acks=1 is shadowed, not judged')
    r = run('-X', 'acks=0', 'override.properties')
    t.exit(r, 1, '-X acks=0')
    judged = [(f.file, f.rule) for f in findings(r.out) if f.rule == 'acks-all']
    t.eq(judged, [('<command line>', 'acks-all')], '-X acks=0: acks-all names the command line')


@test
def test_x_shadow_message(t):
    """the line shadowed by -X says the command line sets it (not "line 1")"""
    r = run('-X', 'acks=all', 'override.properties')
    dup = [f for f in findings(r.out) if f.rule == 'ksafe-duplicate']
    if t.eq(len(dup), 1, 'one ksafe-duplicate warning'):
        t.contains(dup[0].message, 'command line', 'the warning')
        t.lacks(dup[0].message, 'on line 1', 'the warning (line 1 of the file is not acks)')


# ---------------------------------------------------------------------------
# What the engine reports besides the policy's rules
# ---------------------------------------------------------------------------

@test
def test_duplicate_alias_and_target(t):
    """acks=all (line 2) then request.required.acks=1 (line 5): warn at 2, judge 5"""
    r = run('duplicate.properties')
    t.exit(r, 1)
    got = [(f.line, f.col, f.severity, f.rule) for f in findings(r.out)]
    t.eq(got, [(2, 1, 'warning', 'ksafe-duplicate'), (5, 1, 'error', 'acks-all')], 'findings')
    dup = findings(r.out)[:1]
    if dup:
        t.contains(dup[0].message, 'line 5', 'the warning names the line that wins')


@test
def test_unknown_property(t):
    """an unknown property is an error with "did you mean" (exit 1): librdkafka refuses it"""
    r = run('typo.properties')
    t.exit(r, 1)
    got = findings(r.out)
    t.eq([(f.line, f.col, f.severity, f.rule) for f in got],
         [(3, 1, 'error', 'ksafe-unknown-property')], 'findings')
    if got:
        t.contains(got[0].message, 'did you mean "enable.idempotence"', 'the message')


@test
def test_unknown_property_hint(t):
    """the "did you mean" fix is not shown as a value to set"""
    r = run('typo.properties')
    t.contains(r.out, 'did you mean', 'text output')
    t.lacks(r.out, 'enable.idempotance=enable.idempotence',
            'text output (it tells the user to set the typo to the right name)')


@test
def test_dialect_java(t):
    """--dialect java accepts key.serializer and buffer.memory, still warns for a typo"""
    r = run('--dialect', 'java', 'java.properties')
    t.exit(r, 0, '--dialect java')
    t.eq(where(r.out), [('java.properties', 5, 1, 'ksafe-unknown-property')],
         '--dialect java: only the typo')
    t.contains(r.out, 'did you mean "enable.idempotence"', '--dialect java: the typo')
    r = run('java.properties')
    t.eq([f.line for f in findings(r.out) if f.rule == 'ksafe-unknown-property'], [3, 4, 5],
         'librdkafka dialect: Java-only properties are unknown')


@test
def test_value_traps(t):
    """values librdkafka reads differently, each at its line with its rule id"""
    expected = {  # line: (rule, words the message must contain)
        2: ('ksafe-invalid-value', ['enable.idempotence']),           # yes
        3: ('ksafe-misread-value', ['"010"', '8']),                   # octal
        4: ('ksafe-misread-value', ['1e3', 'as 1']),                  # 1 ms
        5: ('ksafe-misread-value', ['4294967301', 'as 5']),           # truncated
        6: ('ksafe-misread-value', ['5abc', 'as 5']),                 # trailing junk
    }
    r = run('traps.properties')
    t.exit(r, 1)
    got = findings(r.out)
    for line, (rule, words) in expected.items():
        match = [f for f in got if f.line == line and f.col == 1 and f.rule == rule]
        if t.ok(match, f'[{rule}] at traps.properties:{line}:1 in {where(r.out)}'):
            t.eq(match[0].severity, 'error', f'line {line} severity')
            for word in words:
                t.contains(match[0].message, word, f'line {line} message')


@test
def test_default_not_set(t):
    """a rule failing on a default the file never set points at line 1, column 1"""
    r = run('unset.properties')
    t.exit(r, 1)
    got = {f.rule: f for f in findings(r.out)}
    for rule, default in (('idempotence', 'false'), ('in-flight', '1000000')):
        f = got.get(rule)
        if t.ok(f, f'[{rule}] reported'):
            t.eq((f.line, f.col), (1, 1), f'[{rule}] location')
            t.contains(f.message, f"not set; librdkafka's default is {default}",
                       f'[{rule}] message')


@test
def test_stdout_stderr(t):
    """findings go to stdout, the summary to stderr"""
    r = run('duplicate.properties')
    lines = r.out.splitlines()
    t.ok(lines and all(FINDING_RE.match(line) for line in lines),
         f'every stdout line is a finding: {lines}')
    t.eq(r.err.strip(), 'ksafe-lint: 1 file checked: 1 error, 1 warning', 'stderr')


@test
def test_examples(t):
    """conf/examples: the safe configs pass, the unsafe ones fail where the README says"""
    for name in ('producer-safe.properties', 'producer-safe.json'):
        r = run(os.path.join(EXAMPLES, name))
        t.exit(r, 0, name)
        t.eq(findings(r.out), [], f'{name}: findings')
    path = os.path.join(EXAMPLES, 'producer-unsafe.properties')
    r = run(path)
    t.exit(r, 1, 'producer-unsafe.properties')
    found = where(r.out)
    for line, rule in ((14, 'acks-all'), (16, 'idempotence')):
        t.ok((path, line, 1, rule) in found, f'[{rule}] at line {line}: {found}')
    r = run(os.path.join(EXAMPLES, 'producer-unsafe.json'))
    t.exit(r, 1, 'producer-unsafe.json')
    t.ok(any(f.rule == 'ksafe-misread-value' and f.line == 9 for f in findings(r.out)),
         'producer-unsafe.json: "1e3" on line 9 is misread')


# ---------------------------------------------------------------------------
# Output formats, parsed back and compared with the text format
# ---------------------------------------------------------------------------

FORMAT_INPUTS = ('duplicate.properties', 'typo.properties')  # errors and a warning


def text_reference():
    return findings(run(*FORMAT_INPUTS).out)


@test
def test_format_json(t):
    """-f json: version 1, every field of each finding, a summary"""
    ref = text_reference()
    r = run('-f', 'json', *FORMAT_INPUTS)
    t.exit(r, 1)
    doc = json.loads(r.out)
    t.eq(doc.get('version'), 1, 'version')
    fields = ('file', 'line', 'column', 'rule', 'property', 'canonical', 'severity', 'action',
              'actual', 'expected', 'fix', 'message', 'why', 'fixed', 'is_set')
    for f in doc['findings']:
        missing = [k for k in fields if k not in f]
        t.eq(missing, [], f'fields missing from {f.get("rule")}')
    t.eq([(f['file'], f['line'], f['column'], f['rule'], f['severity']) for f in doc['findings']],
         [(f.file, f.line, f.col, f.rule, f.severity) for f in ref], 'same findings as text')
    t.eq([f['message'] for f in doc['findings']], [f.message.split(' (fix: ')[0] for f in ref],
         'same messages as text')
    summary = doc.get('summary', {})
    t.eq((summary.get('files'), summary.get('errors'), summary.get('warnings')), (2, 2, 1),
         'summary (files, errors, warnings)')
    t.eq(r.err, '', 'stderr')
    # acks as written, request.required.acks as librdkafka names it
    doc = json.loads(run('-f', 'json', 'crlf.properties').out)
    acks = [f for f in doc['findings'] if f['rule'] == 'acks-all']
    if t.eq(len(acks), 1, 'crlf.properties: one acks-all finding'):
        got = {k: acks[0].get(k) for k in ('property', 'canonical', 'severity', 'action',
                                            'actual', 'fix')}
        t.eq(got, {'property': 'acks', 'canonical': 'request.required.acks',
                   'severity': 'error', 'action': 'enforce', 'actual': '1', 'fix': 'all'},
             'crlf.properties: acks-all')
        t.contains(acks[0].get('expected') or '', 'all', 'acks-all: expected')
        t.ok(acks[0].get('why'), 'acks-all: why')


@test
def test_format_sarif(t):
    """-f sarif: SARIF 2.1.0 with rules (help) and results at the text format's places"""
    ref = text_reference()
    r = run('-f', 'sarif', *FORMAT_INPUTS)
    t.exit(r, 1)
    doc = json.loads(r.out)
    t.eq(doc.get('version'), '2.1.0', 'version')
    sarif_run = doc['runs'][0]
    driver = sarif_run['tool']['driver']
    t.eq(driver.get('name'), 'ksafe-lint', 'tool.driver.name')
    rules = driver.get('rules', [])
    rule_ids = [rule.get('id') for rule in rules]
    for rule in rules:
        t.ok(rule.get('help', {}).get('text'), f'rule {rule.get("id")} has help text')
        t.ok(rule.get('fullDescription', {}).get('text'),
             f'rule {rule.get("id")} has a fullDescription')
    got = []
    for res in sarif_run['results']:
        t.ok(res['ruleId'] in rule_ids, f'result {res["ruleId"]} has a rule')
        if 'ruleIndex' in res:
            t.eq(rule_ids[res['ruleIndex']], res['ruleId'], 'ruleIndex points at its rule')
        t.ok(res['message']['text'], 'result has message.text')
        loc = res['locations'][0]['physicalLocation']
        got.append((loc['artifactLocation']['uri'], loc['region']['startLine'],
                    loc['region']['startColumn'], res['ruleId'], res['level']))
    t.eq(got, [(f.file, f.line, f.col, f.rule, f.severity) for f in ref],
         'results (uri, line, column, rule, level) match the text format')


GITHUB_RE = re.compile(r'^::(?P<level>error|warning|notice) file=(?P<file>[^,]*),'
                       r'line=(?P<line>\d+),col=(?P<col>\d+),title=(?P<title>[^:]*)::(?P<msg>.+)$')


@test
def test_format_github(t):
    """-f github: ::error / ::warning workflow commands at the text format's places"""
    ref = text_reference()
    r = run('-f', 'github', *FORMAT_INPUTS)
    t.exit(r, 1)
    got = []
    for line in r.out.splitlines():
        m = GITHUB_RE.match(line)
        if t.ok(m, f'a workflow command: {line!r}'):
            got.append((m['file'], int(m['line']), int(m['col']), m['title'], m['level']))
    t.eq(got, [(f.file, f.line, f.col, f.rule, f.severity) for f in ref],
         'commands (file, line, col, title, level) match the text format')


@test
def test_format_junit(t):
    """-f junit: one testcase per file and rule, a failure per failing rule"""
    r = run('-f', 'junit', *FORMAT_INPUTS)
    t.exit(r, 1)
    root = ET.fromstring(r.out)
    cases = root.findall('.//testcase')
    t.eq(sorted({c.get('name') for c in cases}), sorted(FORMAT_INPUTS), 'testcases name the files')
    suites = [root] + root.findall('.//testsuite')
    for suite in suites:
        t.eq(suite.get('failures'), '2', f'<{suite.tag}> failures')
        t.eq(suite.get('tests'), str(len(cases)), f'<{suite.tag}> tests')
    failed = {}
    for c in cases:
        for f in c.findall('failure'):
            failed.setdefault(c.get('name'), []).append(f.get('type'))
    t.eq(failed, {'duplicate.properties': ['acks-all'],
                  'typo.properties': ['ksafe-unknown-property']},
         'failures per file (warnings are no failure)')


@test
def test_format_junit_unreadable(t):
    """-f junit: an unreadable file is not a passing testcase"""
    r = run('-f', 'junit', 'missing.properties', 'duplicate.properties')
    t.exit(r, 2)
    root = ET.fromstring(r.out)
    case = [c for c in root.findall('.//testcase') if c.get('name') == 'missing.properties']
    if t.eq(len(case), 1, 'a testcase for missing.properties'):
        t.ok(case[0].find('error') is not None or case[0].find('failure') is not None,
             'missing.properties has an <error> or <failure>: CI would show it as passed')


# ---------------------------------------------------------------------------
# --fix, always on copies
# ---------------------------------------------------------------------------

@test
def test_fix_in_place(t):
    """--fix rewrites values in place, keeping comments, order, CRLF and the BOM"""
    with tempfile.TemporaryDirectory() as tmp:
        (path,) = copy_fixtures(tmp, 'fix-crlf-bom.properties')
        before = read_bytes(path)
        t.ok(before.startswith(b'\xef\xbb\xbf') and b'\r\n' in before,
             'fixture fix-crlf-bom.properties has a BOM and CRLF')
        # The fixture uses Java's ':' and blank separators: read it as Java.
        r = run('--fix', '--dialect', 'java', 'fix-crlf-bom.properties', cwd=tmp)
        t.exit(r, 0, 'everything was fixable')
        expected = (before.replace(b'acks = 1\r\n', b'acks = all\r\n')
                    .replace(b'enable.idempotence: false\r\n', b'enable.idempotence: true\r\n')
                    .replace(b'max.in.flight 100\r\n', b'max.in.flight 5\r\n'))
        t.eq(read_bytes(path), expected, 'the fixed file')
        got = [(f.line, f.col, f.severity, f.rule) for f in findings(r.out)]
        # (Java keeps the BOM in the first key: "\ufeff#" is a property to it)
        t.eq(got, [(1, 1, 'warning', 'ksafe-unknown-property'), (4, 1, 'fixed', 'acks-all'),
                   (5, 3, 'fixed', 'idempotence'), (7, 1, 'fixed', 'in-flight')],
             'what --fix printed')


@test
def test_fix_appends_missing(t):
    """--fix appends a property the file is missing, after the original lines"""
    with tempfile.TemporaryDirectory() as tmp:
        (path,) = copy_fixtures(tmp, 'fix-append.properties')
        before = read_bytes(path)
        r = run('--fix', 'fix-append.properties', cwd=tmp)
        t.exit(r, 0)
        after = read_bytes(path).decode()
        head = before.decode().replace('acks=1\n', 'acks=all\n')
        if t.ok(after.startswith(head), f'original lines kept in order: {after!r}'):
            t.contains(after[len(head):].splitlines(), 'enable.idempotence=true',
                       'appended lines')
        t.ok(any(f.severity == 'fixed' and f.rule == 'idempotence' for f in findings(r.out)),
             'prints "fixed:" for idempotence')


@test
def test_fix_second_run(t):
    """a second --fix changes nothing, and a plain lint run then exits 0"""
    names = ('fix-crlf-bom.properties', 'fix-append.properties', 'fix.json')
    with tempfile.TemporaryDirectory() as tmp:
        copy_fixtures(tmp, *names)
        first = run('--fix', '--dialect', 'java', *names, cwd=tmp)
        t.exit(first, 0, 'first --fix')
        fixed = {name: read_bytes(os.path.join(tmp, name)) for name in names}
        for name in names:
            t.ok(fixed[name] != read_bytes(os.path.join(DATA, name)),
                 f'the first --fix changed {name}')
        second = run('--fix', '--dialect', 'java', *names, cwd=tmp)
        t.exit(second, 0, 'second --fix')
        t.eq([f for f in findings(second.out) if f.severity == 'fixed'], [],
             'second --fix: nothing fixed')
        for name in names:
            t.eq(read_bytes(os.path.join(tmp, name)), fixed[name], f'{name} after a second --fix')
        plain = run('--dialect', 'java', *names, cwd=tmp)
        t.exit(plain, 0, 'lint after --fix')
        t.eq([f for f in findings(plain.out) if f.severity == 'error'], [],
             'lint after --fix: errors')


@test
def test_fix_json(t):
    """--fix on JSON keeps valid JSON, the key order and the rest of the document"""
    with tempfile.TemporaryDirectory() as tmp:
        flat, nested = copy_fixtures(tmp, 'fix.json', 'nested.json')
        r = run('--fix', 'fix.json', cwd=tmp)
        t.exit(r, 0, 'fix.json')
        with open(flat) as f:
            doc = json.load(f)
        t.eq(list(doc)[:3], ['bootstrap.servers', 'acks', 'max.in.flight'], 'key order')
        t.eq((doc.get('acks'), doc.get('max.in.flight'), doc.get('enable.idempotence')),
             ('all', 5, True), 'fixed values')
        r = run('--fix', '--json-pointer', '/kafka/producer', 'nested.json', cwd=tmp)
        t.exit(r, 0, 'nested.json')
        with open(nested) as f:
            doc = json.load(f)
        with open(os.path.join(DATA, 'nested.json')) as f:
            orig = json.load(f)
        t.eq(doc['kafka']['producer'].get('acks'), 'all', 'nested acks')
        t.eq((doc['service'], doc['kafka']['consumer']), (orig['service'],
             orig['kafka']['consumer']), 'the rest of the document')


@test
def test_fix_stdin(t):
    """--fix - (stdin) is exit 2: there is no file to rewrite"""
    r = run('--fix', '-', stdin='acks=1\n')
    t.exit(r, 2)
    t.contains(r.err, '--fix', 'stderr')


@test
def test_fix_removes_last_json_member(t):
    """--fix removes a forbidden last JSON member and the file stays valid JSON"""
    policy = ('{"ksafe_policy":1,"extends":"builtin:default","rules":[{"id":"no-debug",'
              '"property":"debug","forbidden":true,"action":"enforce"}]}')
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'p.json'), 'w') as f:
            f.write(policy)
        for body in ('{"enable.idempotence": true, "debug": "all"}', '{"debug":"all"}',
                     '{\n  "enable.idempotence": true,\n  "debug": "all"\n}\n'):
            path = os.path.join(tmp, 'c.json')
            with open(path, 'w') as f:
                f.write(body)
            r = run('--fix', '-p', 'p.json', 'c.json', cwd=tmp)
            t.exit(r, 0, f'--fix on {body!r}')
            doc = json.loads(read_bytes(path))
            t.ok('debug' not in doc and doc.get('enable.idempotence') is True,
                 f'fixed {body!r}: {doc}')


@test
def test_sasl_refusals(t):
    """what rd_kafka_new() refuses for SASL is an error at the line that causes it, never
    showing a secret; what it accepts is clean"""
    safe = 'enable.idempotence=true\n'
    cases = [
        # (lines after `safe`, [(line, property, part of the message)])
        ('security.protocol=sasl_ssl\n',
         [(1, 'sasl.kerberos.keytab', 'names %{sasl.kerberos.keytab}, which has no value')],),
        ('security.protocol=sasl_ssl\nsasl.mechanisms=plain\n',
         [(3, 'sasl.mechanisms', 'Unsupported SASL mechanism')],),
        ('security.protocol=sasl_plaintext\nsasl.mechanism=PLAIN\nsasl.username=u\n',
         [(1, 'sasl.password', 'sasl.username and sasl.password must be set')],),
        ('security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-384\nsasl.username=u\n'
         'sasl.password=hunter2\n',
         [(3, 'sasl.mechanism', 'Unsupported hash function')],),
        ('security.protocol=sasl_ssl\nsasl.kerberos.keytab=/etc/k.keytab\n', []),
        ('security.protocol=sasl_ssl\nsasl.kerberos.min.time.before.relogin=0\n', []),
        ('security.protocol=sasl_ssl\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=u\n'
         'sasl.password=hunter2\n', []),
        ('sasl.mechanisms=plain\n', []),  # no SASL protocol: the mechanism is not used
    ]
    for lines, want in cases:
        r = run('-', stdin=safe + lines)
        got = [(f.line, f.rule) for f in findings(r.out)]
        t.eq(got, [(line, 'ksafe-librdkafka-refuses') for line, _, _ in want],
             f'{lines!r}: findings')
        t.exit(r, 1 if want else 0, f'{lines!r}: exit')
        for (_, prop, part), f in zip(want, findings(r.out)):
            t.contains(f.message, prop, f'{lines!r}: names {prop}')
            t.contains(f.message, part, f'{lines!r}: says why')
        t.lacks(r.out, 'hunter2', f'{lines!r}: no secret')


@test
def test_transaction_timeout(t):
    """a transactional producer's timeout above transaction.timeout.ms is an error"""
    r = run('-', stdin='transactional.id=tx\ndelivery.timeout.ms=90000\n')
    t.exit(r, 1)
    t.eq([(f.line, f.rule) for f in findings(r.out)], [(2, 'ksafe-librdkafka-refuses')],
         'findings')


@test
def test_kcat_reads_otherwise(t):
    """lines kcat reads otherwise are errors: a lone CR, a long comment, topic.topic."""
    cases = {
        'enable.idempotence=false\nclient.id=x\renable.idempotence=true\n': [2, 3],
        'enable.idempotence=true\n#' + 'x' * 510 + 'enable.idempotence=false\n': [2],
        'enable.idempotence=true\ntopic.topic.message.timeout.ms=100000\n': [2],
    }
    for text, lines in cases.items():
        r = run('-', stdin=text)
        t.exit(r, 1, f'exit for {text[:40]!r}')
        got = sorted({f.line for f in findings(r.out) if f.rule == 'ksafe-kcat-syntax'})
        t.eq(got, lines, f'kcat-syntax lines for {text[:40]!r}')
    r = run('--dialect', 'java', '-', stdin='enable.idempotence = true\n')
    t.exit(r, 0, 'Java syntax under --dialect java')
    # Each way kcat reads a line otherwise says its own remedy, and only that one.
    remedies = {
        '\ufeffenable.idempotence=true\n': 'save the file without the BOM',
        'enable.idempotence=true\n! a comment\n': "start comments with '#'",
        'enable.idempotence=true\nacks: all\n': 'write key=value',
        'enable.idempotence=true\nacks = all\n': 'write key=value',
        'enable.idempotence=true\nacks=\\\n  all\n': 'write it as one key=value line',
        'enable.idempotence=true\nack\\s=all\n': 'write the key without escapes',
        'enable.idempotence=true\nacks=' + 'a' * 600 + '\n': 'shorten it',
    }
    for text, remedy in remedies.items():
        r = run('-', stdin=text)
        msgs = [f.message for f in findings(r.out) if f.rule == 'ksafe-kcat-syntax']
        t.eq(len(msgs), 1, f'one kcat-syntax finding for {text[:30]!r}: {r.out!r}')
        for m in msgs:
            t.ok(m.endswith(remedy) and m.count('; ') == 1,
                 f'{text[:30]!r}: one remedy, "{remedy}": {m!r}')


@test
def test_fix_read_only(t):
    """--fix on a read-only file: exit 2, the file untouched, nothing reported as fixed"""
    with tempfile.TemporaryDirectory() as tmp:
        (path,) = copy_fixtures(tmp, 'fix-append.properties')
        before = read_bytes(path)
        os.chmod(path, 0o444)
        r = run('--fix', path)
        t.exit(r, 2)
        t.eq(read_bytes(path), before, 'the file')
        t.eq([f for f in findings(r.out) if f.severity == 'fixed'], [], 'fixed findings')
        t.contains(r.err, 'cannot write', 'stderr')


@test
def test_fix_value_on_a_continuation_line(t):
    """--fix rewrites a value that starts on a continuation line without a stray '='"""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'c.properties')
        with open(path, 'w') as f:
            f.write('enable.idempotence=\\\n  yes\n')
        r = run('--fix', '--dialect', 'java', path)
        t.exit(r, 0)
        t.eq(read_bytes(path), b'enable.idempotence=\\\n  true\n', 'the fixed file')


@test
def test_directory_skips_nothing_silently(t):
    """a directory search reports what it cannot read: a broken link with a config's name is
    unreadable (exit 2, in the JSON too), a path too long to name is said on stderr"""
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'a.properties'), 'w') as f:
            f.write('enable.idempotence=true\n')
        os.symlink('/nonexistent/x', os.path.join(tmp, 'broken.properties'))
        os.symlink('/nonexistent/x', os.path.join(tmp, 'broken.txt'))  # not a config: skipped
        r = run('-f', 'json', tmp)
        t.exit(r, 2, 'a broken link')
        doc = json.loads(r.out)
        t.eq([u['file'] for u in doc['unreadable']], [os.path.join(tmp, 'broken.properties')],
             'unreadable')
        t.eq(doc['summary']['files'], 1, 'the readable file is judged')
        # A path longer than PATH_MAX: built from a chain of long directory names.
        fd = os.open(tmp, os.O_RDONLY)
        for _ in range(22):
            os.mkdir('d' * 200, dir_fd=fd)
            inner = os.open('d' * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        z = os.open('z.properties', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(z, b'acks=1\n')
        os.close(z)
        os.close(fd)
        r = run(tmp)
        t.exit(r, 2, 'a path too long')
        t.contains(r.err, 'longer than 4095 bytes: not read', 'a path too long: stderr')


@test
def test_directory_many(t):
    """a tree of 300 directories is read whole (no file skipped)"""
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(300):
            os.mkdir(os.path.join(tmp, f'd{i:03}'))
            with open(os.path.join(tmp, f'd{i:03}', 'p.properties'), 'w') as f:
                f.write('enable.idempotence=true\n' + ('acks=1\n' if i == 299 else ''))
        r = run('-q', tmp)
        t.exit(r, 1)
        t.eq([f.rule for f in findings(r.out)], ['acks-all'], 'findings')


@test
def test_json_alias_duplicates(t):
    """two members setting one property in a JSON object are an error (readers disagree)"""
    r = run('-', stdin='{"enable.idempotence": true,\n "delivery.timeout.ms": 120000,\n'
                       ' "message.timeout.ms": 0,\n "delivery.timeout.ms": 120000}\n')
    t.exit(r, 1)
    t.ok(any(f.rule == 'ksafe-json-duplicate' for f in findings(r.out)), 'json-duplicate')


@test
def test_fix_after_lone_cr_continuation(t):
    """--fix after a last line ending in a backslash and a lone CR: a second run changes nothing"""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'n.properties')
        with open(path, 'wb') as f:
            f.write(b'linger.ms=5\nclient.id=x\\\r')
        run('--fix', path)
        once = read_bytes(path)
        run('--fix', path)
        t.eq(read_bytes(path), once, 'the file after a second --fix')


@test
def test_effective_long_line(t):
    """--effective does not print a line kcat splits (its tail can be a secret)"""
    r = run('--effective', '-', stdin='client.id=' + 'x' * 501 + 'sasl.password=hunter2Z\n')
    t.ok('hunter2Z' not in r.out + r.err, 'the secret is not shown')


@test
def test_fix_symlink(t):
    """--fix on a symbolic link rewrites its target and keeps the link"""
    with tempfile.TemporaryDirectory() as tmp:
        (path,) = copy_fixtures(tmp, 'fix-append.properties')
        link = os.path.join(tmp, 'link.properties')
        os.symlink(path, link)
        r = run('--fix', link)
        t.ok(r.code in (0, 1), f'exit {r.code}')
        t.ok(os.path.islink(link), 'the link is still a link')
        t.contains(read_bytes(path).decode(), 'enable.idempotence=true', 'the target is fixed')


@test
def test_effective_needs_text(t):
    """--effective with a structured format is bad usage (exit 2), not broken JSON"""
    r = run('--effective', '-f', 'json', 'duplicate.properties')
    t.exit(r, 2)
    t.eq(r.out, '', 'nothing on stdout')


@test
def test_unreadable_in_json_and_sarif(t):
    """an unreadable input is listed in -f json and fails the SARIF invocation"""
    r = run('-f', 'json', 'missing.properties', 'duplicate.properties')
    t.exit(r, 2)
    doc = json.loads(r.out)
    t.eq([u['file'] for u in doc['unreadable']], ['missing.properties'], 'unreadable')
    t.eq(doc['summary']['files'], 1, 'files checked')
    r = run('-f', 'sarif', 'missing.properties')
    t.exit(r, 2)
    invocation = json.loads(r.out)['runs'][0]['invocations'][0]
    t.eq(invocation['executionSuccessful'], False, 'executionSuccessful')
    t.contains(invocation['toolExecutionNotifications'][0]['message']['text'],
               'missing.properties', 'notification')


@test
def test_usage_and_input_errors(t):
    """bad combinations and inputs are exit 2 with a message that does not echo -X values"""
    r = run('--fix', '-X', 'acks=1', 'duplicate.properties')
    t.exit(r, 2)
    t.contains(r.err, 'does not go with -X', '--fix with -X')
    r = run('-X', 'sasl.password:hunter2-secret')
    t.exit(r, 2)
    t.ok('hunter2-secret' not in r.out + r.err, '-X error does not echo the argument')
    r = run('/dev/zero')
    t.exit(r, 2)
    t.contains(r.err, '/dev/zero: cannot read: a character device, not a regular file', '/dev/zero')
    with tempfile.TemporaryDirectory() as tmp:
        r = run(tmp)
        t.exit(r, 2)
        t.contains(r.err, 'no config file here', 'empty directory')


@test
def test_fix_partial(t):
    """--fix repairs what it can and leaves a misread value to a person (exit 1)"""
    with tempfile.TemporaryDirectory() as tmp:
        (path,) = copy_fixtures(tmp, 'fix-partial.properties')
        before = read_bytes(path)
        r = run('--fix', 'fix-partial.properties', cwd=tmp)
        t.exit(r, 1)
        t.eq([(f.line, f.col, f.severity, f.rule) for f in findings(r.out)],
             [(3, 1, 'fixed', 'acks-all'), (4, 1, 'error', 'ksafe-misread-value')],
             'what --fix printed')
        t.eq(read_bytes(path), before.replace(b'acks=1\n', b'acks=all\n'),
             'acks repaired, linger.ms=5abc left as written')


# ---------------------------------------------------------------------------
# Policies: --check-policy, --print-policy, --effective, -p / -e and env vars
# ---------------------------------------------------------------------------

@test
def test_check_policy_good(t):
    """--check-policy on a good policy exits 0"""
    for env in ((), ('-e', 'prod')):
        r = run('--check-policy', '-p', ORG_POLICY, *env)
        t.exit(r, 0, f'--check-policy {" ".join(env)}')
        t.eq(r.out, '', 'stdout')


@test
def test_check_policy_bad(t):
    """--check-policy on a bad policy: exit 2 with the JSON path"""
    r = run('--check-policy', '-p', 'policy-bad-action.json')
    t.exit(r, 2)
    t.contains(r.err, 'policy-bad-action.json', 'stderr names the file')
    t.contains(r.err, 'rules[0].action', 'stderr has the JSON path')


@test
def test_check_policy_syntax(t):
    """--check-policy on a JSON syntax error: exit 2 with file:line:col"""
    r = run('--check-policy', '-p', 'policy-syntax.json')
    t.exit(r, 2)
    t.ok(re.search(r'ksafe-lint: policy-syntax\.json:5:\d+: ', r.err),
         f'stderr has policy-syntax.json:5:COL: {r.err!r}')


@test
def test_print_policy(t):
    """--print-policy -e prod prints the resolved policy as JSON, with the prod-only rule"""
    def rule_ids(out):
        return [rule['id'] for rule in json.loads(out)['rules']]
    r = run('--print-policy', '-p', ORG_POLICY, '-e', 'prod')
    t.exit(r, 0, '-e prod')
    ids = rule_ids(r.out)
    for rule in ('tls', 'acks-all', 'idempotence', 'client-id'):
        t.ok(rule in ids, f'-e prod: rule {rule} in {ids}')
    r = run('--print-policy', '-p', ORG_POLICY, '-e', 'dev')
    t.exit(r, 0, '-e dev')
    t.ok('tls' not in rule_ids(r.out), '-e dev: no tls rule')


@test
def test_effective(t):
    """--effective prints name=value after enforcement, with secrets redacted"""
    r = run('--effective', os.path.join(EXAMPLES, 'producer-unsafe.properties'))
    values = effective_values(r.out)
    expected = {
        'request.required.acks': '-1',                  # acks=1, enforced to all
        'enable.idempotence': 'true',
        'max.in.flight.requests.per.connection': '5',
        'message.timeout.ms': '120000',                 # delivery.timeout.ms=0
        'sasl.password': '(redacted)',
        'sasl.username': '(redacted)',
    }
    t.eq({k: values.get(k) for k in expected}, expected, 'effective values')
    for secret in SECRETS:
        t.lacks(r.out + r.err, secret, 'output')


@test
def test_effective_marks_enforced_as_set(t):
    """--effective does not call a value the file set and ksafe changed "not set" """
    r = run('--effective', os.path.join(EXAMPLES, 'producer-unsafe.properties'))
    acks = [line for line in r.out.splitlines() if line.startswith('request.required.acks=')]
    if t.eq(len(acks), 1, 'one request.required.acks line'):
        t.lacks(acks[0], 'not set', f'{acks[0]!r} (the file sets acks=1 on line 14)')


@test
def test_policy_from_env(t):
    """KSAFE_POLICY/KSAFE_ENV are used without -p/-e; -p and -e win over them"""
    safe = os.path.join(EXAMPLES, 'producer-safe.properties')
    org_prod = {'KSAFE_POLICY': ORG_POLICY, 'KSAFE_ENV': 'prod'}
    r = run(safe, env=org_prod)
    t.exit(r, 1, 'KSAFE_POLICY + KSAFE_ENV=prod')
    t.ok((safe, 1, 1, 'tls') in where(r.out), 'KSAFE_ENV=prod: the prod-only tls rule')
    r = run('-e', 'dev', safe, env=org_prod)
    t.exit(r, 0, '-e dev wins over KSAFE_ENV=prod')
    r = run('-p', ORG_POLICY, '-e', 'prod', safe)
    t.exit(r, 1, '-p -e prod')
    r = run('-p', 'builtin:default', safe, env={'KSAFE_POLICY': '/nonexistent/policy.json'})
    t.exit(r, 0, '-p wins over a KSAFE_POLICY that does not exist')


@test
def test_unknown_env(t):
    """an unknown environment is exit 2, listing the known ones"""
    for args, env in ((('-p', ORG_POLICY, '-e', 'qa'), None),
                      ((), {'KSAFE_POLICY': ORG_POLICY, 'KSAFE_ENV': 'qa'})):
        r = run(*args, 'crlf.properties', env=env)
        what = 'KSAFE_ENV=qa' if env else '-e qa'
        t.exit(r, 2, what)
        t.eq(findings(r.out), [], f'{what}: no findings')
        for name in ('"qa"', 'dev', 'staging', 'prod'):
            t.contains(r.err, name, f'{what}: stderr')


@test
def test_policy_env_missing(t):
    """KSAFE_POLICY naming a missing file is exit 2, never the default"""
    with tempfile.TemporaryDirectory() as tmp:
        missing = os.path.join(tmp, 'missing-policy.json')
        r = run('duplicate.properties', env={'KSAFE_POLICY': missing})
        t.exit(r, 2)
        t.eq(r.out, '', 'stdout (nothing judged with another policy)')
        t.contains(r.err, f'ksafe-lint: {missing}', 'stderr')


# ---------------------------------------------------------------------------
# -W error, --quiet
# ---------------------------------------------------------------------------

@test
def test_werror(t):
    """-W error turns a warnings-only file into exit 1"""
    # (an unknown name is a warning only under --dialect java)
    t.exit(run('--dialect', 'java', 'typo.properties'), 0, 'warnings only')
    r = run('-W', 'error', '--dialect', 'java', 'typo.properties')
    t.exit(r, 1, '-W error')
    t.eq(where(r.out), [('typo.properties', 3, 1, 'ksafe-unknown-property')], '-W error findings')


@test
def test_quiet(t):
    """-q / --quiet print only the errors and no summary"""
    for flag in ('-q', '--quiet'):
        r = run(flag, 'duplicate.properties', 'typo.properties')
        t.exit(r, 1, flag)
        t.eq(where(r.out), [('duplicate.properties', 5, 1, 'acks-all'),
                            ('typo.properties', 3, 1, 'ksafe-unknown-property')],
             f'{flag}: stdout')
        t.eq(r.err, '', f'{flag}: stderr (no summary)')


# ---------------------------------------------------------------------------
# Inputs that cannot be read, and output that cannot be written
# ---------------------------------------------------------------------------

@test
def test_unreadable(t):
    """an unreadable input is exit 2 with "ksafe-lint: path:", the others are still linted"""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(DATA, 'duplicate.properties'), tmp)
        os.symlink('loop.properties', os.path.join(tmp, 'loop.properties'))
        names = ['missing.properties', 'loop.properties']
        if os.geteuid() != 0:  # root reads a mode-000 file anyway
            locked = os.path.join(tmp, 'locked.properties')
            shutil.copy(os.path.join(DATA, 'crlf.properties'), locked)
            os.chmod(locked, 0)
            names.append('locked.properties')
        for name in names:
            r = run(name, 'duplicate.properties', cwd=tmp)
            t.exit(r, 2, name)
            t.contains(r.err, f'ksafe-lint: {name}: ', f'{name}: stderr')
            t.eq(where(r.out), [('duplicate.properties', 2, 1, 'ksafe-duplicate'),
                                ('duplicate.properties', 5, 1, 'acks-all')],
                 f'{name}: the other file is still linted')


@test
def test_binary_input(t):
    """a binary file (NUL bytes) is exit 2 with a clear message, not a crash"""
    for name in ('nul.properties', LINT):
        r = run(name)
        t.exit(r, 2, name)
        t.contains(r.err, f'ksafe-lint: {name}: ', f'{name}: stderr')
        t.contains(r.err, 'NUL', f'{name}: stderr says why')


@test
def test_full_stdout(t):
    """a failed write to stdout (/dev/full) is a failed run (exit 2)"""
    if not os.path.exists('/dev/full'):
        return
    for fmt in ('text', 'json'):
        with open('/dev/full', 'wb') as full:
            proc = subprocess.run([LINT, '-f', fmt, 'duplicate.properties'], cwd=DATA,
                                  stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE,
                                  env=lint_env(), timeout=60)
        t.eq(proc.returncode, 2, f'-f {fmt} > /dev/full: exit status')
        t.contains(proc.stderr.decode(), 'ksafe-lint: ', f'-f {fmt}: stderr says so')


# ---------------------------------------------------------------------------
# Secrets never appear in any output
# ---------------------------------------------------------------------------

@test
def test_secrets_never_printed(t):
    """secret values appear in no output of any format, --effective or --fix"""
    policy = ('-p', 'secrets-policy.json')
    r = run(*policy, 'secrets.properties')
    t.ok(('secrets.properties', 4, 1, 'no-password') in where(r.out),
         'the policy forbids sasl.password: finding at 4:1')
    runs = {f'-f {fmt}': run(*policy, '-f', fmt, 'secrets.properties')
            for fmt in ('text', 'json', 'sarif', 'github', 'junit')}
    runs['--effective'] = run(*policy, '--effective', 'secrets.properties')
    runs['-W error -q'] = run(*policy, '-W', 'error', '-q', 'secrets.properties')
    runs['-X'] = run(*policy, '-X', 'sasl.password=hunter2-secret', 'secrets.properties')
    with tempfile.TemporaryDirectory() as tmp:
        copy_fixtures(tmp, 'secrets.properties', 'secrets-policy.json')
        runs['--fix'] = run(*policy, '--fix', 'secrets.properties', cwd=tmp)
    for what, res in runs.items():
        t.ok(res.code in (1, 2) and res.out, f'{what}: produced findings (exit {res.code})')
        for secret in SECRETS:
            t.lacks(res.out, secret, f'{what}: stdout')
            t.lacks(res.err, secret, f'{what}: stderr')
    doc = json.loads(runs['-f json'].out)
    actual = {f['property']: f['actual'] for f in doc['findings']}
    t.eq(actual.get('sasl.password'), '(redacted)', 'json: actual of sasl.password')


# ---------------------------------------------------------------------------
# The documentation that ships with the linter
# ---------------------------------------------------------------------------

@test
def test_man_page(t):
    """ksafe-lint.1 documents every option of --help and the exit codes"""
    path = os.path.join(ROOT, 'doc', 'ksafe-lint.1')
    if not t.ok(os.path.exists(path), f'{path} exists'):
        return
    with open(path) as f:
        man = f.read().replace('\\-', '-')
    options = sorted(set(re.findall(r'--[a-z][a-z-]+', run('--help').out)))
    t.ok(len(options) > 10, f'--help lists the long options: {options}')
    for option in options:
        t.contains(man, option, 'ksafe-lint.1')
    t.contains(man, '.SH EXIT STATUS', 'ksafe-lint.1')


@test
def test_pre_commit_hook(t):
    """.pre-commit-hooks.yaml runs ksafe-lint"""
    path = os.path.join(ROOT, '.pre-commit-hooks.yaml')
    if t.ok(os.path.exists(path), f'{path} exists'):
        with open(path) as f:
            text = f.read()
        t.ok(re.search(r'^\s*entry:\s*ksafe-lint\b', text, re.M), 'a hook with entry: ksafe-lint')


def main():
    """Run the tests in TESTS: this file's, or those of a suite that extends it (it empties
    TESTS, adds its own and calls this main)."""
    global LINT
    LINT = lint_from_argv()
    if not LINT:
        return 2
    if not os.path.isdir(DATA):
        print(f'Bail out! no fixtures at {DATA}')
        return 2
    return run_tests()


if __name__ == '__main__':
    sys.exit(main())
