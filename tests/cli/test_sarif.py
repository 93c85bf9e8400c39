#!/usr/bin/env python3
"""ksafe-lint's SARIF for GitHub code scanning, and --exit-zero (meson suite 'cli'), as TAP.

Usage: test_sarif.py PATH/TO/ksafe-lint

--exit-zero, and the README's workflow read as GitHub reads it (YAML).

It reuses test_lint.py's runner and helpers.
"""
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_lint as base  # noqa: E402  (its tests are not run here)
from test_lint import Checks, _commands, run  # noqa: E402

del base.TESTS[:]
test = base.test



class Skip(Exception):
    """A test that cannot run here, with the reason."""


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
