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

It reuses test_lint.py's runner and helpers.
"""
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_lint as base  # noqa: E402  (its tests are not run here)
from test_lint import Checks, _commands, run  # noqa: E402

del base.TESTS[:]
test = base.test

SCHEMA_PACKAGE = '@microsoft/jest-sarif@1.0.0-beta.0'
SCHEMA_MEMBER = 'package/lib/schemas/sarif-2.1.0-rtm.5.json'


class Skip(Exception):
    """A test that cannot run here, with the reason."""


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
# TAP, with skips
# ---------------------------------------------------------------------------

def run_tests():
    print(f'1..{len(base.TESTS)}')
    failed = 0
    for i, fn in enumerate(base.TESTS, 1):
        desc = (fn.__doc__ or fn.__name__).strip().splitlines()[0].replace('#', '\\#')
        t = Checks()
        del _commands[:]
        try:
            fn(t)
        except Skip as e:
            print(f'ok {i} - {desc} # SKIP {e}')
            continue
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
        for args, env, res in _commands[-4:]:
            print(f'#   $ ksafe-lint {" ".join(args)}')
            print(f'#   exit {res.code}')
            for name, text in (('stdout', res.out), ('stderr', res.err)):
                for line in text.splitlines()[:15]:
                    print(f'#   {name}: {line}')
    sys.stdout.flush()
    return 1 if failed else 0


def main():
    if len(sys.argv) != 2:
        print('Bail out! usage: test_sarif.py PATH/TO/ksafe-lint')
        return 2
    base.LINT = os.path.abspath(sys.argv[1])
    if not os.access(base.LINT, os.X_OK) or not os.path.isdir(base.DATA):
        print(f'Bail out! no ksafe-lint at {base.LINT} or no fixtures at {base.DATA}')
        return 2
    return run_tests()


if __name__ == '__main__':
    sys.exit(main())
