#!/usr/bin/env python3
"""ksafe-lint's SARIF for GitHub code scanning, and --exit-zero (meson suite 'cli'), as TAP.

Usage: test_sarif.py PATH/TO/ksafe-lint

The SARIF of real runs (findings, a clean file, an unreadable input, a bad
policy, -X alone, standard input) is validated against the official SARIF
2.1.0 JSON Schema with python3-jsonschema. The schema ships in the npm
package @microsoft/jest-sarif (lib/schemas/sarif-2.1.0-rtm.5.json, the
OASIS 2.1.0 schema); it is fetched once with `npm pack` into
$XDG_CACHE_HOME/ksafe (or ~/.cache/ksafe), or taken from
$KSAFE_SARIF_SCHEMA. Without npm, network or jsonschema those tests are
skipped (TAP SKIP) with the reason.

Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool-linux, a
self-contained 43 MB program) then judges the same runs with its SARIF and
GitHub rules (`validate --rule-kind Gh;Sarif`): no error, no warning. It is
too big to fetch on every run: $KSAFE_SARIF_MULTITOOL names the program,
else $XDG_CACHE_HOME/ksafe/sarif-multitool/package/Sarif.Multitool is used
when present; KSAFE_SARIF_MULTITOOL=fetch fetches it there with npm. Else
that test is skipped, with this reason.

It reuses test_lint.py's runner and helpers.
"""
import json
import shutil
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_lint as base  # noqa: E402  (its tests are not run here)
from test_lint import Checks, run  # noqa: E402

del base.TESTS[:]
test = base.test

SCHEMA_PACKAGE = '@microsoft/jest-sarif@1.0.0-beta.0'
SCHEMA_MEMBER = 'package/lib/schemas/sarif-2.1.0-rtm.5.json'


from tap import Skip  # noqa: E402


# ---------------------------------------------------------------------------
# The official schema
# ---------------------------------------------------------------------------

_schema = {}


def sarif_validator():
    """A jsonschema validator of the SARIF 2.1.0 schema, or Skip with the reason."""
    if 'validator' in _schema:
        return _schema['validator']
    if 'skip' in _schema:
        raise Skip(_schema['skip'])
    try:
        _schema['validator'] = _load_validator()
    except Skip as e:
        _schema['skip'] = str(e)
        raise
    return _schema['validator']


def _load_validator():
    try:
        import jsonschema
    except ImportError:
        raise Skip('python3-jsonschema is not installed')
    path = os.environ.get('KSAFE_SARIF_SCHEMA')
    if not path:
        cache = os.path.join(os.environ.get('XDG_CACHE_HOME') or
                             os.path.join(os.path.expanduser('~'), '.cache'), 'ksafe')
        path = os.path.join(cache, 'sarif-schema-2.1.0.json')
        if not os.path.exists(path):
            _fetch_schema(cache, path)
    with open(path, encoding='utf-8') as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)  # draft-04, as its $schema says
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER
               if hasattr(cls, 'FORMAT_CHECKER') else None)


def _fetch_schema(cache, path):
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            proc = subprocess.run(['npm', 'pack', '--silent', '--pack-destination', tmp,
                                   SCHEMA_PACKAGE], capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Skip(f'npm cannot fetch {SCHEMA_PACKAGE} for the SARIF schema: {e}')
        tarballs = [n for n in os.listdir(tmp) if n.endswith('.tgz')]
        if proc.returncode != 0 or not tarballs:
            reason = proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]
            raise Skip(f'npm cannot fetch {SCHEMA_PACKAGE} for the SARIF schema: {reason}')
        with tarfile.open(os.path.join(tmp, tarballs[0])) as tar:
            data = tar.extractfile(SCHEMA_MEMBER).read()
    json.loads(data)
    partial = path + '.tmp'
    with open(partial, 'wb') as f:
        f.write(data)
    os.replace(partial, path)


MULTITOOL_PACKAGE = '@microsoft/sarif-multitool-linux@5.7.0'


def cache_dir():
    return os.path.join(os.environ.get('XDG_CACHE_HOME') or
                        os.path.join(os.path.expanduser('~'), '.cache'), 'ksafe')


def multitool():
    """The SARIF Multitool program, or Skip with the reason."""
    wanted = os.environ.get('KSAFE_SARIF_MULTITOOL', '')
    cached = os.path.join(cache_dir(), 'sarif-multitool', 'package', 'Sarif.Multitool')
    if wanted and wanted != 'fetch':
        return wanted
    if not os.access(cached, os.X_OK) and wanted == 'fetch':
        dest = os.path.dirname(os.path.dirname(cached))
        os.makedirs(dest, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(['npm', 'pack', '--silent', '--pack-destination', tmp,
                                   MULTITOOL_PACKAGE], capture_output=True, timeout=600)
            tarballs = [n for n in os.listdir(tmp) if n.endswith('.tgz')]
            if proc.returncode != 0 or not tarballs:
                raise Skip(f'npm cannot fetch {MULTITOOL_PACKAGE}')
            with tarfile.open(os.path.join(tmp, tarballs[0])) as tar:
                tar.extractall(dest)
        os.chmod(cached, 0o755)
    if not os.access(cached, os.X_OK):
        raise Skip(f'no SARIF Multitool: KSAFE_SARIF_MULTITOOL=fetch gets {MULTITOOL_PACKAGE}'
                   ' (43 MB) with npm')
    return cached


def schema_errors(text):
    """The schema's complaints about a SARIF document (a list of strings)."""
    if not text.strip():
        return ['no SARIF document (0 bytes)']
    try:
        doc = json.loads(text)
    except ValueError as e:
        return [f'not JSON: {e}']
    return [f'{"/".join(str(p) for p in e.absolute_path)}: {e.message}'
            for e in sarif_validator().iter_errors(doc)]


# ---------------------------------------------------------------------------
# --exit-zero
# ---------------------------------------------------------------------------

@test
def test_exit_zero(t):
    """--exit-zero: the same report, exit 0 with errors or -W error warnings"""
    for fmt in ('text', 'json', 'sarif', 'github', 'junit'):
        plain = run('-f', fmt, 'duplicate.properties', 'typo.properties')
        t.exit(plain, 1, f'-f {fmt} without --exit-zero')
        zero = run('--exit-zero', '-f', fmt, 'duplicate.properties', 'typo.properties')
        t.exit(zero, 0, f'-f {fmt} --exit-zero')
        t.eq(zero.out, plain.out, f'-f {fmt}: --exit-zero reports the same findings')
    t.exit(run('--exit-zero', '-W', 'error', 'typo.properties'), 0, '-W error --exit-zero')
    t.exit(run('-W', 'error', 'typo.properties'), 1, '-W error alone')


@test
def test_exit_zero_keeps_2(t):
    """--exit-zero never hides bad usage, an unreadable input or a bad policy (exit 2)"""
    cases = {
        'unreadable input': ('missing.properties',),
        'unreadable beside findings': ('missing.properties', 'duplicate.properties'),
        'bad policy': ('-p', 'policy-bad-action.json', 'duplicate.properties'),
        'policy syntax': ('-p', 'policy-syntax.json', 'duplicate.properties'),
        'bad usage': ('-f', 'nope', 'duplicate.properties'),
        'no input': (),
    }
    for what, args in cases.items():
        r = run('--exit-zero', *args)
        t.exit(r, 2, what)
        t.contains(r.err, 'ksafe-lint: ', f'{what}: says why on stderr')


@test
def test_exit_zero_documented(t):
    """--exit-zero is in --help, the man page and the README"""
    t.contains(run('--help').out, '--exit-zero', '--help')
    for doc in ('doc/ksafe-lint.1', 'README.md'):
        with open(os.path.join(base.ROOT, doc), encoding='utf-8') as f:
            text = f.read()
        t.contains(text.replace('\\-', '-'), '--exit-zero', doc)


@test
def test_readme_workflow_uploads_always(t):
    """the README's GitHub Actions workflow uploads the SARIF even when the lint step fails"""
    try:
        import yaml
    except ImportError:
        raise Skip('python3-yaml is not installed: the workflow cannot be read')
    with open(os.path.join(base.ROOT, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    start = text.index('```yaml', text.index('GitHub Actions ('))
    workflow = yaml.safe_load(text[start + 7:text.index('```', start + 7)])
    t.eq(workflow.get('permissions', {}).get('security-events'), 'write',
         'the permission upload-sarif needs')
    steps = [s for job in workflow['jobs'].values() for s in job['steps']]
    lint = [i for i, s in enumerate(steps) if '-f sarif' in s.get('run', '')]
    upload = [i for i, s in enumerate(steps)
              if s.get('uses', '').startswith('github/codeql-action/upload-sarif@')]
    if not t.ok(len(lint) == 1 and len(upload) == 1, 'one lint step and one upload step'):
        return
    lint_step, upload_step = steps[lint[0]], steps[upload[0]]
    t.ok(upload[0] > lint[0], 'the upload comes after the lint')
    t.ok(upload_step.get('if') == 'always()' or '--exit-zero' in lint_step['run'],
         'the upload step runs whatever the lint step exits (if: always() or --exit-zero)')
    t.contains(lint_step['run'], '> ' + upload_step['with']['sarif_file'],
               'the lint writes the file that is uploaded')


# ---------------------------------------------------------------------------
# SARIF against the official schema
# ---------------------------------------------------------------------------

SCHEMA_RUNS = {
    'findings': (('-f', 'sarif', 'duplicate.properties', 'typo.properties'), None, 1),
    'clean': (('-f', 'sarif', os.path.join(base.EXAMPLES, 'producer-safe.properties')),
              None, 0),
    'unreadable input': (('-f', 'sarif', 'missing.properties', 'duplicate.properties'),
                         None, 2),
    '-X alone': (('-f', 'sarif', '-X', 'acks=1'), None, 1),
    'standard input': (('-f', 'sarif', '-'), 'acks=1\nenable.idempotence=false\n', 1),
    '-W error -q': (('-f', 'sarif', '-W', 'error', '-q', 'typo.properties'), None, 1),
    'standard input named': (('-f', 'sarif', '--stdin-filename', 'conf/app.properties', '-'),
                             'acks=1\n', 1),
    '-X over a file': (('-f', 'sarif', '-X', 'acks=0', 'duplicate.properties'), None, 1),
    'a file outside --base-dir': (('-f', 'sarif', '--base-dir', 'tree',
                                   'duplicate.properties'), None, 1),
    'bad policy': (('-f', 'sarif', '-p', 'policy-bad-action.json', 'duplicate.properties'),
                   None, 2),
    'policy syntax error': (('-f', 'sarif', '-p', 'policy-syntax.json', 'duplicate.properties'),
                            None, 2),
    'missing policy': (('-f', 'sarif', '-p', 'no-such-policy.json', 'duplicate.properties'),
                       None, 2),
    'allow_unsafe policy': (('-f', 'sarif', '-p', base.ORG_POLICY, '-e', 'dev',
                             'duplicate.properties'), None, None),
}


@test
def test_sarif_schema(t):
    """-f sarif of real runs is valid against the official SARIF 2.1.0 schema"""
    sarif_validator()
    for what, (args, stdin, code) in SCHEMA_RUNS.items():
        r = run(*args, stdin=stdin)
        if code is not None:
            t.exit(r, code, f'{what}: exit status')
        for error in schema_errors(r.out)[:5]:
            t.failures.append(f'{what}: {error}')


@test
def test_sarif_multitool(t):
    """the SARIF Multitool's SARIF and GitHub rules find no error and no warning in real runs"""
    tool = multitool()
    with tempfile.TemporaryDirectory() as tmp:
        logs = []
        for i, (what, (args, stdin, _)) in enumerate(SCHEMA_RUNS.items()):
            path = os.path.join(tmp, f'{i}.sarif')
            with open(path, 'w', encoding='utf-8') as f:
                f.write(run(*args, stdin=stdin).out)
            logs.append((path, what))
        proc = subprocess.run([tool, 'validate', '--rule-kind', 'Gh;Sarif', '--level',
                               'Error;Warning', '--output', os.path.join(tmp, 'out.sarif'),
                               *(p for p, _ in logs)],
                              capture_output=True, timeout=300,
                              env=dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT='1'))
        out = proc.stdout.decode('utf-8', 'replace')
        t.ok('Analysis completed successfully' in out or proc.returncode == 0,
             f'the Multitool ran: exit {proc.returncode}: {out[-300:]}')
        for path, what in logs:
            for line in out.splitlines():
                if line.startswith(path + '(') and (': error ' in line or ': warning ' in line):
                    t.failures.append(f'{what}: {line[len(path):][:300]}')
        t.ok(len(logs) == len(SCHEMA_RUNS), 'every run judged')


@test
def test_sarif_schema_catches(t):
    """the schema check rejects what is not SARIF (it would not pass anything)"""
    sarif_validator()
    good = json.loads(run('-f', 'sarif', 'duplicate.properties').out)
    t.eq(schema_errors(json.dumps(good)), [], 'the real document')
    bad = json.loads(json.dumps(good))
    bad['runs'][0]['results'][0]['level'] = 'fatal'
    t.ok(schema_errors(json.dumps(bad)), 'a level SARIF does not know is refused')
    bad = json.loads(json.dumps(good))
    del bad['runs'][0]['tool']
    t.ok(schema_errors(json.dumps(bad)), 'a run without its tool is refused')
    t.ok(schema_errors(''), '0 bytes are refused')


# ---------------------------------------------------------------------------
# What code scanning needs of each result
# ---------------------------------------------------------------------------

def sarif(*args, stdin=None, cwd=base.DATA, code=None, t=None):
    """(result, the SARIF run) of ksafe-lint -f sarif ARGS."""
    r = run('-f', 'sarif', *args, stdin=stdin, cwd=cwd)
    if t is not None and code is not None:
        t.exit(r, code, f'exit status of -f sarif {" ".join(args)}')
    return r, json.loads(r.out)['runs'][0]


def file_of(sarif_run, result):
    """The absolute path a result's location names, read as a SARIF consumer
    resolves it (uriBaseId through originalUriBaseIds, RFC 3986), or the
    decoded URI of a pseudo-file ('<stdin>')."""
    loc = result['locations'][0]['physicalLocation']['artifactLocation']
    uri = loc['uri']
    if 'uriBaseId' in loc:
        uri = urllib.parse.urljoin(sarif_run['originalUriBaseIds'][loc['uriBaseId']]['uri'],
                                   uri)
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme == 'file':
        return os.fsdecode(urllib.parse.unquote_to_bytes(parsed.path))
    return urllib.parse.unquote(uri)


def located(t, sarif_run, what):
    """Every result has what GitHub requires: a physical location with a URI
    and a region starting on a line >= 1."""
    for res in sarif_run['results']:
        try:
            loc = res['locations'][0]['physicalLocation']
            ok = loc['artifactLocation']['uri'] and loc['region']['startLine'] >= 1
        except (KeyError, IndexError, TypeError):
            ok = False
        t.ok(ok, f'{what}: result {res.get("ruleId")} has no physical location')


@test
def test_every_result_located(t):
    """every result has a location: stdin (--stdin-filename or <stdin>) and -X too"""
    r, sr = sarif('--stdin-filename', 'conf/app.properties', '-', stdin='acks=1\n', code=1, t=t)
    located(t, sr, '--stdin-filename')
    t.eq({file_of(sr, res) for res in sr['results']},
         {os.path.join(base.DATA, 'conf', 'app.properties')}, '--stdin-filename names the file')
    acks = [res for res in sr['results'] if res['ruleId'] == 'acks-all']
    t.eq([res['locations'][0]['physicalLocation']['region']['startLine'] for res in acks], [1],
         'on its line')
    text = run('--stdin-filename', 'conf/app.properties', '-', stdin='acks=1\n')
    t.contains(text.out, 'conf/app.properties:1:1: error: acks is 1', 'the text format too')
    for fmt, part in (('json', '"file": "conf/app.properties"'),
                      ('github', 'file=conf/app.properties,')):
        t.contains(run('-f', fmt, '--stdin-filename', 'conf/app.properties', '-',
                       stdin='acks=1\n').out, part, f'-f {fmt} too')
    _, sr = sarif('-', stdin='acks=1\n', code=1, t=t)
    located(t, sr, 'standard input')
    t.eq({file_of(sr, res) for res in sr['results']}, {'<stdin>'}, 'stdin without a name')
    _, sr = sarif('-X', 'acks=1', code=1, t=t)
    located(t, sr, '-X alone')
    t.eq({file_of(sr, res) for res in sr['results']}, {'<command line>'}, '-X alone')
    _, sr = sarif('-X', 'acks=0', 'duplicate.properties', code=1, t=t)
    located(t, sr, '-X over a file')
    t.ok({file_of(sr, res) for res in sr['results']} >=
         {'<command line>', os.path.join(base.DATA, 'duplicate.properties')},
         '-X findings on <command line>, the file\'s on the file')
    t.exit(run('--stdin-filename', '', '-'), 2, 'an empty --stdin-filename')


@test
def test_uri_base(t):
    """URIs are relative to %SRCROOT% (--base-dir, default .), RFC 3986-encoded; outside: file://"""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        sub = os.path.join(tmp, 'sub dir')
        os.mkdir(sub)
        names = ['ü%#?.properties', 'a b+c;d.properties', 'caf\udce9.properties']
        for name in names:
            with open(os.path.join(sub, name), 'wb') as f:
                f.write(b'acks=1\n')
        shutil.copy(os.path.join(base.DATA, 'duplicate.properties'), tmp)
        _, sr = sarif('sub dir/' + names[0], './sub dir/../sub dir/' + names[1],
                      os.path.join(sub, names[2]), cwd=tmp, code=1, t=t)
        t.eq(sr['originalUriBaseIds']['%SRCROOT%']['uri'],
             'file://' + urllib.parse.quote(tmp) + '/', '%SRCROOT% is the current directory')
        uris = sorted({res['locations'][0]['physicalLocation']['artifactLocation']['uri']
                       for res in sr['results']})
        t.eq(uris, sorted(['sub%20dir/%C3%BC%25%23%3F.properties',
                           'sub%20dir/a%20b%2Bc%3Bd.properties', 'sub%20dir/caf%E9.properties']),
             'relative, percent-encoded URIs')
        for res in sr['results']:
            t.eq(res['locations'][0]['physicalLocation']['artifactLocation'].get('uriBaseId'),
                 '%SRCROOT%', 'uriBaseId')
        t.eq(sorted({file_of(sr, res) for res in sr['results']}),
             sorted(os.path.join(sub, n) for n in names), 'the URIs resolve to the files')
        # --base-dir: relative to it; a file outside it is absolute and said so.
        _, sr = sarif('--base-dir', 'sub dir', 'sub dir/' + names[1], 'duplicate.properties',
                      cwd=tmp, code=1, t=t)
        locs = {res['locations'][0]['physicalLocation']['artifactLocation']['uri']:
                res['locations'][0]['physicalLocation']['artifactLocation'].get('uriBaseId')
                for res in sr['results']}
        t.eq(locs, {'a%20b%2Bc%3Bd.properties': '%SRCROOT%',
                    'file://' + urllib.parse.quote(tmp) + '/duplicate.properties': None},
             '--base-dir: inside relative, outside an absolute file:// URI')
        t.eq(sorted({file_of(sr, res) for res in sr['results']}),
             sorted([os.path.join(sub, names[1]), os.path.join(tmp, 'duplicate.properties')]),
             'both resolve to the files')
        notes = sr['invocations'][0]['toolExecutionNotifications']
        t.ok(any('outside the base directory' in n['message']['text'] and
                 'duplicate.properties' in n['message']['text'] for n in notes),
             'a notification says a file is outside the base')
        r = run('-f', 'sarif', '--base-dir', 'no such dir', 'duplicate.properties', cwd=tmp)
        t.exit(r, 2, 'a --base-dir that does not exist')
        t.contains(r.err, 'ksafe-lint: --base-dir no such dir: ', 'says why')


@test
def test_utf16_columns(t):
    """SARIF columns are UTF-16 code units (columnKind); text keeps gcc's byte columns"""
    line = '{"client.id": "ü😀é", "acks": "1"}\n'
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'u.json')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(line)
        text = [f for f in base.findings(run(path).out) if f.rule == 'acks-all']
        prefix = line.encode('utf-8')[:line.encode('utf-8').index(b'"acks"')]
        t.eq([f.col for f in text], [len(prefix) + 1], 'text: the byte column')
        want = len(prefix.decode('utf-8').encode('utf-16-le')) // 2 + 1
        t.ok(want != len(prefix) + 1, 'the case tells bytes from UTF-16 units')
        with open(path, 'rb') as f:
            piped = f.read()
        for what, args, stdin in (('a file', (path,), None), ('standard input', ('-',), piped),
                                  ('a BOM first', ('-',), b'\xef\xbb\xbf' + piped)):
            _, sr = sarif(*args, stdin=stdin, code=1, t=t)
            t.eq(sr.get('columnKind'), 'utf16CodeUnits', f'{what}: columnKind')
            cols = [res['locations'][0]['physicalLocation']['region']['startColumn']
                    for res in sr['results'] if res['ruleId'] == 'acks-all']
            t.eq(cols, [want], f'{what}: the UTF-16 column')


def fingerprints(sr):
    return {(res['ruleId'], res['locations'][0]['physicalLocation']['region']['startLine']):
            res['partialFingerprints']['ksafeFinding/v1'] for res in sr['results']}


@test
def test_fingerprints(t):
    """partialFingerprints survive unrelated edits and tell findings apart"""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'p.properties')
        with open(path, 'w') as f:
            f.write('acks=1\nlinger.ms=5\nenable.idempotence=false\n')
        _, before = sarif('p.properties', cwd=tmp, code=1, t=t)
        with open(path, 'w') as f:
            f.write('# a comment\nclient.id=x\n\nacks=1\nlinger.ms=7\n'
                    'enable.idempotence=false\n')
        _, after = sarif('p.properties', cwd=tmp, code=1, t=t)
        fb, fa = fingerprints(before), fingerprints(after)
        t.eq(fb[('acks-all', 1)], fa[('acks-all', 4)], 'acks-all moved 3 lines: same identity')
        t.eq(fb[('idempotence', 3)], fa[('idempotence', 6)], 'idempotence: same identity')
        t.eq(len(set(fb.values())), len(fb), 'every finding its own fingerprint')
        shutil.copy(path, os.path.join(tmp, 'q.properties'))
        _, both = sarif('p.properties', 'q.properties', cwd=tmp, code=1, t=t)
        t.eq(len({res['partialFingerprints']['ksafeFinding/v1'] for res in both['results']}),
             len(both['results']), 'another file, other fingerprints')
        for res in both['results']:
            t.lacks(json.dumps(res['partialFingerprints']), 'acks=1', 'no line text')


@test
def test_no_duplicates(t):
    """one file named twice (./, a directory and the file, ..) gives each result once"""
    _, once = sarif('duplicate.properties', code=1, t=t)
    for args in (('duplicate.properties', './duplicate.properties'),
                 ('duplicate.properties', 'tree/../duplicate.properties'),
                 ('tree', 'tree')):
        _, sr = sarif(*args, t=t)
        keys = [json.dumps([res['ruleId'], res['locations'], res['message']], sort_keys=True)
                for res in sr['results']]
        t.eq(len(keys), len(set(keys)), f'{args}: no duplicate result')
        if args[0] == 'duplicate.properties':
            t.eq(len(sr['results']), len(once['results']), f'{args}: as many as once')


@test
def test_automation_id(t):
    """automationDetails.id is ksafe-lint/POLICY/ENV/: one code scanning category each"""
    ids = {}
    for env in ('staging', 'prod', None):
        _, sr = sarif(*(('-e', env) if env else ()), 'duplicate.properties', code=1, t=t)
        ids[env] = sr.get('automationDetails', {}).get('id')
    t.eq(ids, {'staging': 'ksafe-lint/builtin:default/staging/',
               'prod': 'ksafe-lint/builtin:default/prod/', None: 'ksafe-lint/builtin:default/'},
         'automationDetails.id')
    _, sr = sarif('-p', base.ORG_POLICY, '-e', 'prod', 'duplicate.properties', t=t)
    t.ok(sr['automationDetails']['id'].startswith('ksafe-lint/') and
         sr['automationDetails']['id'].endswith('/prod/') and
         sr['automationDetails']['id'] != ids['prod'], 'another policy, another category')


BASELINE = ('idempotence', 'acks-all', 'in-flight', 'retries', 'delivery-timeout',
            'delivery-covers-request')


@test
def test_rule_metadata(t):
    """rules carry descriptions, help (text, markdown), their own helpUri, tags, security-severity"""
    with open(os.path.join(base.ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    _, sr = sarif(os.path.join(base.EXAMPLES, 'producer-unsafe.properties'),
                  'duplicate.properties', 'typo.properties', t=t)
    rules = sr['tool']['driver']['rules']
    ids = {rule['id'] for rule in rules}
    t.ok({'acks-all', 'idempotence', 'ksafe-duplicate', 'ksafe-unknown-property'} <= ids,
         f'rules of the baseline and of ksafe-lint itself: {sorted(ids)}')
    for rule in rules:
        rid = rule['id']
        for key in ('shortDescription', 'fullDescription'):
            t.ok(rule.get(key, {}).get('text'), f'{rid}: {key}.text')
        t.ok(rule.get('help', {}).get('text'), f'{rid}: help.text')
        t.ok(rule.get('help', {}).get('markdown'), f'{rid}: help.markdown')
        t.ok(rule.get('properties', {}).get('tags'), f'{rid}: properties.tags')
        uri = rule.get('helpUri', '')
        t.eq(uri, 'https://github.com/ksafe/ksafe#rule-' + rid, f'{rid}: helpUri')
        t.contains(readme, f'<a id="rule-{rid}"></a>', f'{rid}: the README anchor exists')
        severity = rule.get('properties', {}).get('security-severity')
        if rid in BASELINE:
            t.ok(isinstance(severity, str) and 0 < float(severity) <= 10,
                 f'{rid}: security-severity, a number 0-10 as a string: {severity!r}')
            t.ok('security' in rule['properties']['tags'], f'{rid}: tagged security')
        else:
            t.eq(severity, None, f'{rid}: no security-severity (no data loss)')


@test
def test_failed_runs_are_sarif(t):
    """a bad policy or an unreadable input still gives a SARIF log whose invocation failed"""
    cases = {
        'bad policy': (('-p', 'policy-bad-action.json', 'duplicate.properties'), None),
        'policy syntax error': (('-p', 'policy-syntax.json', 'duplicate.properties'), 5),
        'missing policy': (('-p', 'no-such-policy.json', 'duplicate.properties'), None),
        'unknown environment': (('-e', 'no-such-env', 'duplicate.properties'), None),
        'unreadable input': (('missing.properties',), None),
    }
    for what, (args, line) in cases.items():
        r = run('-f', 'sarif', *args)
        t.exit(r, 2, what)
        t.ok(r.out.strip(), f'{what}: not 0 bytes')
        try:
            sr = json.loads(r.out)['runs'][0]
        except (ValueError, KeyError, IndexError) as e:
            t.failures.append(f'{what}: no SARIF log: {e}')
            continue
        invocation = sr['invocations'][0]
        t.eq(invocation['executionSuccessful'], False, f'{what}: executionSuccessful')
        notes = invocation['toolExecutionNotifications']
        t.ok(notes and notes[0]['level'] == 'error' and notes[0]['message']['text'],
             f'{what}: an error notification')
        t.contains(r.err, 'ksafe-lint: ', f'{what}: stderr says it too')
        if line:
            region = notes[0]['locations'][0]['physicalLocation']['region']
            t.eq(region['startLine'], line, f'{what}: the notification points at the line')
    r = run('-f', 'sarif', '--check-policy', '-p', 'policy-syntax.json')
    t.eq((r.code, r.out), (2, ''), '--check-policy prints no SARIF')


# ---------------------------------------------------------------------------
# Run by test_lint.main (TAP, with skips)
# ---------------------------------------------------------------------------

if __name__ == '__main__':
    sys.exit(base.main())
