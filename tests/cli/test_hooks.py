#!/usr/bin/env python3
"""ksafe's pre-commit hooks (meson suite 'cli'), printed as TAP.

Usage: test_hooks.py PATH/TO/ksafe-lint

- .pre-commit-hooks.yaml: its hooks, and which file names they match, on a table of
  names that must and must not be linted (log4j.properties, Spring's
  application.properties, package.json, ...), with the regex semantics pre-commit uses
  (re.search on the path; `files` and not `exclude`).
- pre-commit itself (Debian's pre-commit, installed here with apt-get when missing and
  run as root, else skipped): `pre-commit try-repo` of this source tree on a temporary
  git repository holding safe and unsafe producer configs and files that are no producer
  config, for both hooks: the installed binary (`ksafe-lint`) and the one that builds
  from source (`ksafe-lint-build`).
The source tree is $KSAFE_SOURCE_ROOT, else found relative to this file.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.environ.get('KSAFE_SOURCE_ROOT') or os.path.join(HERE, '..', '..'))
EXAMPLES = os.path.join(ROOT, 'conf', 'examples')
LINT = None  # set in main() from argv[1]

try:
    import yaml
except ImportError:
    yaml = None


# ---------------------------------------------------------------------------
# A small TAP runner (as in test_lint.py), with skips
# ---------------------------------------------------------------------------

class Skip(Exception):
    pass


class Checks:
    def __init__(self):
        self.failures = []
        self.log = []  # commands run, shown when the test fails

    def ok(self, cond, what):
        if not cond:
            self.failures.append(what)
        return bool(cond)

    def eq(self, actual, expected, what):
        return self.ok(actual == expected, f'{what}: expected {expected!r}, got {actual!r}')

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
    print(f'1..{len(TESTS)}')
    failed = 0
    for i, fn in enumerate(TESTS, 1):
        desc = (fn.__doc__ or fn.__name__).strip().splitlines()[0].replace('#', '\\#')
        t = Checks()
        try:
            fn(t)
        except Skip as why:
            print(f'ok {i} - {desc} # SKIP {why}')
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
        for cmd, proc in t.log[-3:]:
            print(f'#   $ {" ".join(map(str, cmd))}')
            print(f'#   exit {proc.returncode}')
            for name, text in (('stdout', proc.stdout), ('stderr', proc.stderr)):
                for line in text.splitlines()[-25:]:
                    print(f'#   {name}: {line}')
    sys.stdout.flush()
    return 1 if failed else 0


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
        env = dict(os.environ, PRE_COMMIT_HOME=os.path.join(tmp, 'pre-commit-home'),
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


def main():
    global LINT
    if len(sys.argv) != 2:
        print('Bail out! usage: test_hooks.py PATH/TO/ksafe-lint')
        return 2
    LINT = os.path.abspath(sys.argv[1])
    if not os.access(LINT, os.X_OK):
        print(f'Bail out! no ksafe-lint at {LINT}')
        return 2
    return run_tests()


if __name__ == '__main__':
    sys.exit(main())
