#!/usr/bin/env python3
"""ksafe's pre-commit hooks and GitHub Action (meson suite 'cli'), printed as TAP.

Usage: test_hooks.py PATH/TO/ksafe-lint

- .pre-commit-hooks.yaml: its hooks, and which file names they match, on a table of
  names that must and must not be linted (log4j.properties, Spring's
  application.properties, package.json, ...), with the regex semantics pre-commit uses
  (re.search on the path; `files` and not `exclude`).
- pre-commit itself (Debian's pre-commit, installed here with apt-get when missing and
  run as root, else skipped): `pre-commit validate-manifest`, and `pre-commit try-repo`
  of this source tree on a temporary git repository holding safe and unsafe producer
  configs and files that are no producer config, for both hooks: the installed binary
  (`ksafe-lint`) and the one that builds from source (`ksafe-lint-build`); and
  tools/pre-commit-hook run directly (its cache, its error paths).
- action.yml: parsed with python3-yaml (skipped when missing): its inputs, and every
  `run:` step bash with `set -euo pipefail`; it and the README's workflow validated by
  @action-validator/cli (npm, GitHub's action and workflow schemas; skipped without
  npm); then its shell steps run here, as the runner runs them, on a temporary
  workspace, and the SARIF file they write is checked.

The source tree is $KSAFE_SOURCE_ROOT, else found relative to this file.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.environ.get('KSAFE_SOURCE_ROOT') or os.path.join(HERE, '..', '..'))


def outside_env():
    """The environment of a program built outside this build tree: without meson's
    LD_LIBRARY_PATH, which points at this build's libksafe (an ASan-built one in the asan leg
    would not load into the hook's or the action's own build)."""
    env = dict(os.environ)
    for name in ('LD_LIBRARY_PATH', 'LD_PRELOAD'):
        env.pop(name, None)
    return env
EXAMPLES = os.path.join(ROOT, 'conf', 'examples')
LINT = None  # set in main() from argv[1]

try:
    import yaml
except ImportError:
    yaml = None


# ---------------------------------------------------------------------------
# A small TAP runner (as in test_lint.py), with skips
# ---------------------------------------------------------------------------

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Skip, lint_from_argv, run_tap  # noqa: E402
from test_lint import Checks as LintChecks  # noqa: E402


class Checks(LintChecks):
    """test_lint's checks, with the commands a test ran (not only ksafe-lint) kept for the
    failure report, and long outputs shown by their end (where a build says what failed)."""

    def __init__(self):
        super().__init__()
        self.log = []

    def contains(self, text, part, what):
        return self.ok(part in text, f'{what}: {part!r} not in {text[-1500:]!r}')

    def lacks(self, text, part, what):
        return self.ok(part not in text, f'{what}: {part!r} should not be in {text[-1500:]!r}')

    def run(self, cmd, **kw):
        """subprocess.run with text output captured, remembered for the failure report."""
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=600, **kw)
        self.log.append((cmd, proc))
        return proc


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run_tests():
    def commands(t):
        lines = []
        for cmd, proc in t.log[-3:]:
            lines += [f'$ {" ".join(map(str, cmd))}', f'exit {proc.returncode}']
            for name, text in (('stdout', proc.stdout), ('stderr', proc.stderr)):
                lines += [f'{name}: {line}' for line in text.splitlines()[-25:]]
        return lines
    return run_tap(TESTS, Checks, commands=commands)


def need_yaml():
    if yaml is None:
        raise Skip('python3-yaml is not installed (apt-get install python3-yaml)')


def load_yaml(name):
    need_yaml()
    with open(os.path.join(ROOT, name)) as f:
        return yaml.safe_load(f)


def build_dir():
    """The meson build directory of the ksafe-lint under test (LINT is BUILD/tools/...)."""
    return os.path.dirname(os.path.dirname(LINT))


# ---------------------------------------------------------------------------
# .pre-commit-hooks.yaml
# ---------------------------------------------------------------------------

HOOK_IDS = ('ksafe-lint', 'ksafe-lint-build')


def hooks():
    return {h['id']: h for h in load_yaml('.pre-commit-hooks.yaml')}


@test
def test_hook_definitions(t):
    """.pre-commit-hooks.yaml: ksafe-lint (installed binary) and ksafe-lint-build (from source)"""
    found = hooks()
    t.eq(sorted(found), sorted(HOOK_IDS), 'hook ids')
    system = found.get('ksafe-lint', {})
    t.eq((system.get('language'), system.get('entry')), ('system', 'ksafe-lint'),
         'ksafe-lint: language and entry')
    build = found.get('ksafe-lint-build', {})
    t.eq(build.get('language'), 'script', 'ksafe-lint-build: language')
    script = os.path.join(ROOT, build.get('entry', '?'))
    t.ok(os.path.isfile(script) and os.access(script, os.X_OK),
         f'ksafe-lint-build: its entry {script} is an executable file')
    t.eq(build.get('require_serial'), True, 'ksafe-lint-build: one process builds, once')
    for hook_id, hook in found.items():
        for key in ('name', 'description', 'files', 'exclude'):
            t.ok(isinstance(hook.get(key), str) and hook[key], f'{hook_id}: has {key}')
        t.eq((hook.get('files'), hook.get('exclude')),
             (system.get('files'), system.get('exclude')), f'{hook_id}: the same files')


# (file name, linted?): what the hooks' `files` and `exclude` must say.
NAMES = [
    ('producer.properties', True),
    ('kafka-producer.properties', True),
    ('config/orders-producer.conf', True),
    ('producer.json', True),
    ('deploy/kafka.json', True),
    ('kafka.properties', True),
    ('librdkafka.conf', True),
    ('etc/librdkafka-orders.conf', True),
    ('rdkafka.conf', True),
    ('Kafka-Producer.PROPERTIES', True),
    ('payments_kafka_config.json', True),
    ('log4j.properties', False),
    ('src/main/resources/log4j.properties', False),
    ('kafka-log4j.properties', False),
    ('logback-kafka.conf', False),
    ('application.properties', False),
    ('src/main/resources/application.properties', False),
    ('gradle.properties', False),
    ('package.json', False),
    ('tsconfig.json', False),
    ('kafka/app.json', False),            # the directory's name does not count
    ('producer/settings.properties', False),
    ('consumer.properties', False),
    ('kafka-consumer.json', False),
    ('server.properties', False),
    ('kafka-server.properties', False),
    ('zookeeper.properties', False),
    ('kafka-broker.conf', False),
    ('producer.yaml', False),
    ('producer.properties.bak', False),
    ('kafka-producer.py', False),
    ('nginx.conf', False),
]


def linted(hook, name):
    """pre-commit's choice (pre_commit/commands/run.py: filter_by_include_exclude)."""
    return bool(re.search(hook['files'], name)) and not re.search(hook['exclude'], name)


@test
def test_files_pattern(t):
    """the hooks lint producer configs by name, not log4j.properties or application.properties"""
    for hook_id, hook in hooks().items():
        for name, want in NAMES:
            t.eq(linted(hook, name), want, f'{hook_id}: {name} linted')


# ---------------------------------------------------------------------------
# pre-commit try-repo, for real
# ---------------------------------------------------------------------------

def pre_commit():
    """The path of pre-commit: installed from Debian (as tools/setup.sh installs) when
    missing and root; else the test is skipped."""
    found = shutil.which('pre-commit')
    if not found and os.geteuid() == 0 and shutil.which('apt-get'):
        cmd = ['apt-get', 'install', '-y', '--no-install-recommends',
               '-o', 'DPkg::Lock::Timeout=300', 'pre-commit']
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(['apt-get', 'update'], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)
        found = shutil.which('pre-commit')
    if not found:
        raise Skip('pre-commit is not installed (apt-get install pre-commit)')
    return found


def git(t, cwd, *args):
    proc = t.run(['git', *args], cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f'git {" ".join(args)}: {proc.stderr}')
    return proc.stdout


def source_is_git(t):
    proc = t.run(['git', 'rev-parse', '--show-toplevel'], cwd=ROOT)
    if proc.returncode != 0:
        raise Skip(f'{ROOT} is not a git checkout: pre-commit try-repo needs one')
    tracked = git(t, ROOT, 'ls-files', '--', '.pre-commit-hooks.yaml', 'tools/pre-commit-hook')
    if len(tracked.split()) != 2:
        raise RuntimeError('.pre-commit-hooks.yaml and tools/pre-commit-hook must be tracked '
                           '(git add): try-repo copies tracked files only')


@test
def test_manifest_valid(t):
    """pre-commit validate-manifest accepts .pre-commit-hooks.yaml (and refuses a broken one)"""
    tool = pre_commit()
    r = t.run([tool, 'validate-manifest', os.path.join(ROOT, '.pre-commit-hooks.yaml')])
    t.eq(r.returncode, 0, 'validate-manifest: exit status')
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(ROOT, '.pre-commit-hooks.yaml')) as f:
            broken = f.read().replace('language: script', 'language: shell', 1)
        path = os.path.join(tmp, '.pre-commit-hooks.yaml')
        with open(path, 'w') as f:
            f.write(broken)
        r = t.run([tool, 'validate-manifest', path])
        t.eq(r.returncode, 1, 'a control with an unknown language: exit status')


SAFE = os.path.join(EXAMPLES, 'producer-safe.properties')
SAFE_JSON = os.path.join(EXAMPLES, 'producer-safe.json')
UNSAFE = os.path.join(EXAMPLES, 'producer-unsafe.properties')
# Files that are no producer config and that ksafe-lint would fail: linting them is a bug.
NOT_CONFIGS = {
    'src/main/resources/log4j.properties': 'log4j.rootLogger=INFO, stdout\n',
    'src/main/resources/application.properties': 'spring.kafka.producer.acks=1\n',
    'config/kafka-log4j.properties': 'log4j.logger.kafka=WARN\n',
    'package.json': '{"name": "orders", "version": "1.0.0"}\n',
}


def files_checked(out):
    """(files, errors) summed over ksafe-lint's summary lines: pre-commit may split the
    files over several runs (one per CPU, 4 files at least each)."""
    runs = re.findall(r'^ksafe-lint: (\d+) files? checked: (\d+) errors?', out, re.M)
    return (sum(int(f) for f, _ in runs), sum(int(e) for _, e in runs)) if runs else None


def try_repo(t, hook_id, extra_path):
    """try-repo HOOK_ID in a temporary repository: first safe configs and non-configs
    (exit 0, exactly the two configs linted), then with an unsafe config added (exit 1)."""
    tool = pre_commit()
    source_is_git(t)
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, 'repo')
        os.makedirs(os.path.join(repo, 'config'))
        shutil.copy(SAFE, os.path.join(repo, 'config', 'orders-producer.properties'))
        shutil.copy(SAFE_JSON, os.path.join(repo, 'config', 'kafka.json'))
        for name, text in NOT_CONFIGS.items():
            os.makedirs(os.path.dirname(os.path.join(repo, name)), exist_ok=True)
            with open(os.path.join(repo, name), 'w') as f:
                f.write(text)
        git(t, repo, 'init', '-q')
        git(t, repo, 'add', '.')
        env = dict(outside_env(), PRE_COMMIT_HOME=os.path.join(tmp, 'pre-commit-home'),
                   PATH=os.pathsep.join(extra_path + [os.environ.get('PATH', '/usr/bin:/bin')]),
                   GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@example.com',
                   GIT_COMMITTER_NAME='t', GIT_COMMITTER_EMAIL='t@example.com',
                   KSAFE_POLICY='', KSAFE_ENV='', NO_COLOR='1',
                   KSAFE_LINT_CACHE=os.path.join(build_dir(), 'tests', 'pre-commit-cache'))
        cmd = [tool, 'try-repo', ROOT, hook_id, '--all-files', '--verbose', '--color', 'never']
        clean = t.run(cmd, cwd=repo, env=env)
        t.eq(clean.returncode, 0, f'{hook_id}: safe configs only: exit status')
        t.eq(files_checked(clean.stdout), (2, 0),
             f'{hook_id}: (files, errors): the two producer configs were linted, nothing else')
        shutil.copy(UNSAFE, os.path.join(repo, 'config', 'payments-producer.properties'))
        git(t, repo, 'add', '.')
        dirty = t.run(cmd, cwd=repo, env=env)
        t.eq(dirty.returncode, 1, f'{hook_id}: an unsafe config: exit status')
        t.contains(dirty.stdout, 'config/payments-producer.properties:',
                   f'{hook_id}: findings name the unsafe file')
        t.contains(dirty.stdout, '[acks-all]', f'{hook_id}: findings')
        t.eq((files_checked(dirty.stdout) or (0,))[0], 3, f'{hook_id}: files linted')
        for name in NOT_CONFIGS:
            t.lacks(dirty.stdout, name + ':', f'{hook_id}: not linted')


@test
def test_try_repo_installed(t):
    """pre-commit try-repo, hook ksafe-lint with ksafe-lint on PATH: exit 0 safe, 1 unsafe"""
    try_repo(t, 'ksafe-lint', [os.path.dirname(LINT)])


@test
def test_try_repo_build(t):
    """pre-commit try-repo, hook ksafe-lint-build: builds ksafe-lint from source, exit 0 / 1"""
    for tool in ('meson', 'ninja'):
        if not shutil.which(tool):
            raise Skip(f'{tool} is not installed: ksafe-lint-build cannot build')
    try_repo(t, 'ksafe-lint-build', [])


def hook_script(t, args, cache, path_dirs=None, path=None):
    """Run tools/pre-commit-hook in conf/examples with KSAFE_LINT_CACHE=cache; PATH is
    `path`, else path_dirs before the usual PATH."""
    if path is None:
        path = os.pathsep.join((path_dirs or []) + [os.environ.get('PATH', '/usr/bin:/bin')])
    env = dict(outside_env(), KSAFE_LINT_CACHE=cache, PATH=path, KSAFE_POLICY='', KSAFE_ENV='')
    return t.run([os.path.join(ROOT, 'tools', 'pre-commit-hook'), *args], cwd=EXAMPLES,
                 env=env)


def stub(directory, name, text):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n' + text + '\n')
    os.chmod(path, 0o755)


@test
def test_hook_script(t):
    """tools/pre-commit-hook: builds once into its cache; no meson or a failed build: exit 2"""
    for tool in ('meson', 'ninja', 'git', 'flock'):
        if not shutil.which(tool):
            raise Skip(f'{tool} is not installed')
    safe, unsafe = 'producer-safe.properties', 'producer-unsafe.properties'
    with tempfile.TemporaryDirectory() as tmp:
        # No meson on PATH: said plainly, nothing run.
        bare = os.path.join(tmp, 'bare')
        os.makedirs(bare)
        for tool in ('dirname', 'git', 'mkdir', 'flock', 'rm', 'cat', 'touch'):
            os.symlink(shutil.which(tool), os.path.join(bare, tool))
        r = hook_script(t, [safe], os.path.join(tmp, 'cache1'), path=bare)
        t.eq(r.returncode, 2, 'no meson: exit status')
        t.contains(r.stderr, 'meson is missing', 'no meson: stderr')
        t.eq(r.stdout, '', 'no meson: stdout')
        # A build that fails: its log on stderr, exit 2; the next run tries again.
        failing = os.path.join(tmp, 'failing')
        stub(failing, 'meson', 'echo "meson-stub: boom ($*)"; exit 1')
        cache2 = os.path.join(tmp, 'cache2')
        for attempt in (1, 2):
            r = hook_script(t, [safe], cache2, [failing])
            t.eq(r.returncode, 2, f'failed build {attempt}: exit status')
            t.contains(r.stderr, 'meson-stub: boom (setup ', f'failed build {attempt}: log')
            t.contains(r.stderr, 'ksafe-lint-build: building ksafe-lint failed',
                       f'failed build {attempt}: stderr')
        # A real build, then the cached binary: a failing meson on PATH is never called.
        cache3 = os.path.join(build_dir(), 'tests', 'pre-commit-cache')
        r = hook_script(t, [safe, 'producer-safe.json'], cache3)
        t.eq(r.returncode, 0, 'built: safe configs: exit status')
        t.contains(r.stderr, 'ksafe-lint: 2 files checked: 0 errors', 'built: summary')
        r = hook_script(t, [unsafe], cache3, [failing])
        t.eq(r.returncode, 1, 'cached: unsafe config: exit status')
        t.contains(r.stdout, f'{unsafe}:14:1: error: acks is 1', 'cached: findings')
        t.lacks(r.stderr, 'boom', 'cached: no build')


# ---------------------------------------------------------------------------
# action.yml
# ---------------------------------------------------------------------------

ACTION_INPUTS = {'paths', 'policy', 'environment', 'format', 'output', 'args',
                 'install-dependencies'}


@test
def test_action_definition(t):
    """action.yml: a composite action, its inputs, bash steps with set -euo pipefail"""
    action = load_yaml('action.yml')
    t.eq(action.get('runs', {}).get('using'), 'composite', 'runs.using')
    inputs = action.get('inputs', {})
    t.eq(set(inputs), ACTION_INPUTS, 'inputs')
    t.eq(inputs.get('format', {}).get('default'), 'sarif', 'format defaults to sarif')
    t.eq(inputs.get('output', {}).get('default'), 'ksafe-lint.sarif', 'output default')
    for name, spec in inputs.items():
        t.ok(spec.get('description'), f'input {name} is described')
    t.ok({'exit-code', 'report'} <= set(action.get('outputs', {})), 'outputs')
    steps = action.get('runs', {}).get('steps', [])
    t.ok(len([s for s in steps if 'run' in s]) >= 3, 'install, build and lint steps')
    for step in steps:
        if 'run' not in step:
            continue
        name = step.get('name', '?')
        t.eq(step.get('shell'), 'bash', f'{name}: shell')
        t.eq(step['run'].splitlines()[0], 'set -euo pipefail', f'{name}: first line')
        # Inputs are data: spliced into a script, a path like $(...) would run.
        t.lacks(step['run'], '${{', f'{name}: no expression inside the script')


# @action-validator/cli (npm): GitHub's action and workflow schemas (SchemaStore's), compiled
# into its WebAssembly core; pinned, installed into the build directory on first use.
ACTION_VALIDATOR = {'@action-validator/cli': '0.6.0', '@action-validator/core': '0.6.0'}


def action_validator(t):
    """The path of action-validator, installed with npm when missing, else Skip."""
    folder = os.path.join(build_dir(), 'tests', 'npm-action-validator')
    tool = os.path.join(folder, 'node_modules', '.bin', 'action-validator')
    if os.access(tool, os.X_OK):
        return tool
    if not shutil.which('npm') or not shutil.which('node'):
        raise Skip('npm is not installed (apt-get install npm): no action-validator')
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'package.json'), 'w') as f:
        json.dump({'name': 'ksafe-test-action-validator', 'private': True,
                   'dependencies': ACTION_VALIDATOR}, f)
    proc = t.run(['npm', 'install', '--no-audit', '--no-fund', '--no-package-lock'],
                 cwd=folder)
    if proc.returncode != 0 or not os.access(tool, os.X_OK):
        raise Skip(f'npm install {" ".join(ACTION_VALIDATOR)} failed: '
                   f'{proc.stderr.strip()[-200:]}')
    return tool


def readme_workflow():
    """The complete workflow that README.md shows for the action."""
    with open(os.path.join(ROOT, 'README.md')) as f:
        m = re.search(r'```yaml\n(# \.github/workflows/ksafe-lint\.yml\n.*?)```', f.read(), re.S)
    return m[1] if m else None


@test
def test_action_schema(t):
    """action.yml and the README's workflow are valid for action-validator (GitHub's schemas)"""
    tool = action_validator(t)
    workflow = readme_workflow()
    if not t.ok(workflow, 'README.md shows .github/workflows/ksafe-lint.yml'):
        return
    with open(os.path.join(ROOT, 'action.yml')) as f:
        action = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        # The validator tells an action from a workflow by the file's name and place.
        os.makedirs(os.path.join(tmp, 'bad'))
        os.makedirs(os.path.join(tmp, '.github', 'workflows'))
        files = {'action.yml': action, '.github/workflows/ksafe-lint.yml': workflow,
                 # A control: a run step without its shell is invalid for GitHub.
                 'bad/action.yml': action.replace('      shell: bash\n', '', 1)}
        for name, text in files.items():
            with open(os.path.join(tmp, name), 'w') as f:
                f.write(text)
        for name in files:
            r = t.run([tool, name], cwd=tmp)
            t.eq(r.returncode, 1 if name.startswith('bad/') else 0, f'{name}: exit status')
        control = t.log[-1][1]
        t.contains(control.stdout + control.stderr, '/runs/steps/0/shell',
                   'the control fails for its missing shell')
        t.ok('uses: ksafe/ksafe@v0.3.0' in workflow, 'the workflow uses the action at v0.3.0')
        t.ok(re.search(r'upload-sarif@v\d+\n\s+if: always\(\)', workflow),
             'the workflow uploads the SARIF if: always()')


def expand(text, context):
    """A GitHub expression ${{ a.b.c }} in an env value or if:, from context."""
    def one(m):
        key = m[1].strip()
        if key not in context:
            raise RuntimeError(f'the test does not know ${{{{ {key} }}}}')
        return context[key]
    return re.sub(r'\$\{\{(.*?)\}\}', one, str(text))


def condition(expr, context):
    """The if: forms action.yml uses: inputs.NAME == 'VALUE'."""
    m = re.fullmatch(r"\s*([a-z.-]+)\s*==\s*'([^']*)'\s*", expr)
    if not m or m[1] not in context:
        raise RuntimeError(f'the test cannot evaluate if: {expr}')
    return context[m[1]] == m[2]


def run_action(t, workspace, **given):
    """Run action.yml's steps as the runner does (bash --noprofile --norc -eo pipefail
    FILE, in the workspace, step env from the expressions), up to the first that fails.
    Returns (exit status of the last step run, its name, the steps' outputs)."""
    action = load_yaml('action.yml')
    inputs = {name: str(spec.get('default', '')) for name, spec in action['inputs'].items()}
    unknown = set(given) - set(inputs)
    if unknown:
        raise RuntimeError(f'no such inputs: {unknown}')
    inputs.update(given)
    context = {f'inputs.{k}': v for k, v in inputs.items()}
    context['github.action_path'] = ROOT
    # The runner's temporary directory outlives this test: the build in it is reused.
    runner_temp = os.path.join(build_dir(), 'tests', 'action-runner-temp')
    os.makedirs(runner_temp, exist_ok=True)
    status, name = 0, None
    with tempfile.TemporaryDirectory() as files:
        for i, step in enumerate(action['runs']['steps']):
            if 'run' not in step:
                raise RuntimeError(f'step {i}: the test runs shell steps only')
            if 'if' in step and not condition(step['if'], context):
                continue
            name = step.get('name', str(i))
            script = os.path.join(files, f'step{i}.sh')
            with open(script, 'w') as f:
                f.write(step['run'])
            output = os.path.join(files, f'output{i}')
            open(output, 'w').close()
            env = dict(outside_env(), RUNNER_TEMP=runner_temp, GITHUB_OUTPUT=output,
                       GITHUB_PATH=os.path.join(files, 'path'), GITHUB_ACTION_PATH=ROOT,
                       GITHUB_WORKSPACE=workspace, GITHUB_ACTIONS='true',
                       KSAFE_POLICY='', KSAFE_ENV='')
            env.update({k: expand(v, context) for k, v in step.get('env', {}).items()})
            proc = t.run(['bash', '--noprofile', '--norc', '-eo', 'pipefail', script],
                         cwd=workspace, env=env)
            status = proc.returncode
            with open(output) as f:
                for line in f.read().splitlines():
                    key, _, value = line.partition('=')
                    context[f'steps.{step.get("id", i)}.outputs.{key}'] = value
            if status != 0:
                break
        with open(os.path.join(files, 'path'), 'a+') as f:
            f.seek(0)
            context['GITHUB_PATH'] = f.read()
    return status, name, context


def sarif_results(t, path, what):
    """(rule, file uri) of each result of a SARIF 2.1.0 file, or None."""
    if not t.ok(os.path.isfile(path) and os.path.getsize(path) > 0, f'{what}: {path} written'):
        return None
    with open(path) as f:
        doc = json.load(f)
    t.eq(doc.get('version'), '2.1.0', f'{what}: SARIF version')
    t.eq(len(doc.get('runs', [])), 1, f'{what}: one run')
    results = []
    for r in doc['runs'][0].get('results', []):
        loc = r['locations'][0]['physicalLocation']
        results.append((r['ruleId'], loc['artifactLocation']['uri']))
    return results


def action_workspace(tmp):
    """A checked-out repository: an unsafe and a safe config, one in a directory with a
    blank in its name."""
    os.makedirs(os.path.join(tmp, 'config'))
    os.makedirs(os.path.join(tmp, 'more configs'))
    shutil.copy(UNSAFE, os.path.join(tmp, 'config', 'payments-producer.properties'))
    shutil.copy(SAFE, os.path.join(tmp, 'config', 'orders-producer.properties'))
    shutil.copy(SAFE_JSON, os.path.join(tmp, 'more configs', 'kafka.json'))
    return tmp


def need_action_tools():
    need_yaml()
    for tool in ('meson', 'ninja', 'dpkg-query'):
        if not shutil.which(tool):
            raise Skip(f'{tool} is not installed: the action needs Debian with meson')


@test
def test_action_sarif(t):
    """action.yml run locally: builds ksafe-lint, writes ksafe-lint.sarif, exit 1 on findings"""
    need_action_tools()
    with tempfile.TemporaryDirectory() as tmp:
        ws = action_workspace(tmp)
        status, step, ctx = run_action(t, ws, paths='config\n  more configs  \n')
        t.eq((status, step), (1, 'Run ksafe-lint'), 'findings: the lint step fails')
        t.eq(ctx.get('steps.lint.outputs.exit-code'), '1', 'output exit-code')
        t.eq(ctx.get('steps.lint.outputs.report'), 'ksafe-lint.sarif', 'output report')
        lint = ctx.get('steps.build.outputs.ksafe-lint', '')
        t.ok(os.access(lint, os.X_OK), f'the build step names the binary: {lint!r}')
        t.eq(ctx['GITHUB_PATH'].strip(), os.path.dirname(lint), 'ksafe-lint on the job PATH')
        results = sarif_results(t, os.path.join(ws, 'ksafe-lint.sarif'), 'findings')
        if results is not None:
            files = {uri for _, uri in results}
            t.ok(files and all(u.endswith('config/payments-producer.properties')
                               for u in files), f'results name the unsafe file only: {files}')
            t.ok(('acks-all' in {rule for rule, _ in results}), 'acks-all reported')

        os.remove(os.path.join(ws, 'config', 'payments-producer.properties'))
        status, step, ctx = run_action(t, ws, paths='config\nmore configs')
        t.eq(status, 0, 'safe configs: exit status')
        t.eq(ctx.get('steps.lint.outputs.exit-code'), '0', 'safe configs: output exit-code')
        t.eq(sarif_results(t, os.path.join(ws, 'ksafe-lint.sarif'), 'safe'), [],
             'safe configs: no results')


@test
def test_action_inputs(t):
    """action.yml run locally: policy, environment, format, output and args reach ksafe-lint"""
    need_action_tools()
    policy = os.path.join(EXAMPLES, 'org-policy.json')
    with tempfile.TemporaryDirectory() as tmp:
        ws = action_workspace(tmp)
        safe = 'config/orders-producer.properties'
        # org-policy.json wants TLS in prod only; the safe example has none.
        status, _, _ = run_action(t, ws, paths=safe, policy=policy, environment='prod',
                                  output='prod.sarif')
        t.eq(status, 1, 'org policy, prod: exit status')
        results = sarif_results(t, os.path.join(ws, 'prod.sarif'), 'prod') or []
        t.eq(sorted({rule for rule, _ in results}), ['tls'], 'org policy, prod: rules')
        status, _, _ = run_action(t, ws, paths=safe, policy=policy, environment='dev',
                                  output='dev.sarif')
        t.eq(status, 0, 'org policy, dev: exit status')
        status, _, _ = run_action(t, ws, paths=safe, policy=policy, environment='nosuch',
                                  output='bad.sarif')
        t.eq(status, 2, 'an unknown environment: exit status')
        # What if: always() uploads then: a SARIF log of the failed run, not 0 bytes.
        if sarif_results(t, os.path.join(ws, 'bad.sarif'), 'an unknown environment') == []:
            with open(os.path.join(ws, 'bad.sarif')) as f:
                invocation = json.load(f)['runs'][0]['invocations'][0]
            t.eq(invocation.get('executionSuccessful'), False, 'the failed run says so')
        status, _, _ = run_action(t, ws, paths=safe, format='json', output='report.json',
                                  args='--dialect java -W error',
                                  **{'install-dependencies': 'false'})
        t.eq(status, 0, 'json, args: exit status')
        with open(os.path.join(ws, 'report.json')) as f:
            doc = json.load(f)
        t.eq((doc.get('version'), doc.get('summary', {}).get('files')), (1, 1), 'json report')
        # --exit-zero: code scanning alone judges; the report still has the findings.
        status, _, ctx = run_action(t, ws, paths='config/payments-producer.properties',
                                    args='--exit-zero', output='zero.sarif')
        t.eq((status, ctx.get('steps.lint.outputs.exit-code')), (0, '0'),
             'args --exit-zero: exit status')
        results = sarif_results(t, os.path.join(ws, 'zero.sarif'), '--exit-zero') or []
        t.ok('acks-all' in {rule for rule, _ in results}, '--exit-zero: findings reported')
        status, _, _ = run_action(t, ws, paths=safe, args='--no-such-option')
        t.eq(status, 2, 'args are passed: a bad one is bad usage')


def main():
    global LINT
    LINT = lint_from_argv()
    if not LINT:
        return 2
    return run_tests()


if __name__ == '__main__':
    sys.exit(main())
