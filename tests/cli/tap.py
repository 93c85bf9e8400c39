"""The TAP runner that the CLI suites share (meson reads their stdout as TAP).

A test is a function that records failed checks on the object it is given instead of stopping
at the first; it may raise Skip(reason) when what it needs is not on this machine. A failed
test prints its failures and, through `commands`, the last commands it ran.
"""
import os
import sys
import traceback


class Skip(Exception):
    """What the test needs is not here: TAP SKIP with the reason."""


def run_tap(tests, new_checks, call=None, commands=None):
    """Run `tests` in order, print TAP, and return the exit status (1 if any failed).

    new_checks() makes the object a test records its failures on (`.failures`, a list);
    call(fn, checks) runs one test (default fn(checks)); commands(checks) gives the lines that
    describe what the failed test ran (default none)."""
    print(f'1..{len(tests)}')
    failed = 0
    for i, fn in enumerate(tests, 1):
        desc = (fn.__doc__ or fn.__name__).strip().splitlines()[0].replace('#', '\\#')
        t = new_checks()
        try:
            (call or (lambda f, c: f(c)))(fn, t)
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
        for line in (commands(t) if commands else []):
            print(f'#   {line}')
    sys.stdout.flush()
    return 1 if failed else 0


def lint_from_argv():
    """ksafe-lint's absolute path, the suite's one argument; None, after a TAP "Bail out!"
    that says why, when it is missing or not an executable."""
    if len(sys.argv) != 2:
        print(f'Bail out! usage: {os.path.basename(sys.argv[0])} PATH/TO/ksafe-lint')
        return None
    lint = os.path.abspath(sys.argv[1])
    if not os.access(lint, os.X_OK):
        print(f'Bail out! no ksafe-lint at {lint}')
        return None
    return lint
